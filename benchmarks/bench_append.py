"""Appending batches of events to PostgreSQL: eventsourcing's recorder against one call.

    python -m benchmarks.bench_append [--batches 400] [--sizes 1,2,8,32] [--rounds 3]

The same store, the same batches, side by side in one run, alternating round by round:
eventsourcing's own ``PostgresApplicationRecorder.insert_events`` (a pipelined transaction:
lock timeout, table lock, NOTIFY, INSERT ... RETURNING, commit) and hazardflow's
``workflows.pg_append`` (one call of a database function doing the same). Wall time and
this process's CPU per batch; PostgreSQL's own work is in the wall time only. Results in
``benchmarks/results/append.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "append.md"
PG_URL = os.environ.get("HAZARDFLOW_BENCH_DATABASE_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
# About the size of a stored case event (JSON with a timestamp, an actor, a few fields).
STATE = (b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-02T09:00:00+08:00"},'
         b'"actor":{"id":"so-chen","role":"safety_officer","unit":"YS-C01"},"note":"'
         + b"x" * 500 + b'"}')


def _batch(size: int) -> list[StoredEvent]:
    return [StoredEvent(uuid.uuid4(), 1, "domain.events:Noted", STATE) for _ in range(size)]


def _time(insert: Callable[[list[StoredEvent]], Any], size: int, batches: int
          ) -> tuple[float, float]:
    """Wall and CPU microseconds per batch."""
    work = [_batch(size) for _ in range(batches)]
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in work:
        insert(batch)
    return ((time.perf_counter() - wall) / batches * 1e6,
            (time.process_time() - cpu) / batches * 1e6)


def main(argv: list[str] | None = None) -> dict[int, dict[str, list[tuple[float, float]]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=400, help="batches per measure")
    parser.add_argument("--sizes", default="1,2,8,32", help="events per batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from api.settings import Settings
    from api.wiring import open_cases

    schema = f"hf_bench_append_{uuid.uuid4().hex[:8]}"
    service = open_cases(Settings(database_url=PG_URL, database_schema=schema, pool_size=2))
    recorder = service.recorder
    ways = {"eventsourcing insert_events":
            lambda batch: PostgresApplicationRecorder.insert_events(recorder, batch),
            "one function call (pg_append)": recorder.insert_events}
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results: dict[int, dict[str, list[tuple[float, float]]]] = {
        size: {name: [] for name in ways} for size in sizes}
    try:
        for name, insert in ways.items():  # warm: connections, prepared statements
            _time(insert, 2, 50)
        for _ in range(args.rounds):
            for size in sizes:
                for name, insert in ways.items():
                    results[size][name].append(_time(insert, size, args.batches))
    finally:
        service.shutdown()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))
    text = render(results, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return results


def render(results: dict[int, dict[str, list[tuple[float, float]]]],
           args: argparse.Namespace) -> str:
    library = "eventsourcing insert_events"
    lines = [
        "# Appending events to PostgreSQL: the library's recorder against one call",
        "",
        (f"`python -m benchmarks.bench_append --batches {args.batches} --sizes {args.sizes} "
        f"--rounds {args.rounds}`, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL on loopback, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Median of the rounds; "
        "the two ways alternate within each round. Client CPU is this process's."),
        "",
        ("| events per batch | way | µs per batch, wall | µs per batch, client CPU | "
        "client CPU ÷ library's |"),
        "|---:|---|---:|---:|---:|",
    ]
    for size, ways in results.items():
        cpu_library = statistics.median(c for _, c in ways[library])
        for name, samples in ways.items():
            wall = statistics.median(w for w, _ in samples)
            cpu = statistics.median(c for _, c in samples)
            lines.append(f"| {size} | {name} | {wall:,.0f} | {cpu:,.0f} | "
                         f"{cpu / cpu_library:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
