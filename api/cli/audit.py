"""``hazardflow audit``: prove the record was not rewritten (verify, digest, chain)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.cli.context import service, settings
from api.schemas.commands import sane_year
from api.wiring import open_blobs
from domain.errors import DomainError
from domain.timeutil import local_date
from projections.chain import ChainWitness, Digest, witness_tick
from projections.verify import Report, Verifier
from projections.worker import TICKS

app = typer.Typer(help="Tamper evidence: verify the hash chains, publish daily digests.",
                  no_args_is_help=True)

# `hazardflow worker` keeps the chain witness current, a round after the projections.
if witness_tick not in TICKS:
    TICKS.append(witness_tick)

# Below this many rows the walk takes a blink; no bar.
PROGRESS_FROM = 20_000
SHOWN_PROBLEMS = 20


def read_digests(path: Path) -> list[Digest]:
    """Digest lines from a file (``YYYY-MM-DD POSITION HEAD``; blank and # lines skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DomainError(f"no digest file {path}") from None
    except UnicodeDecodeError:
        raise DomainError(f"{path} is not a text file of digest lines (UTF-8)") from None
    digests = [Digest.parse(line, f"{path}:{n}: ") for n, line in enumerate(lines, 1)
               if line.strip() and not line.lstrip().startswith("#")]
    if not digests:
        raise DomainError(f"{path} holds no digest lines")
    return digests


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        disable=total < PROGRESS_FROM)


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(report.summary())
    for n, problem in enumerate(report.problems[:SHOWN_PROBLEMS]):
        typer.echo(f"{'first' if n == 0 else '     '} {problem.describe()}")
    if len(report.problems) > SHOWN_PROBLEMS:
        typer.echo(f"      ... and {len(report.problems) - SHOWN_PROBLEMS} more (--json)")


@app.command("verify")
def verify(
    digests: Path | None = typer.Option(
        None, "--digests", help="a file of published digest lines to check the log against"),
    files: bool = typer.Option(True, "--files/--no-files",
                               help="also check every referenced evidence file"),
    as_json: bool = typer.Option(False, "--json", help="the full report as JSON"),
) -> None:
    """Walk both hash chains (and the evidence files); exit 1 naming the first mismatch."""
    published = read_digests(digests) if digests else []
    cases = service()
    witness = ChainWitness(cases)
    backlog = cases.recorder.max_notification_id() or 0
    with _progress(backlog) as bar:
        task = bar.add_task("chaining new rows", total=backlog - witness.position()[0])
        witness.catch_up(progress=lambda n: bar.advance(task, n))
        bar.update(task, description="verifying", completed=0, total=witness.position()[0])
        blobs = open_blobs(settings()) if files else None
        report = Verifier(cases, blobs, witness).run(
            published, catch_up=False, progress=lambda n: bar.advance(task, n))
    _print(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


@app.command("digest")
def digest(
    day: str | None = typer.Option(
        None, "--date", help="YYYY-MM-DD, a China-time day that has ended (default: yesterday)"),
) -> None:
    """Print the global chain head at the end of a day, to publish, print or sign."""
    cases = service()
    now = cases.clock.now()
    try:
        wanted = date.fromisoformat(day) if day else local_date(now) - timedelta(days=1)
    except ValueError:
        raise DomainError(f"{day!r} is not a date like 2026-03-02") from None
    try:
        sane_year(wanted)  # the last day of year 9999 has no UTC end in China time
    except ValueError as error:
        raise DomainError(f"{day}: {error}") from None
    result = ChainWitness(cases).digest(wanted, now)
    typer.echo(f"# hazardflow chain head at the end of {wanted} (China time): "
               f"events 1..{result.position}", err=True)
    typer.echo(result.line())


@app.command("chain")
def chain() -> None:
    """Chain the rows recorded since the last run (the worker does this continuously)."""
    done = ChainWitness(service()).catch_up()
    typer.echo(f"chained {done:,} new rows")
