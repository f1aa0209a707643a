"""Benchmark: rebuilding every projection, next to reading the same events raw.

    python -m benchmarks.bench_projections [--sizes 100000,1000000] [--stores sqlite,postgres]

How the histories are made (the fastest honest means, stated in the results):
the demo generator (``api.demo``) drives a year of ``--demo-cases`` cases on every path
through the real service into a scratch SQLite store. Its stored rows (case events and the
service's other aggregates: case numbers, place registers) are then copied into each
benchmark store as many times as needed for the target number of stored events, every copy
with fresh originator ids; the last copy is cut short (a prefix of the log is a valid log).
Copies are bulk-written (SQLite ``executemany``, PostgreSQL ``COPY``). Case numbers and
places repeat across copies; the projections key cases by id, so every copy counts.

Measured in the same run, on the same store, over the same notifications
(pages of ``BULK_PAGE_SIZE`` case-event notifications, as the runner reads them in a rebuild):
- raw read: ``select_notifications`` only (rows out of the database);
- decoded read: the same plus the library's ``mapper.to_domain_event`` (what a reader that
  decodes as the library does pays; the runner decodes with orjson, ``projections/decoding.py``);
- rebuild: ``Runner(all_projections()).rebuild()``: decode once, apply to the six read
  models, write their rows and tracking in one transaction per page;
- at the smallest size, the same without projection logic (``Floor``): the runner's read
  and decode alone, then also writing the rows the rebuild left in the tables.
The figures are rebuild events/s over raw-read events/s (the issue's goal: at least 1/3) and
over decoded-read events/s, and the cost per event at 10^5 against 10^6 (linear growth keeps
it flat).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from api.demo import jurisdiction
from api.demo.history import START, HistoryDriver
from api.settings import Settings
from api.wiring import open_cases
from domain.clock import FixedClock
from projections import all_projections
from projections.db import store_db
from projections.framework import Table, insert_rows
from projections.parallel import rebuild_in_processes
from projections.runner import (
    BULK_PAGE_SIZE,
    CASE_TOPICS,
    EventSource,
    Progress,
    Runner,
    cyclic_gc_paused,
)

PG_URL = os.environ.get("HAZARDFLOW_BENCH_DATABASE_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results" / "projections.md"
Row = tuple[uuid.UUID, int, str, bytes]


@dataclass
class Result:
    store: str
    stored: int
    case_events: int
    raw: float
    decoded: float
    rebuild: float
    decoded_cpu: float  # this process's CPU seconds per event (the database server excluded)
    rebuild_cpu: float
    load: float  # the machine's 1-minute load average when the rebuild ended
    # The raw read's speed right after the rebuild over right before it (``raw`` is the
    # faster of the two): how far the machine's speed moved during the rebuild.
    drift: float = 1.0
    # Over the rebuild's first and last pages (large histories only): µs per case event
    # of each, and the last over the first with the machine's speed taken out.
    pages: tuple[float, float, float, int] | None = None

    @property
    def ratio(self) -> float:
        return self.rebuild / self.decoded

    @property
    def raw_ratio(self) -> float:
        return self.rebuild / self.raw

    @property
    def micros(self) -> float:
        return 1e6 / self.rebuild


def demo_rows(cases: int, seed: int = 2026) -> list[Row]:
    """Every stored event of a demo history of ``cases`` cases, in notification order."""
    with tempfile.TemporaryDirectory() as scratch:
        clock = FixedClock(START)
        service = open_cases(Settings(sqlite_path=Path(scratch) / "demo.db",
                                      database_url=None), clock=clock)
        try:
            HistoryDriver(service, clock, jurisdiction.build(seed), seed).run(cases)
            rows, after = [], 0
            while notes := service.recorder.select_notifications(after + 1, 5000):
                rows += [(n.originator_id, n.originator_version, n.topic, n.state)
                         for n in notes]
                after = notes[-1].id
        finally:
            service.shutdown()
    return rows  # type: ignore[return-value]


def copies(rows: list[Row], target: int) -> Any:
    """``target`` rows: copies of ``rows`` with fresh originator ids, the last cut short."""
    for k in range(math.ceil(target / len(rows))):
        fresh: dict[uuid.UUID, uuid.UUID] = {}
        for originator_id, version, topic, state in rows[:target - k * len(rows)]:
            new = fresh.get(originator_id)
            if new is None:
                new = fresh[originator_id] = uuid.uuid5(originator_id, str(k))
            yield new, version, topic, state


class Store:
    """A fresh, empty benchmark store: a SQLite file or a PostgreSQL schema."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
            self.settings = Settings(sqlite_path=self.path, database_url=None)
        else:
            self.schema = f"hf_bench_proj_{uuid.uuid4().hex[:8]}"
            self.settings = Settings(database_url=PG_URL, database_schema=self.schema,
                                     pool_size=2)
        self.service = open_cases(self.settings, clock=FixedClock(datetime.now(UTC)))

    def fill(self, rows: Any) -> None:
        table = self.service.recorder.events_table_name
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                conn.executemany(
                    f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                    "VALUES (?, ?, ?, ?)", ((str(o), v, t, s) for o, v, t, s in rows))
            return
        with psycopg.connect(PG_URL) as conn:
            copy_sql = sql.SQL("COPY {}.{} (originator_id, originator_version, topic, state) "
                               "FROM STDIN").format(sql.Identifier(self.schema),
                                                    sql.Identifier(table))
            with conn.cursor().copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(self.schema),
                                                          sql.Identifier(table)))

    def checkpoint(self) -> None:
        """SQLite: fold the write-ahead log back into the database file (readers of a
        store with a long log, as after a rebuild, look every page up in it first)."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.service.shutdown()
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(self.schema)))


def read_all(service: Any, decode: bool) -> int:
    recorder, to_event = service.recorder, service.app.mapper.to_domain_event
    stop, after, count = recorder.max_notification_id(), 0, 0
    while notes := recorder.select_notifications(after + 1, BULK_PAGE_SIZE, stop=stop,
                                                 topics=CASE_TOPICS):
        if decode:
            for note in notes:
                to_event(note)
        count += len(notes)
        after = notes[-1].id
    return count


def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(work: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and client CPU seconds (this process and its children) taken by ``work``."""
    started, cpu = time.perf_counter(), _cpu()
    work()
    return time.perf_counter() - started, _cpu() - cpu


