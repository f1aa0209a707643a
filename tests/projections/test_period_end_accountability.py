"""A department whose 30 days to decide would have ended in a holiday is not slow (慢作为) until
the day after the next working day; a due day recorded under earlier rules keeps its day,
in the report read now and in one rebuilt from the log (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from projections.accountability import AccountabilityFilter
from projections.reports import read
from projections.verify import Verifier
from tests.workflows.periods import KEY, accepted_on, at, event_of, packaged_rules
from workflows.policy import Policy

ACCEPTED = date(2026, 9, 3)  # Thursday: 30 calendar days end on Saturday 3 October
# The packaged rules as they were before the key: version 2026.1, periods end on their day.
EARLIER = [(KEY, ""), ('version = "2026.2"', 'version = "2026.1"')]


def _fire(cases, as_of: date | None = None) -> tuple[int, int]:
    """The fire department's (waiting, slow) in the accountability report."""
    rows = read(cases, "accountability", AccountabilityFilter(level="department"),
                as_of=as_of).rows
    return tuple({r[1]: r for r in rows}["fire"][6:8])


def test_a_department_is_not_slow_in_the_holiday_its_window_would_have_ended_in(cases, clock):
    accepted_on(cases, clock, ACCEPTED, 1)
    for day, slow in [(date(2026, 10, 4), 0), (date(2026, 10, 7), 0),  # the holiday
                      (date(2026, 10, 8), 0),  # the next working day, the due day itself
                      (date(2026, 10, 9), 1)]:
        at(clock, day)
        assert _fire(cases) == (1, slow), day


def test_due_days_recorded_under_earlier_rules_keep_their_day(cases, clock):
    cases.policy = packaged_rules(*EARLIER)
    earlier = accepted_on(cases, clock, ACCEPTED, 1)
    assert earlier.decide_due == "2026-10-03" and earlier.rule.startswith("rules 2026.1#")
    cases.policy = Policy()  # the rules file upgraded to the packaged 2026.2
    later = accepted_on(cases, clock, ACCEPTED, 2)
    assert later.decide_due == "2026-10-08" and later.rule.startswith("rules 2026.2#")
    at(clock, date(2026, 10, 5))
    kept = event_of(cases, earlier.originator_id, "EscalationAccepted")
    assert (kept.decide_due, kept.rule) == (earlier.decide_due, earlier.rule)
    assert _fire(cases) == (2, 1)  # the earlier acceptance, judged by its recorded day
    assert _fire(cases, as_of=date(2026, 10, 5)) == (2, 1)  # rebuilt from the log: the same
    assert Verifier(cases).run().ok
