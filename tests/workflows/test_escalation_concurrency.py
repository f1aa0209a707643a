"""Exactly once: two ticks at the same time on PostgreSQL escalate each due case once.

Two services (each with its own connection pool) run a tick concurrently, in threads, over
1,000 overdue cases; the log must then hold exactly 1,000 escalations, one per case.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from api.settings import Settings
from api.wiring import open_cases
from domain.case import Act, HazardCase
from domain.clock import FixedClock
from domain.timeutil import LOCAL_TZ
from projections.due import StoreDueIndex
from tests import factories as f
from tests.conftest import PG_URL, _require_postgres
from workflows.escalation import EscalationTick, TickReport

CASES = 1000
NOTICE = datetime(2026, 3, 2, 9, tzinfo=LOCAL_TZ)


@pytest.fixture
def pg_settings() -> Iterator[Settings]:
    _require_postgres()
    schema = f"hf_tick_{uuid.uuid4().hex[:12]}"
    yield Settings(database_url=PG_URL, database_schema=schema, pool_size=4)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _overdue_cases(service, count: int) -> None:
    """``count`` notified cases with a deadline of 9 March, saved in a few transactions."""
    act = Act(f.grid_worker, "report", "found", NOTICE, NOTICE)
    notice = Act(f.safety_officer, "notify", "notified", NOTICE, NOTICE)
    batch = []
    for n in range(1, count + 1):
        case = HazardCase.report(uuid.uuid4(), act, f"HZ-2026-{n:06d}", f.place(n),
                                 "flying_wire_charging", "general", "楼道飞线充电", [])
        case.notify(notice, f.landlord, date(2026, 3, 9), "explicit")
        batch.append(case)
        if len(batch) == 250:
            service.save(*batch)
            batch = []
    service.save(*batch)


def test_two_concurrent_ticks_escalate_each_of_1000_cases_exactly_once(pg_settings):
    clock = FixedClock(NOTICE + timedelta(days=10))
    first, second = open_cases(pg_settings, clock=clock), open_cases(pg_settings, clock=clock)
    try:
        _overdue_cases(first, CASES)
        StoreDueIndex(first).refresh()  # as the worker keeps it: both ticks see every case
        start = threading.Barrier(2)

        def run(service) -> TickReport:
            start.wait()
            return EscalationTick(service, StoreDueIndex(service)).run()

        with ThreadPoolExecutor(2) as pool:  # result() re-raises a tick's error here
            reports = [future.result() for future in
                       [pool.submit(run, service) for service in (first, second)]]

        escalations: Counter[uuid.UUID] = Counter()
        missed: Counter[uuid.UUID] = Counter()
        for note in first.recorder.select_notifications(1, 100_000):
            if note.topic.endswith(":CaseEscalated"):
                escalations[note.originator_id] += 1
            elif note.topic.endswith(":DeadlineMissed"):
                missed[note.originator_id] += 1
        assert len(escalations) == CASES and set(escalations.values()) == {1}
        assert len(missed) == CASES and set(missed.values()) == {1}
        assert sum(r.applied["escalate_overdue"] for r in reports) == CASES
        # Both ticks really raced: each saw most cases as candidates (not all: under load one
        # may escalate a few before the other reads the due index).
        assert all(r.candidates > CASES // 2 for r in reports), [r.candidates for r in reports]
    finally:
        first.shutdown()
        second.shutdown()
