"""Each trigger's happy path over HTTP, on SQLite and PostgreSQL.

Cases are driven to the trigger's source state through the service (fast), then the
trigger runs over HTTP as the account that may use it. The event it records must carry
that account as its actor: the identity comes from the token, never from the body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from api.schemas.commands import SERVED_ELSEWHERE, TRIGGER_BODIES
from tests import factories as f
from tests.api.conftest import ACCOUNTS, Api, report_body
from workflows import lifecycle
from workflows.service import HazardCases


def _closed(cases: HazardCases) -> UUID:
    case_id = f.to_awaiting_verification(cases)
    cases.verify(case_id, f.inspector, passed=True)
    return case_id


PARTY = {"name": "房东 陈先生", "role": "landlord", "contact": "13800000000"}
Setup = Callable[[HazardCases], UUID]

# trigger -> (how to reach its source state, who runs it, body, state afterwards)
HAPPY: dict[str, tuple[Setup, str, Any, str]] = {
    "notify": (f.report, "safety_officer", {"party": PARTY, "deadline": "2026-03-09"},
               "notified"),
    "start_rectification": (f.to_notified, "safety_officer", None, "rectifying.in_progress"),
    "submit_rectification": (f.to_rectifying, "safety_officer", {"measures": "拆除飞线"},
                             "rectifying.awaiting_verification"),
    "verify": (f.to_awaiting_verification, "inspector", {"passed": True}, "closed"),
    "refuse": (f.to_notified, "safety_officer", {"reason": "房东拒不整改"}, "escalated"),
    "escalate": (f.report, "street_supervisor", {"reason": "重大隐患, 移交消防"}, "escalated"),
    "accept_escalation": (lambda c: f.to_escalated(c, accepted=False), "department_officer",
                          None, "escalated"),
    "record_enforcement": (f.to_escalated, "department_officer",
                           {"decision_number": "园消罚〔2026〕1号", "measure": "fine",
                            "amount": "500"}, "escalated"),
    "order_rectification": (f.to_escalated, "department_officer",
                            {"deadline": "2026-03-20", "reason": "责令整改"},
                            "rectifying.in_progress"),
    "close": (f.to_enforced, "department_officer", {"closing_reason": "enforced"}, "closed"),
    "dismiss": (f.report, "safety_officer",
                {"closing_reason": "unfounded", "reason": "现场无隐患"}, "closed"),
    "reopen": (_closed, "grid_worker", {"reason": "飞线充电复发"}, "found"),
    "extend_deadline": (f.to_notified, "street_supervisor",
                        {"deadline": "2026-03-16", "reason": "需采购器材"}, "notified"),
    "comment": (f.report, "street_supervisor", {"text": "周二集中整治日前完成"}, "found"),
}


def test_every_lifecycle_trigger_has_a_route_and_a_happy_path() -> None:
    served = set(TRIGGER_BODIES) | {"report"} | set(SERVED_ELSEWHERE)
    assert served == set(lifecycle.TRIGGERS)
    assert set(HAPPY) == set(TRIGGER_BODIES)


@pytest.mark.parametrize("trigger", sorted(HAPPY))
def test_trigger_happy_path(api: Api, trigger: str) -> None:
    setup, who, body, state = HAPPY[trigger]
    case_id = setup(api.cases)
    before = api.cases.get_case(case_id).version

    response = api.post(f"/api/cases/{case_id}/{trigger}", who, body,
                        **{"If-Match": str(before)})

    assert response.status_code == 200, response.text
    out = response.json()
    assert (out["case_id"], out["state"]) == (str(case_id), state)
    assert out["version"] > before and response.headers["ETag"] == f'"{out["version"]}"'
    last = api.cases.history(case_id)[-1]
    role, unit = ACCOUNTS[who]
    assert (last.trigger, last.actor) == (trigger, {"id": who, "role": role, "unit": unit})


def test_report_creates_a_case_recorded_as_the_caller(api: Api) -> None:
    response = api.post("/api/cases", "volunteer", report_body(7))
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["state"] == "found" and out["version"] == 1
    assert out["number"].startswith("HZ-2026-")
    assert response.headers["Location"] == f"/api/cases/{out['case_id']}"
    case = api.cases.get_case(out["case_id"])
    assert case.reported_by == {"id": "volunteer", "role": "volunteer", "unit": f.GRID}


def test_a_case_is_read_by_id_or_number_now_or_at_a_version(api: Api) -> None:
    case_id = f.to_notified(api.cases)
    number = api.cases.get_case(case_id).number
    now = api.get(f"/api/cases/{number}", "safety_officer")
    assert now.status_code == 200 and now.json()["state"] == "notified"
    assert now.json()["allowed_triggers"] == lifecycle.allowed_triggers("notified",
                                                                       f.safety_officer.role)
    then = api.get(f"/api/cases/{case_id}", "auditor", version=1)
    assert (then.json()["state"], then.json()["version"]) == ("found", 1)
    assert then.headers["ETag"] == '"1"'


def test_a_version_and_an_instant_together_are_refused_and_the_case_named_as_asked(
        api: Api) -> None:
    """?version=1&as_of=... answered the case as of the instant (version 2), the version
    the caller asked for dropped without a word; and a version past the last named the case
    by its UUID to a caller who had asked for it by number."""
    case_id = f.to_notified(api.cases)
    number = api.cases.get_case(case_id).number
    both = api.get(f"/api/cases/{number}", "auditor", version=1,
                   as_of="2030-01-01T00:00:00+08:00")
    assert both.status_code == 422, both.text
    assert both.json()["detail"] == "give a version or an as_of instant, not both"
    past = api.get(f"/api/cases/{number}", "auditor", version=9)
    assert (past.status_code, past.json()["detail"]) == (
        404, f"no hazard case {number} at version 9 (its versions are 1 to 2)")


def test_history_is_the_audit_trail(api: Api) -> None:
    case = api.report(3)
    api.post(f"/api/cases/{case['case_id']}/comment", "street_supervisor", {"text": "请尽快处理"})
    trail = api.get(f"/api/cases/{case['case_id']}/history", "auditor").json()
    assert [(e["version"], e["trigger"], e["actor"]["id"]) for e in trail] == [
        (1, "report", "grid_worker"), (2, "comment", "street_supervisor")]
    assert trail[1]["reason"] == "请尽快处理"


def test_every_json_body_in_the_openapi_document_has_an_example(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            ref = schema.get("$ref") or next(
                (s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s), None)
            if ref is None or "examples" not in schemas[ref.rsplit("/", 1)[-1]]:
                missing.append(f"{method.upper()} {path}")
    assert missing == []


@pytest.mark.parametrize("accepted", [False, True], ids=["before_acceptance", "accepted"])
def test_an_escalated_case_offers_the_department_only_what_it_would_accept(
        api: Api, accepted: bool) -> None:
    """Before the department accepted an escalation, its case offered it record_enforcement,
    order_rectification and close, each then refused (422: it must accept first); once
    accepted, it offered accept_escalation, refused as already accepted. Each trigger the
    table allows here is tried on a case of its own: offered if and only if accepted."""
    places = iter(range(1, 50))
    shown = f.to_escalated(api.cases, next(places), accepted=accepted)
    offered = set(api.get(f"/api/cases/{shown}", "department_officer").json()[
        "allowed_triggers"])
    # Closed as rectified: what is tried is the trigger, not what a closing reason needs.
    bodies = {**{t: body for t, (_, _, body, _) in HAPPY.items()},
              "close": {"closing_reason": "rectified"}}
    answered: dict[str, int] = {}
    for trigger in lifecycle.allowed_triggers("escalated", f.fire_officer.role):
        if trigger in bodies:  # attach_evidence is a multipart upload, in any state
            case_id = f.to_escalated(api.cases, next(places), accepted=accepted)
            answered[trigger] = api.post(f"/api/cases/{case_id}/{trigger}",
                                         "department_officer", bodies[trigger]).status_code
    assert set(answered.values()) == {200, 422}
    assert offered & set(answered) == {t for t, status in answered.items() if status == 200}
    decisions = {"record_enforcement", "order_rectification", "close"}
    assert offered >= ({"comment"} | decisions if accepted else {"comment", "accept_escalation"})


def test_closing_as_enforced_needs_an_enforcement_recorded_first(api: Api) -> None:
    """A department closed an accepted escalation as enforced with no EnforcementRecorded:
    the ledger said 执法 with no decision number to prove it. It is a broken rule (422,
    problem details) naming the case and what to do, and nothing is appended."""
    case_id = f.to_escalated(api.cases)
    number = api.cases.get_case(case_id).number
    before = api.cases.get_case(case_id).version
    refused = api.post(f"/api/cases/{number}/close", "department_officer",
                       {"closing_reason": "enforced", "reason": "执法到位"})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == (
        f"{number} cannot be closed as enforced: no enforcement is recorded since it was "
        "reported; record the enforcement decision first (decision number, measure, amount)")
    assert refused.json()["type"].endswith("/rule-violated")
    assert api.cases.get_case(case_id).version == before
    recorded = api.post(f"/api/cases/{number}/record_enforcement", "department_officer",
                        HAPPY["record_enforcement"][2])
    assert recorded.status_code == 200, recorded.text
    closed = api.post(f"/api/cases/{number}/close", "department_officer",
                      {"closing_reason": "enforced"})
    assert (closed.status_code, closed.json()["state"]) == (200, "closed"), closed.text
