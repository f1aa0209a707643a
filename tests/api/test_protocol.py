"""HTTP protocol details a client may rely on: conditional commands (``If-Match``), ``HEAD``,
``Idempotency-Key`` under concurrency and across callers."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.api.conftest import Api
from tests.api.test_errors import assert_problem

PLAIN, NOT_PLAIN = "application/json", "application/json; charset=utf-8"  # fast path, route


@pytest.mark.parametrize("content_type", [PLAIN, NOT_PLAIN])
def test_if_match_star_matches_any_version_of_an_existing_case(api: Api,
                                                               content_type: str) -> None:
    """RFC 9110 13.1.1: ``If-Match: *`` is true when the resource has a current
    representation. It was a 400 ('must be a case version number')."""
    case_id = f.report(api.cases)
    headers = api.auth("street_supervisor", **{"Content-Type": content_type, "If-Match": "*"})
    done = api.client.post(f"/api/cases/{case_id}/comment", content=b'{"text": "a"}',
                           headers=headers)
    assert (done.status_code, done.json()["version"]) == (200, 2), done.text
    missing = api.client.post("/api/cases/HZ-2026-999999/comment", content=b'{"text": "a"}',
                              headers=headers)
    assert_problem(missing, 404)
    listed = api.client.post(f"/api/cases/{case_id}/comment", content=b'{"text": "a"}',
                             headers={**headers, "If-Match": '"2", "3"'})
    assert_problem(listed, 400)  # one command, decided on one version
    assert len(api.cases.history(case_id)) == 2


def test_head_is_answered_wherever_get_is(api: Api) -> None:
    """RFC 9110 9.1: a server supports HEAD wherever it supports GET, with GET's headers
    and no body. FastAPI's routes declare GET only: every HEAD was a 405."""
    number = api.report()["number"]
    auth = api.auth("safety_officer")
    for path in ("/healthz", f"/api/cases/{number}", f"/api/cases/{number}/history",
                 "/api/cases", "/api/ledger?format=csv"):
        get, head = api.client.get(path, headers=auth), api.client.head(path, headers=auth)
        assert (head.status_code, head.content) == (200, b""), path
        for name in ("content-type", "content-length", "etag"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)
    unauthenticated = api.client.head(f"/api/cases/{number}")
    assert (unauthenticated.status_code, unauthenticated.content) == (401, b"")
    assert unauthenticated.headers["www-authenticate"] == "Bearer"


def test_a_405_names_every_method_of_the_path(api: Api) -> None:
    """RFC 9110 15.5.6: the Allow header lists the resource's methods. Starlette's names
    only the first route matching the path (POST for /api/cases, which GET lists), and
    Open311's array form dropped the header."""
    body = assert_problem(api.client.delete("/api/cases", headers=api.auth("admin")), 405)
    assert body["type"].endswith("method-not-allowed")
    assert api.client.delete("/api/cases").headers["allow"] == "GET, HEAD, POST"
    assert api.client.put("/healthz").headers["allow"] == "GET, HEAD"
    o311 = api.client.delete("/open311/v2/requests.json")
    assert (o311.status_code, o311.headers["allow"]) == (405, "GET, HEAD, POST")
    assert o311.json()[0]["code"] == 405
