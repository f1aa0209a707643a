"""``GET /api/escalations``: each department's line of the board carries what the CLI's board
(``hazardflow report escalations --view board``) prints for it."""

from __future__ import annotations

from typing import Any

from domain.clock import FixedClock
from projections.escalations import EscalationsFilter
from projections.reports import read
from tests import factories as f
from tests.api.conftest import Api


def test_the_board_gives_each_departments_oldest_awaiting_days(api: Api,
                                                               clock: FixedClock) -> None:
    """The CLI's board showed how long the oldest escalation has awaited the department's
    acceptance; the HTTP board had the counts but not that figure."""
    f.to_escalated(api.cases, 1, accepted=False)  # fire, awaiting since the first day
    clock.advance(days=4)
    f.to_escalated(api.cases, 2, accepted=False)  # fire, awaiting since the fifth
    f.to_escalated(api.cases, 3, accepted=False, category="unreported_small_works")
    clock.advance(days=2)
    f.to_escalated(api.cases, 4, category="unreported_small_works", accepted=False)
    api.cases.accept_escalation(api.cases.resolve("HZ-2026-000003"), f.housing_officer)
    api.cases.accept_escalation(api.cases.resolve("HZ-2026-000004"), f.housing_officer)

    response = api.get("/api/escalations", "leader")
    assert response.status_code == 200, response.text
    board = response.json()["board"]
    assert board["fire"]["oldest_awaiting_days"] == 6
    assert board["fire"]["awaiting_acceptance"] == 2
    assert board["housing"]["oldest_awaiting_days"] is None  # nothing awaits housing
    cli = read(api.cases, "escalations", EscalationsFilter(view="board",
                                                           policy=api.cases.policy))
    assert {row.pop("department"): row for row in cli.dicts()} == board

    then = api.get("/api/escalations", "leader", as_of="2026-03-05").json()["board"]
    assert then["fire"]["oldest_awaiting_days"] == 3  # as the board stood that day


def test_the_oldest_awaiting_days_are_documented_with_an_example(api: Api) -> None:
    schemas: dict[str, Any] = api.client.get("/openapi.json").json()["components"]["schemas"]
    line = schemas["BoardOut"]["properties"]["board"]["additionalProperties"]
    field = schemas[line["$ref"].rsplit("/", 1)[1]]["properties"]["oldest_awaiting_days"]
    assert field["description"] and field["examples"] == [15]
