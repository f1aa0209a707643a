"""Figures worked out by hand from the README's definitions, for small histories."""

from __future__ import annotations

from datetime import date

from domain.values import Actor, Place
from projections.accountability import AccountabilityFilter
from projections.ledger import COLUMNS as LEDGER_COLUMNS
from projections.reports import read
from tests.factories import (
    inspector,
    landlord,
    report,
    safety_officer,
    street_supervisor,
    to_awaiting_verification,
    to_notified,
    to_rectifying,
)
from workflows.escalation import tick

ON_TIME_RATE, MEDIAN_DAYS = 11, 10  # accountability columns


def street(cases) -> tuple:
    return read(cases, "accountability", AccountabilityFilter(level="street")).rows[0]


def test_a_dismissed_case_is_no_rectification_due(cases):
    dismissed = to_notified(cases, 1)  # the party is waited on until 2026-03-09
    cases.dismiss(dismissed, safety_officer, closing_reason="unfounded", reason="误报")
    rectified = to_awaiting_verification(cases, 2)  # submitted on 2 March, on time
    cases.verify(rectified, inspector, passed=True)
    # One rectification was due (case 2), and it was on time: the unfounded hazard owed none.
    assert street(cases)[ON_TIME_RATE] == 1.0


def test_a_rectification_that_fails_verification_is_not_on_time(cases, clock):
    case_id = to_awaiting_verification(cases, 1)  # submitted 2 March, deadline 9 March
    clock.advance(days=1)
    cases.verify(case_id, inspector, passed=False, reason="飞线未拆除")
    clock.advance(days=10)  # 13 March: past the deadline
    cases.submit_rectification(case_id, safety_officer, measures="拆除飞线")
    cases.verify(case_id, inspector, passed=True)
    # One rectification, done late: the failed submission of 2 March was not a rectification.
    assert street(cases)[ON_TIME_RATE] == 0.0
    stats = read(cases, "stats").rows[0]
    assert stats[5:7] == (0, 1) and stats[12] == 0.0  # stats agrees: rectified late


def test_the_ledger_shows_no_rectified_date_after_a_failed_verification(cases, clock):
    case_id = to_awaiting_verification(cases, 1)
    clock.advance(days=1)
    cases.verify(case_id, inspector, passed=False, reason="飞线未拆除")
    (row,) = read(cases, "ledger").rows
    row = dict(zip([c.key for c in LEDGER_COLUMNS], row))
    assert row["state"] == "rectifying.in_progress"
    assert row["rectified_date"] is None  # the rectification of 2 March was refused
    clock.advance(days=1)
    cases.submit_rectification(case_id, safety_officer, measures="拆除飞线")
    (row,) = read(cases, "ledger").rows
    assert dict(zip([c.key for c in LEDGER_COLUMNS], row))["rectified_date"] == date(2026, 3, 4)


def test_the_tick_escalating_a_major_hazard_is_no_official_acting(cases, clock):
    report(cases, 1, category="gas_safety", severity="major")
    clock.advance(hours=1)
    tick(cases)  # escalated at once, under supervised listing: nobody in the community acted
    assert street(cases)[MEDIAN_DAYS] is None
    notified = to_notified(cases, 2)  # the safety officer's notice, at once
    assert notified and street(cases)[MEDIAN_DAYS] == 0.0


def test_an_extension_after_a_late_submission_does_not_make_it_on_time(cases, clock):
    case_id = to_rectifying(cases, 1)  # deadline 9 March
    clock.advance(days=10)  # 12 March: submitted three days late
    cases.submit_rectification(case_id, safety_officer, measures="拆除飞线")
    cases.extend_deadline(case_id, street_supervisor, deadline=date(2026, 3, 20),
                          reason="等待电工")
    cases.verify(case_id, inspector, passed=True)
    stats = read(cases, "stats").rows[0]
    assert stats[5:7] == (0, 1)  # rectified late, as accountability says
    assert street(cases)[ON_TIME_RATE] == 0.0


def test_a_person_who_moved_keeps_each_units_time_to_act_on_its_own_row(cases, clock):
    # The same safety officer acts in community YS-C01, then (users change) in YS-C02.
    first = report(cases, 1)
    clock.advance(days=1)
    cases.notify(first, safety_officer, party=landlord, deadline=date(2026, 3, 31))
    moved = Actor(safety_officer.id, "safety_officer", "YS-C02")
    elsewhere = Place("P-0900", "出租屋 900号", "rental_house", "园山路 900 号", "YS-C02-G01",
                      "YS-C02")
    second = cases.report(Actor("gw-zhou", "grid_worker", "YS-C02-G01"), place=elsewhere,
                          category="flying_wire_charging", severity="general",
                          description="楼道飞线充电").case_id
    clock.advance(days=3)
    cases.notify(second, moved, party=landlord, deadline=date(2026, 3, 31))
    rows = read(cases, "accountability", AccountabilityFilter(level="actor")).rows
    median_by_unit = {row[1]: row[MEDIAN_DAYS] for row in rows if row[2] == safety_officer.id}
    assert median_by_unit == {"YS-C01": 1.0, "YS-C02": 3.0}
