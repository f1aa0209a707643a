"""``GET /api/escalations``: the escalations board, inside the caller's jurisdiction.

A department officer reads their own department's board; a community's officers read the
cases of their community, street roles their street, grid roles their grid
(``api.scopes.area_filter``). Asking for another department than one's own is refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api import scopes
from api.deps import ActorDep, CasesDep
from api.schemas.common import problem_responses
from domain.errors import NotPermitted
from domain.values import Department
from projections.escalations import EscalationsFilter
from projections.reports import read

router = APIRouter(prefix="/api", tags=["escalations"])

Status = Literal["awaiting_acceptance", "accepted", "in_enforcement",
                 "returned_for_rectification", "closed"]


class EscalationOut(BaseModel):
    number: str
    department: str
    status: str
    place: str
    community: str
    category: str
    severity: str
    cause: str
    escalated: date
    age_days: int
    level: str
    accept_by: date | None
    acceptance_overdue: bool
    accepted: date | None
    enforcements: int
    supervised: bool
    closed: date | None


class DepartmentBoardOut(BaseModel):
    """One department's line of the board: what ``hazardflow report escalations --view
    board`` prints for it (the same query, ``projections.escalations``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "awaiting_acceptance": 2, "accepted": 1, "in_enforcement": 3,
        "returned_for_rectification": 0, "closed": 12, "acceptances_overdue": 1,
        "oldest_awaiting_days": 15}]})

    awaiting_acceptance: int
    accepted: int
    in_enforcement: int
    returned_for_rectification: int
    closed: int
    acceptances_overdue: int
    oldest_awaiting_days: int | None = Field(
        description="days since the longest-waiting escalation still awaiting the "
                    "department's acceptance was escalated; null when none awaits",
        examples=[15])


class BoardOut(BaseModel):
    as_of: date
    rules: str
    board: dict[str, DepartmentBoardOut] = Field(description="by department")
    escalations: list[EscalationOut]


@router.get("/escalations", responses=problem_responses(401, 403, 422),
            summary="the escalations board per department")
def escalations(
    actor: ActorDep, cases: CasesDep,
    department: Annotated[Department | None, Query(description="one department")] = None,
    status: Annotated[Status | None, Query()] = None,
    overdue: Annotated[bool, Query(description="only acceptances overdue")] = False,
    as_of: Annotated[date | None, Query(description="the board at the end of a past day")]
    = None,
) -> BoardOut:
    """Escalated cases by department and status (awaiting acceptance, accepted, in
    enforcement, returned for rectification, closed), their age, and acceptances overdue
    under the escalation chain's limits in the rules in force."""
    scope: dict[str, Any] = dict(scopes.area_filter(actor))
    wanted = department.value if department else None
    if "department" in scope and wanted not in (None, scope["department"]):
        raise NotPermitted(f"{actor.id} reads the {scope['department']} board, not {wanted}")
    if wanted:
        scope["department"] = wanted
    filters = EscalationsFilter(status=status, overdue_only=overdue, policy=cases.policy,
                                **scope)
    report = read(cases, "escalations", filters, as_of=as_of)
    # The board's lines as the CLI's --view board has them (the oldest awaiting age is
    # computed there only); the store was just caught up for the rows.
    lines = read(cases, "escalations", replace(filters, view="board"), as_of=as_of,
                 catch_up=False)
    return BoardOut(as_of=report.as_of, rules=report.meta["rules"],
                    board={line.pop("department"): DepartmentBoardOut(**line)
                           for line in lines.dicts()},
                    escalations=[EscalationOut(**row) for row in report.dicts()])
