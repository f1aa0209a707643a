"""The escalations board: per department, by status, with age and overdue acceptances."""

from __future__ import annotations

from datetime import date, datetime

from api.accounts import Accounts
from domain.timeutil import LOCAL_TZ
from projections.escalations import EscalationsFilter
from projections.reports import read
from tests import factories as f
from tests.projections.helpers import run_hazardflow
from workflows.escalation import tick


def at(clock, day: str, hour: int = 9) -> None:
    clock.set(datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=LOCAL_TZ))


def board(cases, **filters):
    return read(cases, "escalations", EscalationsFilter(policy=cases.policy, **filters))


def by_number(report) -> dict[str, dict]:
    return {row["number"]: row for row in report.dicts()}


def _street(cases, clock) -> dict[str, str]:
    """Cases in every column of the board, escalated on Monday 2 March."""
    numbers = {}

    def number(case_id) -> str:
        return cases.get_case(case_id).number

    numbers["awaiting"] = number(f.to_escalated(cases, 1, accepted=False))
    numbers["accepted"] = number(f.to_escalated(cases, 2))
    enforced = f.to_escalated(cases, 3)
    cases.record_enforcement(enforced, f.fire_officer, decision_number="消罚决字〔2026〕1号",
                             measure="fine", amount="500")
    numbers["enforcement"] = number(enforced)
    returned = f.to_escalated(cases, 4)
    cases.order_rectification(returned, f.fire_officer, deadline=date(2026, 3, 20))
    numbers["returned"] = number(returned)
    closed = f.to_enforced(cases, 5)
    cases.close(closed, f.fire_officer, closing_reason="enforced")
    numbers["closed"] = number(closed)
    numbers["housing"] = number(f.to_escalated(cases, 6, accepted=False,
                                               category="unreported_small_works"))
    numbers["missed"] = number(f.to_notified(cases, 7, category="gas_safety"))
    numbers["major"] = number(f.report(cases, 8, severity="major", category="flammable_storage"))
    f.report(cases, 9)  # never escalated: not on any board
    at(clock, "2026-03-02", 18)
    tick(cases)  # the major hazard goes at once
    return numbers


def test_the_board_shows_each_status_with_age_and_cause(cases, clock):
    n = _street(cases, clock)
    at(clock, "2026-03-04", 10)
    rows = by_number(board(cases, department="fire"))
    assert {rows[n[k]]["status"] for k in ("awaiting", "accepted", "enforcement", "returned",
                                           "closed")} == {
        "awaiting_acceptance", "accepted", "in_enforcement", "returned_for_rectification",
        "closed"}
    assert rows[n["awaiting"]]["cause"] == "refused"
    assert rows[n["awaiting"]]["age_days"] == 2
    assert rows[n["awaiting"]]["accept_by"] == date(2026, 3, 4)
    assert rows[n["awaiting"]]["acceptance_overdue"] is False
    assert rows[n["enforcement"]]["enforcements"] == 1
    assert n["housing"] not in rows and n["missed"] not in rows
    major = by_number(board(cases, department="emergency_management"))[n["major"]]
    assert (major["cause"], major["supervised"]) == ("major_hazard", True)
    assert len(board(cases).rows) == 7  # every escalated case, no other


def test_acceptances_overdue_and_climbing_levels_show_on_the_board(cases, clock):
    n = _street(cases, clock)
    at(clock, "2026-03-12")
    tick(cases)  # the missed deadline escalates; unaccepted ones climb one level
    rows = by_number(board(cases))
    assert rows[n["awaiting"]]["level"] == "street_safety_office"
    assert rows[n["missed"]]["cause"] == "deadline_missed"
    assert rows[n["missed"]]["department"] == "urban_management"
    assert rows[n["missed"]]["acceptance_overdue"] is False
    at(clock, "2026-03-17")  # the street office's 2 working days passed on Mon 16
    tick(cases)
    report = board(cases)
    rows = by_number(report)
    assert rows[n["missed"]]["level"] == "street_safety_office"
    awaiting = rows[n["awaiting"]]
    assert awaiting["level"] == "department" and awaiting["acceptance_overdue"] is True
    assert rows[n["accepted"]]["acceptance_overdue"] is False
    assert report.meta["board"]["fire"] == {
        "awaiting_acceptance": 1, "accepted": 1, "in_enforcement": 1,
        "returned_for_rectification": 1, "closed": 1, "acceptances_overdue": 1}
    summary = board(cases, view="board")
    assert summary.dicts()[1] == {  # departments in order: emergency_management, fire, ...
        "department": "fire", "awaiting_acceptance": 1, "accepted": 1, "in_enforcement": 1,
        "returned_for_rectification": 1, "closed": 1, "acceptances_overdue": 1,
        "oldest_awaiting_days": 15}
    overdue = board(cases, overdue_only=True)
    assert {r["number"] for r in overdue.dicts()} == {n["awaiting"], n["housing"],
                                                      n["major"], n["missed"]}


