"""``hazardflow projections status|catch-up|rebuild`` and ``hazardflow worker``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from api.cli.context import service, settings
from api.wiring import open_cases
from projections import by_names
from projections.parallel import rebuild_in_processes
from projections.runner import Progress as OnProgress
from projections.runner import ProjectionConflict, Runner
from projections.worker import work

CONFLICTS = 50  # pages applied by other processes before catch-up or rebuild gives up

app = typer.Typer(help="Read models (ledger, accountability, audit, risk, stats, escalations): "
                       "status, catch-up, rebuild.", no_args_is_help=True)


@contextmanager
def progress_bar(label: str) -> Iterator[OnProgress]:
    """A rich progress bar over notification ids, for catch-up, rebuild and as-of reports."""
    console = Console(stderr=True)
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), transient=True, console=console,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def to_the_head(runner: Runner, start: Callable[[OnProgress], int], advance: OnProgress,
                ) -> int:
    """``start(advance)`` (a catch-up or a rebuild), then ``runner`` catches up whatever
    another process (the worker, a report) left when it applied a page first; events read.

    Each such conflict means a page was applied by the other, so this ends at the head.
    Stopped by Ctrl-C, it says where things stand: every page applied so far is kept.
    """
    try:
        for _ in range(CONFLICTS):
            try:
                return start(advance)
            except ProjectionConflict:
                start = runner.catch_up
                time.sleep(0.1)
        return runner.catch_up(advance)  # still moved under it: the conflict's message
    except KeyboardInterrupt:
        typer.echo("stopped; the events applied so far are kept: `hazardflow projections "
                   "catch-up` (or the worker, or the next report) goes on from there", err=True)
        raise typer.Exit(130) from None


@app.command("status")
def status() -> None:
    """Each projection: the case events it has applied and those still to apply."""
    statuses = Runner(service(), by_names(None)).status()
    head = statuses[0].head if statuses else 0
    # The log's ids number every record, and only case events are applied: a projection
    # caught up stands at its last case event, short of a head that is, say, an account.
    table = Table(title=f"projections in {settings().describe_store()}")
    for heading in ("projection", "at record", "to apply", "version", "state"):
        table.add_column(heading)
    for s in statuses:
        if s.stored_version is None:
            state = "not built"
        elif s.stored_version != s.version:
            state = f"version {s.stored_version} stored: rebuilt on next catch-up"
        else:
            state = "up to date" if s.up_to_date else "behind"
        table.add_row(s.name, str(s.position), str(s.to_apply), str(s.version), state)
    Console().print(table)
    typer.echo("at record: the last case event applied; to apply: the case events after it")
    typer.echo(f"the log's last record is {head}; case numbers, place registers, command "
               "records and accounts are not applied")


@app.command("catch-up")
def catch_up(names: list[str] | None = typer.Argument(
        None, help="projections to catch up (default: all)")) -> None:
    """Apply the events recorded since each projection's position."""
    runner = Runner(service(), by_names(names))
    with progress_bar("catching up") as advance:
        read = to_the_head(runner, runner.catch_up, advance)
    # A projection's position is the last case event it applied, which may be short of the
    # log's head (the head's own row can be another aggregate's): say what it means.
    typer.echo(f"applied {read} events; {', '.join(p.name for p in runner.projections)} "
               f"up to date with the log (head {runner.source.head()})")


@app.command("rebuild")
def rebuild(names: list[str] | None = typer.Argument(
        None, help="projections to rebuild (default: all)"),
            processes: int = typer.Option(
        1, min=1, max=8, help="split the projections over this many processes (each reads "
                              "the log itself; worth it on a large log with idle cores)"),
            ) -> None:
    """Empty the projections' tables and apply every event from the first."""
    chosen = by_names(names)  # unknown names stop here, before any process starts
    runner = Runner(service(), chosen)  # the store is open and migrated before any child
    with progress_bar("rebuilding") as advance:
        if processes > 1:
            start = partial(rebuild_in_processes, partial(open_cases, settings()),
                            [p.name for p in chosen], processes)
            read = to_the_head(runner, start, advance)
        else:
            read = to_the_head(runner, runner.rebuild, advance)
    typer.echo(f"rebuilt {', '.join(p.name for p in chosen)} from {read} events")


def worker(interval: float = typer.Option(2.0, min=0.1, help="seconds to wait when idle"),
           ) -> None:
    """Keep every projection caught up (and run the periodic ticks) until Ctrl-C."""
    cases = service()
    runner = Runner(cases, by_names(None))
    typer.echo(f"worker on {settings().describe_store()}; Ctrl-C to stop", err=True)

    def report(applied: int) -> None:
        if applied:
            typer.echo(f"applied {applied} events (head {runner.source.head()})", err=True)

    def failed(error: Exception) -> None:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        typer.echo(f"round stopped by the database: {reason}; trying again", err=True)

    try:
        work(cases, runner, interval=interval, on_round=report, on_error=failed)
    except KeyboardInterrupt:
        typer.echo("worker stopped", err=True)
