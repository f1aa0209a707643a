"""Benchmark: ``audit verify`` over 10^5 and 10^6 events, next to a plain read of them.

    python -m benchmarks.bench_audit [--sizes 100000,1000000] [--stores sqlite,postgres]

How the histories are made: real ``HazardCase`` aggregates driven through their domain
commands in memory (report, notify, start, submit, verify; every fourth case also gets a
comment), each with its ``CaseNumber`` record, saved through the eventsourcing application
into SQLite in transactions of 200 cases. So every case event carries a genuine per-case
hash chain and the log mixes case and non-case rows as the service writes them (case
events are 84% of the rows). The PostgreSQL store receives the very same rows (same ids,
same bytes, same order) by ``COPY``: saving 10^6 events through the library on PostgreSQL
takes a quarter of an hour and measures nothing this benchmark is about.

Measured in the same run, on the same store, over the same notifications:
- raw read: ``select_notifications`` in pages of 1,000 (rows out of the database);
- plain read: the same plus ``mapper.to_domain_event`` for every row (decoded events, the
  floor of anything that reads the log);
- chain build: ``ChainWitness.catch_up`` from an empty witness (what the worker does
  incrementally, once per row);
- verify: ``Verifier.run(catch_up=False)`` with no evidence files: the merge with the
  witness, SHA-256 of every row's bytes, the global chain recomputed, every case event
  decoded, re-canonicalised and re-hashed, and its link checked.
The figure is verify time over plain-read time.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from api.settings import Settings
from api.wiring import open_cases
from domain.case import Act, HazardCase
from domain.values import Actor, Party, Place
from projections.chain import ChainWitness
from projections.verify import Verifier
from workflows.records import CaseNumber

PG_URL = os.environ.get("HAZARDFLOW_BENCH_DATABASE_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results" / "audit.md"
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
BATCH = 200

REPORTER = Actor("gw-li", "grid_worker", "YS-C01-G01")
OFFICER = Actor("so-chen", "safety_officer", "YS-C01")
INSPECTOR = Actor("in-huang", "inspector", "YS-C01")
PARTY = Party("房东 陈先生", "landlord", "13800000000")


@dataclass
class Result:
    store: str
    rows: int
    case_events: int
    generate: float
    raw: float
    plain: float
    chain: float
    verify: float

    @property
    def ratio(self) -> float:
        return self.verify / self.plain


def _case(n: int, at: datetime) -> list[Any]:
    """One case through its lifecycle, in memory, with its number record."""
    def act(actor: Actor, trigger: str, to: str, minutes: int) -> Act:
        when = at + timedelta(minutes=minutes)
        return Act(actor, trigger, to, when, when)

    number = f"HZ-2026-{n:07d}"
    place = Place(f"P-{n % 5000:04d}", f"出租屋 {n}", "rental_house", f"园山路 {n} 号",
                  "YS-C01-G01", "YS-C01")
    case = HazardCase.report(uuid.uuid4(), act(REPORTER, "report", "found", 0), number, place,
                             "flying_wire_charging", "general", "楼道飞线充电", [])
    case.notify(act(OFFICER, "notify", "notified", 5), PARTY, date(2026, 12, 31), "explicit")
    case.start_rectification(act(OFFICER, "start_rectification", "rectifying.in_progress", 10))
    case.submit_rectification(act(OFFICER, "submit_rectification",
                                  "rectifying.awaiting_verification", 15), "拆除飞线", [])
    case.verify(act(INSPECTOR, "verify", "closed", 20), True, "")
    if n % 4 == 0:
        case.comment(act(OFFICER, "comment", "closed", 25), "周二集中整治日复查")
    return [case, CaseNumber.issue(number, case.id, at)]


def generate(cases: Any, rows: int) -> int:
    """Save cases until the log holds at least ``rows`` rows; case events written."""
    written = case_events = n = 0
    while written < rows:
        batch = []
        for _ in range(BATCH):
            n += 1
            batch.extend(_case(n, START + timedelta(minutes=n)))
        case_events += sum(len(a.pending_events) for a in batch if isinstance(a, HazardCase))
        written += sum(len(a.pending_events) for a in batch)
        cases.save(*batch)
    return case_events


def _pages(recorder: Any, stop: int, decode: Any = None) -> int:
    start, count = 1, 0
    while start <= stop:
        page = recorder.select_notifications(start, 1000, stop=stop)
        if not page:
            break
        if decode is not None:
            for n in page:
                decode(n)
        count += len(page)
        start = page[-1].id + 1
    return count


def _timed(fn: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def copy_to_postgres(sqlite_file: Path, cases: Any) -> None:
    """The same rows, same ids and bytes, bulk-copied in notification order (COPY)."""
    datastore = cases.recorder.datastore
    table = sql.SQL("{}.{}").format(sql.Identifier(datastore.schema),
                                    sql.Identifier(cases.recorder.events_table_name))
    copy_sql = sql.SQL("COPY {} (originator_id, originator_version, topic, state) "
                       "FROM STDIN").format(table)
    source = sqlite3.connect(sqlite_file)
    try:
        with psycopg.connect(PG_URL) as conn, conn.cursor().copy(copy_sql) as copy:
            for oid, version, topic, state in source.execute(
                    "SELECT originator_id, originator_version, topic, state FROM stored_events "
                    "ORDER BY rowid"):
                copy.write_row((uuid.UUID(oid), version, topic, state))
    finally:
        source.close()


def measure(store: str, settings: Settings, fill: Any) -> Result:
    """Fill the store (``fill(cases)`` -> case events), then time reads, chain, verify."""
    cases = open_cases(settings)
    try:
        generate_s, case_events = _timed(lambda: fill(cases))
        stop = cases.recorder.max_notification_id()
        raw_s, _ = _timed(lambda: _pages(cases.recorder, stop))
        plain_s, read = _timed(lambda: _pages(cases.recorder, stop,
                                              cases.app.mapper.to_domain_event))
        witness = ChainWitness(cases)
        chain_s, _ = _timed(witness.catch_up)
        verify_s, report = _timed(lambda: Verifier(cases, None, witness).run(catch_up=False))
        assert report.ok and report.events == read == stop, report.summary()
        return Result(store, stop, case_events, generate_s, raw_s, plain_s, chain_s,
                      verify_s)
    finally:
        cases.shutdown()


def measure_size(rows: int, stores: list[str]) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        sqlite_file = Path(scratch) / "bench.db"
        sqlite_settings = Settings(sqlite_path=sqlite_file, database_url=None)
        first = measure("sqlite", sqlite_settings, lambda cases: generate(cases, rows))
        if "sqlite" in stores:
            results.append(first)
        if "postgres" in stores:
            schema = f"hf_bench_audit_{uuid.uuid4().hex[:8]}"
            try:
                results.append(measure(
                    "postgres", Settings(database_url=PG_URL, database_schema=schema,
                                         pool_size=2),
                    lambda cases: copy_to_postgres(sqlite_file, cases) or first.case_events))
            finally:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema)))
    return results


def write(results: list[Result], command: str) -> str:
    lines = [
        "# Benchmark: audit verify against a plain read",
        "",
        (f"`{command}` on {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC."),
        ("How the data is made and what each column means: the docstring of "
        "`benchmarks/bench_audit.py`. Seconds, one run each, same store, same rows."),
        "",
        ("| store | rows | case events | raw read s | plain read s (decoded) | chain build s "
        "| verify s | verify rows/s | verify / plain read |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.store} | {r.rows:,} | {r.case_events:,} | {r.raw:.1f} | {r.plain:.1f} | "
            f"{r.chain:.1f} | {r.verify:.1f} | {r.rows / r.verify:,.0f} | {r.ratio:.2f}x |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines += ["", (f"Peak resident memory of the whole run: {peak:,.0f} MB. Load average at "
              f"the end (1, 5, 15 min): {load} — other work on the machine slows every column "
              "alike; compare ratios, not seconds."),
              "Filling the stores: SQLite by domain commands and eventsourcing saves (200 cases "
              "per transaction), PostgreSQL by COPY of the very same rows: "
              + ", ".join(f"{r.store} {r.rows:,} rows {r.generate:.0f} s" for r in results)
              + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        for result in measure_size(size, args.stores.split(",")):
            print(f"{result.store} {result.rows:,} rows: plain read {result.plain:.1f} s, "
                  f"verify {result.verify:.1f} s ({result.ratio:.2f}x), chain build "
                  f"{result.chain:.1f} s", flush=True)
            results.append(result)
    command = "python -m benchmarks.bench_audit " + " ".join(
        f"--{k} {v}" for k, v in (("sizes", args.sizes), ("stores", args.stores)))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(write(results, command), encoding="utf-8")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
