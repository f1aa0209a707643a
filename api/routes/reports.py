"""Read models over HTTP: the case list, ledger (台账), accountability, risk grades and
statistics, now or as of the end of a past day, as JSON, CSV or XLSX like the CLI reports.

Each report comes from ``projections.reports.read`` (the same call as ``hazardflow
report``); the API then keeps only the rows inside the caller's jurisdiction
(``api.scopes.row_visible``), narrowing the query first where the report has a filter for
it. Read models are eventually consistent: a report is caught up to the log when read.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api import scopes
from api.deps import ActorDep, CasesDep
from api.schemas.commands import Day
from api.schemas.common import problem_responses
from domain.errors import NotPermitted
from domain.values import Actor, Category, Severity
from projections.accountability import AccountabilityFilter
from projections.ledger import LedgerFilter
from projections.render import render
from projections.report import Report
from projections.reports import read
from projections.risk import RiskFilter
from projections.stats import MONTH, StatsFilter
from projections.units import require_known
from workflows.service import HazardCases

router = APIRouter(prefix="/api", tags=["reports"])

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
Code = Annotated[str, Query(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ReportOptions(BaseModel):
    """How to read a report: when, on which basis, in which format and language."""

    as_of: date | None = Field(default=None,
                               description="as it stood at the end of this day (China time)")
    basis: Literal["recorded", "occurred"] = Field(
        default="recorded", description="recorded: what the system knew then; occurred: how "
                                        "things truly stood (late entries included)")
    format: Literal["json", "csv", "xlsx"] = "json"
    lang: Literal["zh", "en"] = "zh"


class ColumnOut(BaseModel):
    key: str
    label: str
    kind: str


class ReportOut(BaseModel):
    """A report as JSON: its columns, and one object per row keyed by column."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "report": "ledger", "title": "隐患台账", "as_of": "2026-03-02", "basis": "recorded",
        "columns": [{"key": "number", "label": "编号", "kind": "text"}],
        "rows": [{"number": "HZ-2026-000001"}]}]})

    report: str
    title: str
    as_of: str
    basis: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]


REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}},
                      MEDIA["xlsx"]: {"schema": {"type": "string", "format": "binary"}}},
          "description": "the report; CSV and XLSX when format asks for them"},
    **problem_responses(400, 401, 422),
}

Options = Annotated[ReportOptions, Depends()]


def _scoped(report: Report, actor: Actor) -> Report:
    keys = [c.key for c in report.columns]
    rows = [r for r in report.rows if scopes.row_visible(actor, dict(zip(keys, r)))]
    return dataclasses.replace(report, rows=rows)


def _narrowed(actor: Actor, **wanted: Any) -> dict[str, Any]:
    """Filter values: the caller's own area where the report filters by it and the caller
    named none. A value the caller named is kept even outside their area, where it
    matches no row ``_scoped`` keeps: replaced by their own area, it answered rows of
    another community or grid than the one asked for. Nothing is filled in where the caller
    named a community or a grid: a grid worker's own grid with another community they named
    (or a community officer's community with another's grid) would be refused as a grid
    that does not lie in that community, naming a value they did not give."""
    area = scopes.area_filter(actor)
    if wanted.get("community") is not None or wanted.get("grid") is not None:
        area = {}
    return {k: (area.get(k) if v is None else v) if k in ("community", "grid") else v
            for k, v in wanted.items()}


def _read_scoped(cases: HazardCases, actor: Actor, name: str, filters: Any,
                 **when: Any) -> Report:
    """The report's rows inside the caller's area. A place, unit or case named in a filter
    that lies outside it is refused in the words one nobody knows is: an empty report for
    it, next to a refusal for an unknown one, would tell that it exists."""
    visible = partial(scopes.named_visible, actor, cases)
    whole = read(cases, name, filters, visible=visible, **when)  # checked there when empty
    report = _scoped(whole, actor)
    if whole.rows and not report.rows and filters is not None:
        require_known(cases, filters.units(), visible)  # every row lay outside their area
    return report


def _serve(cases: HazardCases, actor: Actor, name: str, filters: Any,
           options: ReportOptions) -> Response:
    report = _read_scoped(cases, actor, name, filters, as_of=options.as_of,
                          basis=options.basis)
    body = render(report, options.format, options.lang)
    headers = {}
    if options.format != "json":
        as_of = report.as_of.isoformat()
        headers["Content-Disposition"] = (
            f'attachment; filename="{name}-{as_of}.{options.format}"')
    return Response(body, media_type=MEDIA[options.format], headers=headers)


