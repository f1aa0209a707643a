"""Working days on the mainland Chinese calendar (法定节假日 and 调休 make-up days).

For the years it knows, the ``chinese-calendar`` package decides (1.11.0 knows 2004-2026).
For a year it does not know yet, hazardflow does not guess: it counts Monday-Friday as
working days, minus the public holidays the law fixes by date (``FIXED_HOLIDAYS``) and
the holidays listed in the rules file's ``[calendar]`` table, plus the make-up working
days listed there, logs a warning once per year, and says so in the rule text recorded on
every event whose deadline touched that year.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, timedelta

import chinese_calendar

from workflows.rules import Duration

log = logging.getLogger("hazardflow.calendar")

# 《全国年节及纪念日放假办法》 (as revised in 2024) fixes these public holidays by date, every
# year: New Year's Day, Labour Day (two days), National Day (three days). The lunar ones
# (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) and the make-up days around them
# come from the year's schedule, which the rules file lists for a year the package does not
# know.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


def _package_is_workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


class WorkingCalendar:
    """Working-day arithmetic; ``is_workday`` is injectable for tests of the fallback."""

    def __init__(
        self,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        *,
        is_workday: Callable[[date], bool] = _package_is_workday,
    ) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self._package = is_workday
        self._known_years: dict[int, bool] = {}
        # Most commands work out a due day, walking a few days forward, and the package
        # validates its argument on every call: 143 us for "3 working days", 6 us with each
        # day's answer kept (it never changes within a process).
        self._days: dict[date, bool] = {}

    def knows(self, year: int) -> bool:
        """Whether the calendar package has the official schedule for ``year``."""
        if year not in self._known_years:
            try:
                self._package(date(year, 6, 1))
                self._known_years[year] = True
                self._warn_unused(year)
            except NotImplementedError:
                self._known_years[year] = False
                log.warning(
                    "chinese-calendar %s has no holiday data for %d: counting Monday-Friday "
                    "as working days, less 1 Jan, 1-2 May and 1-3 Oct (fixed by law), with "
                    "holidays: %d and make-up days: %d from the rules file; upgrade "
                    "chinese-calendar or list %d's schedule in the rules file",
                    getattr(chinese_calendar, "__version__", "?"), year,
                    sum(d.year == year for d in self.holidays),
                    sum(d.year == year for d in self.workdays), year,
                )
        return self._known_years[year]

    def _warn_unused(self, year: int) -> None:
        listed = sorted(d for d in self.holidays | self.workdays if d.year == year)
        if listed:
            log.warning(
                "chinese-calendar %s knows %d: the rules file's calendar days for it are not "
                "used (%s)", getattr(chinese_calendar, "__version__", "?"), year,
                ", ".join(d.isoformat() for d in listed))

    def is_workday(self, day: date) -> bool:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._decide(day)
        return known

    def _decide(self, day: date) -> bool:
        if self.knows(day.year):
            return self._package(day)
        if day in self.workdays:
            return True
        return (day.weekday() < 5 and day not in self.holidays
                and (day.month, day.day) not in FIXED_HOLIDAYS)

    def add(self, start: date, span: Duration) -> date:
        """The day ``span`` after ``start``: for working days, the N-th working day after it."""
        if not span.working:
            return start + timedelta(days=span.days)
        day, left = start, span.days
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def subtract(self, end: date, span: Duration) -> date:
        """The day ``span`` before ``end``: for working days, the N-th working day before it."""
        if not span.working:
            return end - timedelta(days=span.days)
        day, left = end, span.days
        while left > 0:
            day -= timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def on_or_after(self, day: date) -> date:
        """``day`` if it is a working day, else the next working day."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a working day, else the last working day before it."""
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def fallback_note(self, first: date, last: date) -> str:
        """Empty, or a note that some year between the dates was counted by the fallback."""
        years = [y for y in range(first.year, last.year + 1) if not self.knows(y)]
        if not years:
            return ""
        listed = ", ".join(map(str, years))
        return (f" ({listed} not known to chinese-calendar "
                f"{getattr(chinese_calendar, '__version__', '?')}: weekdays counted, "
                "less the holidays fixed by date, with the rules file's holidays and make-up "
                "days)")
