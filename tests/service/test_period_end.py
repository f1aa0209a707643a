"""Due days in calendar days, as the service records them and the tick judges them, on SQLite
and PostgreSQL: a period ending on a rest day ends on the next working day (民法典 第二百零三条)
when the rules say so; a date an officer types is never moved."""

from __future__ import annotations

from datetime import date

import pytest

from tests import factories as f
from tests.workflows.periods import OFF, accepted_on, at, event_of, packaged_rules
from workflows.escalation import tick


@pytest.mark.parametrize("accepted, moved, unmoved", [
    (date(2026, 9, 3), "2026-10-08", "2026-10-03"),  # Saturday 3 October: National Day
    (date(2026, 11, 13), "2026-12-14", "2026-12-13"),  # a Sunday
    (date(2026, 8, 20), "2026-09-20", "2026-09-19"),  # a Saturday; Sunday 20 is worked (调休)
])
def test_a_decision_due_day_is_recorded_on_the_next_working_day(cases, clock, accepted, moved,
                                                                unmoved):
    event = accepted_on(cases, clock, accepted, 1)
    assert event.decide_due == moved
    assert event.rule.startswith(f"rules {cases.policy.version}: escalation.decide_within = "
                                 f"30 calendar days after {accepted.isoformat()}")
    assert ("not a working day" in event.rule) == (moved != unmoved)
    cases.policy = packaged_rules(OFF)
    assert accepted_on(cases, clock, accepted, 2).decide_due == unmoved


def test_a_deadline_typed_by_an_officer_is_not_moved(cases, clock):
    cases.policy = packaged_rules(('general = "7 working days"', 'general = "30 calendar days"'))
    at(clock, date(2026, 9, 3))
    by_rule, typed = f.report(cases, 1, category="other"), f.report(cases, 2, category="other")
    cases.notify(by_rule, f.safety_officer, party=f.landlord)
    cases.notify(typed, f.safety_officer, party=f.landlord, deadline=date(2026, 10, 3))
    assert cases.get_case(by_rule).deadline == "2026-10-08"
    assert "2026-10-03 is not a working day" in event_of(cases, by_rule, "NoticeIssued").rule
    assert cases.get_case(typed).deadline == "2026-10-03"  # their decision, a holiday or not
    assert event_of(cases, typed, "NoticeIssued").rule == "explicit"
    cases.extend_deadline(typed, f.street_supervisor, deadline=date(2026, 10, 4),
                          reason="节后整改")
    assert cases.get_case(typed).deadline == "2026-10-04"


def test_the_tick_judges_a_reinspection_in_calendar_days_by_the_moved_day(cases, clock):
    cases.policy = packaged_rules(('desk.\nwithin = "3 working days"',
                                   'desk.\nwithin = "3 calendar days"'))
    at(clock, date(2026, 9, 30))  # Wednesday: 3 days end on Saturday 3 October
    case_id = f.report(cases, 1)
    cases.notify(case_id, f.safety_officer, party=f.landlord)
    cases.start_rectification(case_id, f.safety_officer)
    cases.submit_rectification(case_id, f.safety_officer, measures="拆除飞线")
    assert event_of(cases, case_id, "RectificationSubmitted").verify_due == "2026-10-08"
    for day in (date(2026, 10, 4), date(2026, 10, 8)):  # in the holiday, then the due day
        at(clock, day)
        report = tick(cases)
        assert (report.candidates, dict(report.applied)) == (0, {}), day
    at(clock, date(2026, 10, 9))
    assert dict(tick(cases).applied) == {"flag_verification_overdue": 1}
    flagged = event_of(cases, case_id, "VerificationOverdue")
    assert flagged.due == "2026-10-08" and "2026-10-03 is not a working day" in flagged.rule