def measure(kind: str, rows: list[Row], size: int, workdir: Path, say: Callable[[str], None],
            alone: bool = False, processes: int = 1, floor: bool = False) -> list[Result]:
    """All projections rebuilt together (also split over ``processes``, and, if ``alone``,
    each one by itself), each rebuild between two raw reads of the same events; with
    ``floor``, also the same reading, decoding and writing without projection logic."""
    store = Store(kind, workdir)
    try:
        say(f"{kind} {size:,}: writing copies of the demo history")
        store.fill(copies(rows, size))
        service = store.service
        n = read_all(service, decode=False)  # also warms the caches for every measure
        decoded, decoded_cpu = timed(lambda: read_all(service, decode=True))
        say(f"{kind} {size:,}: {n:,} case events; decoded {n / decoded:,.0f}/s; rebuilding")
        head = service.recorder.max_notification_id()

        def between_raw_reads(label: str, rebuild: Callable[[Progress], Any],
                              per_page: bool = True) -> Result:
            # This machine's speed drifts by tens of percent within minutes: each rebuild
            # is compared with raw reads just before and just after it, not one made
            # earlier, and with the faster of the two (the ratio never gains by a slow one).
            # Each starts with SQLite's log folded back into the database file.
            store.checkpoint()
            before, _ = timed(lambda: read_all(service, decode=False))
            store.checkpoint()
            marks = PageMarks(calibrate=per_page)
            seconds, cpu = timed(partial(rebuild, marks))
            seconds, cpu = seconds - marks.calibrating, cpu - marks.calibrating
            store.checkpoint()
            after, _ = timed(lambda: read_all(service, decode=False))
            load = os.getloadavg()[0]
            result = Result(label, size, n, n / min(before, after), n / decoded,
                            n / seconds, decoded_cpu / n, cpu / n, load, before / after,
                            marks.first_and_last(n / head))
            say(f"{label} {size:,}: rebuild {n / seconds:,.0f} events/s, ÷ raw "
                f"{result.raw_ratio:.2f} (load {load:.1f})")
            return result

        results = []
        for projections in [all_projections()] + ([[p] for p in all_projections()]
                                                  if alone else []):
            label = kind if len(projections) > 1 else f"{kind}: {projections[0].name} alone"
            # A runner made inside the call: its row caches (hundreds of MB) are freed before
            # the raw read after it, whose objects the collector would otherwise walk past
            # them (measured: that read ran at 0.54-0.65 of the speed of the one before the
            # rebuild with the runner alive, 0.77-0.94 without).
            results.append(between_raw_reads(label, partial(_rebuild, service, projections)))
            if len(projections) > 1 and floor:  # the rows it needs are in the tables now
                for what, tables in (("read and decode only", []), (
                        "read, decode and write only", [t for p in projections
                                                        for t in p.tables])):
                    bare = Floor(service, tables, n)
                    try:
                        results.append(between_raw_reads(f"{kind}: {what}", bare.run))
                    finally:
                        bare.drop()
            if len(projections) > 1 and processes > 1:
                # (Its progress is the slowest group's: no pages to compare.)
                results.append(between_raw_reads(f"{kind}, {processes} processes", partial(
                    _rebuild_in_processes, partial(open_cases, store.settings), processes),
                    per_page=False))
        return results
    finally:
        store.close()


