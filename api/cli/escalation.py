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
from domain.clock import FixedClock
from workflows.escalation import tick


def escalate_due(
    now: str | None = typer.Option(
        None, "--now", metavar="TIMESTAMP",
        help="act as if the clock read TIMESTAMP (ISO; China time without an offset); "
             "the events record it as their time. Default: now"),
) -> None:
    """Record reminders, missed deadlines (and escalate them), slow re-inspections and
    escalations climbing a level: everything due by the rules (exactly once)."""
    instant = parse_instant(now)
    service = open_cases(settings(), clock=FixedClock(instant) if instant else None)
    try:
        with Progress(TextColumn("checking due cases"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=True) as progress:
            task = progress.add_task("cases", total=None)
            report = tick(service, lambda done, total: progress.update(
                task, completed=done, total=total))
        typer.echo(f"{service.clock.now().isoformat(timespec='seconds')} "
                   f"(rules {service.policy.version}): {report.summary()}")
    finally:
        service.shutdown()
