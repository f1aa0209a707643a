"""As-of reports: recorded vs occurred basis, and byte-identical output for a past date."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest

from domain.errors import DomainError
from domain.timeutil import LOCAL_TZ
from projections.ledger import LedgerFilter
from projections.render import FORMATS, render
from projections.reports import kinds, read
from projections.risk import RiskFilter
from tests.factories import grid_worker, landlord, place, report, safety_officer

DAY1 = date(2026, 3, 2)  # the clock fixture starts on this day, 09:00 in China


def at(day: int, hour: int = 10) -> datetime:
    return datetime.combine(DAY1 + timedelta(days=day - 1), datetime.min.time(),
                            tzinfo=LOCAL_TZ).replace(hour=hour)


def numbers(r) -> list[str]:
    return [row[0] for row in r.rows]


@pytest.fixture
def late_report(cases, clock):
    """Case 1 reported on day 1; case 2 recorded on day 10 but found on day 5."""
    report(cases, 1)
    clock.set(at(10))
    cases.report(grid_worker, place=place(2), category="fire_equipment", severity="major",
                 description="灭火器过期", occurred_at=at(5))
    return cases


def test_a_late_report_is_absent_on_the_recorded_basis_and_present_on_the_occurred(
        late_report):
    day7 = DAY1 + timedelta(days=6)
    recorded = read(late_report, "ledger", as_of=day7, basis="recorded")
    occurred = read(late_report, "ledger", as_of=day7, basis="occurred")
    assert numbers(recorded) == ["HZ-2026-000001"]
    assert numbers(occurred) == ["HZ-2026-000001", "HZ-2026-000002"]
    found_date, days_open = occurred.rows[1][1], occurred.rows[1][20]
    assert (found_date, days_open) == (DAY1 + timedelta(days=4), 2)  # open day 5 .. day 7
    # Other read models follow the same basis: the place is red only on the occurred basis.
    places = {r[0]: r[5] for r in read(late_report, "risk", RiskFilter(), as_of=day7,
                                       basis="occurred").rows}
    assert places == {"P-0001": "yellow", "P-0002": "red"}
    assert [r[0] for r in read(late_report, "risk", as_of=day7).rows] == ["P-0001"]


def test_a_past_report_is_byte_identical_after_later_events_arrive(late_report, clock,
                                                                   monkeypatch):
    day10 = DAY1 + timedelta(days=9)
    before = {(name, basis, fmt): render(read(late_report, name, as_of=day10, basis=basis),
                                         fmt, "zh")
              for name in kinds() for basis in ("recorded", "occurred") for fmt in FORMATS}
    clock.set(at(12))
    case_id = late_report.resolve("HZ-2026-000001")
    late_report.comment(case_id, safety_officer, text="已督促", occurred_at=at(11))
    late_report.notify(case_id, safety_officer, party=landlord, deadline=at(14).date())
    report(late_report, 3)
    # Another wall-clock time for the files' own timestamps (zip entries, workbook dates).
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3 * 86400)
    for (name, basis, fmt), content in before.items():
        again = render(read(late_report, name, as_of=day10, basis=basis), fmt, "zh")
        assert again == content, (name, basis, fmt)
    # ... while today's report does see the new events.
    assert numbers(read(late_report, "ledger")) == [
        "HZ-2026-000001", "HZ-2026-000002", "HZ-2026-000003"]


def test_todays_report_from_the_tables_equals_the_as_of_rebuild(late_report, clock):
    today = clock.now().astimezone(LOCAL_TZ).date()
    for name in kinds():
        current = read(late_report, name)
        rebuilt = read(late_report, name, as_of=today, basis="recorded")
        assert current.rows == rebuilt.rows, name


def test_report_mistakes_are_domain_errors(late_report):
    with pytest.raises(DomainError, match="in the future"):
        read(late_report, "ledger", as_of=date(2030, 1, 1))
    with pytest.raises(DomainError, match="basis"):
        read(late_report, "ledger", as_of=DAY1, basis="believed")
    with pytest.raises(DomainError, match="unknown report"):
        read(late_report, "ledgre")
    with pytest.raises(DomainError, match="unknown community 'nowhere'"):
        read(late_report, "ledger", LedgerFilter(community="nowhere"))
