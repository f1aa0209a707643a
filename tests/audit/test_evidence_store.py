"""The evidence blob store: content-addressed, sniffed, size-limited, atomic."""

from __future__ import annotations

import io

import pytest

from domain.errors import DomainError, IllegalTransition
from tests.audit.conftest import JPEG, PDF, PNG
from tests.factories import auditor, fire_officer, grid_worker, inspector, report, to_escalated
from workflows.evidence import BlobStore, EvidenceNotFound, EvidenceRejected, attach, sniff

WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20


@pytest.mark.parametrize(("head", "media_type"), [
    (JPEG, "image/jpeg"), (PNG, "image/png"), (PDF, "application/pdf"),
    (WEBP, "image/webp"), (HEIC, "image/heic"), (b"GIF89a....", "image/gif"),
    (b"<html><script>", None), (b"MZ\x90\x00", None), (b"", None),
])
def test_the_type_is_read_from_the_content(head, media_type):
    assert sniff(head[:32]) == media_type


def test_a_file_is_stored_once_by_its_hash(blobs: BlobStore):
    first = blobs.put(io.BytesIO(JPEG), "IMG_0001.jpg")
    again = blobs.put(io.BytesIO(JPEG), "../../other name.jpg")
    assert first.sha256 == again.sha256 and first.size == len(JPEG)
    assert (first.media_type, again.name) == ("image/jpeg", "other name.jpg")
    assert blobs.path(first.sha256).read_bytes() == JPEG
    assert [p.name for p in blobs.root.rglob("*") if p.is_file()] == [first.sha256]
    assert blobs.check(first.sha256).status == "ok"


def test_a_client_cannot_pass_a_script_off_as_a_photo(blobs: BlobStore):
    with pytest.raises(EvidenceRejected, match="not a recognised file type"):
        blobs.put(io.BytesIO(b"<svg onload=alert(1)>"), "photo.jpg")
    assert not [p for p in blobs.root.rglob("*") if p.is_file()]  # no temp file left


def test_a_type_outside_the_allow_list_is_refused(tmp_path):
    pdf_only = BlobStore(tmp_path / "b", media_types=["application/pdf"])
    with pytest.raises(EvidenceRejected, match="image/png; allowed are application/pdf"):
        pdf_only.put(io.BytesIO(PNG), "scan.png")


def test_a_file_over_the_limit_is_refused_without_a_trace(tmp_path):
    small = BlobStore(tmp_path / "b", max_bytes=100)
    # Named like the other refusals: of several files attached at once, which one.
    with pytest.raises(EvidenceRejected, match="^big.jpg is larger than the limit of 100 bytes$"):
        small.put(io.BytesIO(JPEG), "big.jpg")
    with pytest.raises(EvidenceRejected, match="empty"):
        small.put(io.BytesIO(b""), "empty.jpg")
    assert not [p for p in small.root.rglob("*") if p.is_file()]


def test_an_existing_file_is_never_overwritten(blobs: BlobStore):
    # Overwriting would quietly repair a replaced file and hide it from audit verify. The
    # upload is refused: it reported success before, and the new reference pointed at a
    # file GET /api/evidence refuses (404 "no longer matches its hash").
    ref = blobs.put(io.BytesIO(PNG), "a.png")
    path = blobs.path(ref.sha256)
    path.chmod(0o644)
    path.write_bytes(b"replaced")
    with pytest.raises(EvidenceRejected, match="a.png: the stored copy of this file was "
                                               "altered or removed on disk"):
        blobs.put(io.BytesIO(PNG), "a.png")
    assert blobs.check(ref.sha256).status == "replaced"
    assert not [p for p in blobs.root.rglob(".upload-*")]  # its temporary copy is gone


def test_an_unknown_or_malformed_hash_is_not_found(blobs: BlobStore):
    with pytest.raises(EvidenceNotFound):
        blobs.open("0" * 64)
    with pytest.raises(EvidenceNotFound, match="not a SHA-256"):
        blobs.open("../../etc/passwd")
    assert blobs.check("0" * 64).status == "missing"


def test_attaching_records_one_event_with_the_references(cases, blobs):
    case_id = report(cases)
    result, refs = attach(cases, blobs, case_id, inspector,
                          [("a.jpg", io.BytesIO(JPEG)), ("notice.pdf", io.BytesIO(PDF))],
                          note="复查照片")
    event = cases.history(case_id)[-1]
    assert (type(event).__name__, event.trigger, event.reason) == (
        "EvidenceAttached", "attach_evidence", "复查照片")
    assert event.actor == inspector.as_dict() and result.version == 2
    assert event.evidence == [r.as_dict() for r in refs]
    assert [e["media_type"] for e in cases.get_case(case_id).evidence] == [
        "image/jpeg", "application/pdf"]


def test_who_may_attach_is_checked_before_any_file_is_stored(cases, blobs):
    case_id = report(cases)
    with pytest.raises(IllegalTransition, match="attach_evidence"):
        attach(cases, blobs, case_id, auditor, [("a.jpg", io.BytesIO(JPEG))])
    assert not blobs.root.exists() or not [p for p in blobs.root.rglob("*") if p.is_file()]
    # A department officer attaches to cases escalated to their department only.
    escalated = to_escalated(cases, 2)
    attach(cases, blobs, escalated, fire_officer, [("seal.jpg", io.BytesIO(JPEG))])
    attach(cases, blobs, case_id, grid_worker, [("a.jpg", io.BytesIO(JPEG))])


def test_one_file_given_twice_is_referenced_once_and_a_bad_note_stores_nothing(cases, blobs):
    case_id = report(cases)
    _result, refs = attach(cases, blobs, case_id, inspector,
                           [("a.jpg", io.BytesIO(JPEG)), ("again.jpg", io.BytesIO(JPEG))])
    assert [r.name for r in refs] == ["a.jpg"]
    assert cases.history(case_id)[-1].evidence == [refs[0].as_dict()]
    with pytest.raises(DomainError, match="U\\+001B"):
        attach(cases, blobs, case_id, inspector, [("n.pdf", io.BytesIO(PDF))],
               note="看\x1b[2J这里")
    assert blobs.check(blobs.put(io.BytesIO(PNG), "x.png").sha256).status == "ok"
    stored = {p.name for p in blobs.root.rglob("*") if p.is_file()}
    assert len(stored) == 2  # the JPEG and the PNG: the refused note's PDF was never stored
