"""Jurisdiction rules: unit naming, row filtering, and the remembered case places."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

import pytest

from api import scopes
from api.accounts import Accounts
from domain.errors import DomainError
from domain.values import Actor
from tests import factories as f
from tests.api.conftest import Api, place_body
from workflows.service import HazardCases


@pytest.mark.parametrize("role,unit", [
    ("grid_worker", "YS-C01"), ("grid_worker", "YS"), ("safety_officer", "YS-C01-G01"),
    ("street_supervisor", "YS-C01"), ("department_officer", "YS"),
    ("inspector", "YS--C01"), ("leader", "fire"),
])
def test_accounts_hold_a_unit_of_their_roles_level(role: str, unit: str) -> None:
    with pytest.raises(DomainError):
        scopes.check_unit(scopes.Role(role), unit)


def test_a_wrong_unit_is_named_in_plain_words() -> None:
    with pytest.raises(DomainError, match="^an admin's unit is a street id like 'YS', not "):
        scopes.check_unit(scopes.Role("admin"), "YS-C01")
    with pytest.raises(DomainError, match="^a grid_worker's unit is a grid id like "):
        scopes.check_unit(scopes.Role("grid_worker"), "YS")


def test_account_creation_checks_the_unit(cases: HazardCases) -> None:
    with pytest.raises(DomainError, match="grid id"):
        Accounts(cases).add("gw-bad", "grid_worker", "YS-C01")
    assert Accounts(cases).add("gw-ok", "grid_worker", "YS-C01-G07")


@pytest.mark.parametrize("grid,community", [
    ("YS-C01-", "YS-C01"), ("YS-C01-G02-X", "YS-C01-G02"), ("YS-C01-G99 weird 网格", "YS-C01"),
    ("YS-C01-G01\nX", "YS-C01"), ("YS--G01", "YS-"), ("YS-C01", "YS"), ("YS-C01-G01", "YS-C02"),
])
def test_a_place_is_in_a_grid_id_of_its_community(grid: str, community: str) -> None:
    # check_place compared the grid's parent with the community only, so 'YS-C01-G02-X'
    # (community 'YS-C01-G02') or 'YS-C01-' was taken: a place, or a place moved with its
    # open cases, where no grid's or community's desk would ever see it
    with pytest.raises(DomainError, match=f"^grid {re.escape(repr(grid))} is not a grid of "):
        scopes.check_place(grid, community)
    scopes.check_place("YS-C01-G01", "YS-C01")
    scopes.check_place("YS.1-C:01-G_01", "YS.1-C:01")


def test_every_edge_refuses_a_grid_id_that_is_no_grid(api: Api) -> None:
    before = api.cases.recorder.max_notification_id()
    odd = api.post("/api/cases", "safety_officer", {
        "place": place_body(1, grid="YS-C01-"), "category": "flying_wire_charging",
        "description": "楼道飞线充电"})
    assert odd.status_code == 422 and "is not a grid of community" in odd.text, odd.text
    form = api.client.post("/open311/v2/requests.json", data={
        "api_key": api.tokens["safety_officer"], "service_code": "blocked_fire_exit",
        "description": "通道堵塞", "address_string": "园山路 1 号",
        "attribute[grid]": "YS-C01-G99 weird 网格"})
    assert form.status_code == 400 and "is not a grid of community" in form.text, form.text
    assert api.cases.recorder.max_notification_id() == before
    api.report(1)
    before = api.cases.recorder.max_notification_id()
    moved = api.post("/api/places/P-0001/move", "admin", {"grid": "YS-C01-G02-X",
                                                          "reason": "网格调整"})
    assert moved.status_code == 422 and "is not a grid of community" in moved.text, moved.text
    assert api.cases.recorder.max_notification_id() == before


@pytest.mark.parametrize("actor,row,visible", [
    (Actor("a", "grid_worker", "YS-C01-G01"), {"grid": "YS-C01-G01", "community": "YS-C01"},
     True),
    (Actor("a", "grid_worker", "YS-C01-G01"), {"grid": "YS-C01-G02", "community": "YS-C01"},
     False),
    (Actor("a", "grid_worker", "YS-C01-G01"), {"community": "YS-C01"}, True),
    (Actor("a", "grid_worker", "YS-C01-G01"), {"community": "YS-C02"}, False),
    (Actor("a", "safety_officer", "YS-C01"), {"unit": "YS-C01-G03"}, True),
    (Actor("a", "safety_officer", "YS-C01"), {"unit": "YS"}, False),
    (Actor("a", "safety_officer", "YS-C01"), {"unit": "fire"}, False),
    (Actor("a", "leader", "YS"), {"unit": "fire"}, True),
    (Actor("a", "leader", "YS"), {"unit": "XS-C01"}, False),
    (Actor("a", "department_officer", "fire"), {"unit": "fire"}, True),
    (Actor("a", "department_officer", "fire"),
     {"grid": "YS-C01-G01", "community": "YS-C01", "department": "housing"}, False),
    (Actor("a", "auditor", "YS"), {"grid": "YS-C09-G01", "community": "YS-C09"}, True),
])
def test_report_rows_are_kept_inside_the_territory(actor: Actor, row: dict,
                                                   visible: bool) -> None:
    assert scopes.row_visible(actor, row) is visible


def test_remembered_places_still_follow_escalations_for_departments(
        cases: HazardCases) -> None:
    places = scopes.CasePlaces()
    case_id = f.to_notified(cases)
    fire = Actor("fire-1", "department_officer", "fire")
    with pytest.raises(scopes.OutOfScope):
        places.require_visible(cases, fire, str(case_id))
    assert places.require_visible(cases, f.safety_officer, str(case_id)) == case_id
    cases.refuse(case_id, f.safety_officer, reason="拒不整改")  # now fire's case
    assert places.require_visible(cases, fire, str(case_id)) == case_id
    with pytest.raises(scopes.OutOfScope):
        places.require_visible(cases, Actor("x", "grid_worker", "YS-C01-G02"), str(case_id))
    number = cases.get_case(case_id).number
    assert places.require_visible(cases, f.street_supervisor, number) == case_id


def test_a_duplicate_named_outside_the_callers_territory_is_answered_as_unknown(
        api: Api) -> None:
    """A safety officer of YS-C01 could dismiss a case as a duplicate of a case in YS-C02,
    which answers them 404 everywhere else: the dismissal went through (or named the other
    case's state, "HZ-2026-000002 is closed (rectified)"), telling them it existed."""
    mine = api.report(1)["number"]
    elsewhere = api.post("/api/cases", "property_staff-x", {
        "place": place_body(2, grid="YS-C02-G01", community="YS-C02"),
        "category": "flying_wire_charging", "description": "楼道飞线充电"})
    assert elsewhere.status_code == 201, elsewhere.text
    other = elsewhere.json()["number"]

    def dismiss(duplicate_of: str):  # type: ignore[no-untyped-def]
        return api.post(f"/api/cases/{mine}/dismiss", "safety_officer", {
            "closing_reason": "duplicate", "reason": "重复上报", "duplicate_of": duplicate_of})

    unknown = dismiss("HZ-2026-000099")
    hidden = dismiss(other)
    assert (hidden.status_code, hidden.json()["detail"]) == (404, f"no hazard case {other}")
    assert unknown.status_code == 404
    assert api.get(f"/api/cases/{mine}", "safety_officer").json()["state"] == "found"
    in_my_community = api.post("/api/cases", "grid_worker-x", {
        "place": place_body(3, grid="YS-C01-G02"), "category": "flying_wire_charging",
        "description": "楼道飞线充电"}).json()["number"]
    assert dismiss(in_my_community).status_code == 200


def test_an_id_written_another_way_is_answered_alike_for_a_hidden_and_an_unknown_case(
        api: Api) -> None:
    # A hidden case's id was echoed as typed ('98CA301B-...'), an unknown one's in its
    # canonical form ('582b3bde-...'): writing an id in capitals told whether it existed.
    case_id = api.report(1)["case_id"]
    for written in (str.upper, lambda text: "{" + text + "}",
                    lambda text: text.replace("-", "")):
        for ref in (written(case_id), written(str(uuid4()))):
            canonical = f"no hazard case {UUID(ref)}"
            for answer in (api.get(f"/api/cases/{ref}", "grid_worker-x"),
                           api.get(f"/api/cases/{ref}/history", "grid_worker-x"),
                           api.post(f"/api/cases/{ref}/comment", "grid_worker-x",
                                    {"text": "看看"})):
                assert (answer.status_code, answer.json()["detail"]) == (404, canonical)
