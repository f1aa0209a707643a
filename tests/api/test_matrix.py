"""The role x trigger x scope matrix, derived from ``workflows.lifecycle.RULES``.

For every (state, trigger) cell of the lifecycle and every role, an account inside the
case's jurisdiction and one outside it try the trigger over HTTP. Allowed cells succeed;
a role the lifecycle does not allow answers 403; a case outside the caller's scope
answers 404 (its existence must not leak). Nothing here restates the table: the expected
role set of each cell is read from ``RULES``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from itertools import count
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from api.schemas.commands import TRIGGER_BODIES
from api.settings import Settings
from api.wiring import open_cases
from domain.clock import FixedClock
from domain.values import Role
from tests import factories as f
from tests.api.conftest import ACCOUNTS, Api, make_api, report_body
from tests.api.test_commands import HAPPY
from tests.conftest import PG_URL, START, _require_postgres
from workflows import lifecycle
from workflows.service import HazardCases

ROLES = [r for r in Role if r is not Role.SYSTEM]
CELLS = sorted({(r.source, r.trigger) for r in lifecycle.RULES
                if r.trigger in TRIGGER_BODIES})
_places = count(100)


def allowed_roles(source: str, trigger: str) -> set[str]:
    return {role.value for r in lifecycle.RULES if (r.source, r.trigger) == (source, trigger)
            for role in r.roles}


def case_in(state: str, trigger: str) -> Callable[[HazardCases], UUID]:
    """A setup that drives a fresh case (at a fresh place) into ``state``."""
    setups: dict[str, Callable[..., UUID]] = {
        "found": f.report, "notified": f.to_notified, "rectifying.in_progress": f.to_rectifying,
        "rectifying.awaiting_verification": f.to_awaiting_verification,
        "escalated": lambda c, n: f.to_escalated(c, n, accepted=trigger != "accept_escalation"),
    }
    if trigger == "close":  # closed as enforced, as HAPPY's body says, on a decision of record
        setups["escalated"] = f.to_enforced

    def setup(cases: HazardCases) -> UUID:
        n = next(_places)
        if state == "closed":
            case_id = f.to_awaiting_verification(cases, n)
            cases.verify(case_id, f.inspector, passed=True)
            return case_id
        return setups[state](cases, n)

    return setup


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def matrix_api(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Api]:
    """One store per kind for the whole matrix (cases never share a place)."""
    schema = None
    if request.param == "sqlite":
        settings = Settings(sqlite_path=tmp_path_factory.mktemp("m") / "m.db", database_url=None)
    else:
        _require_postgres()
        schema = f"hf_matrix_{uuid.uuid4().hex[:10]}"
        settings = Settings(database_url=PG_URL, database_schema=schema, pool_size=4)
    cases = open_cases(settings, clock=FixedClock(START))
    try:
        yield from make_api(cases)
    finally:
        cases.shutdown()
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def expected_status(source: str, trigger: str, role: str, in_scope: bool) -> int:
    # A department officer sees only cases escalated to their department (here: fire).
    visible = in_scope and (role != "department_officer" or source == "escalated")
    if not visible:
        return 404
    return 200 if role in allowed_roles(source, trigger) else 403


def test_matrix_covers_every_cell() -> None:
    assert {t for _, t in CELLS} == set(TRIGGER_BODIES)
    assert sum(1 for _ in CELLS) >= len(TRIGGER_BODIES)


@pytest.mark.parametrize("source,trigger", CELLS, ids=[f"{s}:{t}" for s, t in CELLS])
def test_role_trigger_scope_cell(matrix_api: Api, source: str, trigger: str) -> None:
    body = HAPPY[trigger][2]
    setup = case_in(source, trigger)
    probe = setup(matrix_api.cases)  # denied attempts must leave it untouched
    version = matrix_api.cases.get_case(probe).version
    wrong = []
    for role in ROLES:
        for in_scope in (True, False):
            who = role.value if in_scope else f"{role.value}-x"
            expected = expected_status(source, trigger, role.value, in_scope)
            case_id = setup(matrix_api.cases) if expected == 200 else probe
            got = matrix_api.post(f"/api/cases/{case_id}/{trigger}", who, body).status_code
            if got != expected:
                wrong.append((who, expected, got))
    assert wrong == []
    assert matrix_api.cases.get_case(probe).version == version


@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_report_cell(matrix_api: Api, role: str) -> None:
    reporters = allowed_roles("new", "report")
    for in_scope in (True, False):
        who = role if in_scope else f"{role}-x"
        got = matrix_api.post("/api/cases", who, report_body(next(_places))).status_code
        assert got == (201 if in_scope and role in reporters else 403), (who, got)
    assert ACCOUNTS[role][0] == role
