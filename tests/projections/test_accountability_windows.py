"""Slow action on a notice, a re-inspection, an acceptance and a department's decision: the
rules' due days, recorded on the event that starts the task, with no deadline tick needed;
events from before they were recorded are judged as before (an estimate, or the tick)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.chain import ChainedEvent, content_hash_of
from projections.accountability import AccountabilityFilter
from projections.reports import read
from projections.verify import Verifier
from tests.factories import (
    fire_officer,
    grid_worker,
    place,
    report,
    safety_officer,
    street_supervisor,
    to_awaiting_verification,
    to_enforced,
    to_escalated,
)
from workflows.escalation import tick
from workflows.policy import Policy
from workflows.rules import parse_rules


def _waiting_and_slow(cases, level: str, unit: str, as_of: date | None = None,
                      basis: str = "recorded") -> tuple[int, int]:
    rows = read(cases, "accountability", AccountabilityFilter(level=level), as_of=as_of,
                basis=basis).rows
    return tuple({r[1]: r for r in rows}[unit][6:8])


def _of(cases, case_id, kind: str) -> Any:
    (event,) = [e for e in cases.history(case_id) if type(e).__name__ == kind]
    return event


def _with_rules(cases, old: str, new: str) -> None:
    """The service decides with the packaged rules, edited as an office would."""
    data = resources.files("workflows").joinpath("default_rules.toml").read_text("utf-8")
    assert old in data
    cases.policy = Policy(parse_rules(data.replace(old, new).encode()))


def _with_decide_within(cases, span: str) -> None:
    _with_rules(cases, '"30 calendar days"', f'"{span}"')


def _with_one_level_chain(cases) -> None:
    """An office whose escalations go straight to the department, 3 working days to accept:
    the tick never raises a level."""
    data = resources.files("workflows").joinpath("default_rules.toml").read_text("utf-8")
    first = data.index("[[escalation.chain]]")
    _with_rules(cases, data[first:data.index("[calendar]")],
                '[[escalation.chain]]\nlevel = "department"\naccept_within = "3 working days"\n\n')


def test_a_notice_is_due_in_working_days_not_over_a_weekend(cases, clock):
    clock.advance(days=4)  # Friday 6 March 2026
    reported = report(cases, 1)
    found = _of(cases, reported, "Reported")
    assert found.notice_due == "2026-03-11"  # Monday, Tuesday, Wednesday
    assert "notice.within = 3 working days after 2026-03-06" in found.rule
    clock.advance(days=4)  # Tuesday: 4 calendar days, 2 working days
    assert _waiting_and_slow(cases, "community", "YS-C01") == (1, 0)
    clock.advance(days=1)  # Wednesday, the due day itself
    assert _waiting_and_slow(cases, "community", "YS-C01") == (1, 0)
    clock.advance(days=1)
    assert _waiting_and_slow(cases, "community", "YS-C01") == (1, 1)


def test_a_notice_over_the_spring_festival_as_of_the_days_it_occurred(cases):
    # Found Thursday 12 February 2026 (recorded later): Friday 13, Saturday 14 (a make-up
    # working day) and, after the holiday of 15-23 February, Tuesday 24.
    cases.report(grid_worker, place=place(1), category="flying_wire_charging",
                 severity="general", description="楼道飞线充电",
                 occurred_at=datetime(2026, 2, 12, 2, 0, tzinfo=UTC))

    def on(day: date) -> tuple[int, int]:
        return _waiting_and_slow(cases, "community", "YS-C01", as_of=day, basis="occurred")

    assert on(date(2026, 2, 20)) == (1, 0)  # 8 calendar days: all holiday after Saturday
    assert on(date(2026, 2, 24)) == (1, 0)
    assert on(date(2026, 2, 25)) == (1, 1)


def test_a_reopened_case_waits_for_its_notice_by_the_rules(cases, clock):
    case_id = to_enforced(cases, 1)
    cases.close(case_id, fire_officer, closing_reason="enforced")
    clock.advance(days=4)  # Friday 6 March
    cases.reopen(case_id, safety_officer, reason="复发")
    assert _of(cases, case_id, "CaseReopened").notice_due == "2026-03-11"
    clock.advance(days=5)  # Wednesday
    assert _waiting_and_slow(cases, "community", "YS-C01") == (1, 0)
    clock.advance(days=1)
    assert _waiting_and_slow(cases, "community", "YS-C01") == (1, 1)


def test_a_decision_is_due_by_the_rules_window(cases, clock):
    to_escalated(cases, 1)  # accepted Monday 2 March: 30 calendar days by default
    accepted = _of(cases, to_escalated(cases, 2), "EscalationAccepted")
    assert accepted.decide_due == "2026-04-01"
    assert "escalation.decide_within = 30 calendar days" in accepted.rule
    _with_decide_within(cases, "2 working days")  # an office's own window
    clock.advance(days=4)  # Friday 6 March
    third = to_escalated(cases, 3)
    assert _of(cases, third, "EscalationAccepted").decide_due == "2026-03-10"
    clock.advance(days=4)  # Tuesday: the weekend does not count
    assert _waiting_and_slow(cases, "department", "fire") == (3, 0)
    clock.advance(days=1)
    assert _waiting_and_slow(cases, "department", "fire") == (3, 1)
    clock.advance(days=22)  # Thursday 2 April: the first two are late too
    assert _waiting_and_slow(cases, "department", "fire") == (3, 3)


def test_a_reinspection_is_due_in_working_days_without_the_tick(cases, clock):
    clock.advance(days=2)  # Wednesday 4 March 2026
    submitted = _of(cases, to_awaiting_verification(cases, 1), "RectificationSubmitted")
    assert submitted.verify_due == "2026-03-09"  # Thursday, Friday, Monday
    assert "verification.within = 3 working days after 2026-03-04" in submitted.rule
    clock.advance(days=5)  # Monday 9 March, the due day itself: the weekend does not count
    assert _waiting_and_slow(cases, "community", "YS-C01") == (1, 0)
    clock.advance(days=1)  # no tick has run, no VerificationOverdue: slow all the same
    assert _waiting_and_slow(cases, "community", "YS-C01") == (1, 1)


def test_an_acceptance_under_a_one_level_chain_is_judged_without_the_tick(cases, clock):
    _with_one_level_chain(cases)
    clock.advance(days=4)  # Friday 6 March
    refused = to_escalated(cases, 1, accepted=False)
    by_hand = report(cases, 2)
    cases.escalate(by_hand, street_supervisor, reason="集中整治日挂账")
    for case_id, kind in ((refused, "RectificationRefused"), (by_hand, "CaseEscalated")):
        event = _of(cases, case_id, kind)
        assert event.accept_due == "2026-03-11"  # Monday, Tuesday, Wednesday
        assert "escalation.chain[department].accept_within = 3 working days" in \
            event.accept_rule
    clock.advance(days=5)  # Wednesday
    assert _waiting_and_slow(cases, "department", "fire") == (2, 0)
    clock.advance(days=1)
    assert _waiting_and_slow(cases, "department", "fire") == (2, 2)
    tick(cases)  # a one-level chain has no level to raise: the tick adds no judgement
    assert "EscalationLevelRaised" not in {type(e).__name__ for e in cases.history(refused)}
    assert _waiting_and_slow(cases, "department", "fire") == (2, 2)


def test_each_escalation_of_a_case_waits_for_its_own_acceptance(cases, clock):
    case_id = to_escalated(cases, 1)  # refused and accepted Monday 2 March
    cases.order_rectification(case_id, fire_officer, deadline=date(2026, 3, 20))
    clock.advance(days=4)  # Friday 6 March: the party refuses again
    cases.refuse(case_id, safety_officer, reason="房东仍拒不整改")
    refusals = [e for e in cases.history(case_id) if type(e).__name__ == "RectificationRefused"]
    assert [e.accept_due for e in refusals] == ["2026-03-04", "2026-03-10"]
    clock.advance(days=4)  # Tuesday 10 March
    assert _waiting_and_slow(cases, "department", "fire") == (1, 0)
    clock.advance(days=1)
    assert _waiting_and_slow(cases, "department", "fire") == (1, 1)


# -- events recorded before the due days were ---------------------------------------------

_ADDED_IN_V2 = {"Reported": ("notice_due", "rule"), "CaseReopened": ("notice_due", "rule"),
                "EscalationAccepted": ("decide_due", "rule"),
                "RectificationSubmitted": ("verify_due", "rule"),
                "RectificationRefused": ("accept_due", "accept_rule"),
                "CaseEscalated": ("accept_due", "accept_rule")}


def _store_as_version_1(cases, monkeypatch) -> None:
    """From now on, store events as the code before the recorded due days did: without
    them, sealed at class version 1, and the later events linked to that seal."""
    mapper, resealed = cases.app.mapper, {}
    as_now = mapper.to_stored_event

    def to_stored_event(event: Any) -> StoredEvent:
        if not isinstance(event, ChainedEvent):
            return as_now(event)  # numbers, place registers, command records
        cls, state = type(event), dict(vars(event))
        old = _ADDED_IN_V2.get(cls.__name__, ())
        for name in old:
            del state[name]
        state["previous_hash"] = resealed.get(state["previous_hash"], state["previous_hash"])
        version = 1 if old else getattr(cls, "class_version", 1)
        state["content_hash"] = resealed[event.content_hash] = content_hash_of(
            get_topic(cls), version, event.originator_id, event.originator_version, state)
        originator_id, originator_version = state.pop("originator_id"), \
            state.pop("originator_version")
        if version > 1:
            state["class_version"] = version
        return StoredEvent(originator_id, originator_version, get_topic(cls),
                           mapper.transcoder.encode(state))

    monkeypatch.setattr(mapper, "to_stored_event", to_stored_event)


def test_old_events_read_with_none_keep_the_calendar_estimate_and_still_verify(
        cases, clock, monkeypatch):
    _store_as_version_1(cases, monkeypatch)
    _with_decide_within(cases, "2 working days")  # not applied to an old acceptance
    clock.advance(days=4)  # Friday 6 March
    reported = report(cases, 1)
    escalated = to_escalated(cases, 2)
    found, accepted = _of(cases, reported, "Reported"), _of(cases, escalated, "EscalationAccepted")
    assert (found.notice_due, found.rule, accepted.decide_due, accepted.rule) == (None,) * 4
    clock.advance(days=3)  # Monday 9 March: found + 3 days, the old estimate
    assert _waiting_and_slow(cases, "department", "fire") == (1, 0)
    assert _waiting_and_slow(cases, "community", "YS-C01") == (2, 0)
    clock.advance(days=1)  # the old notice estimate is late on Tuesday, the rules' would not be
    assert _waiting_and_slow(cases, "community", "YS-C01") == (2, 1)
    assert _waiting_and_slow(cases, "department", "fire") == (1, 0)  # accepted + 30 days
    clock.advance(days=27)  # Monday 6 April
    assert _waiting_and_slow(cases, "department", "fire") == (1, 1)
    assert Verifier(cases).run().ok  # stored as written then: the seals still hold


def test_old_submissions_and_escalations_wait_for_the_tick_as_before(cases, clock, monkeypatch):
    _store_as_version_1(cases, monkeypatch)
    verifying = to_awaiting_verification(cases, 1)  # Monday 2 March: due 5 March by the rules
    escalated = to_escalated(cases, 2, accepted=False)  # to accept by 4 March
    submitted = _of(cases, verifying, "RectificationSubmitted")
    refused = _of(cases, escalated, "RectificationRefused")
    assert (submitted.verify_due, submitted.rule, refused.accept_due, refused.accept_rule) == \
        (None,) * 4
    clock.advance(days=5)  # Saturday 7 March: past both, but no due day was recorded
    assert _waiting_and_slow(cases, "community", "YS-C01") == (2, 0)
    tick(cases)  # the tick judges them late under the rules, as before
    assert _waiting_and_slow(cases, "community", "YS-C01") == (2, 2)
    assert _waiting_and_slow(cases, "department", "fire") == (1, 1)
    assert Verifier(cases).run().ok
