"""``hazardflow demo``: a synthetic street and a year of cases in the configured store."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.accounts import Accounts
from api.cli.case import show
from api.cli.context import settings
from api.demo import jurisdiction
from api.demo.history import START, HistoryDriver
from api.wiring import open_cases
from domain.clock import FixedClock
from domain.errors import DomainError


def demo(
    cases: int = typer.Option(3000, "--cases", min=1, max=1_000_000,
                              help="how many hazard cases to generate"),
    seed: int = typer.Option(2026, help="random seed: the same seed gives the same history"),
    tokens: Path | None = typer.Option(
        None, help="also create an account for every demo person and write their tokens "
                   "(JSON) to this file, to try the CLI and the HTTP API as them"),
) -> None:
    """Generate one street (6 communities, 40 grids, about 900 places) and a year of cases."""
    store = settings()
    clock = FixedClock(START)
    service = open_cases(store, clock=clock)
    try:
        existing = service.recorder.max_notification_id() or 0
        if existing:
            elsewhere = ("use another HAZARDFLOW_DATABASE_SCHEMA" if store.database_url else
                         "delete the file or point HAZARDFLOW_SQLITE_PATH elsewhere")
            raise DomainError(
                f"{store.describe_store()} already holds {existing} events; the demo needs an "
                f"empty store ({elsewhere})")
        where = jurisdiction.build(seed)
        if tokens is not None:
            stream = _open_private(tokens)  # before the accounts: their tokens are shown once
            issued = {a.id: {"role": a.role.value, "unit": a.unit,
                             "token": Accounts(service).add(a.id, a.role, a.unit, by="demo")}
                      for a in where.people()}
            with stream:
                stream.write(json.dumps(issued, ensure_ascii=False, indent=1))
        driver = HistoryDriver(service, clock, where, seed)
        with Progress(TextColumn("generating cases"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as progress:
            task = progress.add_task("cases", total=cases)
            result = driver.run(cases, on_progress=lambda n: progress.advance(task, n))
    finally:
        service.shutdown()
    typer.echo(f"{result.cases} cases, {result.commands} commands, "
               f"{len(where.places)} places in {store.describe_store()}")
    typer.echo("paths: " + ", ".join(f"{k} {v}" for k, v in sorted(result.paths.items())))
    typer.echo("states now: " + ", ".join(f"{k} {v}" for k, v in sorted(result.states.items())))
    if tokens is not None:
        typer.echo(f"tokens for {len(where.people())} demo accounts written to {tokens}")
    typer.echo(f"\nthe case with the longest history: hazardflow case show {result.richest}\n")
    show(result.richest, version=None, as_json=False)


def _open_private(path: Path) -> TextIO:
    """``path`` opened for writing, readable by its owner only: it holds bearer tokens."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        raise DomainError(f"--tokens {path}: {error.strerror}") from None
    if os.path.isfile(path):
        os.fchmod(fd, 0o600)  # a file that was there keeps its mode otherwise
    return os.fdopen(fd, "w", encoding="utf-8")
