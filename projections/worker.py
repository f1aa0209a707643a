"""The background worker's loop: catch the read models up, then run the other ticks.

``work_once`` is one round. Other periodic jobs (the deadline/escalation tick) register a
function in ``TICKS``; each is called with the service after every catch-up, so they see
read models at least as fresh as the events already applied.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError

from projections.runner import ProjectionConflict, Runner

Tick = Callable[[Any], object]
# A round stopped by the database (PostgreSQL restarted, a deadlock, SQLite busy past its
# timeout) is tried again next round: the worker, and with it the deadline tick, goes on.
DATABASE_ERRORS = (PersistenceError, sqlite3.OperationalError, psycopg.OperationalError)


def escalation_tick(service: Any) -> object:
    """Reminders, missed deadlines, slow re-inspections, climbing escalations (the rules)."""
    from workflows.escalation import tick

    return tick(service)


TICKS: list[Tick] = [escalation_tick]


def work_once(service: Any, runner: Runner) -> int:
    """One round: apply new events to every projection, then run each tick. Events read."""
    try:
        applied = runner.catch_up()
    except ProjectionConflict:
        applied = 0  # another process (a rebuild, a reader) moved a projection: next round
    for tick in TICKS:
        tick(service)
    return applied


def work(service: Any, runner: Runner, *, interval: float = 2.0,
         rounds: int | None = None, on_round: Callable[[int], None] = lambda n: None,
         on_error: Callable[[Exception], None] = lambda error: None) -> None:
    """Run rounds until interrupted (Ctrl-C) or ``rounds`` are done; sleep when idle."""
    done = 0
    while rounds is None or done < rounds:
        try:
            applied = work_once(service, runner)
        except DATABASE_ERRORS as error:
            on_error(error)
            applied = 0
        on_round(applied)
        done += 1
        if not applied and (rounds is None or done < rounds):
            time.sleep(interval)
