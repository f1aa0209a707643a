"""Places as registered: what a place id is, how it came to be so, and moving it.

A place id names one place: its first report registers its grid, community and kind, and a
later report that differs is refused (``workflows.records.PlaceRegister``). When a street
redraws its grids, or a kind was recorded wrongly, an admin of the street says what the
place is now. The command line (``hazardflow places``) and the HTTP API
(``/api/places/{place_id}``) both go through here, so both check the same things.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from api.scopes import STREET_ROLES, can_see, check_place, parent_unit, within
from domain.errors import DomainError, NotPermitted, PlaceNotFound
from domain.values import Actor, PlaceKind, Role
from projections.units import require_known
from workflows.records import PlaceRegister
from workflows.service import HazardCases, PlaceMoveResult


@dataclass(frozen=True)
class PlaceChange:
    at: datetime
    change: Literal["registered", "moved"]  # by its first report, or by an admin
    grid: str
    community: str
    kind: str
    by: str | None
    reason: str | None


@dataclass(frozen=True)
class PlaceView:
    place_id: str
    identity: dict[str, str] | None  # None: reported before places were described
    changes: list[PlaceChange]
    open_cases: list[str]  # case numbers


def view(cases: HazardCases, place_id: str, actor: Actor | None = None) -> PlaceView:
    """The place as registered; ``actor``, when given, must have it in their area (one
    outside it is told the place is unknown). The command line reads the whole store."""
    register = _visible_register(cases, place_id, actor)
    changes = []
    for event in cases.events.get(register.id):
        if isinstance(event, PlaceRegister.Moved):  # first: a Moved is a Described too
            changes.append(PlaceChange(event.timestamp, "moved", event.grid, event.community,
                                       event.kind, event.moved_by, event.reason))
        elif isinstance(event, PlaceRegister.Described):
            changes.append(PlaceChange(event.timestamp, "registered", event.grid,
                                       event.community, event.kind, None, None))
    numbers = sorted(cases.get_case(case_id).number for case_id in register.open_cases)
    return PlaceView(place_id, register.identity, changes, numbers)


def move(cases: HazardCases, actor: Actor, place_id: str, grid: str, kind: str | None,
         reason: str, command_id: str | None = None) -> PlaceMoveResult:
    """Register the place in ``grid`` (and as ``kind``, if given), its open cases with it;
    returns what it was."""
    community = _movable(cases, actor, place_id, grid)
    return cases.move_place(place_id, grid=grid, community=community, kind=kind,
                            reason=reason, actor=actor, command_id=command_id)


@dataclass(frozen=True)
class PlannedMove:
    line: int  # of the file it came from
    place_id: str
    grid: str
    kind: str | None


def plan_moves(cases: HazardCases, actor: Actor,
               rows: list[tuple[int, str, str, str | None]]
               ) -> tuple[list[PlannedMove], int, list[str]]:
    """Check every (line, place id, grid, kind) of a redrawing before any is moved: the
    moves to make, how many places already are where their line puts them, and one
    problem per refused line (``line N: ...``). A street redraws many grids at once; a
    file half applied because its 30th line was wrong would leave it to find which half."""
    _require_admin(actor)  # said once, not on every line
    planned, already, problems, seen = [], 0, [], set()
    for line, place_id, grid, kind in rows:
        try:
            if not place_id or not grid:
                raise DomainError("a place_id and a grid are both needed")
            if place_id in seen:
                raise DomainError(f"place {place_id} is on an earlier line too")
            seen.add(place_id)
            if kind is not None and kind not in {k.value for k in PlaceKind}:
                raise DomainError(f"unknown place kind {kind!r}")
            community = _movable(cases, actor, place_id, grid)
            register, registered = cases.place_to_move(place_id)
        except DomainError as refused:
            problems.append(f"line {line}: {refused}")
            continue
        identity = {"grid": grid, "community": community, "kind": kind or registered["kind"]}
        if identity == registered and not cases.cases_behind(register, identity):
            already += 1
        else:
            planned.append(PlannedMove(line, place_id, grid, kind))
    return planned, already, problems


def _movable(cases: HazardCases, actor: Actor, place_id: str, grid: str) -> str:
    """The community of ``grid``, if ``actor`` may move the place there. Who moves a place
    is on the record years later, so it is an authenticated admin, and only within their
    own street: the place as registered and the grid it moves to."""
    _require_admin(actor)
    community = parent_unit(grid)
    check_place(grid, community)
    if not within(grid, actor.unit):
        raise NotPermitted(f"grid {grid} lies outside your street {actor.unit}")
    _visible_register(cases, place_id, actor)  # a place of another street is not theirs
    # A community nobody holds and no case was reported in has no officer to work the
    # place's open cases, which move there with it: a typo (YS-C09 for YS-C06) would leave
    # them on no one's desk. A new grid of a known community is a redrawing's usual case.
    require_known(cases, (("community", community),))
    return community


def _require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        article = "an" if actor.role.value[0] in "aeiou" else "a"  # an auditor, a leader
        raise NotPermitted(f"only an admin moves a place, not {article} {actor.role.value}")


def _visible_register(cases: HazardCases, place_id: str,
                      actor: Actor | None) -> PlaceRegister:
    register = cases.place_register(place_id)
    if register is None or (actor is not None and not _in_area(cases, actor, register)):
        raise PlaceNotFound(place_id, in_area=actor is not None)
    return register


def _in_area(cases: HazardCases, actor: Actor, register: PlaceRegister) -> bool:
    if register.identity is not None:
        return can_see(actor, register.identity, None)
    # Registered before places were described: no grid of its own, so where its open cases
    # lie (its case numbers are shown to nobody those cases are hidden from). With none
    # open there is nothing to show but that it has no grid yet.
    open_places = [cases.get_case(case_id).place for case_id in register.open_cases]
    if open_places:
        return any(can_see(actor, place, None) for place in open_places)
    return actor.role in STREET_ROLES