@router.get("/ledger", response_model=ReportOut, responses=REPORT_RESPONSES,
            summary="the hazard ledger (台账)")
def ledger(actor: ActorDep, cases: CasesDep, options: Options,
           community: Code | None = None, grid: Code | None = None,
           category: Category | None = None, severity: Severity | None = None,
           state: Annotated[str | None, Query(max_length=60)] = None,
           overdue: bool | None = None, found_from: Day | None = None,
           found_to: Day | None = None) -> Response:
    """One row per case, with deadlines, who found and verified it, and days open."""
    filters = LedgerFilter(**_narrowed(
        actor, community=community, grid=grid, category=category and category.value,
        severity=severity and severity.value, state=state, overdue=overdue,
        found_from=found_from, found_to=found_to))
    return _serve(cases, actor, "ledger", filters, options)


@router.get("/accountability", response_model=ReportOut,
            responses={**REPORT_RESPONSES, **problem_responses(403)},
            summary="accountability per level and person (一岗双责)")
def accountability(actor: ActorDep, cases: CasesDep, options: Options,
                   level: Literal["street", "community", "grid", "department", "actor"]
                   | None = None, unit: Code | None = None,
                   street: Code | None = None) -> Response:
    """Actions, waiting and slow cases, and on-time rates per unit and per person. A
    department's row counts the caller's street's cases only (a department officer's: every
    street's, or the ``street`` named)."""
    return _serve(cases, actor, "accountability",
                  AccountabilityFilter(level, unit, _own_street(actor, street)), options)


def _own_street(actor: Actor, street: str | None) -> str | None:
    """The street whose cases an accountability report counts. A department serves several
    streets: without this, its row (shown to every street's roles) summed its work in all
    of them. A department officer's own department is theirs to see whole."""
    if actor.role in scopes.DEPARTMENT_ROLES:
        return street
    own = scopes.street_of(actor.unit)
    if street is not None and street != own:
        raise NotPermitted(f"you may read the accountability of street {own}, not {street}")
    return own


@router.get("/risk", response_model=ReportOut, responses=REPORT_RESPONSES,
            summary="red/yellow/green risk grades (红黄绿分级)")
def risk(actor: ActorDep, cases: CasesDep, options: Options,
         view: Literal["places", "communities", "changes"] = "places",
         community: Code | None = None,
         grade: Literal["red", "yellow", "green"] | None = None,
         place: Code | None = None) -> Response:
    """Places by fire-risk grade, counts per community, or the history of grade changes."""
    filters = RiskFilter(**_narrowed(actor, view=view, community=community, grade=grade,
                                     place=place))
    return _serve(cases, actor, "risk", filters, options)


Month = Annotated[str, Query(pattern=f"^{MONTH.pattern}$", description="YYYY-MM")]


@router.get("/stats", response_model=ReportOut, responses=REPORT_RESPONSES,
            summary="monthly statistics")
def stats(actor: ActorDep, cases: CasesDep, options: Options,
          since: Month | None = None, until: Month | None = None,
          community: Code | None = None, category: Category | None = None) -> Response:
    """Found, notified, rectified on time or late, escalated, enforced, per month."""
    filters = StatsFilter(since, until, **_narrowed(
        actor, community=community, category=category and category.value))
    return _serve(cases, actor, "stats", filters, options)


class CaseListOut(BaseModel):
    """A page of ledger rows inside the caller's jurisdiction."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "total": 1, "limit": 50, "offset": 0,
        "items": [{"number": "HZ-2026-000001", "state": "found", "community": "YS-C01"}]}]})

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


@router.get("/cases", tags=["cases"], responses=problem_responses(400, 401, 422),
            summary="list cases (ledger rows, filtered and paged)")
def list_cases(actor: ActorDep, cases: CasesDep,
               community: Code | None = None, grid: Code | None = None,
               category: Category | None = None, severity: Severity | None = None,
               state: Annotated[str | None, Query(max_length=60)] = None,
               overdue: bool | None = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=10**7)] = 0) -> CaseListOut:
    """Cases the caller may see, newest numbers last, ``limit`` at a time from ``offset``."""
    filters = LedgerFilter(**_narrowed(
        actor, community=community, grid=grid, category=category and category.value,
        severity=severity and severity.value, state=state, overdue=overdue))
    rows = _read_scoped(cases, actor, "ledger", filters).dicts()
    page = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
            for row in rows[offset:offset + limit]]
    return CaseListOut(total=len(rows), limit=limit, offset=offset, items=page)