def _rebuild(service: Any, projections: list[Any], progress: Progress) -> int:
    return Runner(service, projections).rebuild(progress)


class Floor:
    """What a rebuild costs without its projection logic: the runner's reading and decoding
    of every case event, and writing the rows the read models hold after a rebuild into
    empty twins of their tables (same DDL, indexes made at the end, one transaction per
    page), with nothing in between. With no tables, reading and decoding alone. A lower
    bound for a rebuild of these read models by this runner (a rebuild also writes a keyed
    row again in each later page that changes it): what is left of the goal once the
    events are read and the rows written is what the projections' logic may cost."""

    def __init__(self, service: Any, tables: Sequence[Table], case_events: int) -> None:
        self.service, self.db = service, store_db(service)
        self.pages = max(1, math.ceil(case_events / BULK_PAGE_SIZE))  # as the runner reads
        dialect = self.db.dialect
        self.twins = [(replace(t, name=f"floor_{t.name}"), t) for t in tables]
        self.contents: list[tuple[Table, list[tuple[Any, ...]]]] = []
        with self.db.writer() as tx:
            for twin, table in self.twins:
                tx.execute(f"DROP TABLE IF EXISTS {twin.name}")
                tx.execute(twin.ddl(dialect))
                rows = tx.execute(f"SELECT {', '.join(table.names)} FROM {table.name}")
                self.contents.append((twin, rows))

    def run(self, progress: Progress) -> int:
        source = EventSource(self.service)
        head, pages, applied = source.head(), self.pages, 0
        with cyclic_gc_paused(pages > 1):  # as the runner's rebuild
            for page, (last, events) in enumerate(source.pages(0, head, BULK_PAGE_SIZE)):
                with self.db.writer() as tx:
                    for twin, rows in self.contents:
                        share = math.ceil(len(rows) / pages)
                        insert_rows(tx, twin, rows[page * share:(page + 1) * share])
                applied += len(events)
                progress(last, head)
        with self.db.writer() as tx:
            for twin, _ in self.twins:
                for statement in twin.index_ddl(self.db.dialect):
                    tx.execute(statement)
        return applied

    def drop(self) -> None:
        self.contents.clear()
        with self.db.writer() as tx:
            for twin, _ in self.twins:
                tx.execute(f"DROP TABLE IF EXISTS {twin.name}")


def _rebuild_in_processes(open_service: Callable[[], Any], processes: int,
                          progress: Progress) -> int:
    return rebuild_in_processes(open_service, processes=processes, progress=progress)


