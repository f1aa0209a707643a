"""``hazardflow escalate-due``: run the deadline and escalation tick once.

The same tick runs inside ``hazardflow worker`` after every catch-up; this command is for
cron, for a catch-up after downtime, and for trying the rules out (``--now``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.case import parse_instant
from api.cli.context import require_store, settings
from api.cli.projections import progress_bar
from api.wiring import open_cases
from domain.clock import SystemClock
from domain.timeutil import LOCAL_TZ, local_date
from workflows.calendar import WorkingCalendar
from workflows.escalation import tick
from workflows.rules import MOVE_KEY, load_rules


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
    require_store(settings())  # cron with a mistyped path: no empty store, no "nothing due"
    service = open_cases(settings())
    try:
        with progress_bar("checking due cases") as advance:
            report = tick(service, instant, advance)
        when = (instant or service.clock.now()).astimezone(LOCAL_TZ)
        typer.echo(f"{when.isoformat(timespec='seconds')} (rules {service.policy.version}): "
                   f"{report.summary()}")
    finally:
        service.shutdown()


rules_app = typer.Typer(help="The rules file: deadlines, routing, escalation chain, calendar.",
                        no_args_is_help=True)


@rules_app.command("check")
def check_rules(
    path: Annotated[Path | None, typer.Argument(
        help="a rules file (default: HAZARDFLOW_RULES_FILE, else the packaged default)")] = None,
) -> None:
    """Check a rules file as start-up would, and summarise it (exit 2 naming a bad key)."""
    rules = load_rules(path or settings().rules_file)
    model = rules.model
    typer.echo(f"{rules.source}: rules {rules.version} are valid")
    deadlines = ", ".join([f"general {model.deadlines.general}",
                           f"major {model.deadlines.major}"]
                          + [f"{c.value} {d}" for c, d in model.deadlines.category.items()])
    typer.echo(f"notice within {model.notice.within} of a report; deadlines: {deadlines}")
    typer.echo(f"re-inspection within {model.verification.within}; reminder "
               f"{model.reminders.before_deadline} before a deadline")
    chain = " -> ".join(f"{lv.level.value} ({lv.accept_within})"
                        for lv in model.escalation.chain)
    typer.echo(f"escalation chain: {chain}; the department decides within "
               f"{model.escalation.decide_within} of accepting")
    moved = model.calendar.calendar_day_periods_end_on_working_day
    typer.echo("a period in calendar days ending on a weekend or holiday ends "
               + ("on the next working day" if moved else "on that day")
               + f" ({MOVE_KEY} = {str(moved).lower()})")
    # Warns (on stderr) about this year or next if chinese-calendar does not know them yet,
    # and about days the file lists for a year it knows (the package's schedule wins).
    calendar = WorkingCalendar(model.calendar.holidays, model.calendar.workdays)
    this_year = local_date(SystemClock().now()).year
    listed = {d.year for d in [*model.calendar.holidays, *model.calendar.workdays]}
    for year in sorted({this_year, this_year + 1} | listed):
        calendar.knows(year)
