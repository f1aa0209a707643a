"""What each read model says about small, known histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from domain.values import Actor
from projections.accountability import AccountabilityFilter
from projections.audit import AuditFilter
from projections.ledger import COLUMNS as LEDGER_COLUMNS
from projections.ledger import LedgerFilter
from projections.reports import read
from projections.risk import RiskFilter
from tests.factories import (
    fire_officer,
    admin,
    inspector,
    landlord,
    place,
    report,
    safety_officer,
    street_supervisor,
    to_awaiting_verification,
    to_escalated,
    to_notified,
)
from workflows.escalation import tick

TODAY = date(2026, 3, 2)


def ledger_rows(cases, **filters) -> list[dict]:
    result = read(cases, "ledger", LedgerFilter(**filters))
    return [dict(zip([c.key for c in LEDGER_COLUMNS], row)) for row in result.rows]


def test_ledger_row_follows_a_case_to_closing(cases, clock):
    case_id = to_awaiting_verification(cases, 1)
    clock.advance(days=2)
    cases.verify(case_id, inspector, passed=True)
    (row,) = ledger_rows(cases)
    assert row["state"] == "closed" and row["closing_reason"] == "rectified"
    assert row["responsible_party"] == landlord.name
    assert (row["notice_date"], row["deadline"]) == (TODAY, date(2026, 3, 9))
    assert row["measures"] == "拆除飞线, 引导集中充电"
    assert (row["verified_by"], row["verified_date"]) == (inspector.id, date(2026, 3, 4))
    assert (row["days_open"], row["overdue"]) == (2, False)


def test_a_case_the_department_closes_as_rectified_has_a_rectified_date(cases, clock):
    # The statistics counted it rectified on that day; the ledger's 整改完成日期 was empty.
    case_id = to_escalated(cases, 1)  # refused, accepted by the fire department
    clock.advance(days=3)
    cases.close(case_id, fire_officer, closing_reason="rectified")
    (row,) = ledger_rows(cases)
    assert (row["closing_reason"], row["rectified_date"]) == ("rectified", date(2026, 3, 5))


def test_ledger_overdue_and_days_open_are_relative_to_the_day_read(cases, clock):
    to_notified(cases, 1)  # deadline 2026-03-09
    report(cases, 2)
    clock.advance(days=10)
    rows = ledger_rows(cases)
    assert [(r["days_open"], r["overdue"]) for r in rows] == [(10, True), (10, False)]
    assert [r["number"] for r in ledger_rows(cases, overdue=True)] == ["HZ-2026-000001"]
    as_of_day5 = read(cases, "ledger", as_of=TODAY + timedelta(days=5))
    assert [(r[20], r[21]) for r in as_of_day5.rows] == [(5, False), (5, False)]


def test_ledger_filters_and_reopen_cycle(cases, clock):
    first = to_escalated(cases, 1)
    report(cases, 2, category="gas_safety", severity="major")
    cases.record_enforcement(first, fire_officer, decision_number="消罚〔2026〕1号",
                             measure="fine", amount="500")
    cases.close(first, fire_officer, closing_reason="enforced")
    clock.advance(days=3)
    cases.reopen(first, safety_officer, reason="复发")
    assert [r["number"] for r in ledger_rows(cases, state="found")] == [
        "HZ-2026-000001", "HZ-2026-000002"]
    assert [r["number"] for r in ledger_rows(cases, severity="major")] == ["HZ-2026-000002"]
    assert ledger_rows(cases, category="gas_safety")[0]["number"] == "HZ-2026-000002"
    assert ledger_rows(cases, found_from=TODAY + timedelta(days=1)) == []
    reopened = ledger_rows(cases, state="found")[0]
    assert reopened["recurrence_count"] == 1
    assert reopened["enforcement"] is None and reopened["department"] is None
    assert reopened["found_date"] == TODAY and reopened["days_open"] == 0


def test_audit_trail_by_case_and_actor(cases):
    case_id = to_notified(cases, 1)
    report(cases, 2)
    cases.comment(case_id, street_supervisor, text="请尽快整改")
    trail = read(cases, "audit", AuditFilter(case="hz-2026-000001")).rows
    assert [(r[1], r[2], r[3], r[5]) for r in trail] == [
        ("HZ-2026-000001", 1, "report", "gw-li"), ("HZ-2026-000001", 2, "notify", "so-chen"),
        ("HZ-2026-000001", 3, "comment", "sup-zhou")]
    assert [r[10] for r in read(cases, "audit", AuditFilter(actor="sup-zhou")).rows] == [
        "请尽快整改"]


def test_risk_grades_and_their_history(cases, clock):
    general = report(cases, 1)
    grades = lambda: {r[0]: r[5] for r in read(cases, "risk").rows}
    assert grades() == {"P-0001": "yellow"}
    major = report(cases, 1, category="gas_safety", severity="major")
    assert grades() == {"P-0001": "red"}
    cases.dismiss(major, safety_officer, closing_reason="unfounded", reason="误报")
    assert grades() == {"P-0001": "yellow"}
    cases.notify(general, safety_officer, party=landlord)
    cases.refuse(general, safety_officer, reason="拒不整改")
    assert grades() == {"P-0001": "red"}
    cases.accept_escalation(general, fire_officer)
    clock.advance(days=1)
    cases.record_enforcement(general, fire_officer, decision_number="消罚〔2026〕2号",
                             measure="warning")
    cases.close(general, fire_officer, closing_reason="enforced")
    assert grades() == {"P-0001": "green"}
    changes = read(cases, "risk", RiskFilter(view="changes")).rows
    assert [(r[5], r[6], r[8]) for r in changes] == [
        ("green", "yellow", "report"), ("yellow", "red", "report"),
        ("red", "yellow", "dismiss"), ("yellow", "red", "refuse"), ("red", "green", "close")]
    assert read(cases, "risk", RiskFilter(view="communities")).rows == [("YS-C01", 0, 0, 1, 1)]


def test_grade_changes_name_the_case_by_its_number(cases):
    # The grade history named the case behind each change by its internal id (a UUID), the
    # one column of the reports an office cannot read or look up in the ledger.
    report(cases, 1)
    report(cases, 1, category="gas_safety", severity="major")
    for as_of in (None, date(2026, 3, 2)):
        changes = read(cases, "risk", RiskFilter(view="changes"), as_of=as_of)
        assert [r[7] for r in changes.rows] == ["HZ-2026-000001", "HZ-2026-000002"]


def test_an_open_case_moves_with_its_place_in_every_read_model(cases, clock):
    # Before, a case still open at a place an admin moved stayed in the old grid's ledger,
    # desks and counts; the risk row moved only at the place's next report.
    moving = to_notified(cases, 1)  # P-0001, YS-C01-G01; the party rectifies by 03-09
    report(cases, 2)  # P-0002 stays: waits for YS-C01's notice
    clock.advance(days=1)
    cases.move_place("P-0001", grid="YS-C02-G01", community="YS-C02", kind=None,
                     reason="网格调整", actor=admin)
    places = lambda **kw: [(r[0], r[3], r[4], r[7]) for r in read(cases, "risk", **kw).rows]
    assert places() == [("P-0002", "YS-C01", "YS-C01-G01", 1),  # by community
                        ("P-0001", "YS-C02", "YS-C02-G01", 1)]
    assert [(r["number"], r["community"], r["grid"]) for r in ledger_rows(cases)] == [
        ("HZ-2026-000001", "YS-C02", "YS-C02-G01"), ("HZ-2026-000002", "YS-C01", "YS-C01-G01")]
    assert [r["number"] for r in ledger_rows(cases, grid="YS-C02-G01")] == ["HZ-2026-000001"]
    units = {(r[0], r[1]): r for r in read(cases, "accountability").rows if r[2] is None}
    # the admin's move is the street's work, not the old grid's or community's
    assert [key for key, r in units.items() if "move_place" in r[5]] == [("street", "YS")]
    # (waiting for an official, waiting for the party) per unit
    assert {key: (r[6], r[8]) for key, r in units.items() if key[0] != "street"} == {
        ("community", "YS-C01"): (1, 0), ("grid", "YS-C01-G01"): (1, 0),
        ("community", "YS-C02"): (0, 1), ("grid", "YS-C02-G01"): (0, 1)}
    cases.start_rectification(moving, safety_officer)
    cases.submit_rectification(moving, safety_officer, measures="已整改")
    cases.verify(moving, inspector, passed=True)
    # a grade change is shown where the place was then (it showed the place's grid now)
    changes = [(r[1], r[3], r[4], r[6]) for r in read(cases, "risk",
                                                       RiskFilter(view="changes")).rows]
    assert changes[:2] == [("P-0001", "YS-C01", "YS-C01-G01", "yellow"),
                           ("P-0001", "YS-C02", "YS-C02-G01", "green")]
    assert [r[1] for r in read(cases, "risk", RiskFilter(view="changes",
                                                         community="YS-C01")).rows] == [
        "P-0001", "P-0002"]
    stats = {(r[1], r[2]): r[3:7] for r in read(cases, "stats").rows}
    # found and notified where it was then, rectified on time where it is now
    assert stats == {("YS-C01", "flying_wire_charging"): (2, 1, 0, 0),
                     ("YS-C02", "flying_wire_charging"): (0, 0, 1, 0)}
    # as recorded on the day before the move, everything is where it was
    assert places(as_of=TODAY) == [("P-0001", "YS-C01", "YS-C01-G01", 1),
                                   ("P-0002", "YS-C01", "YS-C01-G01", 1)]
    assert [r[4:6] for r in read(cases, "ledger", as_of=TODAY).rows] == [
        ("YS-C01", "YS-C01-G01"), ("YS-C01", "YS-C01-G01")]


def test_a_case_moved_to_another_community_is_its_officers_with_the_rules_time(cases,
                                                                                 clock):
    # A found case whose notice was already late moved to another community: handed over
    # as it stood, the new community's officer was slow (慢作为) from the moment it arrived.
    report(cases, 1)  # found 2026-03-02: YS-C01's notice due in 3 days
    clock.advance(days=6)  # late now, in YS-C01
    slow = lambda unit: {r[1]: (r[6], r[7]) for r in read(
        cases, "accountability", AccountabilityFilter(level="community")).rows}.get(unit)
    assert slow("YS-C01") == (1, 1)
    cases.move_place("P-0001", grid="YS-C02-G01", community="YS-C02", kind=None,
                     reason="网格调整", actor=admin)
    (moved,) = [e for e in cases.history(cases.resolve("HZ-2026-000001"))
                if type(e).__name__ == "PlaceMoved"]
    assert moved.notice_due == "2026-03-11"  # 3 working days from Sunday 03-08
    assert (slow("YS-C01"), slow("YS-C02")) == ((0, 0), (1, 0))  # (waiting, slow)
    clock.advance(days=4)
    assert slow("YS-C02") == (1, 1)
    cases.notify(cases.resolve("HZ-2026-000001"), Actor("so-c02", "safety_officer", "YS-C02"),
                 party=landlord)
    people = {r[2]: r[10] for r in read(cases, "accountability",
                                         AccountabilityFilter(level="actor")).rows}
    # the new officer's time runs from the move; the admin's move is an action, not a time
    assert (people["so-c02"], people[admin.id]) == (4.0, None)
    assert read(cases, "accountability", as_of=TODAY + timedelta(days=10)).rows == read(
        cases, "accountability").rows


def test_a_person_moved_away_or_revoked_is_not_waited_on_in_the_old_unit(cases, clock):
    # A safety officer moved to YS-C02 (users change) kept a YS-C01 row saying the cases
    # waiting there, reported after they left included, were waiting on them, overdue ones
    # as slow action (慢作为) against their name (QA helper, from the case histories).
    from api.accounts import Accounts

    accounts = Accounts(cases)
    for name in ("so-stay", "so-moved", "so-revoked"):
        accounts.add(name, "safety_officer", "YS-C01")
    first = report(cases, 1)
    for name in ("so-stay", "so-moved", "so-revoked"):
        cases.comment(first, Actor(name, "safety_officer", "YS-C01"), text="已知悉")
    clock.advance(days=1)
    accounts.change("so-moved", unit="YS-C02")
    accounts.revoke("so-revoked")
    report(cases, 2)
    clock.advance(days=5)  # both notices late now

    def waiting(**when) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
        rows = read(cases, "accountability", AccountabilityFilter(level="actor"), **when).rows
        return {r[2]: (r[6], r[7]) for r in rows if r[3] == "safety_officer"}

    assert waiting() == {"so-stay": (2, 2), "so-moved": (0, 0), "so-revoked": (0, 0)}
    # as of the day before the change, all three held YS-C01
    assert waiting(as_of=TODAY) == {name: (1, 0) for name in ("so-stay", "so-moved",
                                                                 "so-revoked")}


def test_a_place_moved_with_no_open_case_is_graded_in_its_new_grid_from_its_next_report(
        cases):
    report(cases, 1)
    cases.dismiss(cases.resolve("HZ-2026-000001"), safety_officer,
                  closing_reason="unfounded", reason="误报")
    places = lambda: [(r[0], r[3], r[4], r[7]) for r in read(cases, "risk").rows]
    cases.move_place("P-0001", grid="YS-C01-G02", community="YS-C01", kind=None,
                     reason="网格调整", actor=admin)
    assert places() == [("P-0001", "YS-C01", "YS-C01-G01", 0)]  # until its next report
    cases.report(safety_officer, place=replace(place(1), grid="YS-C01-G02"),
                 category="blocked_fire_exit", severity="general", description="堵塞通道")
    assert places() == [("P-0001", "YS-C01", "YS-C01-G02", 1)]
    assert read(cases, "risk", as_of=TODAY).rows == read(cases, "risk").rows


def test_stats_count_on_time_and_late_rectifications(cases, clock):
    on_time = to_awaiting_verification(cases, 1)  # deadline 2026-03-09, submitted 03-02
    cases.verify(on_time, inspector, passed=True)
    late = to_notified(cases, 2)
    cases.start_rectification(late, safety_officer)
    to_escalated(cases, 3)
    clock.advance(days=9)
    cases.submit_rectification(late, safety_officer, measures="已整改")
    cases.verify(late, inspector, passed=True)
    (row,) = read(cases, "stats").rows
    assert row[:11] == ("2026-03", "YS-C01", "flying_wire_charging", 3, 3, 1, 1, 1, 0, 0, 0)
    assert row[11:] == (round(2 / 3, 4), 0.5)


def test_accountability_waiting_slow_and_rollups(cases, clock):
    report(cases, 1)  # waits for the safety officer: due in 3 days
    to_notified(cases, 2)  # waits for the party until 2026-03-09
    verifying = to_awaiting_verification(cases, 3)  # waits for an inspector
    to_escalated(cases, 4, accepted=False)  # waits for the fire department
    clock.advance(days=5)
    street = read(cases, "accountability", AccountabilityFilter(level="street")).rows[0]
    # waiting: notify, verify, accept (officials), each past the due day its starting event
    # records, with no tick run: the notice and the re-inspection (3 working days from
    # 2 March) late since 6 March, the acceptance (the first level's 2) since 5 March.
    assert street[6:10] == (3, 3, 1, 0)
    tick(cases)  # the tick records the same judgement; nothing changes here
    assert "VerificationOverdue" in [type(e).__name__ for e in cases.history(verifying)]
    rows = {(r[0], r[1], r[2]): r for r in read(cases, "accountability").rows}
    street = rows[("street", "YS", None)]
    assert street[6:10] == (3, 3, 1, 0)
    assert rows[("community", "YS-C01", None)][6:10] == street[6:10]
    assert rows[("grid", "YS-C01-G01", None)][6:10] == street[6:10]
    assert rows[("department", "fire", None)][6:8] == (1, 1)
    officer = rows[("actor", "YS-C01", "so-chen")]
    assert officer[5]["notify"] == 3 and officer[6:10] == (1, 1, 1, 0)
    cases.verify(verifying, inspector, passed=True)
    clock.advance(days=5)
    after = {(r[0], r[1], r[2]): r for r in read(cases, "accountability",
                                                 AccountabilityFilter(level="actor")).rows}
    inspector_row = after[("actor", "YS-C01", "in-huang")]
    assert inspector_row[4] == 1 and inspector_row[10] == 5.0  # verified 5 days after submission
    street = read(cases, "accountability", AccountabilityFilter(level="street")).rows[0]
    assert street[8:10] == (1, 1)  # the party is now past its deadline
    # Due so far: case 2 (overdue), 3 (submitted on time), 4 (refused): 1 of 3 on time.
    assert street[11] == round(1 / 3, 4)


def test_accountability_counts_acceptance_in_working_days(cases, clock):
    clock.advance(days=4)  # Friday 6 March 2026
    escalated = to_escalated(cases, 1, accepted=False)

    def fire_row():
        rows = read(cases, "accountability", AccountabilityFilter(level="department")).rows
        return {r[1]: r for r in rows}["fire"][6:8]  # (waiting, slow)

    clock.advance(days=4)  # Tuesday: the first level's 2 working days are Monday and Tuesday
    tick(cases)
    assert fire_row() == (1, 0)  # 4 calendar days, but the weekend does not count
    clock.advance(days=1)
    tick(cases)
    (raised,) = [e for e in cases.history(escalated)
                 if type(e).__name__ == "EscalationLevelRaised"]
    assert raised.due == "2026-03-10"
    assert fire_row() == (1, 1)
    clock.advance(days=10)
    tick(cases)  # the next level's raise keeps the first due day: still one slow case
    assert fire_row() == (1, 1)
