"""Load benchmark: concurrent clients reporting and acting on cases over HTTP.

    python -m benchmarks.bench_load [--duration 60] [--clients 16,64] [--workers 2]
                                    [--open 1000@64]

Starts ``hazardflow serve`` (loopback only) on a fresh PostgreSQL schema, twice: with
group commit (the default) and with one save per request, so the two are compared side by
side in one run. For each set-up and each number of clients, every client drives its own
cases through report -> notify -> start_rectification -> submit_rectification -> verify,
each command with ``If-Match`` set to the version the previous answer gave, for
``--duration`` seconds (then stops sending and lets in-flight commands finish; the run is
bounded in time and, by ``--max-commands``, in count).

Two views of the same server. *Closed loop* (the matrix above): each client sends its next
command as soon as the last is answered, so the server is saturated and the figures are
its throughput (with N clients and no think time, mean latency is N / throughput).
*Open loop* (``--open RATE@CLIENTS``, group commit): the clients together offer RATE
commands/s on a fixed schedule, each client one command every CLIENTS / RATE seconds;
latency is measured from the time the schedule said to send, so a command that had to
wait for its predecessor's answer counts that wait (no coordinated omission).

Reported: acknowledged commands/s, p50/p99 latency, errors, PostgreSQL transactions per
command, and CPU seconds per 1,000 commands spent in the server processes, in PostgreSQL
and in the load generator (where the time goes). Then the proof: every acknowledged
command's (case, version) is in the event log exactly once with the trigger that was
acknowledged, and the log holds no case event that was not acknowledged.

The load generator is a small asyncio HTTP/1.1 client over keep-alive connections: it
costs far less CPU per request than httpx, which matters when client and server share two
cores. Results go to ``benchmarks/results/load.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "load.md"
PG_URL = os.environ.get("HAZARDFLOW_BENCH_DATABASE_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
GRID, COMMUNITY = "YS-C01-G01", "YS-C01"
STEPS = [  # (trigger, account, body); report is first and carries its own body
    ("notify", "so", {"party": {"name": "房东", "role": "landlord"},
                      "deadline": "2099-12-31"}),
    ("start_rectification", "so", None),
    ("submit_rectification", "so", {"measures": "拆除飞线"}),
    ("verify", "in", {"passed": True}),
]


# -- a minimal keep-alive HTTP/1.1 client ----------------------------------------------------

class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, token: str, body: Any,
                      headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}",
                "Content-Type: application/json", f"Content-Length: {len(payload)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return status, json.loads(data) if data else {}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    acks: list[tuple[str, int, str]] = field(default_factory=list)  # case, version, trigger
    errors: Counter = field(default_factory=Counter)
    sent: int = 0
    by_trigger: dict[str, list[float]] = field(default_factory=dict)
    lost: int = 0  # connection dropped before the answer: the command may be in the log


class Pace:
    """When a client sends: at once (closed loop), or every ``interval`` seconds from
    ``start`` whatever happened before (open loop)."""

    def __init__(self, start: float, interval: float = 0.0) -> None:
        self.next = start
        self.interval = interval

    async def scheduled(self) -> float:
        """Wait for the next send time and return it (the time latency counts from)."""
        now = time.perf_counter()
        if not self.interval:
            return now
        at, self.next = self.next, self.next + self.interval
        if at > now:
            await asyncio.sleep(at - now)
        return at


async def client(n: int, tag: str, port: int, tokens: dict[str, str], stop_at: float,
                 budget: list[int], tally: Tally, pace: Pace) -> None:
    conn = Connection(port)
    place = 0
    while time.monotonic() < stop_at and budget[0] > 0:
        place += 1
        body = {"place": {"id": f"B-{tag}-{n}-{place}", "name": "出租屋", "kind": "rental_house",
                          "grid": GRID, "community": COMMUNITY},
                "category": "flying_wire_charging", "description": "楼道飞线充电"}
        answer = await _send(conn, "/api/cases", tokens["gw"], body, {}, "report", tally,
                             budget, pace)
        if answer is None:
            continue
        case_id, version = answer
        for trigger, who, step_body in STEPS:
            if time.monotonic() >= stop_at or budget[0] <= 0:
                break
            answer = await _send(conn, f"/api/cases/{case_id}/{trigger}", tokens[who],
                                 step_body, {"If-Match": str(version)}, trigger, tally,
                                 budget, pace)
            if answer is None:
                break
            version = answer[1]


async def _send(conn: Connection, path: str, token: str, body: Any, headers: dict[str, str],
                trigger: str, tally: Tally, budget: list[int],
                pace: Pace) -> tuple[str, int] | None:
    started = await pace.scheduled()
    budget[0] -= 1
    tally.sent += 1
    try:
        status, out = await conn.request(path, token, body, headers)
    except (ConnectionError, asyncio.IncompleteReadError):
        tally.lost += 1
        conn.writer = None  # reconnect for the next command
        return None
    if status >= 300:
        tally.errors[status] += 1
        return None
    tally.latencies.append(time.perf_counter() - started)
    tally.by_trigger.setdefault(trigger, []).append(tally.latencies[-1])
    tally.acks.append((out["case_id"], out["version"], trigger))
    return out["case_id"], out["version"]


async def drive(tag: str, port: int, tokens: dict[str, str], clients: int, duration: float,
                max_commands: int, rate: float = 0.0) -> tuple[Tally, float]:
    """``rate`` 0: closed loop; else the commands/s all clients offer together."""
    tally, budget = Tally(), [max_commands]
    started = time.monotonic()
    first = time.perf_counter()
    interval = clients / rate if rate else 0.0
    # Open loop: the clients' schedules are spread evenly over one interval.
    paces = [Pace(first + interval * n / clients, interval) for n in range(clients)]
    await asyncio.gather(*(client(n, tag, port, tokens, started + duration, budget, tally,
                                  paces[n]) for n in range(clients)))
    return tally, time.monotonic() - started


# -- the server, the store, and where CPU went -----------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU seconds used so far, per process still alive."""
    used = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return used


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings by the processes alive at both (connections come and
    go: a process that ended took its counters with it)."""
    return sum(after[pid] - before[pid] for pid in before if pid in after)


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (every core), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        kids = [int(k) for k in children.read_text().split()] if children.exists() else []
        found += kids
        frontier += kids
    return found


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def commits(conn: psycopg.Connection) -> int:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute("SELECT xact_commit FROM pg_stat_database "
                       "WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else 0


@dataclass
class Run:
    setup: str
    clients: int
    seconds: float
    acks: int
    errors: dict[int, int]
    p50_ms: float
    p99_ms: float
    commits_per_command: float
    cpu_per_1000: dict[str, float]
    proof: str
    load_before: float = 0.0
    lost: int = 0
    p99_by_trigger: dict[str, float] = field(default_factory=dict)
    rate_offered: float = 0.0  # 0: closed loop
    other_cores: float = 0.0  # CPU other processes used during the run, in cores

    @property
    def lost_note(self) -> str:
        return f" ({self.lost} answers lost)" if self.lost else ""

    @property
    def loop(self) -> str:
        return f"open, {self.rate_offered:,.0f}/s offered" if self.rate_offered else "closed"

    @property
    def rate(self) -> float:
        return self.acks / self.seconds


def bench_one(setup: str, group_commit: bool, clients: int, args: argparse.Namespace,
              rate: float = 0.0) -> Run:
    sys.path.insert(0, str(ROOT))
    from api.accounts import Accounts
    from api.settings import Settings
    from api.wiring import open_cases

    schema = f"hf_load_{uuid.uuid4().hex[:10]}"
    settings = Settings(database_url=PG_URL, database_schema=schema, pool_size=args.pool)
    service = open_cases(settings)
    accounts = Accounts(service)
    tokens = {"gw": accounts.add("bench-gw", "grid_worker", GRID),
              "so": accounts.add("bench-so", "safety_officer", COMMUNITY),
              "in": accounts.add("bench-in", "inspector", COMMUNITY)}
    port = free_port()
    load_before = os.getloadavg()[0]
    env = {**os.environ, "HAZARDFLOW_DATABASE_URL": PG_URL,
           "HAZARDFLOW_DATABASE_SCHEMA": schema, "HAZARDFLOW_POOL_SIZE": str(args.pool)}
    server_log = open(args.server_log, "ab")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "serve", "--port", str(port),
         "--workers", str(args.workers),
         "--group-commit" if group_commit else "--no-group-commit"],
        cwd=ROOT, env=env, stderr=server_log, start_new_session=True)
    try:
        _wait_up(port)
        asyncio.run(drive("warm", port, tokens, clients, 2.0, 10_000))  # warm-up, not counted
        with psycopg.connect(PG_URL, autocommit=True) as stats:
            pg, srv = postgres_pids(), descendants(server.pid)
            before = (commits(stats), cpu_seconds(srv), cpu_seconds(pg),
                      time.process_time(), machine_busy_seconds())
            tally, seconds = asyncio.run(drive("timed", port, tokens, clients, args.duration,
                                               args.max_commands, rate))
            after = (commits(stats), cpu_seconds(srv), cpu_seconds(pg), time.process_time(),
                     machine_busy_seconds())
        acks = len(tally.acks)
        used = {"server": cpu_delta(before[1], after[1]),
                "postgres": cpu_delta(before[2], after[2]),
                "load generator": after[3] - before[3]}
        cpu = {name: round(seconds / max(acks, 1) * 1000, 2) for name, seconds in used.items()}
        # Cores kept busy by anything else on the machine during the run (other work shares
        # the two cores: this is how much).
        other = max(0.0, (after[4] - before[4]) - sum(used.values())) / seconds
        lat = sorted(tally.latencies) or [0.0]
        run = Run(setup, clients, seconds, acks, dict(tally.errors),
                  lat[len(lat) // 2] * 1000, lat[min(len(lat) - 1, int(len(lat) * .99))] * 1000,
                  (after[0] - before[0]) / max(acks, 1), cpu, "", load_before, tally.lost,
                  {t: round(_p99(v) * 1000, 1) for t, v in tally.by_trigger.items()}, rate,
                  other)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()
    try:
        run.proof = prove_exactly_once(service, tally)
    finally:
        service.shutdown()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return run


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * .99))] if ordered else 0.0


def _wait_up(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start within 30 s")


def prove_exactly_once(service: Any, tally: Tally) -> str:
    """Every acknowledged (case, version, trigger) is in the log once; nothing else is.
    Also whether the case numbers issued (warm-up included) are gap-free: a report decided
    again after a collision would have taken a second number and left a gap."""
    from domain.events import CaseEvent
    from workflows.records import CaseNumber

    logged: Counter = Counter()
    serials: list[int] = []
    start = 1
    while True:
        page = service.recorder.select_notifications(start, 1000)
        if not page:
            break
        for record in page:
            event = service.app.mapper.to_domain_event(record)
            if isinstance(event, CaseEvent):
                logged[(str(event.originator_id), event.originator_version, event.trigger)] += 1
            elif isinstance(event, CaseNumber.Issued):
                serials.append(int(event.number.rsplit("-", 1)[1]))
        start = page[-1].id + 1
    acked = Counter(tally.acks)
    # Each client reports its cases in the timed run, so the timed run's cases are exactly
    # those in its acknowledgements (the warm-up's cases are left out).
    cases = {case for case, _, _ in tally.acks}
    timed_log = Counter({k: v for k, v in logged.items() if k[0] in cases})
    missing = [k for k in acked if timed_log[k] != 1]
    twice = [k for k, v in acked.items() if v != 1]
    extra = [k for k in timed_log if k not in acked]
    if missing or twice or len(extra) > tally.lost or any(timed_log[k] != 1 for k in extra):
        return (f"FAILED: {len(missing)} acknowledged but not logged once, {len(twice)} "
                f"acknowledged twice, {len(extra)} logged but never acknowledged")
    gaps = max(serials, default=0) - len(serials)
    numbers = (f"; case numbers 1-{len(serials):,} without a gap" if not gaps else
               f"; {gaps} case numbers skipped (reports decided again)")
    if tally.lost:
        return (f"ok: {len(acked):,} acknowledged, each logged once; {tally.lost} answers "
                f"lost to dropped connections, {len(extra)} of those commands logged once"
                + numbers)
    return f"ok: {len(acked):,} acknowledged, each logged once, none extra" + numbers


# -- report ----------------------------------------------------------------------------------

def render(runs: list[Run], args: argparse.Namespace) -> str:
    lines = [
        "# Load benchmark: HTTP commands on PostgreSQL",
        "",
        (f"`python -m benchmarks.bench_load --duration {args.duration:g} --clients "
         f"{args.clients} --workers {args.workers}"
         + (f" --open {args.open}" if args.open else "") + f"` on {os.cpu_count()} cores, "
         f"{platform.python_implementation()} {platform.python_version()}, "
         f"`hazardflow serve --workers {args.workers}` on loopback, PostgreSQL at "
         f"{PG_URL.rsplit('@', 1)[-1]}. Each client: report -> notify -> start -> submit -> "
         "verify, each with If-Match; the load generator runs on the same 2 cores. "
         "PG commits counts every transaction, reads included."),
        "",
        ("| set-up | clients | loop | commands/s | p50 ms | p99 ms | errors | PG commits/command "
         "| CPU ms/command: server / PostgreSQL / load gen | load avg before | other work, cores "
         "| exactly once |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        cpu = r.cpu_per_1000
        lines.append(
            f"| {r.setup} | {r.clients} | {r.loop} | {r.rate:,.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | "
            f"{sum(r.errors.values())} {dict(r.errors) or ''}{r.lost_note} | "
            f"{r.commits_per_command:.2f} | "
            f"{cpu['server']:.2f} / {cpu['postgres']:.2f} / {cpu['load generator']:.2f} | "
            f"{r.load_before:.1f} | {r.other_cores:.2f} | {r.proof} |")
    by = {(r.setup, r.clients): r for r in runs if not r.rate_offered}
    lines += ["", "Group commit over one save per request, same clients:"]
    for clients in sorted({r.clients for r in runs}):
        group, single = by.get(("group commit", clients)), by.get(("one save per request",
                                                                   clients))
        if group and single and single.rate:
            lines.append(f"- {clients} clients: {group.rate / single.rate:.2f}x commands/s, "
                         f"p99 {group.p99_ms:.0f} ms vs {single.p99_ms:.0f} ms")
    lines += ["", "p99 ms by trigger:"]
    lines += [f"- {r.setup}, {r.clients} clients, {r.loop} loop: "
              + ", ".join(f"{t} {ms:.0f}" for t, ms in r.p99_by_trigger.items()) for r in runs]
    lines += ["", ("CPU ceiling if the 2 cores did nothing else (2,000 ms / CPU ms per command, "
                   "all three processes):")]
    for r in runs:
        total = sum(r.cpu_per_1000.values())
        if total:
            lines.append(f"- {r.setup}, {r.clients} clients, {r.loop} loop: "
                         f"{2000 / total:,.0f} commands/s")
    return "\n".join(lines) + "\n" + WHERE_TIME_GOES


WHERE_TIME_GOES = """
Two views. *Closed loop* (each client sends its next command when the last is answered):
saturation throughput; with N clients and no think time, mean latency is N / throughput
(Little's law), so p99 under 50 ms at 64 closed-loop clients would need well over 1,280
commands/s *and* no tail. *Open loop* (`--open 1000@64`): the 64 clients together offer
1,000 commands/s on a fixed schedule (each one command every 64 ms); latency counts from
the scheduled send time, so a command held up by its predecessor counts the wait. The
`other work` column is CPU used by anything else on the machine during the run, in cores
(the 2 cores are shared; a run with other work above ~0.2 cores is slowed by it).

## Where the time goes

py-spy (`record --gil`: samples only the thread holding the interpreter lock, i.e. CPU
work) on one of the two server processes, 64 closed-loop clients, 2026-11-23. Server CPU
per command from the benchmark's own counters, split by the profile's shares:

| part of a command | before (1.39 ms/command, 782/s) | after (0.87 ms/command, 1,502/s) |
|---|---|---|
| HTTP: uvicorn, middleware, routing, response (and stacks py-spy could not attribute) | 0.45 ms | 0.34 ms |
| FastAPI dependencies, header and body validation | 0.24 ms | 0.14 ms |
| store reads in a command (load the case; the place register; the number counter) | 0.26 ms | 0.05 ms |
| the service deciding (lifecycle, aggregate, events, hash chain) | 0.11 ms | 0.13 ms |
| group-commit writer (encode events; LOCK, INSERT, NOTIFY, COMMIT) | 0.15 ms | 0.14 ms |
| thread hand-offs (to the command thread, to the writer and back) | 0.18 ms | 0.06 ms |

What changed, from these profiles:
- Kept aggregates (`workflows/lent.py`): each process keeps the open cases and place
  registers it wrote last and lends them to the next command on them, so a command on a
  case no longer reads and replays it. A stale copy (another process wrote the case since)
  cannot decide wrongly: the command writes the next version of what it decided on, which
  collides with the stored one and is decided again from the store; a refusal (illegal
  trigger, stale If-Match, broken rule) decided on a kept copy is decided again from the
  store before it stands. Tests with two services on one store (`tests/service/test_lent.py`).
- Command routes are `async def` and run the command in a pool of threads of their own
  (`api/threads.py`: a C `SimpleQueue` and `call_soon_threadsafe`) instead of anyio's.
- One dependency for a command's context (service, case places, If-Match,
  Idempotency-Key) instead of five; the OpenAPI document is unchanged.
