"""/api/places/{place_id}: a place as registered, and an admin moving it to another grid.
The command line's twin is tests/cli/test_cli_edges.py::test_an_administrator_moves_a_place_when_grids_are_redrawn."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.api.conftest import Api, place_body, report_body
from tests.api.test_errors import assert_problem

MOVE = "/api/places/P-0001/move"
TO_G02 = {"grid": "YS-C01-G02", "reason": "网格调整"}


def stored(api: Api) -> int:
    return len(api.cases.recorder.select_notifications(1, 10_000))


def test_a_place_is_shown_to_those_whose_area_it_lies_in(api: Api) -> None:
    number = api.report(1)["number"]
    shown = api.get("/api/places/P-0001", "grid_worker")
    assert shown.status_code == 200, shown.text
    place = shown.json()
    assert (place["id"], place["grid"], place["community"], place["kind"]) == (
        "P-0001", "YS-C01-G01", "YS-C01", "rental_house")
    assert [(c["change"], c["grid"], c["by"]) for c in place["changes"]] == [
        ("registered", "YS-C01-G01", None)]
    assert place["open_cases"] == [number]
    assert api.get("/api/places/P-0001", "street_supervisor").json() == place
    # outside the area the place is told as unknown, word for word as an unknown id
    unknown = assert_problem(api.get("/api/places/P-0099", "grid_worker"), 404)["detail"]
    assert unknown == "no place P-0099 is registered in your area"
    for who in ("grid_worker-x", "safety_officer-x", "department_officer"):
        hidden = assert_problem(api.get("/api/places/P-0001", who), 404)["detail"]
        assert hidden == unknown.replace("P-0099", "P-0001")


def test_an_admin_moves_a_place_and_later_reports_follow_it(api: Api) -> None:
    api.report(1)
    moved = api.post(MOVE, "admin", TO_G02)
    assert moved.status_code == 200, moved.text
    assert moved.json()["grid"] == "YS-C01-G02"
    assert [(c["change"], c["grid"], c["by"], c["reason"]) for c in moved.json()["changes"]] == [
        ("registered", "YS-C01-G01", None, None), ("moved", "YS-C01-G02", "admin", "网格调整")]
    # the new grid's worker now reports there and sees it; the old grid's worker does neither
    in_new_grid = report_body(1, category="blocked_fire_exit",
                              place=place_body(1, grid="YS-C01-G02"))
    assert api.post("/api/cases", "grid_worker-x", in_new_grid).status_code == 201
    assert api.get("/api/places/P-0001", "grid_worker-x").status_code == 200
    assert_problem(api.get("/api/places/P-0001", "grid_worker"), 404)
    assert_problem(api.post("/api/cases", "grid_worker", report_body(1, "illegal_wiring")),
                   422)
    # its open case moved with it, recorded as the admin's: the new grid's worker has it
    assert_problem(api.get("/api/cases/HZ-2026-000001", "grid_worker"), 404)
    case = api.get("/api/cases/HZ-2026-000001", "grid_worker-x").json()
    assert (case["place"]["grid"], case["version"]) == ("YS-C01-G02", 2)
    history = api.get("/api/cases/HZ-2026-000001/history", "grid_worker-x").json()
    assert [(e["trigger"], e["actor"]["id"], e["reason"]) for e in history][-1] == (
        "move_place", "admin", "网格调整")
    # the admin's move_place is the place's command, not one offered on the case
    assert api.get("/api/cases/HZ-2026-000001", "admin").json()["allowed_triggers"] == []


def test_a_command_on_a_case_another_process_moved_is_judged_where_the_case_is_now(
        api: Api, open_service) -> None:
    """A server remembers where each case is, to check a command's scope without reading
    it; a move made meanwhile by another server process (here another service on the same
    store) must neither leave the old grid's worker acting on it nor keep the new one out."""
    number = api.report(1)["number"]
    comment = lambda who: api.post(f"/api/cases/{number}/comment", who, {"text": "请整改"})
    assert comment("grid_worker").status_code == 200  # its place now remembered
    open_service().move_place("P-0001", grid="YS-C01-G02", community="YS-C01", kind=None,
                              reason="网格调整", actor=f.admin)
    assert_problem(comment("grid_worker"), 404)
    assert comment("grid_worker-x").status_code == 200
    assert_problem(comment("grid_worker"), 404)
    history = api.get(f"/api/cases/{number}/history", "grid_worker-x").json()
    assert [(e["trigger"], e["actor"]["id"]) for e in history] == [
        ("report", "grid_worker"), ("comment", "grid_worker"), ("move_place", f.admin.id),
        ("comment", "grid_worker-x")]


