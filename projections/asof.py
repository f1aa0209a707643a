"""Read models as of a past date, rebuilt from the log into a private in-memory database.

- ``recorded``: what the system knew at the end of DATE (China local day): events whose
  ``recorded_at`` is before the next midnight.
- ``occurred``: how things truly stood at the end of DATE: events whose ``occurred_at`` is
  before the next midnight, including reports recorded later.

A case's ``occurred_at`` never goes backwards (the aggregate refuses that), so either
filter keeps a prefix of every case's history: the rebuilt rows are states the case was
really in. The replay runs the incremental projections' own handlers (``Runner``) over the
filtered stream; only the database differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.errors import DomainError
from projections.db import SqliteDb
from projections.framework import Projection
from projections.report import day_end
from projections.runner import Progress, Runner

BASES = ("recorded", "occurred")


def keep_until(day: date, basis: str) -> Any:
    """The filter that keeps the events known (``recorded``) or true (``occurred``) on ``day``."""
    if basis not in BASES:
        raise DomainError(f"unknown basis {basis!r}; expected one of: {', '.join(BASES)}")
    cutoff = day_end(day)  # stored instants are UTC ISO strings of one fixed form: they sort
    if basis == "recorded":
        return lambda event: event.recorded_at < cutoff
    return lambda event: event.occurred_at < cutoff


def rebuild_as_of(service: Any, projections: Sequence[Projection], day: date, basis: str,
                  progress: Progress | None = None) -> SqliteDb:
    """An in-memory database holding ``projections`` as they stood on ``day``."""
    db = SqliteDb.memory()
    Runner(service, projections, db, keep=keep_until(day, basis)).catch_up(progress)
    return db
