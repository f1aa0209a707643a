"""``hazardflow places``: what a registered place is, and moving it when grids are redrawn.

A place id names one place: its first report registers its grid, community and kind, and a
later report that differs is refused (``workflows.records.PlaceRegister``). When the street
redraws its grids, or a kind was recorded wrongly, an administrator says what the place is
now; the place's cases keep the place their events recorded.
"""

from __future__ import annotations

import typer

from api.cli.case import TOKEN
from api.cli.context import caller, service
from api.scopes import check_place, parent_unit, within
from domain.errors import DomainError, NotPermitted
from domain.timeutil import shown
from domain.values import Actor, PlaceKind, Role
from workflows.records import PlaceRegister

app = typer.Typer(help="Places: what a place id is registered as, and moving it.",
                  no_args_is_help=True)

KIND = typer.Option(None, "--kind", help="the place's kind, if it changes too")


@app.command("move")
def move(
    place_id: str = typer.Argument(..., help="the place id, as reported (PL-00001)"),
    grid: str = typer.Option(..., help="the grid the place lies in now (its community is "
                                       "the grid id's first part)"),
    kind: PlaceKind | None = KIND,
    reason: str = typer.Option(..., help="why, kept with the change (网格调整 ...)"),
    token: str | None = TOKEN,
) -> None:
    """Register a place in another grid (or as another kind): later reports at it must give
    the new grid; its cases keep the place as they recorded it. An admin of the street only."""
    actor = caller(token)
    community = parent_unit(grid)
    check_place(grid, community)
    cases = service()
    _require_street_admin(actor, grid, cases.place_register(place_id))
    before = cases.move_place(place_id, grid=grid, community=community,
                              kind=kind and kind.value, reason=reason, by=actor.id)
    was = (f" (was grid {before['grid']}, {before['kind']})" if before
           else " (it had no grid registered)")
    typer.echo(f"moved {place_id} to grid {grid}, community {community}"
               f"{', ' + kind.value if kind else ''}{was}")


def _require_street_admin(actor: Actor, grid: str, register: PlaceRegister | None) -> None:
    """Who moves a place is on the record years later, so it is an authenticated admin, and
    only within their own street, at both ends of the move."""
    if actor.role is not Role.ADMIN:
        raise NotPermitted(f"only an admin moves a place, not a {actor.role.value}")
    registered = (register.identity or {}).get("grid", grid) if register else grid
    for end in (grid, registered):
        if not within(end, actor.unit):
            raise NotPermitted(f"grid {end} lies outside your street {actor.unit}")


@app.command("show")
def show(place_id: str = typer.Argument(..., help="the place id, as reported")) -> None:
    """What the place is registered as, when and by whom it was described or moved, and
    its open cases."""
    cases = service()
    register = cases.place_register(place_id)
    if register is None:
        raise DomainError(f"no place {place_id} is registered: it has never been reported")
    identity = register.identity
    typer.echo(f"{place_id}: " + (f"{identity['kind']}, grid {identity['grid']}, community "
                                  f"{identity['community']}" if identity
                                  else "no grid registered yet (reported before places were "
                                       "described)"))
    for event in cases.events.get(register.id):
        if isinstance(event, PlaceRegister.Described):
            typer.echo(f"  {shown(event.timestamp)}  registered in grid {event.grid} ({event.kind}) by its "
                       "first report")
        elif isinstance(event, PlaceRegister.Moved):
            typer.echo(f"  {shown(event.timestamp)}  moved to grid {event.grid} ({event.kind}) by "
                       f"{event.moved_by}: {event.reason}")
    numbers = sorted(cases.get_case(case_id).number for case_id in register.open_cases)
    typer.echo(f"open cases: {', '.join(numbers) if numbers else 'none'}")