class PageMarks:
    """A rebuild's progress callback: when each page ended and, with ``calibrate``, how fast
    the machine was just then (a fixed piece of Python work, timed; not counted in the
    rebuild). With it the cost per event of the first and the last pages can be compared
    with the machine's drift taken out (it moves by tens of percent within minutes)."""

    def __init__(self, calibrate: bool) -> None:
        self.calibrate = calibrate
        self.marks: list[tuple[float, int, float]] = [
            (time.perf_counter(), 0, _machine_time() if calibrate else 0.0)]
        self.calibrating = 0.0  # seconds spent timing the machine, inside the rebuild

    def __call__(self, done: int, _total: int) -> None:
        took = _machine_time() if self.calibrate else 0.0
        self.calibrating += took
        self.marks.append((time.perf_counter(), done, took))

    def first_and_last(self, case_share: float) -> tuple[float, float, float, int] | None:
        """µs per case event over the first and the last eighth of the full pages (at least
        8 pages), and the last over the first in units of the machine's speed then."""
        if not self.calibrate:
            return None
        # (page seconds, its case events, the machine's time for the fixed work around it)
        spans = [(t1 - t0 - c1, (d1 - d0) * case_share, (c0 + c1) / 2)
                 for (t0, d0, c0), (t1, d1, c1) in pairwise(self.marks) if d1 > d0]
        if spans and spans[-1][1] < 0.9 * max(e for _, e, _ in spans):
            spans.pop()  # a last, shorter page: its commit is shared by fewer events
        if len(spans) < 8:
            return None
        k = len(spans) // 8
        first, last = spans[:k], spans[-k:]

        def micros(part: list[tuple[float, float, float]]) -> float:
            return sum(t for t, _, _ in part) / sum(e for _, e, _ in part) * 1e6

        def in_machine_units(part: list[tuple[float, float, float]]) -> float:
            return sum(t / c for t, _, c in part) / sum(e for _, e, _ in part)

        return micros(first), micros(last), in_machine_units(last) / in_machine_units(first), k


