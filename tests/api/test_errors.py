"""One test per mapped error: 400, 401, 403, 404, 409, 413, 422 as problem details, and no
500 or stack trace for anything a client can send."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from api.accounts import Accounts, Unauthenticated
from api.app import create_app
from api.deps import TokenCache
from tests import factories as f
from tests.api.conftest import Api, TestClient, place_body, report_body


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["detail"]
    assert "Traceback" not in response.text
    return body


# -- 401 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic Z3c6eA=="},
    {"Authorization": "Bearer "},
])
def test_missing_or_unknown_token_is_401(api: Api, headers: dict[str, str]) -> None:
    response = api.client.post("/api/cases", json=report_body(), headers=headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert_problem(api.client.get("/api/cases/HZ-2026-000001", headers=headers), 401)


def test_revoked_token_is_401_at_once_without_cache(api: Api) -> None:
    assert api.post("/api/cases", "grid_worker", report_body(1)).status_code == 201
    api.accounts.revoke("grid_worker")
    assert_problem(api.post("/api/cases", "grid_worker", report_body(2)), 401)


def test_cached_token_is_revoked_within_the_ttl(cases: Any) -> None:
    accounts = Accounts(cases)
    token = accounts.add("gw-cache", "grid_worker", f.GRID)
    now = [100.0]
    tokens = TokenCache(accounts, ttl=2.0, now=lambda: now[0])
    assert tokens.authenticate(token).id == "gw-cache"
    accounts.revoke("gw-cache")
    now[0] += 1.9  # still remembered: the documented price of the cache
    assert tokens.authenticate(token).id == "gw-cache"
    now[0] += 0.2  # past the TTL: the revocation holds
    with pytest.raises(Unauthenticated):
        tokens.authenticate(token)



def test_a_reissued_token_replaces_the_old_one_under_the_same_actor(cases: Any) -> None:
    # A grid worker loses their phone: revoked, then a new token for the same account, so
    # their actions before and after stay under one actor id (a new account would split
    # them in the accountability report).
    accounts = Accounts(cases)
    old = accounts.add("gw-phone", "grid_worker", f.GRID)
    accounts.revoke("gw-phone")
    new = accounts.reissue("gw-phone")
    assert new != old and accounts.authenticate(new) == accounts.authenticate(new.strip())
    assert accounts.authenticate(new).id == "gw-phone"
    with pytest.raises(Unauthenticated, match="revoked"):
        accounts.authenticate(old)
    again = accounts.reissue("gw-phone")  # also without a revocation first
    with pytest.raises(Unauthenticated):
        accounts.authenticate(new)
    assert accounts.authenticate(again).unit == f.GRID

# -- 403 / 404 / 409 -----------------------------------------------------------------------

def test_wrong_role_is_403(api: Api) -> None:
    case = api.report()
    body = assert_problem(api.post(f"/api/cases/{case['case_id']}/notify", "grid_worker",
                                   {"party": {"name": "x", "role": "owner"}}), 403)
    assert "comment" in body["allowed_triggers"]


def test_reporting_outside_ones_grid_is_403(api: Api) -> None:
    assert_problem(api.post("/api/cases", "grid_worker-x", report_body()), 403)
    assert_problem(api.post("/api/cases", "leader", report_body()), 403)


def test_unknown_and_out_of_scope_cases_look_the_same_404(api: Api) -> None:
    case = api.report()
    unknown = assert_problem(api.get("/api/cases/00000000-0000-0000-0000-000000000000",
                                     "grid_worker"), 404)
    hidden = assert_problem(api.get(f"/api/cases/{case['case_id']}", "grid_worker-x"), 404)
    assert unknown["type"] == hidden["type"]
    assert_problem(api.get("/api/cases/not-a-case", "grid_worker"), 404)
    assert_problem(api.post(f"/api/cases/{case['case_id']}/comment", "safety_officer-x",
                            {"text": "hi"}), 404)


def test_stale_version_is_409_with_the_current_version(api: Api) -> None:
    case_id = f.to_notified(api.cases)
    body = assert_problem(api.post(f"/api/cases/{case_id}/start_rectification",
                                   "safety_officer", None, **{"If-Match": '"1"'}), 409)
    assert (body["current_version"], body["expected_version"]) == (2, 1)
    assert api.cases.get_case(case_id).version == 2


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"],
                         ids=["command_path", "routes"])
def test_a_conflict_names_the_case_by_its_number(api: Api, monkeypatch: Any,
                                                 content_type: str) -> None:
    """A stale If-Match, and a command whose saves kept colliding with concurrent writers,
    answered 409 naming the case by its UUID, where every other message names its number."""
    case_id = f.to_notified(api.cases)
    number = api.cases.get_case(case_id).number
    stale = assert_problem(api.post(f"/api/cases/{case_id}/comment", "safety_officer",
                                    {"text": "已电话联系房东"},
                                    **{"If-Match": '"1"', "Content-Type": content_type}), 409)
    assert stale["detail"] == (f"case {number} is at version 2, not 1: reload it and "
                               "decide again")
    assert (stale["current_version"], stale["expected_version"]) == (2, 1)

    def collide(*_: Any) -> None:
        raise IntegrityError("another writer saved this version first")

    monkeypatch.setattr(api.cases, "commit", collide)
    monkeypatch.setattr(api.cases, "MAX_ATTEMPTS", 2)
    busy = assert_problem(api.post(f"/api/cases/{number}/comment", "safety_officer",
                                   {"text": "已电话联系房东"}, **{"Content-Type": content_type}),
                          409)
    assert busy["detail"] == (f"comment on {number} collided with concurrent writers 2 times; "
                              "try again")
    assert api.cases.get_case(case_id).version == 2


def test_the_busy_409_is_documented_where_the_other_409s_are(api: Api,
                                                               monkeypatch: Any) -> None:
    """/openapi.json described a command's 409 as a stale version, an illegal transition or
    a probable duplicate; the busy answer (saves colliding with concurrent writers) was not
    named, so a client had no word that retrying is the remedy."""
    paths = api.client.get("/openapi.json").json()["paths"]
    described = {f"{method.upper()} {path}": operation["responses"]["409"]["description"]
                 for path, operations in paths.items()
                 for method, operation in operations.items()
                 if "409" in operation.get("responses", {})}
    assert {"POST /api/cases", "POST /api/cases/{case}/comment",
            "POST /api/cases/{case}/evidence"} <= set(described)
    for description in described.values():
        assert "stale If-Match" in description and "probable duplicate" in description
        assert "busy" in description and "concurrent writers" in description

    def collide(*_: Any) -> None:
        raise IntegrityError("another writer saved this version first")

    case_id = f.to_notified(api.cases)
    monkeypatch.setattr(api.cases, "commit", collide)
    monkeypatch.setattr(api.cases, "MAX_ATTEMPTS", 2)
    busy = assert_problem(api.post(f"/api/cases/{case_id}/comment", "safety_officer",
                                   {"text": "已电话联系房东"}), 409)
    assert busy["type"].endswith("/busy")


def test_trigger_not_allowed_from_the_state_is_409(api: Api) -> None:
    case = api.report()
    body = assert_problem(api.post(f"/api/cases/{case['case_id']}/verify", "inspector",
                                   {"passed": True}), 409)
    assert body["state"] == "found"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"],
                         ids=["command_path", "routes"])
@pytest.mark.parametrize("accepted", [False, True], ids=["before_acceptance", "accepted"])
def test_a_refused_trigger_offers_what_the_case_view_offers(api: Api, accepted: bool,
                                                            content_type: str) -> None:
    """A 403 / 409 listed the lifecycle table's triggers for the role, while the case view
    (GET /api/cases/{case}) lists them less what the case would refuse: on an escalation
    the department had not accepted, the fire officer's 403 offered close and
    record_enforcement (each then refused, 422) and never said accept_escalation alone was
    new. The body's allowed_triggers, and its detail, are the view's list."""
    case_id = f.to_escalated(api.cases, accepted=accepted)
    offered = api.get(f"/api/cases/{case_id}", "department_officer").json()["allowed_triggers"]
    refused = assert_problem(api.post(f"/api/cases/{case_id}/notify", "department_officer",
                                      {"party": {"name": "x", "role": "owner"}},
                                      **{"Content-Type": content_type}), 403)
    assert refused["state"] == "escalated"
    assert refused["allowed_triggers"] == offered
    assert refused["detail"].endswith(
        "triggers allowed here for department_officer: " + ", ".join(offered))
    if accepted:
        assert {"close", "record_enforcement"} <= set(offered)
        assert "accept_escalation" not in offered
    else:
        assert "accept_escalation" in offered
        assert not {"close", "record_enforcement", "order_rectification"} & set(offered)
    # Another role's refusal on the same case lists that role's view too.
    wrong_state = assert_problem(api.post(f"/api/cases/{case_id}/notify", "safety_officer",
                                          {"party": {"name": "x", "role": "owner"}},
                                          **{"Content-Type": content_type}), 409)
    assert wrong_state["allowed_triggers"] == api.get(
        f"/api/cases/{case_id}", "safety_officer").json()["allowed_triggers"]


def test_probable_duplicate_is_409_naming_the_open_case(api: Api) -> None:
    first = api.report(5)
    body = assert_problem(api.post("/api/cases", "grid_worker", report_body(5)), 409)
    assert (body["existing_case_id"], body["existing_number"]) == (first["case_id"],
                                                                   first["number"])
    again = api.post("/api/cases", "grid_worker", report_body(5, confirm_new=True))
    assert again.status_code == 201


def test_probable_duplicate_out_of_scope_is_409_without_naming_the_case(api: Api) -> None:
    # one place id in two grids: only a store from before places were described holds that
    with f.places_as_registered_before_described():
        first = api.report(6)  # in grid YS-C01-G01
    elsewhere = report_body(6, place=place_body(6, grid="YS-C01-G02"))  # same place id
    response = api.post("/api/cases", "grid_worker-x", elsewhere)
    body = assert_problem(response, 409)
    assert body["type"].endswith("/probable-duplicate")
    assert "existing_case_id" not in body and "existing_number" not in body
    assert first["number"] not in response.text and first["case_id"] not in response.text
    # the community's officer sees the open case: it is named to them
    named = assert_problem(api.post("/api/cases", "safety_officer", report_body(6)), 409)
    assert named["existing_number"] == first["number"]
    confirmed = api.post("/api/cases", "grid_worker-x", {**elsewhere, "confirm_new": True})
    assert confirmed.status_code == 201, confirmed.text



def test_reopening_while_the_hazard_is_open_as_another_case_is_409(api: Api) -> None:
    # A (grid G02) closed; the same place id reported in G01 meanwhile (B, open): reopening
    # A is a probable duplicate, named to whom may see B, told without naming it otherwise.
    # (one place id in two grids: only a store from before places were described holds that)
    elsewhere = report_body(8, place=place_body(8, grid="YS-C01-G02"))
    with f.places_as_registered_before_described():
        a = api.post("/api/cases", "grid_worker-x", elsewhere).json()
        api.cases.dismiss(a["case_id"], f.safety_officer, closing_reason="unfounded",
                          reason="误报")
        b = api.report(8)
    reopen = f"/api/cases/{a['case_id']}/reopen"
    hidden = api.post(reopen, "grid_worker-x", {"reason": "又发现"})
    body = assert_problem(hidden, 409)
    assert body["type"].endswith("/probable-duplicate") and "reopen anyway" in body["detail"]
    assert b["number"] not in hidden.text and b["case_id"] not in hidden.text
    named = assert_problem(api.post(reopen, "safety_officer", {"reason": "又发现"}), 409)
    assert named["existing_number"] == b["number"]
    confirmed = api.post(reopen, "grid_worker-x", {"reason": "另一处", "confirm_new": True})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "found"

def test_a_place_id_registered_as_another_place_is_422(api: Api) -> None:
    api.report(9)  # P-0009, a rental house in grid YS-C01-G01
    stored = len(api.cases.recorder.select_notifications(1, 1000))
    # a grid worker of another grid is not told what or where the place is
    elsewhere = report_body(9, place=place_body(9, grid="YS-C01-G02"), confirm_new=True)
    hidden = assert_problem(api.post("/api/cases", "grid_worker-x", elsewhere), 422)
    assert hidden["detail"] == (
        "place P-0009 is already used by a place outside your area: report it with the "
        "place's own grid, community and kind, or give this place its own id")
    # the community's officer, who sees the place, is told what differs
    enterprise = report_body(9, category="blocked_fire_exit",
                             place={**place_body(9), "kind": "enterprise"})
    told = assert_problem(api.post("/api/cases", "safety_officer", enterprise), 422)
    assert told["detail"].startswith(
        "place P-0009 is registered as kind rental_house, not enterprise: ")
    assert len(api.cases.recorder.select_notifications(1, 1000)) == stored
    # the same place under another name or address is the same place
    renamed = report_body(9, category="blocked_fire_exit",
                          place={**place_body(9), "name": "陈家出租屋", "address": "园山路九号"})
    assert api.post("/api/cases", "safety_officer", renamed).status_code == 201


def test_separation_of_duties_is_403(api: Api) -> None:
    case_id = f.to_rectifying(api.cases)
    # a submission recorded under the inspector's id; the inspector may not verify it
    api.cases.submit_rectification(case_id, f.Actor("inspector", "safety_officer", f.COMMUNITY),
                                   measures="拆除")
    assert_problem(api.post(f"/api/cases/{case_id}/verify", "inspector", {"passed": True}), 403)


# -- idempotency -----------------------------------------------------------------------------

def test_same_key_same_body_replays_and_appends_nothing(api: Api) -> None:
    key = {"Idempotency-Key": "report-7"}
    first = api.post("/api/cases", "grid_worker", report_body(7), **key)
    stored = len(api.cases.recorder.select_notifications(1, 1000))
    again = api.post("/api/cases", "grid_worker", report_body(7), **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(api.cases.recorder.select_notifications(1, 1000)) == stored

    path = f"/api/cases/{first.json()['case_id']}/comment"
    one = api.post(path, "street_supervisor", {"text": "a"}, **{"Idempotency-Key": "c1"})
    two = api.post(path, "street_supervisor", {"text": "a"}, **{"Idempotency-Key": "c1"})
    assert one.json() == two.json() and one.json()["version"] == 2
    assert len(api.cases.history(first.json()["case_id"])) == 2


def test_same_key_different_body_is_422(api: Api) -> None:
    api.post("/api/cases", "grid_worker", report_body(8), **{"Idempotency-Key": "k"})
    body = assert_problem(api.post("/api/cases", "grid_worker", report_body(9),
                                   **{"Idempotency-Key": "k"}), 422)
    assert "idempotency" in body["type"]


# -- 400 / 413 / 422 -------------------------------------------------------------------------

BAD_REPORTS = {
    "missing place": {k: v for k, v in report_body().items() if k != "place"},
    "unknown category": report_body(category="ufo"),
    "actor typed by the caller": report_body(actor={"id": "boss", "role": "admin"}),
    "blank description": {**report_body(), "description": "   "},
    "description too long": {**report_body(), "description": "长" * 2001},
    "naive occurred_at": {**report_body(), "occurred_at": "2026-03-02T09:00:00"},
    "future occurred_at": {**report_body(), "occurred_at": "2030-01-01T00:00:00+08:00"},
    "grid outside its community": {**report_body(),
                                   "place": {**report_body()["place"], "grid": "YS-C09-G01"}},
    "NUL in text": {**report_body(), "description": "a\x00b"},
    "terminal escape in text": {**report_body(), "description": "a\x1b[2Jb"},
    "C1 control in a place name": {**report_body(),
                                   "place": {**report_body()["place"], "name": "x\x9by"}},
    "bad evidence hash": {**report_body(), "evidence": [
        {"name": "a.jpg", "media_type": "image/jpeg", "sha256": "zz", "size": 1}]},
    "not an object": ["place"],
}


@pytest.mark.parametrize("name", sorted(BAD_REPORTS))
def test_bad_report_bodies_are_422(api: Api, name: str) -> None:
    before = api.cases.recorder.max_notification_id()
    assert_problem(api.post("/api/cases", "grid_worker", BAD_REPORTS[name]), 422)
    assert api.cases.recorder.max_notification_id() == before


@pytest.mark.parametrize("trigger,body", [
    ("record_enforcement", {"decision_number": "x", "measure": "fine", "amount": "-1"}),
    ("record_enforcement", {"decision_number": "x", "measure": "fine", "amount": "abc"}),
    ("extend_deadline", {"deadline": "2026-13-01", "reason": "x"}),
    ("close", {"closing_reason": "unfounded"}),
    ("comment", {}),
    ("comment", {"text": 5}),
])
def test_bad_trigger_bodies_are_422(api: Api, trigger: str, body: Any) -> None:
    case_id = f.to_escalated(api.cases)
    assert_problem(api.post(f"/api/cases/{case_id}/{trigger}", "department_officer", body), 422)


def test_malformed_json_and_bad_if_match_are_400(api: Api) -> None:
    case_id = f.report(api.cases)
    raw = api.client.post(f"/api/cases/{case_id}/comment", content=b'{"text": ',
                          headers=api.auth("street_supervisor", **{"Content-Type": "application/json"}))
    assert assert_problem(raw, 400)["type"].endswith("/malformed-body")
    # bodies FastAPI itself cannot decode had another problem type ("http-error") and its
    # words; one kind of 400 for every body that cannot be read
    for unread in (b'{"text": "\xff\xfe"}', b'{"text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"):
        response = api.client.post(f"/api/cases/{case_id}/comment", content=unread,
                                   headers=api.auth("street_supervisor",
                                                    **{"Content-Type": "application/json"}))
        assert assert_problem(response, 400)["type"].endswith("/malformed-body")
    assert_problem(api.post(f"/api/cases/{case_id}/comment", "street_supervisor", {"text": "a"},
                            **{"If-Match": "latest"}), 400)
    # too long is a bad header as well (it was FastAPI's 422, as if the body were wrong)
    for header, value in (("If-Match", "9" * 41), ("Idempotency-Key", "k" * 201)):
        body = assert_problem(api.post(f"/api/cases/{case_id}/comment", "street_supervisor",
                                       {"text": "a"}, **{header: value}), 400)
        assert header in body["detail"]
    assert "maxLength" in str(api.client.get("/openapi.json").json()["paths"][
        "/api/cases/{case}/comment"]["post"]["parameters"])


def test_oversized_body_is_413(api: Api) -> None:
    body = {**report_body(), "description": "x" * 300_000}
    assert_problem(api.post("/api/cases", "grid_worker", body), 413)


def test_unexpected_error_is_a_500_problem_without_internals(api: Api) -> None:
    class Broken:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("secret internals: password=hunter2")

    app = create_app(api.cases, token_ttl=0)
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.cases = Broken()
        response = client.get(f"/api/cases/{f.report(api.cases)}",
                              headers=api.auth("leader"))
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text and body["request_id"]
