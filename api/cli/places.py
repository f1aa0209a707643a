"""``hazardflow places``: what a registered place is, and moving it when grids are redrawn
(``api.places``, which the HTTP API shares)."""

from __future__ import annotations

import typer

from api import places
from api.cli.case import TOKEN
from api.cli.context import caller, service
from api.scopes import parent_unit
from domain.timeutil import shown
from domain.values import PlaceKind

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
    the new grid; its cases keep the place as they recorded it. An admin of the street only."""
    actor = caller(token)
    before = places.move(service(), actor, place_id, grid, kind and kind.value, reason)
    typer.echo(f"moved {place_id} to grid {grid}, community {parent_unit(grid)}"
               f"{', ' + kind.value if kind else ''} (was grid {before['grid']}, "
               f"{before['kind']})")
    # said, since nothing else tells the operator: the cases do not move with the place
    still_open = places.view(service(), place_id).open_cases
    if still_open:
        typer.echo(f"its open cases stay in grid {before['grid']}, with that grid's "
                   f"workers: {', '.join(still_open)}")


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
            typer.echo(f"  {shown(change.at)}  moved to grid {change.grid} ({change.kind}) "
                       f"by {change.by}: {change.reason}")
    typer.echo(f"open cases: {', '.join(place.open_cases) if place.open_cases else 'none'}")
