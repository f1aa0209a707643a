"""The aggregate on its own: commands record events, invariants refuse bad commands."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from domain import events as ev
from domain.case import Act, HazardCase
from domain.errors import DomainError, NotPermitted, SeparationOfDuties
from domain.values import Evidence, Party, Place
from tests.factories import (
    fire_officer,
    grid_worker,
    housing_officer,
    inspector,
    landlord,
    place,
    safety_officer,
    street_supervisor,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def act(actor, trigger, to, minutes=0, occurred_minutes=None):
    at = T0 + timedelta(minutes=minutes)
    occurred = at if occurred_minutes is None else T0 + timedelta(minutes=occurred_minutes)
    return Act(actor, trigger, to, occurred, at)


def reported() -> HazardCase:
    return HazardCase.report(uuid4(), act(grid_worker, "report", "found"), "HZ-2026-000001",
                             place(), "flying_wire_charging", "general", "飞线充电", [])


def test_report_records_who_when_and_what() -> None:
    case = reported()
    (event,) = case.collect_events()
    assert isinstance(event, ev.Reported)
    assert event.actor == {"id": "gw-li", "role": "grid_worker", "unit": "YS-C01-G01"}
    assert event.recorded_at == "2026-03-02T01:00:00.000000+00:00"
    assert event.timestamp == T0
    assert case.state == "found" and case.number == "HZ-2026-000001"


def test_occurred_at_may_be_earlier_than_recording_but_never_in_the_future() -> None:
    late_sync = act(grid_worker, "report", "found", minutes=60, occurred_minutes=-600)
    case = HazardCase.report(uuid4(), late_sync, "HZ-1", place(), "other", "general", "x", [])
    assert case.found_at < case.collect_events()[0].recorded_at
    # told in China time, to the second (the event keeps UTC with microseconds)
    with pytest.raises(DomainError, match=re.escape(
            "occurred_at 2026-03-02T09:05:00+08:00 is in the future "
            "(now 2026-03-02T09:00:00+08:00)")):
        HazardCase.report(uuid4(), act(grid_worker, "report", "found", 0, 5), "HZ-2",
                          place(), "other", "general", "x", [])


def test_an_action_cannot_predate_the_case() -> None:
    case = reported()
    with pytest.raises(DomainError, match=re.escape(
            "occurred_at 2026-03-02T08:50:00+08:00 is before the case's last action at "
            "2026-03-02T09:00:00+08:00")):
        case.notify(act(safety_officer, "notify", "notified", 10, -10), landlord,
                    date(2026, 3, 9), "explicit")


def test_a_deadline_before_the_notice_is_refused() -> None:
    case = reported()
    with pytest.raises(DomainError, match="before the notice date"):
        case.notify(act(safety_officer, "notify", "notified", 5), landlord,
                    date(2026, 3, 1), "explicit")


def test_an_extension_to_a_day_already_past_is_refused() -> None:
    # Deadline Monday 9 March; the supervisor extends on Thursday 12 March, before the
    # tick ran. An extension to Tuesday 10 March grants no time: the next tick would
    # escalate at once, as missing a deadline the party was told they had.
    case = reported()
    case.notify(act(safety_officer, "notify", "notified", 1), landlord, date(2026, 3, 9), "x")
    extend = act(street_supervisor, "extend_deadline", "notified", 60 * 24 * 10)
    with pytest.raises(DomainError, match=re.escape(
            "the extended deadline 2026-03-10 is before the day it is granted, 2026-03-12")):
        case.extend_deadline(extend, date(2026, 3, 10), "材料已订购")
    case.extend_deadline(extend, date(2026, 3, 12), "材料已订购")  # today still counts
    assert case.deadline == "2026-03-12"

@pytest.mark.parametrize("command", [
    lambda: HazardCase.report(uuid4(), act(grid_worker, "report", "found"), "HZ-1", place(),
                              "other", "general", "楼道\x00飞线", []),
    lambda: reported().comment(act(safety_officer, "comment", "found", 1), "看\x1b[2J这里"),
    lambda: reported().notify(act(safety_officer, "notify", "notified", 1),
                              Party("陈先生", "landlord", "138\x07"), date(2026, 3, 9), "x"),
    lambda: reported().dismiss(act(safety_officer, "dismiss", "closed", 1), "unfounded",
                               "无\x85隐患"),
    lambda: awaiting_verification().verify(act(inspector, "verify", "closed", 4), True,
                                           "合格\x7f"),
    lambda: Place("P-1", "出租屋", "rental_house", "园山路\x0c1号", "YS-C01-G01", "YS-C01"),
    lambda: Evidence("a\x00.jpg", "image/jpeg", "a" * 64, 1),
])
def test_text_with_a_control_character_is_refused_by_the_domain(command) -> None:
    # The edges refuse it too; the domain is the last line before the log kept for ever
    # (a NUL stopped every PostgreSQL projection at its event), whoever calls the service.
    with pytest.raises(DomainError, match=r"contains U\+00[0-9A-F]{2}, a control character"):
        command()


def test_tab_and_line_breaks_are_ordinary_text() -> None:
    case = reported()
    case.comment(act(safety_officer, "comment", "found", 1), "第一行\r\n第二行\t完")
    assert case.collect_events()[-1].reason == "第一行\r\n第二行\t完"

def awaiting_verification() -> HazardCase:
    case = reported()
    case.notify(act(safety_officer, "notify", "notified", 1), landlord, date(2026, 3, 9), "x")
    case.start_rectification(act(safety_officer, "start_rectification",
                                 "rectifying.in_progress", 2))
    evidence = Evidence("after.jpg", "image/jpeg", "a" * 64, 1024)
    case.submit_rectification(act(safety_officer, "submit_rectification",
                                  "rectifying.awaiting_verification", 3), "拆除飞线", [evidence])
    return case


def test_the_submitter_may_not_verify() -> None:
    case = awaiting_verification()
    with pytest.raises(SeparationOfDuties):
        case.verify(act(safety_officer, "verify", "closed", 4), True, "")


def test_a_failed_verification_needs_a_reason_and_counts_as_rework() -> None:
    case = awaiting_verification()
    with pytest.raises(DomainError, match="reason"):
        case.verify(act(inspector, "verify", "rectifying.in_progress", 4), False, " ")
    case.verify(act(inspector, "verify", "rectifying.in_progress", 4), False, "仍有飞线")
    assert case.rework_count == 1 and case.state == "rectifying.in_progress"
    assert case.evidence[0]["sha256"] == "a" * 64


def escalated() -> HazardCase:
    case = reported()
    case.notify(act(safety_officer, "notify", "notified", 1), landlord, date(2026, 3, 9), "x")
    case.refuse(act(safety_officer, "refuse", "escalated", 2), "拒不整改", "fire", "routing")
    return case


def test_only_the_assigned_department_acts_and_only_after_accepting() -> None:
    case = escalated()
    with pytest.raises(NotPermitted, match="fire"):
        case.accept_escalation(act(housing_officer, "accept_escalation", "escalated", 3))
    with pytest.raises(DomainError, match="accept"):
        case.record_enforcement(act(fire_officer, "record_enforcement", "escalated", 3),
                                "D-1", "fine", "500")
    case.accept_escalation(act(fire_officer, "accept_escalation", "escalated", 3))
    with pytest.raises(DomainError, match="fine needs its amount"):
        case.record_enforcement(act(fire_officer, "record_enforcement", "escalated", 4),
                                "D-1", "fine", "0")
    case.record_enforcement(act(fire_officer, "record_enforcement", "escalated", 4),
                            "D-1", "fine", "500")
    case.close(act(fire_officer, "close", "closed", 5), "enforced", "")
    assert case.enforcement[0]["amount"] == "500.00"
    assert case.closing_reason == "enforced" and not case.is_open


def test_reopen_starts_a_new_cycle_linked_to_the_last() -> None:
    case = escalated()
    case.accept_escalation(act(fire_officer, "accept_escalation", "escalated", 3))
    case.record_enforcement(act(fire_officer, "record_enforcement", "escalated", 3),
                            "D-1", "warning", "0")
    case.close(act(fire_officer, "close", "closed", 4), "enforced", "")
    with pytest.raises(DomainError, match="reason"):
        case.reopen(act(grid_worker, "reopen", "found", 5), "")
    case.reopen(act(grid_worker, "reopen", "found", 5), "复发")
    assert case.recurrence_count == 1
    assert case.cycles[0]["closing_reason"] == "enforced"
    assert case.cycles[0]["last_version"] == 6
    assert case.department is None and case.deadline is None and case.closing_reason is None


def test_closing_as_enforced_needs_an_enforcement_recorded_in_this_cycle() -> None:
    # The ledger would say 执法 closed with no decision number to prove it.
    case = escalated()
    case.accept_escalation(act(fire_officer, "accept_escalation", "escalated", 3))
    refused = re.escape("HZ-2026-000001 cannot be closed as enforced: no enforcement is "
                        "recorded since it was reported; record the enforcement decision "
                        "first (decision number, measure, amount)")
    with pytest.raises(DomainError, match=refused):
        case.close(act(fire_officer, "close", "closed", 4), "enforced", "")
    case.close(act(fire_officer, "close", "closed", 4), "rectified", "")  # no decision needed
    # An enforcement of the cycle before does not prove this one's.
    case = escalated()
    case.accept_escalation(act(fire_officer, "accept_escalation", "escalated", 3))
    case.record_enforcement(act(fire_officer, "record_enforcement", "escalated", 4),
                            "D-1", "fine", "500")
    case.close(act(fire_officer, "close", "closed", 5), "enforced", "")
    case.reopen(act(grid_worker, "reopen", "found", 6), "复发")
    case.notify(act(safety_officer, "notify", "notified", 7), landlord, date(2026, 3, 9), "x")
    case.refuse(act(safety_officer, "refuse", "escalated", 8), "拒不整改", "fire", "routing")
    case.accept_escalation(act(fire_officer, "accept_escalation", "escalated", 9))
    with pytest.raises(DomainError, match="no enforcement is recorded since it was reopened"):
        case.close(act(fire_officer, "close", "closed", 10), "enforced", "")
    case.record_enforcement(act(fire_officer, "record_enforcement", "escalated", 10),
                            "D-2", "seal_up", "0")
    case.close(act(fire_officer, "close", "closed", 11), "enforced", "")
    assert [e["decision_number"] for e in case.enforcement] == ["D-1", "D-2"]


def test_a_case_closed_as_enforced_without_enforcement_before_the_rule_still_replays() -> None:
    # The rule is the command's: an event stored before it must still load.
    case = escalated()
    case.accept_escalation(act(fire_officer, "accept_escalation", "escalated", 3))
    at = T0 + timedelta(minutes=4)
    case.trigger_event(ev.CaseClosed, closing_reason="enforced",
                       **Act(fire_officer, "close", "closed", at, at).fields())
    replayed = None
    for event in case.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.closing_reason == "enforced" and replayed.cycle_enforcements == 0


def test_dismissing_as_duplicate_names_the_original() -> None:
    case = reported()
    with pytest.raises(DomainError, match="name the case"):
        case.dismiss(act(safety_officer, "dismiss", "closed", 1), "duplicate", "重复")
    with pytest.raises(DomainError, match="unfounded or duplicate"):
        case.dismiss(act(safety_officer, "dismiss", "closed", 1), "rectified", "x")


def test_replaying_the_events_gives_the_same_state() -> None:
    case = awaiting_verification()
    case.verify(act(inspector, "verify", "closed", 4), True, "")
    events = case.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert vars(replayed) == vars(case)


def test_the_attributes_declared_for_the_type_checker_are_not_fields() -> None:
    # HazardCase declares its attributes under TYPE_CHECKING only: eventsourcing would make
    # a class-level annotation a dataclass field, changing the constructor and the events.
    assert not HazardCase.__dict__.get("__annotations__")
    assert not dataclasses.is_dataclass(HazardCase)
    assert {f.name for f in dataclasses.fields(ev.Reported)} == {
        "originator_id", "originator_version", "originator_topic", "timestamp",
        "content_hash", "previous_hash", "trigger", "state", "actor", "occurred_at",
        "recorded_at", "reason", "number", "place", "category", "severity", "description",
        "evidence", "notice_due", "rule"}
