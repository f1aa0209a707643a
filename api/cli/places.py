"""``hazardflow places``: what a registered place is, and moving it when grids are redrawn
(``api.places``, which the HTTP API shares)."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from api import places
from api.cli.case import TOKEN
from api.cli.context import caller, service
from api.scopes import parent_unit
from domain.errors import DomainError
from domain.timeutil import shown
from domain.values import PlaceKind
from projections.display import visible

app = typer.Typer(help="Places: what a place id is registered as, and moving it.",
                  no_args_is_help=True)


@app.command("move")
def move(
    place_id: str = typer.Argument(..., help="the place id, as reported (PL-00001)"),
    grid: str = typer.Option(..., help="the grid the place lies in now (its community is "
                                       "the grid id's first part)"),
    kind: PlaceKind | None = typer.Option(None, "--kind",
                                          help="the place's kind, if it changes too"),
    reason: str = typer.Option(..., help="why, kept with the change (网格调整 ...)"),
    token: str | None = TOKEN,
) -> None:
    """Register a place in another grid (or as another kind): later reports at it must give
    the new grid, and its open cases move with it to the new grid's desks (closed ones keep
    the place as they recorded it). An admin of the street only."""
    actor = caller(token)
    before = places.move(service(), actor, place_id, grid, kind and kind.value, reason).before
    now = {"grid": grid, "community": parent_unit(grid), "kind": kind.value if kind else
           before["kind"]}
    if now == before:  # moved before its cases followed their place: only they moved now
        typer.echo(f"{place_id} already is in grid {grid}; moved its open cases there")
    else:
        typer.echo(f"moved {place_id} to grid {grid}, community {parent_unit(grid)}"
                   f"{', ' + kind.value if kind else ''} (was grid {before['grid']}, "
                   f"{before['kind']})")
    moved = places.view(service(), place_id).open_cases
    if moved:
        typer.echo(f"its open cases are now in grid {grid}: {', '.join(moved)}")


@app.command("move-many")
def move_many(
    file: Path = typer.Argument(..., help="a CSV file with a header line: place_id, grid "
                                          "and, optionally, kind"),
    reason: str = typer.Option(..., help="why, kept with each change (网格调整 ...)"),
    token: str | None = TOKEN,
) -> None:
    """Move every place a CSV file lists, when a street redraws its grids: each line is
    checked first, and a file with any line refused moves nothing. Each place's open cases
    move with it. Running it again moves only what is not yet where the file puts it."""
    actor = caller(token)
    cases = service()
    planned, already, problems = places.plan_moves(cases, actor, _read_moves(file))
    if problems:
        for problem in problems:
            typer.echo(f"{file}: {problem}", err=True)
        raise DomainError(f"nothing moved: {len(problems)} line(s) of {file} refused "
                          "(listed above)")
    with Progress(TextColumn("moving places"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True,
                  disable=len(planned) < 50) as progress:
        task = progress.add_task("move", total=len(planned))
        for move in planned:
            places.move(cases, actor, move.place_id, move.grid, move.kind, reason)
            progress.advance(task)
    typer.echo(f"moved {len(planned)} place(s) and their open cases; {already} already "
               f"where {file.name} puts them")


def _read_moves(file: Path) -> list[tuple[int, str, str, str | None]]:
    """(line, place id, grid, kind or None) of each row; utf-8-sig, as Excel saves CSV."""
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or ()]
            reader.fieldnames = header
            missing = {"place_id", "grid"} - set(header)
            if missing:
                raise DomainError(f"{file}: the header line must name place_id and grid "
                                  f"(and may name kind); missing {', '.join(sorted(missing))}")
            twice = sorted({name for name in header if name and header.count(name) > 1})
            if twice:  # which of the two would a move take? neither, said
                raise DomainError(f"{file}: the header line names {', '.join(twice)} twice")
            rows = []
            for row in reader:
                if None in row:  # more fields than the header names
                    raise DomainError(f"{file}: line {reader.line_num} has more fields than "
                                      "the header line names")
                if not any((value or "").strip() for value in row.values()):
                    continue  # a row Excel saved with every field empty (,,)
                rows.append((reader.line_num, (row["place_id"] or "").strip(),
                             (row["grid"] or "").strip(),
                             (row.get("kind") or "").strip() or None))
            return rows
    except UnicodeDecodeError:
        raise DomainError(f"{file} is not a UTF-8 text file") from None


@app.command("show")
def show(place_id: str = typer.Argument(..., help="the place id, as reported")) -> None:
    """What the place is registered as, when and by whom it was described or moved, and
    its open cases."""
    place = places.view(service(), place_id)
    identity = place.identity
    typer.echo(f"{place_id}: " + (f"{identity['kind']}, grid {identity['grid']}, community "
                                  f"{identity['community']}" if identity
                                  else "no grid registered yet (reported before places were "
                                       "described)"))
    for change in place.changes:
        if change.change == "registered":
            typer.echo(f"  {shown(change.at)}  registered in grid {change.grid} "
                       f"({change.kind}) by its first report")
        else:
            # a reason recorded before reasons were checked may hold control characters
            typer.echo(visible(f"  {shown(change.at)}  moved to grid {change.grid} "
                               f"({change.kind}) by {change.by}: {change.reason}"))
    typer.echo(f"open cases: {', '.join(place.open_cases) if place.open_cases else 'none'}")
