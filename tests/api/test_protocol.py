"""HTTP protocol details a client may rely on: conditional commands (``If-Match``), ``HEAD``,
``Idempotency-Key`` under concurrency and across callers."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories as f
from tests.api.conftest import Api, report_body
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


@pytest.mark.parametrize("content_type", [PLAIN, NOT_PLAIN])
@pytest.mark.parametrize("key", ["кл", "ключ", "ü"])
def test_an_idempotency_key_is_ascii(api: Api, content_type: str, key: str) -> None:
    """A header is read as Latin-1: a key sent as UTF-8 was taken or refused by chance,
    'кл' (D0 BA D0 BB: 'Ð', 'º', 'Ð', '»') stored as such, 'ключ' refused as
    unprintable (its 'ю' holds the byte 8E, a C1 control in Latin-1)."""
    from tests.api.test_edges import _raw

    case_id = f.report(api.cases)
    headers = {**api.auth("street_supervisor"), "Content-Type": content_type,
               "Idempotency-Key": key.encode()}
    response = _raw(api, "POST", f"/api/cases/{case_id}/comment", b'{"text": "a"}', headers)
    assert "ASCII" in assert_problem(response, 400)["detail"]
    assert len(api.cases.history(case_id)) == 1


def test_one_idempotency_key_sent_at_once_records_one_command(api: Api) -> None:
    """Eight copies of a report and of a notice (with If-Match), sent together with one
    key: one case, one notice, and every copy answered as the first; the same key from
    another caller is that caller's own command. A copy decided after its twin committed
    was refused (409: a probable duplicate of its twin's case, a notice from the wrong
    state, a stale version) instead of being given the twin's answer."""
    import asyncio

    import httpx

    case_id = f.report(api.cases, 1)

    async def together(path: str, who: str, body: dict[str, Any],
                       **extra: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = api.auth(who, **{"Idempotency-Key": "once", **extra})
            return await asyncio.gather(*[client.post(path, json=body, headers=headers)
                                          for _ in range(8)])

    reports = asyncio.run(together("/api/cases", "grid_worker", report_body(2)))
    notices = asyncio.run(together(
        f"/api/cases/{case_id}/notify", "safety_officer",
        {"party": {"name": "房东", "role": "landlord"}, "deadline": "2026-03-09"},
        **{"If-Match": "1"}))
    for answers, status in ((reports, 201), (notices, 200)):
        assert {(a.status_code, a.text) for a in answers} == {(status, answers[0].text)}
        replayed = [a.headers.get("idempotent-replayed") for a in answers]
        assert replayed.count(None) == 1 and replayed.count("true") == 7
    assert len(api.cases.history(case_id)) == 2
    assert len(api.cases.history(reports[0].json()["case_id"])) == 1
    other = api.post(f"/api/cases/{case_id}/comment", "inspector", {"text": "一次"},
                     **{"Idempotency-Key": "once"})
    assert (other.status_code, other.json()["version"]) == (200, 3)
    assert "idempotent-replayed" not in other.headers
