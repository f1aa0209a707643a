"""A small recorded history, chained, with one evidence photo: the thing auditors check."""

from __future__ import annotations

import io
from dataclasses import dataclass
from uuid import UUID

import pytest

from projections.chain import ChainWitness
from projections.verify import Report, Verifier
from tests.factories import grid_worker, report, to_awaiting_verification, to_escalated
from workflows.evidence import BlobStore, attach
from workflows.service import HazardCases

# The first bytes are what the store sniffs; the rest makes each file distinct.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"photo of a flying wire" * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"scan of the notice" * 20
PDF = b"%PDF-1.7\n" + b"rectification notice" * 20


@dataclass
class Record:
    cases: HazardCases
    blobs: BlobStore
    witness: ChainWitness
    rectified: UUID  # HZ-2026-000001, awaiting verification (4 events)
    escalated: UUID  # HZ-2026-000002, refused and accepted by the fire department
    reported: UUID  # HZ-2026-000003, reported, then a photo attached
    photo: str  # the photo's sha256

    def verify(self, **kw) -> Report:
        return Verifier(self.cases, self.blobs, self.witness).run(**kw)


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "evidence", max_bytes=64 * 1024)


@pytest.fixture
def record(cases: HazardCases, blobs: BlobStore) -> Record:
    rectified = to_awaiting_verification(cases, 1)
    escalated = to_escalated(cases, 2)
    reported = report(cases, 3)
    attach(cases, blobs, reported, grid_worker, [("楼道.jpg", io.BytesIO(JPEG))], note="现场照片")
    witness = ChainWitness(cases)
    witness.catch_up()  # what the projection runner does in production
    photo = cases.get_case(reported).evidence[0]["sha256"]
    return Record(cases, blobs, witness, rectified, escalated, reported, photo)