def _machine_time() -> float:
    """Seconds this machine takes just now for a fixed piece of dict and string work like the
    handlers' (the fastest of three tries, about 10 ms in all)."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        rows: dict[str, dict[str, Any]] = {}
        for i in range(1500):
            rows[str(i)] = {"case_id": str(i), "n": i, "state": "found"}
        best = min(best, time.perf_counter() - started)
    return best


def table(results: Sequence[Result]) -> str:
    lines = [
        ("| store | stored events | case events | raw read ev/s | decoded read ev/s "
        "| rebuild ev/s | rebuild ÷ decoded | rebuild ÷ raw | µs per event "
        "| client CPU µs/event: decoded read / rebuild | raw read drift | load avg |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.store} | {r.stored:,} | {r.case_events:,} | {r.raw:,.0f} | "
                     f"{r.decoded:,.0f} | {r.rebuild:,.0f} | {r.ratio:.2f} | "
                     f"**{r.raw_ratio:.2f}** | {r.micros:.1f} | {r.decoded_cpu * 1e6:.1f} / {r.rebuild_cpu * 1e6:.1f} "
                     f"| ×{r.drift:.2f} | {r.load:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="stored events per history, comma-separated")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--demo-cases", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--per-projection", action="store_true",
                        help="also rebuild each projection alone at the smallest size")
    parser.add_argument("--processes", type=int, default=1,
                        help="also rebuild all projections split over this many processes")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    stores = args.stores.split(",")

    def say(message: str) -> None:
        print(f"[bench_projections] {message}", flush=True)

    # A stopped run (Ctrl-C, kill) still drops its scratch stores (``Store.close``).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    say(f"generating a demo history of {args.demo_cases} cases through the service")
    rows = demo_rows(args.demo_cases)
    say(f"demo history: {len(rows):,} stored events")
    results = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("HAZARDFLOW_BENCH_DIR")) as work:
        for kind in stores:
            for size in sizes:
                smallest = size == min(sizes)
                results += measure(kind, rows, size, Path(work), say,
                                   args.per_projection and smallest, args.processes,
                                   floor=smallest)
    elapsed = time.perf_counter() - started
    text = report(results, args, len(rows), elapsed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return results


def report(results: Sequence[Result], args: argparse.Namespace, demo_events: int,
           elapsed: float) -> str:
    linear = []
    for kind in dict.fromkeys(r.store for r in results if ":" not in r.store):
        mine = sorted((r for r in results if r.store == kind), key=lambda r: r.stored)
        if len(mine) > 1:
            linear.append(f"- {kind}: µs per event {mine[0].micros:.1f} at "
                          f"{mine[0].stored:,} → {mine[-1].micros:.1f} at {mine[-1].stored:,} "
                          f"stored events (×{mine[-1].micros / mine[0].micros:.2f})")
    within = [f"- {r.store} {r.stored:,}: {r.pages[0]:.1f} µs per event over the first "
              f"{r.pages[3]} pages, {r.pages[1]:.1f} over the last {r.pages[3]} "
              f"(×{r.pages[1] / r.pages[0]:.2f}; ×{r.pages[2]:.2f} with the machine's speed "
              "taken out)" for r in results if r.pages]
    with psycopg.connect(PG_URL) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return "\n".join([
        "# Projections benchmark: full rebuild against raw reads of the same events",
        "",
        (f"Command: `python -m benchmarks.bench_projections --sizes {args.sizes} "
        f"--stores {args.stores} --demo-cases {args.demo_cases}"
        f"{' --per-projection' if args.per_projection else ''}"
        f"{f' --processes {args.processes}' if args.processes > 1 else ''}`"),
        (f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version} (WAL), PostgreSQL {pg_version} (loopback). "
        f"Whole run {elapsed / 60:.1f} min, peak RSS {peak_mb:,.0f} MB."),
        "",
        (f"History: a demo year of {args.demo_cases} cases driven through the service "
        f"({demo_events:,} stored events), copied with fresh originator ids up to each size. "
        "Stored events include the service's bookkeeping aggregates (case numbers, place "
        "registers); case events are what the projections read."),
        "",
        table(results),
        "",
        (f"Raw read: `select_notifications` pages of {BULK_PAGE_SIZE:,} case events (the "
        "runner's page in a rebuild); decoded read: plus the library's "
        "`mapper.to_domain_event`; rebuild: every projection of `all_projections()` from the "
        "first event, one transaction per page (a row `X alone` rebuilds only X; a row "
        "`N processes` splits the projections over N processes with "
        "`projections.parallel.rebuild_in_processes`, each reading and decoding the log "
        "itself; the rows `read and decode only` and `read, decode and write only` are `Floor`: "
        "the runner's reading and decoding of the same events with no projection logic, "
        "and the same plus writing the rows the rebuild left in the tables into empty twins "
        "of them, a page's share per transaction, indexes at the end). "
        "The runner decodes with its own orjson decoder (`projections/decoding.py`, equal "
        "results, about two thirds of the library's time). rebuild ÷ decoded compares with a "
        "reader that decodes as the library does; rebuild ÷ raw is the issue's literal ratio "
        "(goal ≥ 0.33), with the raw read speed the faster of two raw reads timed just "
        "before and just after that rebuild, each after a SQLite checkpoint (raw read drift: "
        "the speed after over the speed before; ×1.00 means the machine kept its speed). "
        "Client CPU is the CPU "
        "time per case event of this process and its children (for PostgreSQL the server's work is not in it); the load average "
        "says how busy the shared 2-core machine was (other benchmarks and test suites ran "
        "at the same time)."),
        "",
        "Cost per case event, smallest against largest history (two rebuilds, minutes apart):",
        *linear,
        "",
        ("Cost per case event within one rebuild, its first pages against its last (the "
         "tables grow from empty to full in between). The machine's speed is timed at every "
         "page's end on a fixed piece of Python work (`PageMarks`, not counted in the "
         "rebuild); the second figure divides each page's time by it:"),
        *within,
        "",
    ])


if __name__ == "__main__":
    main()
