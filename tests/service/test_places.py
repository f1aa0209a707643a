"""One place id names one place: its grid, community and kind as first reported."""

from __future__ import annotations

from dataclasses import replace
import pytest

from domain.errors import DomainError, PlaceMismatch
from domain.values import Actor
from tests import factories as f
from tests.service.test_concurrency import run_in_threads
from workflows.records import place_register_id
from workflows.service import PlaceMoveResult

other_grid_worker = Actor("gw-qian", "grid_worker", "YS-C01-G02")


def count_events(cases) -> int:
    return cases.recorder.max_notification_id() or 0


def report_at(cases, place, category: str = "flying_wire_charging",
              actor: Actor = f.safety_officer):
    return cases.report(actor, place=place, category=category, severity="general",
                        description="楼道飞线充电", confirm_new=True)


def test_a_place_id_reported_as_another_place_is_refused_and_appends_nothing(cases):
    first = f.place(1)  # a rental house in grid YS-C01-G01
    report_at(cases, first)
    before = count_events(cases)
    for differing, told in [
        ({"grid": "YS-C01-G02"}, "grid YS-C01-G01, not YS-C01-G02"),
        ({"kind": "enterprise"}, "kind rental_house, not enterprise"),
        ({"grid": "YS-C02-G01", "community": "YS-C02"},
         "grid YS-C01-G01, not YS-C02-G01, community YS-C01, not YS-C02"),
    ]:
        with pytest.raises(PlaceMismatch) as raised:
            report_at(cases, replace(first, **differing))
        assert str(raised.value) == (
            f"place P-0001 is registered as {told}: report it with the place's own grid, "
            "community and kind, or give this place its own id")
    assert count_events(cases) == before


def test_a_place_under_another_name_or_address_is_the_same_place(cases):
    report_at(cases, f.place(1))
    again = report_at(cases, replace(f.place(1), name="陈家出租屋", address="园山路一号"),
                      category="blocked_fire_exit")
    assert cases.get_case(again.case_id).place["name"] == "陈家出租屋"
    register = cases.repository.get(place_register_id("P-0001"))
    assert register.identity == {"grid": f.GRID, "community": f.COMMUNITY,
                                 "kind": "rental_house"}
    assert len(register.open_cases) == 2


def test_a_place_registered_before_places_were_described_takes_its_next_report(cases):
    with f.places_as_registered_before_described():
        report_at(cases, f.place(1))
    assert cases.repository.get(place_register_id("P-0001")).identity is None
    # its next report describes it; from then on it is that place
    report_at(cases, replace(f.place(1), grid="YS-C01-G02"), category="blocked_fire_exit",
              actor=other_grid_worker)
    register = cases.repository.get(place_register_id("P-0001"))
    assert register.identity == {"grid": "YS-C01-G02", "community": f.COMMUNITY,
                                 "kind": "rental_house"}
    with pytest.raises(PlaceMismatch):
        report_at(cases, f.place(1), category="illegal_wiring")


def test_a_case_closing_describes_a_place_registered_before(cases):
    with f.places_as_registered_before_described():
        case_id = f.report(cases)
    cases.dismiss(case_id, f.safety_officer, closing_reason="unfounded", reason="误报")
    register = cases.repository.get(place_register_id("P-0001"))
    assert register.identity is not None and register.identity["grid"] == f.GRID
    assert not register.is_open


def test_two_first_reports_of_a_new_place_in_two_grids_register_one_place(open_service):
    """Both would create the place's register: one save wins, the other is decided again on
    the registered place and refused."""
    writers = [open_service() for _ in range(2)]
    reporters = [(f.grid_worker, f.GRID), (other_grid_worker, "YS-C01-G02")]

    def work(i: int) -> str:
        actor, grid = reporters[i]
        try:
            report_at(writers[i], replace(f.place(5), grid=grid), actor=actor)
        except PlaceMismatch:
            return "refused"
        return grid

    outcomes = run_in_threads(2, work)
    filed = [o for o in outcomes if o != "refused"]
    assert len(filed) == 1 and outcomes.count("refused") == 1, outcomes
    register = writers[0].repository.get(place_register_id("P-0005"))
    assert register.identity["grid"] == filed[0]


