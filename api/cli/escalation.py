"""``hazardflow escalate-due``: run the deadline and escalation tick once.

The same tick runs inside ``hazardflow worker`` after every catch-up; this command is for
cron, for a catch-up after downtime, and for trying the rules out (``--now``).
"""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli.case import parse_instant
from api.cli.context import settings
from api.wiring import open_cases
from domain.timeutil import LOCAL_TZ
from workflows.escalation import tick


def escalate_due(
    now: str | None = typer.Option(
        None, "--now", metavar="TIMESTAMP",
        help="decide what was due at TIMESTAMP, in the past (ISO; China time without an "
             "offset), e.g. to catch up a night the worker was down; the events occur then "
             "and are recorded now. Default: now"),
) -> None:
    """Record reminders, missed deadlines (and escalate them), slow re-inspections and
    escalations climbing a level: everything due by the rules (exactly once)."""
    instant = parse_instant(now)
    service = open_cases(settings())
    try:
        with Progress(TextColumn("checking due cases"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=True) as progress:
            task = progress.add_task("cases", total=None)
            report = tick(service, instant, lambda done, total: progress.update(
                task, completed=done, total=total))
        when = (instant or service.clock.now()).astimezone(LOCAL_TZ)
        typer.echo(f"{when.isoformat(timespec='seconds')} (rules {service.policy.version}): "
                   f"{report.summary()}")
    finally:
        service.shutdown()
