"""The HTTP side: evidence upload and download within scope, audit endpoints for auditors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from tests.api.conftest import Api, make_api
from tests.audit import tamper
from tests.audit.conftest import JPEG, PNG
from workflows.evidence import BlobStore


@pytest.fixture
def api(cases, tmp_path) -> Iterator[Api]:
    for client in make_api(cases):
        client.client.app.state.blobs = BlobStore(tmp_path / "evidence", max_bytes=1 << 20)
        yield client


def upload(api: Api, case: str, who: str, *files: tuple[str, bytes, str], note: str = ""):
    return api.client.post(f"/api/cases/{case}/evidence", headers=api.auth(who),
                           files=[("files", f) for f in files], data={"note": note})


def test_upload_then_download_within_scope(api: Api):
    case = api.report()["case_id"]
    big_photo = JPEG + b"\x00" * 300_000  # over the 256 KB limit of JSON bodies
    answer = upload(api, case, "grid_worker", ("a.png", big_photo, "image/png"),
                    ("scan.png", PNG, "image/png"), note="现场照片")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["version"], answer.headers["ETag"]) == (2, '"2"')
    photo, scan = body["evidence"]
    assert photo["media_type"] == "image/jpeg"  # read from the bytes, not the client's word
    assert (scan["media_type"], scan["size"]) == ("image/png", len(PNG))
    event = api.cases.history(case)[-1]
    assert event.actor["id"] == "grid_worker" and event.reason == "现场照片"

    got = api.get(photo["url"], "grid_worker")
    assert got.status_code == 200 and got.content == big_photo
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert api.get(photo["url"], "auditor").status_code == 200  # the street sees it
    assert api.get(photo["url"], "grid_worker-x").status_code == 404  # another grid's case
    assert api.get("/api/evidence/" + "0" * 64, "grid_worker").status_code == 404
    assert api.get("/api/evidence/not-a-hash", "grid_worker").status_code == 422

    path = api.client.app.state.blobs.path(photo["sha256"])
    path.chmod(0o644)
    path.write_bytes(JPEG)
    replaced = api.get(photo["url"], "grid_worker")
    assert replaced.status_code == 404 and "no longer matches" in replaced.json()["detail"]


def test_uploads_that_are_refused(api: Api):
    case = api.report()["case_id"]
    script = upload(api, case, "grid_worker", ("x.jpg", b"<script>alert(1)</script>",
                                               "image/jpeg"))
    assert script.status_code == 422 and "not a recognised file type" in script.json()["detail"]
    too_big = upload(api, case, "grid_worker", ("x.jpg", JPEG + b"\x00" * (1 << 20),
                                                "image/jpeg"))
    assert too_big.status_code == 422 and "larger than the limit" in too_big.json()["detail"]
    assert upload(api, case, "grid_worker-x", ("a.jpg", JPEG, "image/jpeg")).status_code == 404
    assert upload(api, case, "auditor", ("a.jpg", JPEG, "image/jpeg")).status_code == 403
    stale = api.client.post(f"/api/cases/{case}/evidence", files=[("files", ("a.jpg", JPEG))],
                            headers=api.auth("grid_worker", **{"If-Match": '"7"'}))
    assert stale.status_code == 409
    assert len(api.cases.history(case)) == 1  # nothing was recorded


def test_audit_endpoints_for_auditors_and_admins_only(api: Api, clock):
    case = api.report()["case_id"]
    upload(api, case, "grid_worker", ("a.jpg", JPEG, "image/jpeg"))
    for who in ("grid_worker", "leader", "street_supervisor"):
        assert api.get("/api/audit/verify", who).status_code == 403
        assert api.get("/api/audit/digest", who, date="2026-03-01").status_code == 403
    verified = api.get("/api/audit/verify", "auditor").json()
    assert verified["ok"] and verified["files"] == 1 and verified["summary"].startswith("OK")

    clock.advance(days=1)
    digest = api.get("/api/audit/digest", "admin", date="2026-03-02")
    assert digest.status_code == 200, digest.text
    line = digest.json()["line"]
    assert api.get("/api/audit/digest", "admin", date="2026-03-03").status_code == 422
    assert api.get("/api/audit/verify", "auditor", digest=line).json()["ok"]

    tamper.edit_payload(api.cases, case, 1, "P-0001", "P-0002")
    failed = api.get("/api/audit/verify", "auditor", digest=line)
    assert failed.status_code == 200
    first = failed.json()["problems"][0]
    assert (first["kind"], first["case_number"], first["version"]) == (
        "edited", "HZ-2026-000001", 1)
    assert "digest" in [p["kind"] for p in failed.json()["problems"]]


def test_one_file_sent_twice_in_an_upload_leaves_the_record_verifiable(api: Api):
    """The same file under two names in one upload (or one report naming a sha twice) is
    one event with two references to one hash. The chain witness indexed each reference
    and stopped at that event for good: every later download and audit answered 500."""
    case = api.report()["case_id"]
    twice = upload(api, case, "grid_worker", ("a.png", PNG, "image/png"),
                   ("copy.png", PNG, "image/png"))
    assert twice.status_code == 201, twice.text
    url = twice.json()["evidence"][0]["url"]
    assert api.get(url, "grid_worker").content == PNG
    assert api.get("/api/audit/verify", "auditor").json()["ok"]
    upload(api, case, "grid_worker", ("b.jpg", JPEG, "image/jpeg"))
    assert api.get(url.replace(url[-64:], hashlib.sha256(JPEG).hexdigest()),
                   "grid_worker").content == JPEG


def test_an_upload_repeated_with_its_idempotency_key_says_it_is_a_replay(api: Api):
    """The upload repeated with its Idempotency-Key recorded nothing, as it should, but
    answered without the Idempotent-Replayed header every other command sends, so a phone
    retrying over a bad network could not tell its photo was already on the record."""
    case = api.report()["case_id"]

    def send():  # type: ignore[no-untyped-def]
        return api.client.post(f"/api/cases/{case}/evidence", files=[("files", ("a.jpg", JPEG))],
                               headers=api.auth("grid_worker", **{"Idempotency-Key": "p-1"}))

    first, again = send(), send()
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert "idempotent-replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.headers["ETag"] == '"2"'
    assert len(api.cases.history(case)) == 2  # the report and one attach
