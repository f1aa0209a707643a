"""Shared fixtures: every service-level test runs on SQLite and on PostgreSQL.

PostgreSQL tests get a fresh schema each, dropped afterwards. When the server is
unreachable they are skipped on a developer's machine, but fail under CI (CI=true).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from api.settings import Settings
from api.wiring import open_cases
from domain.clock import FixedClock
from workflows.service import HazardCases

PG_URL = os.environ.get(
    "HAZARDFLOW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in China


def postgres_available() -> bool:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def _require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL unreachable at {PG_URL} and CI=true: refusing to skip")
    pytest.skip(f"PostgreSQL unreachable at {PG_URL}")


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path) -> Iterator[Settings]:
    """Settings for an empty store of each kind."""
    if request.param == "sqlite":
        yield Settings(sqlite_path=tmp_path / "hazardflow.db", database_url=None)
        return
    _require_postgres()
    schema = f"hf_test_{uuid.uuid4().hex[:12]}"
    yield Settings(database_url=PG_URL, database_schema=schema, pool_size=4)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def open_service(settings: Settings, clock: FixedClock) -> Iterator[Callable[[], HazardCases]]:
    """Opens services on the test store (several may share it); all are shut down after."""
    opened: list[HazardCases] = []

    def _open() -> HazardCases:
        service = open_cases(settings, clock=clock)
        opened.append(service)
        return service

    yield _open
    for service in opened:
        service.shutdown()


@pytest.fixture
def cases(open_service: Callable[[], HazardCases]) -> HazardCases:
    """The hazard-case service on an empty store, with a fixed clock."""
    return open_service()
