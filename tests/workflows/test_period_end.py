"""A period counted in calendar days whose last day is a rest day ends on the next working day
(民法典 第二百零三条), when the rules file says so (``calendar_day_periods_end_on_working_day``)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pytest

from tests.workflows.periods import ABSENT, OFF, packaged_rules
from workflows.policy import Policy

# Every forward period in 30 calendar days: notice, deadlines, re-inspection and every level's
# acceptance (replace() edits every match: 'within = "3 working days"' is three keys)
ALL_IN_CALENDAR_DAYS = [(f'{key} = "{span}"', f'{key} = "30 calendar days"') for key, span in (
    ("within", "3 working days"), ("general", "7 working days"),
    ("blocked_fire_exit", "1 working day"), ("accept_within", "2 working days"))]


def test_the_packaged_rules_end_a_decision_window_in_national_day_on_the_next_working_day():
    # Accepted Thursday 3 September 2026: 30 calendar days end on Saturday 3 October, in the
    # National Day holiday (1-7 October); the next working day is Thursday 8 October.
    due, rule = Policy().decision_due(date(2026, 9, 3))
    assert due == date(2026, 10, 8)
    assert ("escalation.decide_within = 30 calendar days after 2026-09-03; 2026-10-03 is not "
            "a working day: it ends on the next working day, 2026-10-08 "
            "(calendar.calendar_day_periods_end_on_working_day)") in rule
    assert rule.startswith(f"rules {Policy().version}: ")


@pytest.mark.parametrize("edit", [OFF, ABSENT], ids=["false", "absent"])
def test_without_the_key_the_window_ends_on_the_holiday_as_before(edit):
    old = packaged_rules(edit)
    assert not old.rules.model.calendar.calendar_day_periods_end_on_working_day
    due, rule = old.decision_due(date(2026, 9, 3))
    assert due == date(2026, 10, 3)
    assert "not a working day" not in rule
    assert Policy().decision_due(date(2026, 9, 3))[0] == date(2026, 10, 8)


def test_a_window_ending_on_a_weekend_ends_on_monday():
    # Thursday 12 February 2026 + 30 calendar days: Saturday 14 March
    assert Policy().decision_due(date(2026, 2, 12))[0] == date(2026, 3, 16)
    assert packaged_rules(OFF).decision_due(date(2026, 2, 12))[0] == date(2026, 3, 14)


def test_a_make_up_working_day_is_a_working_day_for_the_end_of_a_period():
    # 2026's make-up working days (调休) around National Day: Sunday 20 September and
    # Saturday 10 October. A window ending on one stays there; one ending on the rest day
    # before it moves onto it; one ending on the Sunday after moves to Monday.
    ends = {accepted: Policy().decision_due(accepted) for accepted in (
        date(2026, 8, 21), date(2026, 9, 10), date(2026, 8, 20), date(2026, 9, 11))}
    assert [due for due, _ in ends.values()] == [
        date(2026, 9, 20), date(2026, 10, 10), date(2026, 9, 20), date(2026, 10, 12)]
    assert ["not a working day" in rule for _, rule in ends.values()] == [
        False, False, True, True]


def test_every_forward_period_in_calendar_days_ends_on_a_working_day():
    office = packaged_rules(*ALL_IN_CALENDAR_DAYS)
    thursday = date(2026, 9, 3)
    dues = [office.notice_due(thursday), office.verification_due(thursday),
            office.decision_due(thursday),
            office.rectification_deadline("general", "other", "rental_house", thursday),
            office.rectification_deadline("general", "blocked_fire_exit", "rental_house",
                                          thursday),
            *(office.acceptance_due(level.level.value, thursday) for level in office.chain)]
    assert [due for due, _ in dues] == [date(2026, 10, 8)] * 8
    assert all("2026-10-03 is not a working day" in rule for _, rule in dues)
    unmoved = packaged_rules(*ALL_IN_CALENDAR_DAYS, OFF)
    assert unmoved.notice_due(thursday)[0] == date(2026, 10, 3)
    assert unmoved.acceptance_due("department", thursday)[0] == date(2026, 10, 3)


def test_a_reminder_counted_back_from_a_moved_deadline_is_not_moved():
    # Not a legal period: one working day before Thursday 8 October is Wednesday 30 September.
    office = packaged_rules(*ALL_IN_CALENDAR_DAYS)
    deadline = office.rectification_deadline("general", "other", "rental_house",
                                             date(2026, 9, 3))[0]
    assert office.reminder_day(deadline) == date(2026, 9, 30)
    lead = packaged_rules(*ALL_IN_CALENDAR_DAYS, ('before_deadline = "1 working day"',
                                                  'before_deadline = "5 calendar days"'))
    assert lead.reminder_day(deadline) == date(2026, 10, 3)  # a holiday, as counted


# "0 working days" (the same day), the one period in working days that can end on a rest day:
# notice, re-inspection and every level's acceptance ('within' matches 'accept_within' too)
SAME_DAY = [(f'within = "{n} working days"', 'within = "0 working days"') for n in (3, 2)]


def test_a_period_of_0_working_days_ending_on_a_rest_day_ends_on_the_next_working_day():
    # A rectification submitted, or an escalation made by the tick, on Saturday 3 October
    # 2026 (National Day): "0 working days" ended that rest day, so the inspectors were slow
    # and the escalation climbed on Sunday 4 October, before a working day had come, while
    # "0 calendar days" ran to Thursday 8 October. It ends there too; on a working day it
    # stays that day, and without the key it is the day itself, as before.
    office, saturday, wednesday = packaged_rules(*SAME_DAY), date(2026, 10, 3), date(2026, 9, 30)
    dues = [office.notice_due(saturday), office.verification_due(saturday),
            *(office.acceptance_due(level.level.value, saturday) for level in office.chain)]
    assert [due for due, _ in dues] == [date(2026, 10, 8)] * 5
    assert all("0 working days after 2026-10-03; 2026-10-03 is not a working day: it ends on "
               "the next working day, 2026-10-08" in rule for _, rule in dues)
    assert office.verification_due(wednesday)[0] == wednesday
    assert packaged_rules(*SAME_DAY, OFF).verification_due(saturday)[0] == saturday


@pytest.mark.parametrize("calendar, last", [
    ((), date(2027, 1, 4)),  # Friday 1 January is a holiday by law; then the weekend
    ((('holidays = []', 'holidays = ["2027-01-04"]'),), date(2027, 1, 5)),
    ((('workdays = []', 'workdays = ["2027-01-02"]'),), date(2027, 1, 2)),
])
def test_a_year_the_calendar_package_does_not_know_uses_the_stated_fallback(calendar, last):
    # 2 December 2026 + 30 calendar days: Friday 1 January 2027. chinese-calendar 1.11.0
    # knows nothing of 2027: weekdays, less the holidays fixed by date and the file's own,
    # plus the file's make-up days; the rule says so.
    due, rule = packaged_rules(*calendar).decision_due(date(2026, 12, 2))
    assert due == last
    assert "2027 not known to chinese-calendar" in rule
    assert packaged_rules(OFF, *calendar).decision_due(date(2026, 12, 2))[0] == date(2027, 1, 1)


@pytest.mark.parametrize("edits", [ALL_IN_CALENDAR_DAYS, [], [OFF, *ALL_IN_CALENDAR_DAYS],
                                   SAME_DAY, [OFF, *SAME_DAY]],
                         ids=["calendar-days", "packaged", "calendar-days-unmoved", "same-day",
                              "same-day-unmoved"])
def test_the_tick_looks_for_exactly_the_periods_that_have_ended(edits):
    # Horizons: a period that started before ``started_before(today)`` has ended before
    # today, and no other: the due index names no case that is not due, over a year's days
    # (Spring Festival, National Day and the fallback year 2027 included).
    office = packaged_rules(*edits)
    periods = [(office.rules.model.verification.within, office.verification_due), *(
        (level.accept_within, partial(office.acceptance_due, level.level.value))
        for level in office.chain)]
    first = date(2026, 1, 1)
    for span, due in periods:
        ends = {first + timedelta(n): due(first + timedelta(n))[0] for n in range(400)}
        for today in (first + timedelta(n) for n in range(40, 400)):
            before = office.started_before(today, span)
            assert {s for s, end in ends.items() if end < today} == \
                {s for s in ends if s < before}, (span, today)