@pytest.mark.parametrize(("who", "body", "status", "detail"), [
    ("grid_worker", TO_G02, 403, "only an admin moves a place, not a grid_worker"),
    ("street_supervisor", TO_G02, 403, "only an admin moves a place, not a street_supervisor"),
    ("admin-x", TO_G02, 403, "grid YS-C01-G02 lies outside your street XS"),
    ("admin-x", {**TO_G02, "grid": "XS-C01-G01"}, 404, "no place P-0001 is registered in "
                                                       "your area"),
    ("admin", {**TO_G02, "grid": "YS-C01-G01"}, 422,
     "place P-0001 already is a rental_house in grid YS-C01-G01, community YS-C01"),
    ("admin", {**TO_G02, "grid": "YS-C01"}, 422, "grid 'YS-C01' is not a grid of community "
                                                  "'YS' (grid ids are the community id, a "
                                                  "dash and the grid's own code)"),
    ("admin", {**TO_G02, "reason": "   "}, 422, None),
    ("admin", {"grid": "YS-C01-G02"}, 422, None),
    ("admin", {**TO_G02, "moved_by": "someone-else"}, 422, None),  # the actor is the token's
    ("admin", {**TO_G02, "kind": "castle"}, 422, None),
    # a community nobody holds: its open cases would be on no one's desk
    ("admin", {**TO_G02, "grid": "YS-C09-G77"}, 422, "unknown community 'YS-C09': no account "
                                                      "holds it and no case was reported in it"),
    ("auditor", TO_G02, 403, "only an admin moves a place, not an auditor"),
])
def test_a_refused_move_appends_nothing(api: Api, who: str, body: dict, status: int,
                                        detail: str | None) -> None:
    api.report(1)
    before = stored(api)
    problem = assert_problem(api.post(MOVE, who, body), status)
    if detail is not None:
        assert problem["detail"] == detail
    assert stored(api) == before
    assert api.get("/api/places/P-0001", "admin").json()["grid"] == "YS-C01-G01"


def test_moving_a_place_never_reported_is_404(api: Api) -> None:
    assert_problem(api.post("/api/places/P-0404/move", "admin", TO_G02), 404)


def test_a_place_registered_before_places_were_described_is_shown_where_its_cases_are(
        api: Api) -> None:
    with f.places_as_registered_before_described():
        number = api.report(1)["number"]  # no grid of its own: its open case's is YS-C01-G01
    shown = api.get("/api/places/P-0001", "grid_worker").json()
    assert (shown["grid"], shown["changes"], shown["open_cases"]) == (None, [], [number])
    for who in ("grid_worker-x", "admin-x"):  # its case is hidden from them, so is the place
        assert_problem(api.get("/api/places/P-0001", who), 404)
    before = stored(api)
    refused = assert_problem(api.post(MOVE, "admin", TO_G02), 422)
    assert refused["detail"].startswith("place P-0001 has no grid registered yet: its next "
                                        "report registers the grid it gives")
    assert stored(api) == before


def test_a_move_repeated_with_its_idempotency_key_appends_nothing(api: Api) -> None:
    api.report(1)
    first = api.post(MOVE, "admin", TO_G02, **{"Idempotency-Key": "move-p1"})
    assert first.status_code == 200, first.text
    after = stored(api)
    again = api.post(MOVE, "admin", TO_G02, **{"Idempotency-Key": "move-p1"})
    assert (again.status_code, again.json()) == (200, first.json())  # not "already is"
    assert "Idempotent-Replayed" not in first.headers  # told, as a case command's repeat is
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stored(api) == after
    other = assert_problem(api.post(MOVE, "admin", {**TO_G02, "grid": "YS-C01-G03"},
                                    **{"Idempotency-Key": "move-p1"}), 422)
    assert other["detail"] == "command id 'move-p1' was already used for a different command"
    assert_problem(api.post(MOVE, "admin", TO_G02, **{"Idempotency-Key": " "}), 400)
    assert stored(api) == after