- A lock instead of a `threading.Event` as the group-commit signal; the parameters'
  fingerprint computed only for commands with an Idempotency-Key.
- `hazardflow serve` freezes its start-up objects out of the garbage collector's full
  passes: these took up to 95 ms per process every 2-3 s under load, holding every request
  of that process (measured with `gc.callbacks`); after, up to about 40 ms, rarely.
- Case numbers on PostgreSQL: the counter row is incremented in one autocommit statement.
  It was BEGIN, UPDATE, COMMIT, and the row lock stayed held while the client came back
  for the COMMIT, so under load every other process's report queued behind it: reports
  were the latency tail (p99 195 ms against 63 ms for the other triggers at 64 clients;
  after, 93 against 78-80). Two processes never propose the same number: the `case numbers
  ... without a gap` in the table shows no report was decided twice.

Tried and not kept: a shorter interpreter switch interval (1 ms, 0.2 ms) and 3 workers
instead of 2: both cost more CPU per command (3 workers: +0.1-0.15 ms) with no latency gain
that stood out from run-to-run variation.

What limits it now: CPU. At 1,000 commands/s offered, server + PostgreSQL + load
generator use about 1.3-1.5 ms per command, so the 2 cores are about 70% busy, and the
Python share (0.9-1.1 ms per command) runs in two processes, each serialised by its
interpreter lock; requests queue for it, and reports (three store round trips before the
write: counter, place register, group commit) are still the slowest command. The HTTP
layer (uvicorn, Starlette, FastAPI) is now the largest part, about half of the server's
CPU per command.

