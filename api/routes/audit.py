"""The auditors' endpoints: verify the record, read a day's chain head. Auditors and admins
only; the answer to ``verify`` is 200 either way, with ``ok`` and the problems found."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ActorDep, CasesDep
from api.routes.evidence import BlobsDep, WitnessDep
from api.schemas.commands import Day
from api.schemas.common import problem_responses
from domain.errors import NotPermitted
from domain.values import Actor, Role
from projections.chain import Digest
from projections.verify import Verifier

router = APIRouter(prefix="/api/audit", tags=["audit"])

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})
PROBLEMS = problem_responses(401, 403, 422)


def require_auditor(actor: Actor) -> None:
    if actor.role not in AUDIT_ROLES:
        raise NotPermitted(f"only auditors and admins may audit the record, not "
                           f"{actor.role.value}")


class ProblemOut(BaseModel):
    kind: str
    kind_label: str
    message: str
    detail: str
    notification_id: int | None
    originator_id: str
    version: int | None
    case_number: str
    file: str


class VerifyOut(BaseModel):
    ok: bool
    summary: str
    events: int
    case_events: int
    cases: int
    files: int
    digests: int
    position: int
    head: str
    problems: list[ProblemOut]


class DigestOut(BaseModel):
    date: date
    position: int
    head: str
    line: str


@router.get("/verify", responses=PROBLEMS, summary="verify the hash chains and evidence")
def verify(
    actor: ActorDep, cases: CasesDep, blobs: BlobsDep, witness: WitnessDep,
    files: bool = True,
    digest: Annotated[list[str], Query(
        description="published digest lines 'YYYY-MM-DD POSITION HEAD' to check")] = [],  # noqa: B006
) -> VerifyOut:
    """Walk both chains (and the evidence files); the first problem names the event."""
    require_auditor(actor)
    published = [Digest.parse(line, "digest: ") for line in digest]
    report = Verifier(cases, blobs if files else None, witness).run(published)
    data = report.as_dict()
    return VerifyOut(summary=report.summary(), **data)


@router.get("/digest", responses=PROBLEMS, summary="the chain head at the end of a day")
def digest(actor: ActorDep, cases: CasesDep, witness: WitnessDep,
           date: Annotated[Day, Query(description="a China-time day that has ended")]
           ) -> DigestOut:
    """The global chain head at the end of ``date``, to publish outside the system."""
    require_auditor(actor)
    result = witness.digest(date, cases.clock.now())
    return DigestOut(date=result.day, position=result.position, head=result.head,
                     line=result.line())
