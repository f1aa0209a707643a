"""Fixtures for driving the ``hazardflow`` command line in this process, on a SQLite file."""

from __future__ import annotations

import pytest

from api.cli import context
from api.settings import Settings
from api.wiring import open_cases
from domain.clock import FixedClock
from tests.conftest import START


@pytest.fixture
def cli_store(tmp_path, monkeypatch):
    """An empty store that the in-process CLI (``run_hazardflow``) also opens."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("HAZARDFLOW_SQLITE_PATH", str(path))
    monkeypatch.delenv("HAZARDFLOW_DATABASE_URL", raising=False)
    # The CLI memoises its settings and service: forget any from an earlier test.
    context.settings.cache_clear()
    context.service.cache_clear()
    cases = open_cases(Settings(sqlite_path=path, database_url=None), clock=FixedClock(START))
    yield cases
    cases.shutdown()
    context.settings.cache_clear()
    context.service.cache_clear()