def test_a_moved_place_takes_reports_in_its_new_grid_and_its_open_cases_with_it(cases):
    # Before, a case still open at a moved place stayed with its old grid's workers (the
    # ledger, the accountability desks, grid workers' views) while its place was elsewhere.
    open_case = f.to_notified(cases, 1)  # P-0001 in YS-C01-G01
    closed = f.report(cases, 1, category="illegal_wiring")
    cases.dismiss(closed, f.safety_officer, closing_reason="unfounded", reason="误报")
    before_move = count_events(cases)
    before = cases.move_place("P-0001", grid="YS-C01-G02", community=f.COMMUNITY, kind=None,
                              reason="网格调整", actor=f.admin)
    assert before == PlaceMoveResult({"grid": f.GRID, "community": f.COMMUNITY,
                                      "kind": "rental_house"}, replayed=False)
    assert count_events(cases) == before_move + 2  # the register's move and the open case's
    moved = cases.get_case(open_case)
    assert (moved.place["grid"], moved.place["name"], moved.state) == (
        "YS-C01-G02", f.place(1).name, "notified")
    (event,) = [e for e in cases.history(open_case) if type(e).__name__ == "PlaceMoved"]
    assert (event.actor, event.trigger, event.reason, event.moved_from) == (
        f.admin.as_dict(), "move_place", "网格调整",
        {"grid": f.GRID, "community": f.COMMUNITY, "kind": "rental_house"})
    assert cases.get_case(closed).place["grid"] == f.GRID  # a closed case keeps its record
    report_at(cases, replace(f.place(1), grid="YS-C01-G02"), category="blocked_fire_exit",
              actor=other_grid_worker)
    with pytest.raises(PlaceMismatch):
        report_at(cases, f.place(1), category="gas_safety")
    register = cases.repository.get(place_register_id("P-0001"))
    move = [e for e in cases.events.get(register.id) if type(e).__name__ == "Moved"]
    assert [(e.grid, e.moved_by, e.reason) for e in move] == [
        ("YS-C01-G02", f.admin.id, "网格调整")]


def test_a_case_reopened_at_a_place_moved_since_it_closed_follows_the_place(cases):
    case = f.report(cases, 1)
    cases.dismiss(case, f.safety_officer, closing_reason="unfounded", reason="误报")
    cases.move_place("P-0001", grid="YS-C01-G02", community=f.COMMUNITY, kind="enterprise",
                     reason="网格调整", actor=f.admin)
    assert cases.get_case(case).place["grid"] == f.GRID
    cases.reopen(case, f.safety_officer, reason="又见飞线充电")
    reopened = cases.get_case(case)
    assert (reopened.state, reopened.place["grid"], reopened.place["kind"]) == (
        "found", "YS-C01-G02", "enterprise")
    last = cases.history(case)[-2:]
    assert [(type(e).__name__, e.actor["id"]) for e in last] == [
        ("CaseReopened", f.safety_officer.id), ("PlaceMoved", "system")]


def test_moving_a_place_again_brings_the_open_cases_an_earlier_move_left_behind(cases):
    # A place moved before cases followed their place (2026-12-06) left its open cases in
    # the old grid; moving it to where it already is moves those, and only those.
    left = f.to_notified(cases, 1)
    register = cases.place_register("P-0001")
    register.move({"grid": "YS-C01-G02", "community": f.COMMUNITY, "kind": "rental_house"},
                  f.admin.id, "网格调整", cases.clock.now())
    cases.commit(register)
    before = count_events(cases)
    cases.move_place("P-0001", grid="YS-C01-G02", community=f.COMMUNITY, kind=None,
                     reason="补移案件", actor=f.admin)
    assert count_events(cases) == before + 2  # the case's move, recorded on the place too
    assert cases.get_case(left).place["grid"] == "YS-C01-G02"
    with pytest.raises(DomainError, match="already is a rental_house in grid YS-C01-G02"):
        cases.move_place("P-0001", grid="YS-C01-G02", community=f.COMMUNITY, kind=None,
                         reason="补移案件", actor=f.admin)
    assert count_events(cases) == before + 2


def test_a_case_command_racing_a_move_of_its_place_is_decided_on_the_moved_case(open_service):
    """A comment and a move at once, each on its own connection: both are recorded, the
    case ends in the new grid, and its history is one unbroken chain."""
    writers = [open_service() for _ in range(2)]
    case = f.to_notified(writers[0], 1)

    def work(i: int) -> str:
        if i == 0:
            writers[0].move_place("P-0001", grid="YS-C01-G02", community=f.COMMUNITY,
                                  kind=None, reason="网格调整", actor=f.admin)
        else:
            writers[1].comment(case, f.safety_officer, text="请尽快整改")
        return "done"

    assert run_in_threads(2, work) == ["done", "done"]
    history = writers[0].history(case)
    assert sorted(type(e).__name__ for e in history[-2:]) == ["CommentAdded", "PlaceMoved"]
    assert writers[0].get_case(case).place["grid"] == "YS-C01-G02"


@pytest.mark.parametrize(("place_id", "grid", "reason", "refusal"), [
    ("P-0009", "YS-C01-G02", "网格调整", "no place P-0009 is registered"),
    ("P-0001", f.GRID, "网格调整", "place P-0001 already is a rental_house in grid YS-C01-G01"),
    ("P-0001", "YS-C01-G02", "  ", "give the reason for moving the place"),
    # it reached `places show` raw: on a terminal, a bell and a cleared screen
    ("P-0001", "YS-C01-G02", "\x07\x1b[2J网格调整", r"reason for moving the place .*U\+0007"),
])
def test_a_move_that_changes_nothing_is_refused(cases, place_id, grid, reason, refusal):
    f.report(cases)
    before = count_events(cases)
    with pytest.raises(DomainError, match=refusal):
        cases.move_place(place_id, grid=grid, community=f.COMMUNITY, kind=None,
                         reason=reason, actor=f.admin)
    assert count_events(cases) == before


