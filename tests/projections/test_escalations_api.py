"""``GET /api/escalations``: the board over HTTP, inside the caller's jurisdiction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import factories as f
from tests.api.conftest import Api, make_api
from workflows.escalation import tick


@pytest.fixture
def api(cases) -> Iterator[Api]:
    yield from make_api(cases)


@pytest.fixture
def street(cases, clock):
    """A fire case awaiting acceptance, a housing one accepted, and one in another community."""
    fire = f.to_escalated(cases, 1, accepted=False)
    housing = f.to_escalated(cases, 2, accepted=False, category="unreported_small_works")
    cases.accept_escalation(housing, f.housing_officer)
    elsewhere = cases.report(f.grid_worker, place=f.Place("P-0900", "出租屋", "rental_house",
                                                          "某路", "YS-C02-G01", "YS-C02"),
                             category="flammable_storage", severity="major",
                             description="易燃物品").case_id
    tick(cases)
    return {"fire": cases.get_case(fire).number, "housing": cases.get_case(housing).number,
            "elsewhere": cases.get_case(elsewhere).number}


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {row["number"] for row in response.json()["escalations"]}


def test_a_department_reads_its_own_board(api, street):
    response = api.get("/api/escalations", "department_officer")  # fire
    assert numbers(response) == {street["fire"]}
    body = response.json()
    assert body["board"]["fire"]["awaiting_acceptance"] == 1
    assert body["rules"] == api.cases.policy.version
    row = body["escalations"][0]
    assert row["status"] == "awaiting_acceptance" and row["cause"] == "refused"
    assert row["level"] == "community_safety_office" and row["accept_by"] == "2026-03-04"
    assert numbers(api.get("/api/escalations", "department_officer", department="fire")) == {
        street["fire"]}


def test_another_department_s_board_is_refused(api, street):
    response = api.get("/api/escalations", "department_officer", department="housing")
    assert response.status_code == 403
    assert "fire board" in response.text


def test_territories_see_their_own_cases(api, street):
    assert numbers(api.get("/api/escalations", "street_supervisor")) == set(street.values())
    assert numbers(api.get("/api/escalations", "safety_officer")) == {street["fire"],
                                                                     street["housing"]}
    assert numbers(api.get("/api/escalations", "safety_officer-x")) == {street["elsewhere"]}
    assert numbers(api.get("/api/escalations", "street_supervisor-x")) == set()
    assert numbers(api.get("/api/escalations", "leader", department="housing")) == {
        street["housing"]}
    assert numbers(api.get("/api/escalations", "leader", status="accepted")) == {
        street["housing"]}


def test_bad_parameters_are_422_and_no_token_is_401(api, street):
    assert api.get("/api/escalations", "leader", department="police").status_code == 422
    assert api.get("/api/escalations", "leader", status="lost").status_code == 422
    assert api.get("/api/escalations", "leader", as_of="2030-01-01").status_code == 422
    assert api.client.get("/api/escalations").status_code == 401


def test_the_board_as_of_a_past_day(api, street, clock):
    clock.advance(days=3)
    assert numbers(api.get("/api/escalations", "leader", as_of="2026-03-01")) == set()
    assert numbers(api.get("/api/escalations", "leader", as_of="2026-03-02")) == set(
        street.values())
