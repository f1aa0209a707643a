"""The escalations board (移交职能部门督办台): per department, every escalated case.

A case is on its department's board from its first escalation (a refusal, a missed
deadline, a major hazard, or by hand) with a status that follows the department's work:

| status                      | after                                            |
|-----------------------------|--------------------------------------------------|
| awaiting_acceptance         | RectificationRefused / CaseEscalated             |
| accepted                    | EscalationAccepted                               |
| in_enforcement              | EnforcementRecorded                              |
| returned_for_rectification  | RectificationOrdered (the party rectifies again) |
| closed                      | CaseClosed, or a passed verification after return|

Age, the acceptance due day and "acceptance overdue" depend on the day the board is read
and on the rules in force (the escalation chain's limits), so ``query`` computes them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.errors import DomainError
from projections.db import Db
from projections.framework import Page, Projection, Table
from projections.report import Column, Named, Report, local_day

T = "escalation_board"
STATUSES = ("awaiting_acceptance", "accepted", "in_enforcement", "returned_for_rectification",
            "closed")


class Escalations(Projection):
    name = "escalations"
    version = 3  # 2: accept by the day the escalation recorded; 3: or its climb recorded
    tables = (
        Table(T, (
            ("case_id", "TEXT"), ("number", "TEXT"), ("place_name", "TEXT"),
            ("community", "TEXT"), ("grid", "TEXT"), ("category", "TEXT"),
            ("severity", "TEXT"), ("department", "TEXT"), ("status", "TEXT"),
            ("cause", "TEXT"), ("escalated_at", "TEXT"), ("level", "TEXT"),
            ("level_since", "TEXT"), ("accepted_at", "TEXT"), ("enforcements", "INTEGER"),
            ("returned_at", "TEXT"), ("closed_at", "TEXT"), ("supervised", "INTEGER"),
            ("missed_deadline", "TEXT"), ("escalations", "INTEGER"), ("accept_due", "TEXT"),
        ), key=("case_id",), by_case=True, indexes=(("department", "status"),)),
    )

    def handles(self, event: Any) -> bool:
        return type(event).__name__ == "Reported" or super().handles(event)

    def apply(self, event: Any, page: Page) -> None:
        name = type(event).__name__
        if name == "Reported":
            place = event.place
            page.put(T, {
                "case_id": page.case_id, "number": event.number,
                "place_name": place["name"], "community": place["community"],
                "grid": place["grid"], "category": event.category, "severity": event.severity,
                "department": None, "status": None, "cause": None, "escalated_at": None,
                "level": None, "level_since": None, "accepted_at": None, "enforcements": 0,
                "returned_at": None, "closed_at": None, "supervised": 0,
                "missed_deadline": None, "escalations": 0, "accept_due": None,
            })
            return
        row = page.get(T, page.case_id)
        if row is None:
            return
        self._handlers[name](event, row)
        page.put(T, row)

    def _escalated(self, e: Any, row: dict[str, Any], cause: str) -> None:
        row.update(department=e.department, status="awaiting_acceptance", cause=cause,
                   escalated_at=e.occurred_at, level=None, level_since=e.occurred_at,
                   accepted_at=None, enforcements=0, returned_at=None, closed_at=None,
                   accept_due=e.accept_due)
        row["escalations"] += 1

    def on_RectificationRefused(self, e: Any, row: dict[str, Any]) -> None:
        self._escalated(e, row, "refused")

    def on_CaseEscalated(self, e: Any, row: dict[str, Any]) -> None:
        if e.actor["role"] != "system":
            cause = "by_hand"
        elif row["missed_deadline"]:
            cause = "deadline_missed"
        else:
            cause = "major_hazard"
        self._escalated(e, row, cause)
        row["missed_deadline"] = None

    def on_DeadlineMissed(self, e: Any, row: dict[str, Any]) -> None:
        row["missed_deadline"] = e.deadline

    def on_EscalationLevelRaised(self, e: Any, row: dict[str, Any]) -> None:
        row["level"] = e.level
        row["level_since"] = e.occurred_at
        row["accept_due"] = e.level_due

    def on_EscalationAccepted(self, e: Any, row: dict[str, Any]) -> None:
        row["status"] = "accepted"
        row["accepted_at"] = e.occurred_at

    def on_EnforcementRecorded(self, e: Any, row: dict[str, Any]) -> None:
        row["status"] = "in_enforcement"
        row["enforcements"] += 1

    def on_RectificationOrdered(self, e: Any, row: dict[str, Any]) -> None:
        row["status"] = "returned_for_rectification"
        row["returned_at"] = e.occurred_at

    def on_CaseClosed(self, e: Any, row: dict[str, Any]) -> None:
        row["status"] = "closed"
        row["closed_at"] = e.occurred_at

    def on_RectificationVerified(self, e: Any, row: dict[str, Any]) -> None:
        if e.passed and row["status"] == "returned_for_rectification":
            self.on_CaseClosed(e, row)

    def on_PlaceMoved(self, e: Any, row: dict[str, Any]) -> None:
        row.update(community=e.place["community"], grid=e.place["grid"])

    def on_SupervisedListingImposed(self, e: Any, row: dict[str, Any]) -> None:
        row["supervised"] = 1


# -- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class EscalationsFilter:
    """Which rows: one department, a status, or a territory (community, grid, street).

    ``policy`` gives the escalation chain's limits for "acceptance overdue" (default: the
    rules the service runs with; the packaged default when none is given).
    """

    department: str | None = None
    status: str | None = None
    view: str = "cases"
    community: str | None = None
    grid: str | None = None
    street: str | None = None
    overdue_only: bool = False
    policy: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise DomainError(f"unknown view {self.view!r}; expected one of: {', '.join(VIEWS)}")

    def units(self) -> Named:
        return (("department", self.department), ("community", self.community),
                ("grid", self.grid), ("street", self.street))


VIEWS = ("cases", "board")


COLUMNS = (
    Column("department", "Department", "职能部门", vocab="department"),
    Column("status", "Status", "办理状态", vocab="escalation_status"),
    Column("number", "Case number", "编号"),
    Column("place", "Place", "场所"),
    Column("community", "Community", "社区"),
    Column("category", "Category", "隐患类别", vocab="category"),
    Column("severity", "Severity", "隐患等级", vocab="severity"),
    Column("cause", "Escalated because", "移交原因", vocab="escalation_cause"),
    Column("escalated", "Escalated", "移交日期", "date"),
    Column("age_days", "Age (days)", "移交天数", "int"),
    Column("level", "Answerable level", "督办层级", vocab="escalation_level"),
    Column("accept_by", "Accept by", "受理期限", "date"),
    Column("acceptance_overdue", "Acceptance overdue", "逾期未受理", "bool"),
    Column("accepted", "Accepted", "受理日期", "date"),
    Column("enforcements", "Enforcement actions", "执法次数", "int"),
    Column("supervised", "Supervised listing", "挂牌督办", "bool"),
    Column("closed", "Closed", "结案日期", "date"),
)
BOARD_COLUMNS = (
    Column("department", "Department", "职能部门", vocab="department"),
    Column("awaiting_acceptance", "Awaiting acceptance", "待受理", "int"),
    Column("accepted", "Accepted", "已受理", "int"),
    Column("in_enforcement", "In enforcement", "执法中", "int"),
    Column("returned_for_rectification", "Returned for rectification", "责令整改中", "int"),
    Column("closed", "Closed", "已结案", "int"),
    Column("acceptances_overdue", "Acceptances overdue", "逾期未受理", "int"),
    Column("oldest_awaiting_days", "Oldest awaiting (days)", "最长待受理天数", "int"),
)
_SELECT = ("department, status, number, place_name, community, category, severity, cause, "
           "escalated_at, level, level_since, accepted_at, enforcements, supervised, "
           "closed_at, case_id, accept_due")


def query(db: Db, filters: EscalationsFilter | None = None, *, as_of: date,
          basis: str = "recorded") -> Report:
    """The board: escalated cases by department and status, read on ``as_of``."""
    f = filters or EscalationsFilter()
    if f.policy is None:
        from workflows.policy import Policy

        f = EscalationsFilter(**{**f.__dict__, "policy": Policy()})
    where, params = ["department IS NOT NULL"], []
    for column in ("department", "status", "community", "grid"):
        if getattr(f, column):
            where.append(f"{column} = ?")
            params.append(getattr(f, column))
    if f.street:
        where.append("(community = ? OR community LIKE ?)")
        params += [f.street, f"{f.street}-%"]
    with db.transaction() as tx:
        found = tx.execute(f"SELECT {_SELECT} FROM {T} WHERE {' AND '.join(where)}", params)
    order = {s: i for i, s in enumerate(STATUSES)}
    rows = sorted((_row(v, as_of, f.policy) for v in found),
                  key=lambda r: (r[0], order.get(r[1], 9), r[2]))
    if f.overdue_only:
        rows = [r for r in rows if r[12]]
    counts = Counter((r[0], r[1]) for r in rows)
    overdue = Counter(r[0] for r in rows if r[12])
    board = {d: {**{s: counts[(d, s)] for s in STATUSES}, "acceptances_overdue": overdue[d]}
             for d in sorted({r[0] for r in rows})}
    meta = {"board": board, "rules": f.policy.version}
    if f.view == "board":
        oldest = {d: max((r[9] for r in rows if r[0] == d and r[1] == STATUSES[0]), default=None)
                  for d in board}
        summary = [(d, *board[d].values(), oldest[d]) for d in board]
        return Report("escalations", "Escalations board", "移交职能部门督办台", BOARD_COLUMNS,
                      summary, as_of, basis, meta=meta)
    return Report("escalations", "Escalations board", "移交职能部门督办台", COLUMNS, rows,
                  as_of, basis, meta=meta)


def _row(v: tuple[Any, ...], as_of: date, policy: Any) -> tuple[Any, ...]:
    (department, status, number, place, community, category, severity, cause, escalated_at,
     level, level_since, accepted_at, enforcements, supervised, closed_at, _case_id,
     accept_due) = v
    level = level or policy.first_level().value
    escalated = local_day(escalated_at)
    until = local_day(closed_at) if closed_at else as_of
    accept_by, overdue = None, False
    if status == "awaiting_acceptance":
        # Late once its level's limit passed; a climb means an earlier level's limit did.
        # by the day recorded when it came to its level, else the rules now (as the
        # tick's workflows.deadlines.acceptance_due reads it)
        accept_by = (date.fromisoformat(accept_due) if accept_due
                     else policy.acceptance_due(level, local_day(level_since))[0])
        overdue = as_of > accept_by or level != policy.first_level().value
    age = max(0, (until - escalated).days)  # type: ignore[operator]
    return (department, status, number, place, community, category, severity, cause,
            escalated, age, level, accept_by, overdue, local_day(accepted_at), enforcements,
            bool(supervised), local_day(closed_at))