def test_a_place_registered_before_places_were_described_needs_no_move(cases):
    with f.places_as_registered_before_described():
        f.report(cases)  # P-0001: a register with no grid, community or kind
    before = count_events(cases)
    with pytest.raises(DomainError, match="place P-0001 has no grid registered yet: its next "
                                          "report registers the grid it gives"):
        cases.move_place("P-0001", grid="YS-C01-G02", community=f.COMMUNITY,
                         kind="rental_house", reason="网格调整", actor=f.admin)
    assert count_events(cases) == before


def test_a_move_sent_twice_at_once_with_one_command_id_is_recorded_once(open_service):
    """Two copies of one move (a client's retry racing its first try), each on its own
    connection: one save wins, the other finds its record and answers the same."""
    writers = [open_service() for _ in range(2)]
    f.report(writers[0])

    def work(i: int) -> PlaceMoveResult:
        return writers[i].move_place("P-0001", grid="YS-C01-G02", community=f.COMMUNITY,
                                     kind=None, reason="网格调整", actor=f.admin,
                                     command_id="move-1")

    before = {"grid": f.GRID, "community": f.COMMUNITY, "kind": "rental_house"}
    answers = run_in_threads(2, work)
    assert [a.before for a in answers] == [before, before]
    assert sorted(a.replayed for a in answers) == [False, True]
    register = writers[0].repository.get(place_register_id("P-0001"))
    moves = [e for e in writers[0].events.get(register.id) if type(e).__name__ == "Moved"]
    assert len(moves) == 1


def test_a_re_inspection_moved_to_another_community_is_due_by_the_rules_from_the_move(
        cases, clock):
    # The tick judged the new community's inspectors slow by the day the old community's
    # were given: the verify_due of the submission, before the case was theirs.
    from workflows.escalation import tick

    case_id = f.to_awaiting_verification(cases, 1)  # submitted Mon 2026-03-02
    assert cases.get_case(case_id).verify_due == "2026-03-05"
    clock.advance(days=2)  # Wed 03-04
    cases.move_place("P-0001", grid="YS-C02-G01", community="YS-C02", kind=None,
                     reason="网格调整", actor=f.admin)
    assert cases.get_case(case_id).verify_due == "2026-03-09"  # 3 working days from Wed
    clock.advance(days=3)  # Sat 03-07: past the old day, within the new one
    early = tick(cases)
    assert (early.candidates, early.applied.get("flag_verification_overdue", 0)) == (0, 0)
    clock.advance(days=3)  # Tue 03-10
    assert tick(cases).applied["flag_verification_overdue"] == 1


def test_admins_moving_one_place_at_once_leave_its_cases_where_the_place_is(open_service):
    """Four admins' moves of one place at once, to random grids, each on its own
    connection, with comments on its cases in between. A move that read the place as
    already where it asked, before another move landed, moved the cases alone: the place
    in one grid, its cases in another, for good (API QA helper, 7 of 13 runs). Every move
    answered must be recorded on the place, and the cases must end where the place is."""
    import random

    writers = [open_service() for _ in range(5)]
    ids = [f.report(writers[0], 1, category=c) for c in
           ("flying_wire_charging", "blocked_fire_exit", "fire_equipment", "gas_safety")]
    grids = ["YS-C01-G01", "YS-C01-G02", "YS-C02-G01", "YS-C02-G02"]

    def work(i: int) -> list[str]:
        rng, done = random.Random(i), []
        for k in range(6):
            if i == 4:  # a safety officer commenting meanwhile
                writers[i].comment(rng.choice(ids), f.safety_officer, text=f"催办 {k}")
                continue
            grid, reason = rng.choice(grids), f"move {i}-{k}"
            try:
                writers[i].move_place("P-0001", grid=grid, community=grid[:6], kind=None,
                                      reason=reason, actor=f.admin)
            except DomainError as refused:  # already there, or kept changing
                assert "already is" in str(refused) or "kept changing" in str(refused)
                continue
            done.append(reason)
        return done

    answered = {reason for reasons in run_in_threads(5, work) for reason in reasons}
    register = writers[0].place_register("P-0001")
    on_place = [e.reason for e in writers[0].events.get(register.id)
                if type(e).__name__ == "Moved"]
    assert answered and answered == set(on_place)
    for case_id in ids:
        case = writers[0].get_case(case_id)
        assert {k: case.place[k] for k in ("grid", "community", "kind")} == register.identity
        moves = [e.reason for e in writers[0].history(case_id)
                 if type(e).__name__ == "PlaceMoved"]
        assert set(moves) <= answered
