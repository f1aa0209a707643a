"""Where a command's server CPU goes, by elimination: the same load against three servers.

    python -m benchmarks.bench_load_split [--duration 15] [--clients 64] [--workers 2]
                                          [--rounds 2]

A profile of the server under load (py-spy) splits CPU by the code on the stack, but with
the command threads, the group-commit writer and the event loop taking turns at one
interpreter lock, the shares follow contention as much as cost: the profile of
``bench_load`` put half of a command in the HTTP layer. This benchmark measures by taking
parts away instead. It starts uvicorn with three variants of the app, each built by
``api.app.app_from_environment`` (the factory ``hazardflow serve`` gives uvicorn) on a fresh
PostgreSQL schema, and drives each with the load benchmark's closed-loop clients
(report -> notify -> start -> submit -> verify, with ``If-Match``):

- ``full``: the real server, with group commit;
- ``no write``: every command decided in full (token, scope, store reads, the case-number
  counter, lifecycle, aggregate, events, hash chain) but its events not written: the
  group-commit writer's place takes them and returns;
- ``no command``: the HTTP path alone (uvicorn, the middleware, the command path's header
  and body checks, authentication, the hop to a command thread and back, the answer); the
  command returns a made-up result.

Differences give the parts: full - no write = writing the events; no write - no command =
deciding; no command = HTTP. Rounds alternate the variants so the machine's drift hits all
three alike. Results in ``benchmarks/results/load_split.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.bench_load import (
    PG_URL,
    ROOT,
    _stop,
    _wait_up,
    bench_store,
    cpu_delta,
    cpu_seconds,
    descendants,
    drive,
    free_port,
    machine_busy_seconds,
    postgres_pids,
    run_clients,
)

RESULTS = ROOT / "benchmarks" / "results" / "load_split.md"
VARIANTS = {  # name -> the app factory uvicorn imports
    "full": "api.app:app_from_environment",
    "no write": "benchmarks.bench_load_split:app_without_writes",
    "no command": "benchmarks.bench_load_split:app_without_commands",
}


# -- the variants (uvicorn imports these in each worker process) -----------------------------

def app_without_writes() -> Any:
    """The real app; the group-commit writer is handed nothing: a command's events are
    collected (as the writer's caller does) and dropped."""
    from api.app import app_from_environment
    from workflows.group_commit import GroupCommit

    def drop(self: GroupCommit, *aggregates: Any) -> None:
        for aggregate in aggregates:
            aggregate.collect_events()

    GroupCommit.commit = drop  # type: ignore[method-assign]
    return app_from_environment()


def app_without_commands() -> Any:
    """The real app; the command functions the routes run in a thread answer at once."""
    import api.routes.cases as routes
    from api.app import app_from_environment
    from workflows.service import CommandResult

    def report(cases: Any, actor: Any, body: Any, idempotency_key: Any) -> CommandResult:
        return CommandResult(uuid.uuid4(), "BENCH", "found", 1)

    def act(command: Any, actor: Any, ref: str, trigger: str, body: Any) -> CommandResult:
        return CommandResult(uuid.UUID(ref), "BENCH", "notified", 2)

    routes._report, routes._act = report, act  # looked up when each request runs
    return app_from_environment()


# -- measuring ---------------------------------------------------------------------------

@dataclass
class Sample:
    variant: str
    rate: float
    p50_ms: float
    p99_ms: float
    server_ms: float  # server CPU per command
    postgres_ms: float
    other_cores: float
    errors: int


def run_variant(variant: str, args: argparse.Namespace) -> Sample:
    with bench_store(args.pool) as (_, schema, tokens):
        return _drive_server(variant, schema, tokens, args)


def _drive_server(variant: str, schema: str, tokens: dict[str, str],
                  args: argparse.Namespace) -> Sample:
    port = free_port()
    env = {**os.environ, "HAZARDFLOW_DATABASE_URL": PG_URL,
           "HAZARDFLOW_DATABASE_SCHEMA": schema, "HAZARDFLOW_POOL_SIZE": str(args.pool),
           "HAZARDFLOW_SERVE_GROUP_COMMIT": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", VARIANTS[variant], "--factory", "--port", str(port),
         "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_up(port)
        run_clients(drive("warm", port, tokens, args.clients, 2.0, 10_000))
        srv, pg = descendants(server.pid), postgres_pids()
        before = (cpu_seconds(srv), cpu_seconds(pg), time.process_time(),
                  machine_busy_seconds())
        tally, seconds = run_clients(drive("timed", port, tokens, args.clients, args.duration,
                                           10_000_000))
        after = (cpu_seconds(srv), cpu_seconds(pg), time.process_time(),
                 machine_busy_seconds())
    finally:
        _stop(server)
    acks = max(len(tally.acks), 1)
    server_cpu, pg_cpu = cpu_delta(before[0], after[0]), cpu_delta(before[1], after[1])
    other = max(0.0, after[3] - before[3] - server_cpu - pg_cpu - (after[2] - before[2]))
    lat = sorted(tally.latencies) or [0.0]
    return Sample(variant, len(tally.acks) / seconds, lat[len(lat) // 2] * 1000,
                  lat[min(len(lat) - 1, int(len(lat) * .99))] * 1000,
                  server_cpu / acks * 1000, pg_cpu / acks * 1000, other / seconds,
                  sum(tally.errors.values()) + tally.lost)


# -- report ------------------------------------------------------------------------------

def render(samples: list[Sample], args: argparse.Namespace, started: str) -> str:
    server = {v: statistics.mean(s.server_ms for s in samples if s.variant == v)
              for v in VARIANTS}
    lines = [
        "# Where a command's server CPU goes, by elimination",
        "",
        (f"`python -m benchmarks.bench_load_split --duration {args.duration:g} --clients "
        f"{args.clients} --workers {args.workers} --rounds {args.rounds}` on "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, started {started}. "
        "Each round runs the three variants one after the other (method in the module's "
        "docstring); commands/s and CPU per command are per run."),
        "",
        ("| round | variant | commands/s | p50 ms | p99 ms | server CPU ms/command | "
        "PostgreSQL CPU ms/command | other work, cores | errors |"),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, sample in enumerate(samples):
        s = sample
        lines.append(f"| {n // len(VARIANTS) + 1} | {s.variant} | {s.rate:,.0f} | "
                     f"{s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.server_ms:.2f} | "
                     f"{s.postgres_ms:.2f} | {s.other_cores:.2f} | {s.errors} |")
    full, no_write, no_command = server["full"], server["no write"], server["no command"]
    lines += [
        "",
        f"Server CPU per command, mean of the rounds: {full:.2f} ms in all, of which",
        f"- HTTP (no command): {no_command:.2f} ms ({no_command / full:.0%})",
        (f"- deciding the command (no write - no command): {no_write - no_command:.2f} ms "
        f"({(no_write - no_command) / full:.0%})"),
        (f"- writing its events (full - no write): {full - no_write:.2f} ms "
        f"({(full - no_write) / full:.0%})"),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Sample]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per run")
    parser.add_argument("--clients", type=int, default=64, help="closed-loop clients")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool", type=int, default=8, help="PostgreSQL pool per worker")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    samples = []
    for _ in range(args.rounds):
        for variant in VARIANTS:
            sample = run_variant(variant, args)
            print(f"{variant}: {sample.rate:,.0f} commands/s, p50 {sample.p50_ms:.1f} ms, "
                  f"p99 {sample.p99_ms:.1f} ms, server {sample.server_ms:.2f} ms/command, "
                  f"other work {sample.other_cores:.2f} cores, errors {sample.errors}",
                  flush=True)
            samples.append(sample)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(samples, args, started), encoding="utf-8")
    print(f"results in {args.output}")
    return samples


if __name__ == "__main__":
    main()
