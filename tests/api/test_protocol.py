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
