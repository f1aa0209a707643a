"""Jurisdiction: which cases a caller may see and act on, and where they may report.

Units nest by prefix, so no lookup table is needed: a grid id starts with its community id
and a dash, and a community id with its street id and a dash
(``YS-C01-G01`` is a grid of community ``YS-C01`` of street ``YS``). Which unit a role
holds:

| role | unit | sees |
|---|---|---|
| grid_worker, volunteer, property_staff | a grid | cases at places in that grid |
| safety_officer, inspector | a community | cases in that community |
| street_supervisor, leader, auditor, admin | a street | cases in that street |
| department_officer | a department code | cases escalated to that department |

Which *trigger* a role may use is not decided here but by ``workflows.lifecycle``; this
module only draws the territory. A case outside the territory is reported as not found
(404), so its existence does not leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from domain.errors import (
    CaseNotFound,
    DomainError,
    NotPermitted,
    PlaceMismatch,
    ProbableDuplicate,
)
from domain.values import Actor, Department, Role

GRID_ROLES = frozenset({Role.GRID_WORKER, Role.VOLUNTEER, Role.PROPERTY_STAFF})
COMMUNITY_ROLES = frozenset({Role.SAFETY_OFFICER, Role.INSPECTOR})
STREET_ROLES = frozenset({Role.STREET_SUPERVISOR, Role.LEADER, Role.AUDITOR, Role.ADMIN})
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_OFFICER})
SEPARATOR = "-"


class OutOfScope(CaseNotFound):
    """The case exists but lies outside the caller's jurisdiction: answered as not found,
    naming the case as the caller named it (its id for a number would tell that it exists)
    and in the words an unknown one is answered in (``CaseNotFound``)."""


def parent_unit(unit: str) -> str:
    """``YS-C01-G01`` -> ``YS-C01`` -> ``YS``; a street is its own top."""
    return unit.rsplit(SEPARATOR, 1)[0] if SEPARATOR in unit else unit


def street_of(unit: str) -> str:
    return unit.split(SEPARATOR, 1)[0]


def lineage(unit: str) -> list[str]:
    """``YS-C01-G01`` -> ``[YS-C01-G01, YS-C01, YS]``: the unit and every unit it lies in."""
    parts = unit.split(SEPARATOR)
    return [SEPARATOR.join(parts[:depth]) for depth in range(len(parts), 0, -1)]


def within(unit: str, area: str) -> bool:
    """Whether ``unit`` is ``area`` or nested inside it."""
    return unit == area or unit.startswith(area + SEPARATOR)


def unit_level(role: Role) -> str:
    """What kind of unit the role's accounts hold: grid, community, street or department."""
    if role in GRID_ROLES:
        return "grid"
    if role in COMMUNITY_ROLES:
        return "community"
    if role in DEPARTMENT_ROLES:
        return "department"
    return "street"


# One part of a unit id: a code as the API's ``Code`` allows it, with no dash (the dash
# joins the parts) and no space or line break.
_PART = r"[A-Za-z0-9][A-Za-z0-9_.:]*"
_GRID = re.compile(rf"{_PART}-{_PART}-{_PART}")
_PART_RE = re.compile(_PART)


def check_unit(role: Role, unit: str) -> None:
    """Refuse an account whose unit cannot be of its role's level (checked at creation)."""
    level = unit_level(role)
    depth = unit.count(SEPARATOR)
    if level == "department":
        if unit not in {d.value for d in Department}:
            choices = ", ".join(d.value for d in Department)
            raise DomainError(f"a department officer's unit is a department: {choices}")
        return
    expected = {"street": 0, "community": 1, "grid": 2}[level]
    # each part a code as a place's grid id takes it (check_place): an account in a unit no
    # report could name would file cases nobody else's unit sees
    malformed = not all(_PART_RE.fullmatch(part) for part in unit.split(SEPARATOR))
    if depth != expected or malformed or unit in {d.value for d in Department}:
        example = {"street": "YS", "community": "YS-C01", "grid": "YS-C01-G01"}[level]
        article = "an" if role.value[0] in "aeiou" else "a"  # an admin, an inspector
        raise DomainError(f"{article} {role.value}'s unit is a {level} id like {example!r}, "
                          f"not {unit!r}")


