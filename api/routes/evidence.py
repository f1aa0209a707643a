"""Evidence files: upload onto a case (multipart), and download for those who may see it.

``POST /api/cases/{case}/evidence`` stores each file in the blob store by content hash and
records the references on the case in one ``EvidenceAttached`` event; the media type is
read from the content, never from the client. ``GET /api/evidence/{sha256}`` serves a
file to a caller who may see at least one case that references it, after checking the
file still hashes to its name.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile
from pydantic import BaseModel

from api import conflicts, scopes
from api.deps import ActorDep, CasesDep, IdempotencyKey, IfMatch
from api.schemas.cases import CommandOut
from api.schemas.common import problem_responses
from api.settings import Settings
from api.wiring import open_blobs
from domain.errors import DomainError
from projections.chain import ChainWitness
from workflows.evidence import BlobStore, EvidenceNotFound, attach, sniff

router = APIRouter(tags=["evidence"])

MAX_FILES = 10
UPLOAD_SUFFIX = "/evidence"
CaseRef = Annotated[str, Path(description="case id (UUID) or number (HZ-2026-000123)",
                              max_length=64, examples=["HZ-2026-000001"])]
Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="the file's SHA-256")]


def upload_body_limit(settings: Settings) -> int:
    """The largest request body an evidence upload may have (files plus form overhead)."""
    return settings.max_upload_bytes * MAX_FILES + 64 * 1024


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and path.startswith("/api/cases/") and path.endswith(UPLOAD_SUFFIX)


def get_blobs(request: Request) -> BlobStore:
    """The blob store on ``app.state`` (tests put theirs there), else the configured one."""
    blobs = getattr(request.app.state, "blobs", None)
    if blobs is None:
        blobs = request.app.state.blobs = open_blobs(Settings())
    return blobs


def get_witness(request: Request) -> ChainWitness:
    """The chain witness of the service the app serves now (tests swap services)."""
    cases = request.app.state.cases
    cached = getattr(request.app.state, "witness", None)
    if cached is None or cached[0] is not cases:
        cached = request.app.state.witness = (cases, ChainWitness(cases))
    return cached[1]


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
WitnessDep = Annotated[ChainWitness, Depends(get_witness)]


class EvidenceOut(BaseModel):
    name: str
    media_type: str
    sha256: str
    size: int
    url: str


class AttachedOut(CommandOut):
    """The case after the upload, and the references now on its record."""

    evidence: list[EvidenceOut]


@router.post("/api/cases/{case}/evidence", status_code=201, summary="attach evidence files",
             responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
def attach_evidence(
    case: CaseRef, files: Annotated[list[UploadFile], File(description="photos or PDFs")],
    actor: ActorDep, cases: CasesDep, blobs: BlobsDep, response: Response,
    note: Annotated[str, Form(max_length=2000, description="what the files show")] = "",
    if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
) -> AttachedOut:
    """Store photos or documents by content hash and record them on the case (one event).
    Allowed types are sniffed from the content (JPEG, PNG, WebP, HEIC, PDF by default)."""
    current = cases.get_case(case)
    scopes.require_visible(actor, current, case)
    if len(files) > MAX_FILES:
        raise DomainError(f"at most {MAX_FILES} files per upload")
    with conflicts.named_by_number(cases, current.id):
        result, refs = attach(cases, blobs, current.id, actor,
                              [(f.filename or "upload", f.file) for f in files], note=note,
                              command_id=idempotency_key, expected_version=if_match)
    response.headers["ETag"] = f'"{result.version}"'
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    out = CommandOut.of(result)
    return AttachedOut(**out.model_dump(), evidence=[
        EvidenceOut(**r.as_dict(), url=f"/api/evidence/{r.sha256}") for r in refs])


@router.get("/api/evidence/{sha256}", summary="download an evidence file",
            responses={200: {"content": {"application/octet-stream": {}}},
                       **problem_responses(401, 404, 422)})
def evidence_file(sha256: Sha256, actor: ActorDep, cases: CasesDep, blobs: BlobsDep,
                  witness: WitnessDep) -> Response:
    """The file, for a caller who may see a case that references it; else 404."""
    if not any(_visible(actor, cases, case_id) for case_id in witness.cases_referencing(sha256)):
        raise EvidenceNotFound(sha256)
    with blobs.open(sha256) as stream:
        data = stream.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise EvidenceNotFound(sha256, f"the stored file {sha256} no longer matches its "
                                       "hash; run hazardflow audit verify")
    return Response(data, media_type=sniff(data[:32]) or "application/octet-stream", headers={
        "ETag": f'"{sha256}"', "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"})


def _visible(actor, cases, case_id: str) -> bool:  # type: ignore[no-untyped-def]
    case = cases.get_case(case_id)
    return scopes.can_see(actor, case.place, case.department)