## Against the goal (issue 4)

"At least 1,000 commands/s on 2 cores with p99 under 50 ms at 64 clients." Run of
2026-11-23 (other work on the machine at most 0.09 cores during any run), against the
previous run of the same benchmark (535 and 745 commands/s, p99 60 and 209 ms):
- Throughput: met. 1,437 commands/s at 64 closed-loop clients (was 745), 962 at 16
  (was 535); server CPU per command 0.9-1.2 ms (was 1.75).
- Latency: not met. p99 83 ms at 64 closed-loop clients (was 209; p50 43 ms, which
  Little's law puts at 64 / throughput); at 1,000 commands/s offered by 64 clients on a
  fixed schedule, p50 25 ms and p99 102 ms (reports 113 ms; the commands after a late
  report inherit its delay). At 16 clients p99 is 35 ms.
- Left: the HTTP layer's CPU (about half of the server's per command), the report's
  extra store round trips, and interpreter-lock queueing in each process; run-to-run
  variation on this shared machine is about +-15% in throughput and more in p99.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--clients", default="16,64", help="comma-separated client counts")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool", type=int, default=8, help="PostgreSQL pool per worker")
    parser.add_argument("--max-commands", type=int, default=500_000,
                        help="stop each run after this many commands")
    parser.add_argument("--setups", default="group,single",
                        help="group (group commit) and/or single (one save per request)")
    parser.add_argument("--open", default="",
                        help="open-loop runs with group commit, RATE@CLIENTS[,...], e.g. "
                             "1000@64: the clients together offer RATE commands/s")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--server-log", type=Path, default=Path(os.devnull),
                        help="where the server's stderr goes")
    args = parser.parse_args(argv)
    plan = [(setup, int(c), 0.0) for setup in args.setups.split(",") if setup
            for c in args.clients.split(",") if c]
    plan += [("group", int(c), float(r)) for r, _, c in
             (spec.partition("@") for spec in args.open.split(",") if spec)]
    runs = []
    for setup, clients, rate in plan:
        name = "group commit" if setup == "group" else "one save per request"
        run = bench_one(name, setup == "group", clients, args, rate)
        print(f"{name}, {clients} clients, {run.loop} loop: {run.rate:,.0f} commands/s, p50 "
              f"{run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, errors {run.errors}, "
              f"{run.commits_per_command:.2f} commits/command, CPU/1000 {run.cpu_per_1000},"
              f" load avg {run.load_before:.1f}, other work {run.other_cores:.2f} cores, "
              f"{run.proof}; p99 ms by trigger "
              f"{run.p99_by_trigger}", flush=True)
        runs.append(run)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(runs, args), encoding="utf-8")
    print(f"results in {args.output}")


if __name__ == "__main__":
    main()