def check_place(grid: str, community: str) -> None:
    """A place's grid must be a grid id (street, community, grid code: ``YS-C01-G01``) of
    its community. Every edge (JSON, Open311's form, the command line, a place's move)
    checks this here, so none lets through a grid another refuses: a grid id of another
    depth would put the place where no grid's or community's desk ever sees it."""
    if not _GRID.fullmatch(grid) or parent_unit(grid) != community:
        raise DomainError(
            f"grid {grid!r} is not a grid of community {community!r} "
            "(grid ids are the community id, a dash and the grid's own code)"
        )


def can_see(actor: Actor, place: Mapping[str, Any], department: str | None) -> bool:
    """Whether a case at ``place`` (escalated to ``department``, if any) is in scope."""
    if actor.role in GRID_ROLES:
        return place.get("grid") == actor.unit
    if actor.role in COMMUNITY_ROLES:
        return place.get("community") == actor.unit
    if actor.role in DEPARTMENT_ROLES:
        return department is not None and department == actor.unit
    if actor.role in STREET_ROLES:
        return within(str(place.get("community", "")), actor.unit)
    return False


def require_visible(actor: Actor, case: Any, ref: str | None = None) -> None:
    """Raise OutOfScope (404) unless ``case`` is in the caller's territory; ``ref`` is the
    id or number the caller asked for, which the error names as an unknown one would be."""
    if not can_see(actor, case.place, case.department):
        raise OutOfScope(case.id if ref is None else str(ref).strip())


def require_named_visible(actor: Actor, cases: Any, params: Mapping[str, Any]) -> None:
    """A command naming another case (a dismissal's ``duplicate_of``) may name only one in
    the caller's territory; another is answered as not found, as it would be if asked for."""
    ref = str(params.get("duplicate_of") or "").strip()
    if ref:
        require_visible(actor, cases.get_case(ref), ref)


def require_may_report_at(actor: Actor, grid: str, community: str) -> None:
    """A reporter files hazards only inside the territory they patrol."""
    check_place(grid, community)
    if not can_see(actor, {"grid": grid, "community": community}, None):
        raise NotPermitted(f"{actor.id} ({actor.role.value}, {actor.unit}) may not report "
                           f"in grid {grid}")


@contextmanager
def duplicates_told_in_scope(actor: Actor, cases: Any) -> Iterator[None]:
    """Around a report or a reopening: a probable duplicate the caller may not see (a place
    id that has an open case recorded in another grid) is told without its id and number,
    as any case out of scope is answered as not found. That an open case of the category is
    recorded at the place is all they learn; they may still confirm the hazard as new.
    Since places are registered with their grid (``PlaceMismatch``), such a duplicate comes
    only from a place registered before that; a report naming a place id registered in
    another grid is refused, and the place is not described to a caller outside its area."""
    try:
        yield
    except ProbableDuplicate as duplicate:
        existing = cases.get_case(duplicate.case_id)
        if can_see(actor, existing.place, existing.department):
            raise
        raise ProbableDuplicate(None, None, duplicate.trigger) from None
    except PlaceMismatch as mismatch:
        # the place an id is registered as, in another grid, is not described either
        if mismatch.registered is None or can_see(actor, mismatch.registered, None):
            raise
        raise PlaceMismatch(mismatch.place_id, None, None) from None


def area_filter(actor: Actor) -> dict[str, str]:
    """The read-model filter that keeps a listing inside the caller's territory."""
    if actor.role in GRID_ROLES:
        return {"grid": actor.unit}
    if actor.role in COMMUNITY_ROLES:
        return {"community": actor.unit}
    if actor.role in DEPARTMENT_ROLES:
        return {"department": actor.unit}
    return {"street": actor.unit}


