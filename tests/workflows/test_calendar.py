"""Working days on the mainland Chinese calendar, holidays and make-up days included."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from workflows.calendar import WorkingCalendar
from workflows.policy import Policy
from workflows.rules import parse_duration

days = parse_duration


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def test_one_working_day_after_a_friday_is_the_next_monday(calendar):
    assert calendar.add(date(2026, 3, 6), days("1 working day")) == date(2026, 3, 9)


def test_seven_working_days_across_the_spring_festival_count_the_make_up_saturdays(calendar):
    # 2026: Sat 14 Feb is worked, 15-23 Feb are the holiday, Sat 28 Feb is worked.
    # From Thu 12 Feb: 13, 14 (Sat, worked), 24, 25, 26, 27, 28 (Sat, worked).
    assert calendar.add(date(2026, 2, 12), days("7 working days")) == date(2026, 2, 28)
    # Counting weekends only would have given Mon 23 Feb, in the middle of the holiday.
    assert calendar.add(date(2026, 2, 12), days("7 calendar days")) == date(2026, 2, 19)


def test_seven_working_days_across_national_day(calendar):
    # 2026: Sun 20 Sep is worked; 1-7 Oct are the holiday; Sat 10 Oct is worked.
    # From Mon 28 Sep: 29, 30, 8, 9, 10 (Sat, worked), 12, 13.
    assert calendar.add(date(2026, 9, 28), days("7 working days")) == date(2026, 10, 13)
    assert calendar.add(date(2026, 9, 18), days("1 working day")) == date(2026, 9, 20)


def test_a_notice_issued_on_a_holiday_counts_from_the_next_working_day(calendar):
    assert calendar.add(date(2026, 10, 3), days("1 working day")) == date(2026, 10, 8)


def test_subtracting_working_days_skips_the_holiday(calendar):
    assert calendar.subtract(date(2026, 10, 8), days("1 working day")) == date(2026, 9, 30)


def test_the_policy_deadline_across_spring_festival_lands_on_the_right_day():
    due, rule = Policy().rectification_deadline("general", "other", "enterprise",
                                                date(2026, 2, 12))
    assert due == date(2026, 2, 28)
    assert "deadlines.general = 7 working days after 2026-02-12" in rule
    assert "not known" not in rule


def test_an_unknown_year_falls_back_to_weekdays_and_the_rules_file_lists(caplog):
    # chinese-calendar 1.11.0 knows nothing of 2027; the rules file lists New Year's Day
    # as a holiday and (hypothetically) Sunday 3 January as a make-up working day.
    calendar = WorkingCalendar(holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 3)])
    with caplog.at_level(logging.WARNING, logger="hazardflow.calendar"):
        assert calendar.add(date(2026, 12, 30), days("3 working days")) == date(2027, 1, 4)
    assert not calendar.knows(2027) and calendar.knows(2026)
    assert "no holiday data for 2027" in caplog.text
    note = calendar.fallback_note(date(2026, 12, 30), date(2027, 1, 4))
    assert "2027 not known to chinese-calendar" in note


def test_rules_file_days_in_a_year_the_package_knows_are_named_as_unused(caplog):
    # The package's schedule wins for a year it knows: a holiday listed for 2026 in the
    # rules file changes nothing, and that must not pass in silence.
    calendar = WorkingCalendar(holidays=[date(2026, 12, 31)], workdays=[date(2027, 1, 2)])
    with caplog.at_level(logging.WARNING, logger="hazardflow.calendar"):
        assert calendar.is_workday(date(2026, 12, 31))
        assert calendar.is_workday(date(2027, 1, 2))  # 2027 unknown: the file's day counts
    assert ("chinese-calendar 1.11.0 knows 2026: the rules file's calendar days for it "
            "are not used (2026-12-31)") in caplog.text
    assert "knows 2027" not in caplog.text

def test_the_fallback_is_named_on_the_rule_recorded():
    due, rule = Policy().rectification_deadline("general", "other", "enterprise",
                                                date(2026, 12, 28))
    # 29, 30, 31 Dec; Mon 4, Tue 5, Wed 6, Thu 7 Jan: not Friday 1 January, New Year's Day,
    # a public holiday on that date every year by law, whatever the year's schedule
    assert due == date(2027, 1, 7)
    assert "2027 not known to chinese-calendar" in rule


def test_a_reminder_day_counted_by_the_fallback_says_so_on_its_rule():
    # The reminder of a deadline on Tuesday 5 January 2027 falls on Monday 4 January: a
    # weekday counted as working only because 2027 is unknown; its rule must say so, as
    # every other rule whose day the fallback decided does.
    policy = Policy()
    assert policy.reminder_day(date(2027, 1, 5)) == date(2027, 1, 4)
    assert "2027 not known to chinese-calendar" in policy.reminder_rule(date(2027, 1, 5))
    assert "not known" not in policy.reminder_rule(date(2026, 3, 11))

@pytest.mark.parametrize("day", ["2027-01-01", "2027-10-01", "2028-05-01", "2028-05-02",
                                 "2028-10-02", "2028-10-03"])
def test_the_fallback_keeps_the_public_holidays_fixed_by_date(day):
    # 《全国年节及纪念日放假办法》 fixes New Year's Day (1 January), Labour Day (1-2 May) and
    # National Day (1-3 October) by date: holidays in every year, known to the package or not.
    assert date.fromisoformat(day).weekday() < 5
    assert not WorkingCalendar().is_workday(date.fromisoformat(day))
    assert WorkingCalendar(workdays=[date.fromisoformat(day)]).is_workday(
        date.fromisoformat(day))  # the rules file still has the last word

def test_the_fallback_is_used_only_for_years_the_package_does_not_know():
    def package(day: date) -> bool:
        if day.year > 2026:
            raise NotImplementedError(f"no available data for year {day.year}")
        return day.weekday() < 5 and day != date(2026, 5, 1)

    calendar = WorkingCalendar(holidays=[date(2026, 5, 4)], is_workday=package)
    assert not calendar.is_workday(date(2026, 5, 1))
    assert calendar.is_workday(date(2026, 5, 4))  # the package wins for a year it knows
    assert not calendar.is_workday(date(2027, 1, 2))


def test_each_day_is_asked_of_the_package_once():
    asked: list[date] = []

    def package(day: date) -> bool:
        asked.append(day)
        return day.weekday() < 5

    calendar = WorkingCalendar(is_workday=package)
    three = parse_duration("3 working days")
    friday = date(2026, 3, 6)
    assert calendar.add(friday, three) == date(2026, 3, 11)
    assert calendar.add(friday, three) == date(2026, 3, 11)
    assert calendar.subtract(date(2026, 3, 11), three) == friday
    days = [day for day in asked if day != date(2026, 6, 1)]  # the year check's probe
    assert sorted(days) == sorted(set(days))  # each day once, whatever the number of calls
    assert len(days) == 6  # Fri 6 (walking back) .. Wed 11
