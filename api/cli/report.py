"""``hazardflow report ledger|accountability|audit|risk|stats|escalations``: now or as of a date."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from api.cli.case import parse_day
from api.cli.context import service
from api.cli.projections import progress_bar
from domain.errors import DomainError
from domain.values import Category, Department, Severity
from projections.accountability import AccountabilityFilter
from projections.audit import AuditFilter
from projections.escalations import STATUSES, EscalationsFilter
from projections.ledger import LedgerFilter
from projections.render import FORMATS, LANGS, print_table, render, rich_table
from projections.report import Report
from projections.reports import check, read
from projections.risk import RiskFilter
from projections.stats import StatsFilter

app = typer.Typer(help="Reports from the read models, now or as of a past date (--as-of).",
                  no_args_is_help=True)

AS_OF = typer.Option(None, "--as-of", metavar="DATE",
                     help="report as it stood at the end of DATE (YYYY-MM-DD, China time); "
                          "default: now")
BASIS = typer.Option("recorded", "--basis",
                     help="recorded: what the system knew then; occurred: how things truly "
                          "stood then, including reports recorded later")
FORMAT = typer.Option("table", "--format", help=f"one of {', '.join(FORMATS)}")
LANG = typer.Option("zh", "--lang", help="headings in zh (中文) or en")
OUT = typer.Option(None, "--out", help="write to this file instead of the terminal")


def _emit(name: str, filters: Any, as_of: str | None, basis: str, fmt: str, lang: str,
          out: Path | None) -> None:
    check_output(fmt, lang, out)  # before the work, which may be a long replay
    day = parse_day(as_of)
    check(service(), name, day, basis)
    with progress_bar("replaying" if day else "catching up") as advance:
        report = read(service(), name, filters, as_of=day, basis=basis, progress=advance)
    emit(report, fmt, lang, out)


def check_output(fmt: str, lang: str, out: Path | None) -> None:
    """Refuse an unknown format or language, or an --out that cannot be written."""
    if fmt not in FORMATS:
        raise DomainError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise DomainError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
    if fmt == "xlsx" and out is None:
        raise DomainError("xlsx needs --out FILE")
    if out is not None:
        # a file named .xlsx holding a text table (the default format) opens in no program
        named = out.suffix.lower().lstrip(".")
        if named in FORMATS and named != fmt:
            raise DomainError(f"--out {out} is named .{named} but the format is {fmt}: "
                              f"add --format {named}, or give the file another name")
        _check_writable(out)


def emit(report: Report, fmt: str, lang: str, out: Path | None) -> None:
    """``report`` to ``out`` (whole or not at all) or to the terminal."""
    if out is not None:
        _write_whole(out, render(report, fmt, lang))
        typer.echo(f"{len(report.rows)} rows written to {out}", err=True)
    elif fmt == "table":
        print_table(rich_table(report, lang))
    else:
        sys.stdout.buffer.write(render(report, fmt, lang))
        sys.stdout.flush()


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise DomainError(f"--out {out} is a directory; name a file")
    if out.exists() and not out.is_file():
        return  # a pipe or a device, written to as it is (``_write_whole``)
    folder = Path(os.path.realpath(out)).parent  # a link's target is what is written
    if not folder.is_dir():
        raise DomainError(f"--out {out}: there is no directory {folder}")
    if not os.access(folder, os.W_OK):
        raise DomainError(f"--out {out}: the directory {folder} is not writable")


def _write_whole(out: Path, content: bytes) -> None:
    """Write ``out`` whole or not at all: a file a ledger is handed on from is never
    half-written (a full disk, an interrupt), and an older one stays until replaced.

    A link is followed (the file it names is replaced, the link stays); a pipe or a device
    (``/dev/stdout``) is written to, never replaced by a file.
    """
    if out.exists() and not out.is_file():
        with out.open("wb") as stream:
            stream.write(content)
        return
    out = Path(os.path.realpath(out))
    scratch = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        scratch.write_bytes(content)
        os.replace(scratch, out)
    finally:
        scratch.unlink(missing_ok=True)


@app.command("ledger")
def ledger(
    community: str | None = typer.Option(None), grid: str | None = typer.Option(None),
    category: Category | None = typer.Option(None),
    severity: Severity | None = typer.Option(None),
    state: str | None = typer.Option(None, help="a state, or its top state (rectifying)"),
    overdue: bool | None = typer.Option(None, "--overdue/--not-overdue"),
    found_from: str | None = typer.Option(None, "--from", help="found on or after DATE"),
    found_to: str | None = typer.Option(None, "--to", help="found on or before DATE"),
    as_of: str | None = AS_OF, basis: str = BASIS, fmt: str = FORMAT, lang: str = LANG,
    out: Path | None = OUT,
) -> None:
    """The hazard ledger (台账): one row per case."""
    filters = LedgerFilter(community, grid, category and category.value,
                           severity and severity.value, state, overdue,
                           parse_day(found_from), parse_day(found_to))
    _emit("ledger", filters, as_of, basis, fmt, lang, out)


@app.command("accountability")
def accountability(
    level: str | None = typer.Option(None, help="street, community, grid, department, actor"),
    unit: str | None = typer.Option(None, help="one unit or person"),
    street: str | None = typer.Option(None, help="count only this street's cases (a "
                                                 "department's part in it)"),
    as_of: str | None = AS_OF, basis: str = BASIS, fmt: str = FORMAT, lang: str = LANG,
    out: Path | None = OUT,
) -> None:
    """Who is waited on, slow action (慢作为), time to act, on-time rate."""
    _emit("accountability", AccountabilityFilter(level, unit, street), as_of, basis, fmt,
          lang, out)


@app.command("audit")
def audit(
    case: str | None = typer.Option(None, help="case number or id"),
    actor: str | None = typer.Option(None, help="actor id"),
    since: str | None = typer.Option(None, "--from", help="on or after DATE"),
    until: str | None = typer.Option(None, "--to", help="on or before DATE"),
    time: str = typer.Option("occurred", help="the dates apply to: occurred or recorded"),
    as_of: str | None = AS_OF, basis: str = BASIS, fmt: str = FORMAT, lang: str = LANG,
    out: Path | None = OUT,
) -> None:
    """The audit trail: who did what and when."""
    filters = AuditFilter(case, actor, parse_day(since), parse_day(until), time)
    _emit("audit", filters, as_of, basis, fmt, lang, out)


@app.command("risk")
def risk(
    view: str = typer.Option("places", help="places, communities or changes"),
    community: str | None = typer.Option(None),
    grade: str | None = typer.Option(None, help="red, yellow or green"),
    place: str | None = typer.Option(None, help="one place id"),
    as_of: str | None = AS_OF, basis: str = BASIS, fmt: str = FORMAT, lang: str = LANG,
    out: Path | None = OUT,
) -> None:
    """Red/yellow/green grades per place (红黄绿), counts per community, grade history."""
    _emit("risk", RiskFilter(view, community, grade, place), as_of, basis, fmt, lang, out)


@app.command("stats")
def stats(
    since: str | None = typer.Option(None, "--from", help="first month, YYYY-MM"),
    until: str | None = typer.Option(None, "--to", help="last month, YYYY-MM"),
    community: str | None = typer.Option(None),
    category: Category | None = typer.Option(None),
    as_of: str | None = AS_OF, basis: str = BASIS, fmt: str = FORMAT, lang: str = LANG,
    out: Path | None = OUT,
) -> None:
    """Monthly figures per community and category, with rectification and on-time rates."""
    filters = StatsFilter(since, until, community,
                          category and category.value)
    _emit("stats", filters, as_of, basis, fmt, lang, out)


@app.command("escalations")
def escalations(
    view: str = typer.Option("cases", help="cases: one row per escalated case; board: "
                             "counts per department and status"),
    department: Department | None = typer.Option(None, help="one department, e.g. fire"),
    status: str | None = typer.Option(None, help=", ".join(STATUSES)),
    community: str | None = typer.Option(None),
    overdue: bool = typer.Option(False, "--overdue", help="only acceptances overdue"),
    as_of: str | None = AS_OF, basis: str = BASIS, fmt: str = FORMAT, lang: str = LANG,
    out: Path | None = OUT,
) -> None:
    """The escalations board per department: awaiting acceptance, accepted, in enforcement,
    returned for rectification, closed; age; acceptances overdue (by the rules in force)."""
    if status is not None and status not in STATUSES:
        raise DomainError(f"unknown status {status!r}; expected one of: {', '.join(STATUSES)}")
    filters = EscalationsFilter(department=department and department.value, status=status,
                                view=view, community=community, overdue_only=overdue,
                                policy=service().policy)
    _emit("escalations", filters, as_of, basis, fmt, lang, out)
