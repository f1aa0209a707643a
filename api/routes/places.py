"""``/api/places/{place_id}``: what a place id is registered as, and moving it when a street
redraws its grids (admins of the street only). The same checks as ``hazardflow places``
(``api.places``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict

from api import places
from api.deps import ActorDep, CasesDep, IdempotencyKey
from api.schemas.commands import Prose
from api.schemas.common import Code, Strict, problem_responses
from domain.values import PlaceKind

router = APIRouter(prefix="/api/places", tags=["places"])

PlaceRef = Annotated[str, Path(description="the place id, as reported (PL-00001)",
                               max_length=100)]


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses = problem_responses(*statuses)
    if 404 in responses:
        responses[404] = {**responses[404], "description":
                          "no place of that id is registered in the caller's area"}
    return responses


class PlaceChangeOut(BaseModel):
    at: datetime
    change: Literal["registered", "moved"]
    grid: str
    community: str
    kind: str
    by: str | None
    reason: str | None


class PlaceOut(BaseModel):
    id: str
    grid: str | None
    community: str | None
    kind: str | None
    changes: list[PlaceChangeOut]
    open_cases: list[str]

    @classmethod
    def of(cls, place: places.PlaceView) -> PlaceOut:
        identity = place.identity or {}
        return cls(id=place.place_id, grid=identity.get("grid"),
                   community=identity.get("community"), kind=identity.get("kind"),
                   changes=[PlaceChangeOut(at=c.at, change=c.change, grid=c.grid,
                                           community=c.community, kind=c.kind, by=c.by,
                                           reason=c.reason) for c in place.changes],
                   open_cases=place.open_cases)


class MoveIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"grid": "YS-C01-G02", "reason": "网格调整"},
        {"grid": "YS-C01-G02", "kind": "enterprise", "reason": "场所类型登记有误"}]})

    grid: Code
    kind: PlaceKind | None = None
    reason: Prose


@router.get("/{place_id}", responses=_responses(401, 404), summary="a registered place")
def get_place(place_id: PlaceRef, actor: ActorDep, cases: CasesDep) -> PlaceOut:
    """What the place id is registered as (grid, community, kind; null for a place reported
    before places were described), when and by whom it was registered or moved, and the
    numbers of its open cases. A place outside the caller's area is answered as unknown."""
    return PlaceOut.of(places.view(cases, place_id, actor))


@router.post("/{place_id}/move", responses=_responses(400, 401, 403, 404, 422),
             summary="move a place to another grid (admins)")
def move_place(place_id: PlaceRef, body: MoveIn, actor: ActorDep, cases: CasesDep,
               idempotency_key: IdempotencyKey, response: Response) -> PlaceOut:
    """Register the place in another grid (its community is the grid id's first part) or
    as another kind, with the reason: later reports at it must give the new grid, and its
    open cases move with it (each records the move; closed cases keep the grid their events
    recorded). An admin of the place's street only; the admin is recorded as who moved it
    (the place and its cases). With an ``Idempotency-Key``, a repeat of the same move
    answers the place again with ``Idempotent-Replayed: true`` and appends nothing; the key
    with another body is a 422."""
    moved = places.move(cases, actor, place_id, body.grid, body.kind and body.kind.value,
                        body.reason, idempotency_key)
    if moved.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return PlaceOut.of(places.view(cases, place_id, actor))