_DEPARTMENTS = frozenset(d.value for d in Department)


def row_visible(actor: Actor, row: Mapping[str, Any]) -> bool:
    """Whether one row of a report lies in the caller's territory.

    Rows about a case or place carry ``community`` (and ``grid``, ``department`` when they
    have them); accountability rows carry the ``unit`` they count for.
    """
    if "unit" in row and "community" not in row:
        unit = str(row["unit"] or "")
        if actor.role in DEPARTMENT_ROLES:
            return unit == actor.unit
        if unit in _DEPARTMENTS:
            return actor.role in STREET_ROLES
        return within(unit, actor.unit)
    community = str(row.get("community") or "")
    if "grid" not in row and actor.role in GRID_ROLES:
        # a per-community aggregate: a grid's people see their own community's figures
        return community == parent_unit(actor.unit)
    place = {"grid": row.get("grid"), "community": community}
    return can_see(actor, place, row.get("department"))


def named_visible(actor: Actor, cases: Any, kind: str, value: str) -> bool:
    """Whether the caller may see ``value`` named in a report filter (``kind`` as
    ``projections.units`` names them): a case or place in their area, a unit they lie in or
    that lies in their area. A department officer's cases lie in any street, so any
    territorial unit or place is theirs to name. The department codes are public (every
    refusal lists them). People are
    not checked: a person's name is not a unit of the map (``unit or person``: the caller
    asks for a name ``projections.units`` finds to be a unit as ``unit``)."""
    if kind in ("person", "unit or person") or value in _DEPARTMENTS:
        return True
    if kind == "case":
        try:
            require_visible(actor, cases.get_case(value), value)
        except CaseNotFound:
            return False
        return True
    if actor.role in DEPARTMENT_ROLES:
        return kind != "department"  # a department code was answered above
    if kind == "place":
        register = cases.place_register(value)
        identity = register.identity if register is not None else None
        return identity is None or can_see(actor, identity, None)
    return within(value, actor.unit) or within(actor.unit, value)


class CasePlaces:
    """Remembers where each case is, to check a command's scope without loading the case.

    A case's place is fixed when it is reported and changes only when an admin moves the
    place with the case open (``PlaceMoved``), maybe in another process. So what is
    remembered is a first check only: one that lets the caller in is made again on the case
    the command decides on (``checker``), which is read from the store whenever it could be
    stale, and one that keeps the caller out loads the case before it answers 404 (the case
    may have moved into the caller's grid). Department officers' scope depends on something
    else that changes (the department a case is escalated to): their checks always load
    the case. Bounded: forgotten wholesale past ``limit`` entries.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._places: dict[UUID, Mapping[str, Any]] = {}
        self._limit = limit

    def remember(self, case_id: UUID, place: Mapping[str, Any]) -> None:
        if len(self._places) >= self._limit:
            self._places.clear()
        self._places[case_id] = place

    def require_visible(self, cases: Any, actor: Actor, ref: str) -> UUID:
        """The id of case ``ref`` if it is in the caller's scope; else OutOfScope (404)."""
        try:
            case_id = UUID(ref)
        except ValueError:
            case_id = cases.resolve(ref)
        place = self._places.get(case_id)
        if place is None or actor.role in DEPARTMENT_ROLES or not can_see(actor, place, None):
            case = cases.get_case(case_id)
            self.remember(case.id, case.place)
            require_visible(actor, case, ref)
        return case_id

    def checker(self, actor: Actor, ref: str) -> Any:
        """The check a command makes on the case it decides on (``HazardCases._act``'s
        ``scope``), which also keeps what is remembered up to date."""
        def check(case: Any) -> None:
            self.remember(case.id, case.place)
            require_visible(actor, case, ref)

        return check
