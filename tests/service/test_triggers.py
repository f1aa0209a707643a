"""Each trigger's happy path and its refusals, through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import (
    CaseNotFound,
    DomainError,
    IllegalTransition,
    NotPermitted,
    SeparationOfDuties,
)
from tests import factories as f


def triggers_of(cases, case_id) -> list[str]:
    return [e.trigger for e in cases.history(case_id)]


def test_report_notify_rectify_verify_close(cases, clock):
    case_id = f.report(cases)
    clock.advance(hours=2)
    r = cases.notify(case_id, f.safety_officer, party=f.landlord)
    case = cases.get_case(case_id)
    assert (r.state, r.version) == ("notified", 2)
    due, rule = cases.policy.rectification_deadline(
        "general", "flying_wire_charging", "rental_house", date(2026, 3, 2))
    assert case.deadline == due.isoformat() and due > date(2026, 3, 2)
    assert case.party["role"] == "landlord"
    assert cases.history(case_id)[-1].rule == rule
    clock.advance(days=1)
    cases.start_rectification(case_id, f.safety_officer)
    cases.submit_rectification(case_id, f.safety_officer, measures="拆除飞线")
    clock.advance(days=1)
    r = cases.verify(case_id, f.inspector, passed=True)
    assert r.state == "closed"
    case = cases.get_case(case_id)
    assert case.closing_reason == "rectified" and case.verified_by == "in-huang"
    assert triggers_of(cases, case_id) == [
        "report", "notify", "start_rectification", "submit_rectification", "verify"]


def test_failed_verification_returns_to_rectifying_as_rework(cases):
    case_id = f.to_awaiting_verification(cases)
    r = cases.verify(case_id, f.inspector, passed=False, reason="仍有飞线")
    assert r.state == "rectifying.in_progress"
    assert cases.get_case(case_id).rework_count == 1
    with pytest.raises(IllegalTransition):
        cases.verify(case_id, f.inspector, passed=True)


def test_the_submitter_cannot_verify(cases, open_service):
    case_id = f.to_rectifying(cases)
    from domain.values import Actor
    officer_and_inspector = Actor("so-chen", "inspector", f.COMMUNITY)
    cases.submit_rectification(case_id, f.safety_officer, measures="done")
    with pytest.raises(SeparationOfDuties):
        cases.verify(case_id, officer_and_inspector, passed=True)
    assert cases.get_case(case_id).version == 4


def test_refusal_routes_to_the_department_of_the_category(cases):
    case_id = f.to_notified(cases, category="unreported_small_works")
    r = cases.refuse(case_id, f.safety_officer, reason="拒不整改")
    case = cases.get_case(case_id)
    assert r.state == "escalated" and case.department == "housing" and case.refused
    rule = cases.history(case_id)[-1].rule
    assert "unreported_small_works" in rule and "housing" in rule


def test_an_unknown_department_given_by_hand_is_named_with_the_choices(cases):
    # A ValueError from the Department enum escaped the service: not a domain error, so a
    # library caller or the API's error mapping could not tell it from a crash.
    case_id = f.to_notified(cases)
    for command in (cases.refuse, cases.escalate):
        with pytest.raises(DomainError, match="unknown department 'police'; expected one of: "
                                              "fire, emergency_management"):
            command(case_id, f.safety_officer, reason="拒不整改", department="police")
    assert triggers_of(cases, case_id) == ["report", "notify"]
    cases.escalate(case_id, f.safety_officer, reason="移交", department="housing")
    assert cases.get_case(case_id).department == "housing"

def test_escalate_accept_enforce_order_back_and_close(cases, clock):
    case_id = f.report(cases, severity="major")
    cases.escalate(case_id, f.street_supervisor, reason="重大隐患")
    with pytest.raises(NotPermitted):
        cases.accept_escalation(case_id, f.housing_officer)
    cases.accept_escalation(case_id, f.fire_officer)
    cases.record_enforcement(case_id, f.fire_officer, decision_number="深龙消罚〔2026〕1号",
                             measure="fine", amount="2000")
    r = cases.order_rectification(case_id, f.fire_officer, deadline=date(2026, 3, 20),
                                  reason="责令限期整改")
    assert r.state == "rectifying.in_progress"
    assert cases.get_case(case_id).deadline == "2026-03-20"
    cases.refuse(case_id, f.safety_officer, reason="再次拒不整改")
    cases.accept_escalation(case_id, f.fire_officer)
    r = cases.close(case_id, f.fire_officer, closing_reason="enforced", reason="查封")
    case = cases.get_case(case_id)
    assert r.state == "closed" and case.closing_reason == "enforced"
    assert case.enforcement[0]["measure"] == "fine"


def test_escalation_by_the_system_actor(cases):
    case_id = f.to_notified(cases)
    r = cases.escalate(case_id, f.system, reason="逾期未整改")
    assert r.state == "escalated"
    assert cases.history(case_id)[-1].actor == {"id": "system", "role": "system",
                                                "unit": "system"}


def test_dismiss_as_unfounded_and_as_duplicate(cases):
    first = f.report(cases, 1)
    second = cases.report(f.volunteer, place=f.place(1), category="flying_wire_charging",
                          severity="general", description="同一处", confirm_new=True).case_id
    cases.dismiss(second, f.safety_officer, closing_reason="duplicate", reason="重复上报",
                  duplicate_of=cases.get_case(first).number)
    case = cases.get_case(second)
    assert case.closing_reason == "duplicate" and case.duplicate_of == str(first)
    third = f.report(cases, 2)
    cases.dismiss(third, f.safety_officer, closing_reason="unfounded", reason="不构成隐患")
    assert cases.get_case(third).closing_reason == "unfounded"
    with pytest.raises(CaseNotFound):
        cases.dismiss(first, f.safety_officer, closing_reason="duplicate", reason="x",
                      duplicate_of="HZ-2026-999999")


def test_a_duplicate_names_an_open_case_so_a_hazard_cannot_be_dismissed_away(cases):
    # A dismissed as a duplicate of B, then B as a duplicate of A: both closed, the hazard
    # on no one's desk. The case a report duplicates is the one still working the hazard,
    # so it must be open; a hazard whose case was closed is a recurrence (reopen it).
    a = f.report(cases, 1)
    b = cases.report(f.volunteer, place=f.place(1), category="flying_wire_charging",
                     severity="general", description="同一处", confirm_new=True).case_id
    cases.dismiss(a, f.safety_officer, closing_reason="duplicate", reason="重复上报",
                  duplicate_of=str(b))
    number_a = cases.get_case(a).number
    with pytest.raises(DomainError, match=f"{number_a} is closed .duplicate.: "
                                          "a duplicate names the open case"):
        cases.dismiss(b, f.safety_officer, closing_reason="duplicate", reason="重复上报",
                      duplicate_of=str(a))
    assert cases.get_case(b).state == "found"

def test_reopen_links_the_previous_cycle(cases, clock):
    case_id = f.report(cases)
    cases.dismiss(case_id, f.safety_officer, closing_reason="unfounded", reason="误报")
    clock.advance(days=30)
    r = cases.reopen(case_id, f.grid_worker, reason="又发现飞线充电")
    case = cases.get_case(case_id)
    assert r.state == "found" and case.recurrence_count == 1
    assert case.cycles[0]["first_version"] == 1 and case.cycles[0]["last_version"] == 2
    # The case is open again at its place: a new report is a probable duplicate.
    from domain.errors import ProbableDuplicate
    with pytest.raises(ProbableDuplicate):
        f.report(cases)



def test_reopening_while_the_hazard_is_open_as_another_case_is_a_probable_duplicate(cases,
                                                                                   clock):
    # A closed, the hazard found again and reported as new (B), then A reopened: two open
    # cases of one hazard, counted twice in the risk grade and the statistics, on two desks.
    from domain.errors import ProbableDuplicate

    a = f.report(cases)
    cases.dismiss(a, f.safety_officer, closing_reason="unfounded", reason="误报")
    clock.advance(days=10)
    b = f.report(cases)
    before = cases.recorder.max_notification_id()
    with pytest.raises(ProbableDuplicate,
                       match=f"open case {cases.get_case(b).number} .*act on that case, or "
                             "confirm this is another hazard to reopen anyway") as refused:
        cases.reopen(a, f.grid_worker, reason="又发现飞线充电")
    assert refused.value.case_id == b
    assert cases.recorder.max_notification_id() == before and cases.get_case(a).state == "closed"
    # another category at the place is another hazard
    c = cases.report(f.grid_worker, place=f.place(), category="blocked_fire_exit",
                     severity="general", description="楼梯间堆放杂物").case_id
    cases.dismiss(c, f.safety_officer, closing_reason="unfounded", reason="误报")
    assert cases.reopen(c, f.grid_worker, reason="又堆放").state == "found"
    # confirmed as another hazard, it reopens
    assert cases.reopen(a, f.grid_worker, reason="另一处飞线", confirm_new=True).state == "found"

def test_extend_deadline_and_comment(cases):
    case_id = f.to_notified(cases)
    with pytest.raises(DomainError, match="past 2026-03-09"):
        cases.extend_deadline(case_id, f.street_supervisor, deadline=date(2026, 3, 8),
                              reason="x")
    cases.extend_deadline(case_id, f.street_supervisor, deadline=date(2026, 3, 16),
                          reason="需采购设备")
    assert cases.get_case(case_id).deadline == "2026-03-16"
    cases.comment(case_id, f.street_supervisor, text="请加快整改")
    assert cases.history(case_id)[-1].reason == "请加快整改"
    # Leaders and auditors read; they cannot act, not even by commenting.
    for reader in (f.leader, f.auditor):
        with pytest.raises(IllegalTransition, match="comment"):
            cases.comment(case_id, reader, text="x")
    assert len(cases.history(case_id)) == 4


@pytest.mark.parametrize(("trigger", "actor", "params"), [
    ("notify", f.grid_worker, {"party": f.landlord}),
    ("verify", f.inspector, {"passed": True}),
    ("close", f.fire_officer, {}),
    ("reopen", f.safety_officer, {"reason": "x"}),
    ("start_rectification", f.leader, {}),
])
def test_illegal_transitions_and_wrong_roles_append_nothing(cases, trigger, actor, params):
    case_id = f.report(cases)
    with pytest.raises(IllegalTransition) as raised:
        cases.act(case_id, trigger, actor, **params)
    assert "found" in str(raised.value) and trigger in str(raised.value)
    assert triggers_of(cases, case_id) == ["report"]


def test_a_control_character_is_refused_by_the_service_and_older_ones_still_replay(cases):
    # Library callers, the demo and the tick reach the service without the HTTP or CLI
    # edge: the service refuses what the log must not keep, and appends nothing.
    case_id = f.report(cases)
    with pytest.raises(DomainError, match="comment contains U\\+0000, a control character"):
        cases.comment(case_id, f.safety_officer, text="NUL\x00here")
    with pytest.raises(DomainError, match="party name contains U\\+001B"):
        cases.notify(case_id, f.safety_officer, party=f.Party("\x1b[31m陈", "landlord"))
    assert triggers_of(cases, case_id) == ["report"]
    # An event recorded before the check still loads and the case still takes commands:
    # only commands check, replay never does.
    f.comment_as_recorded_before(cases, case_id, "older\x00text")
    assert cases.history(case_id)[-1].reason == "older\x00text"
    cases.notify(case_id, f.safety_officer, party=f.landlord)
    assert cases.get_case(case_id).state == "notified"

def test_an_unknown_case_is_not_found(cases):
    with pytest.raises(CaseNotFound):
        cases.notify("HZ-2026-000404", f.safety_officer, party=f.landlord)
    with pytest.raises(CaseNotFound):
        cases.get_case("not-a-case")


def test_case_at_a_past_version_and_time(cases, clock):
    case_id = f.report(cases)
    reported_at = clock.now()
    clock.advance(days=1)
    cases.notify(case_id, f.safety_officer, party=f.landlord)
    assert cases.get_case(case_id, version=1).state == "found"
    assert cases.get_case(case_id, as_of=reported_at + timedelta(hours=1)).state == "found"
    assert cases.get_case(case_id, as_of=clock.now()).state == "notified"
    with pytest.raises(CaseNotFound):
        cases.get_case(case_id, as_of=reported_at - timedelta(seconds=1))


@pytest.mark.parametrize("version", [0, -1, 3, 99])
def test_a_version_the_case_does_not_have_is_named_not_another_shown(cases, version):
    # The library answers a version past the last with the last one, and 0 with nothing:
    # neither may pass for the version asked for, nor deny that the case exists.
    case_id = f.report(cases)
    cases.notify(case_id, f.safety_officer, party=f.landlord)
    with pytest.raises(CaseNotFound, match=f"at version {version} \\(its versions are 1 to 2\\)"):
        cases.get_case(case_id, version=version)
    assert cases.get_case(case_id, version=2).version == 2