def test_a_returned_case_closes_on_the_board_when_verified(cases, clock):
    case_id = f.to_escalated(cases, 1)
    cases.order_rectification(case_id, f.fire_officer, deadline=date(2026, 3, 20))
    cases.submit_rectification(case_id, f.safety_officer, measures="已拆除飞线")
    cases.verify(case_id, f.inspector, passed=True)
    row = board(cases).dicts()[0]
    assert row["status"] == "closed" and row["closed"] == date(2026, 3, 2)


def test_the_board_as_of_a_past_day(cases, clock):
    n = _street(cases, clock)
    at(clock, "2026-03-12")
    tick(cases)
    past = read(cases, "escalations", EscalationsFilter(policy=cases.policy),
                as_of=date(2026, 3, 3))
    rows = by_number(past)
    assert n["missed"] not in rows
    assert rows[n["awaiting"]]["level"] == "community_safety_office"


def test_scoped_by_territory(cases, clock):
    f.to_escalated(cases, 1)
    # Units the system knows, with no escalated case (an unknown one is refused: test_units)
    Accounts(cases).add("so-c02", "safety_officer", "YS-C02")
    Accounts(cases).add("sup-xx", "street_supervisor", "XX")
    assert len(board(cases, community=f.COMMUNITY).rows) == 1
    assert len(board(cases, community="YS-C02").rows) == 0
    assert len(board(cases, street="YS").rows) == 1
    assert len(board(cases, street="XX").rows) == 0


def test_escalate_due_and_the_report_from_the_command_line(cli_store, monkeypatch, capsys):
    case_id = f.to_notified(cli_store, 1)  # deadline 9 March
    code, out, err = run_hazardflow(monkeypatch, capsys, "escalate-due", "--now",
                                "2026-03-10T09:00")
    assert code == 0, err
    assert "applied: escalate_overdue 1;" in out
    assert out.count("\n") == 1  # the summary alone: no progress bar's leftovers on stdout
    assert cli_store.get_case(case_id).state == "escalated"
    code, out, _ = run_hazardflow(monkeypatch, capsys, "escalate-due", "--now",
                              "2026-03-10T09:00")
    assert "applied: none" in out
    code, out, err = run_hazardflow(monkeypatch, capsys, "report", "escalations",
                                "--department", "fire", "--format", "csv", "--lang", "en")
    assert code == 0, err
    assert "awaiting_acceptance" in out and "deadline_missed" in out
    code, _, err = run_hazardflow(monkeypatch, capsys, "report", "escalations", "--status", "lost")
    assert code == 2 and "unknown status 'lost'" in err
    code, out, err = run_hazardflow(monkeypatch, capsys, "report", "escalations", "--view", "board",
                                "--format", "csv", "--lang", "en")
    assert code == 0, err
    assert out.splitlines()[1].startswith("fire,1,0,0,0,0,1,")  # read today: long overdue
    code, _, err = run_hazardflow(monkeypatch, capsys, "report", "escalations", "--view", "map")
    assert code == 2 and "unknown view 'map'" in err
    code, _, err = run_hazardflow(monkeypatch, capsys, "escalate-due", "--now", "tomorrow")
    assert code == 2 and "not a date-time" in err


def test_a_returned_case_that_misses_its_new_deadline_is_back_awaiting_acceptance(cases, clock):
    case_id = f.to_escalated(cases, 1)
    cases.order_rectification(case_id, f.fire_officer, deadline=date(2026, 3, 6))
    at(clock, "2026-03-09")
    tick(cases)
    row = board(cases).dicts()[0]
    assert (row["status"], row["cause"]) == ("awaiting_acceptance", "deadline_missed")
    assert row["escalated"] == date(2026, 3, 9) and row["accepted"] is None
