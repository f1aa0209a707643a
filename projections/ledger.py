"""The hazard ledger (隐患排查治理台账): one row per case.

A row shows the case's current cycle (a reopened case starts a new cycle: notice, deadline,
measures and verification are cleared, the recurrence count goes up) and keeps the date
the hazard was first found. "Days open" and "overdue" depend on the day the ledger is read
for, so they are computed by ``query`` against ``as_of``, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.case import top_state
from domain.errors import DomainError
from projections.db import Db
from projections.framework import Page, Projection, Table
from projections.report import (
    Column,
    Named,
    Report,
    check_range,
    day_end,
    day_start,
    local_day,
    where,
)
from projections.vocab import ENTRIES, ENTRY_PARTS
from workflows.lifecycle import LEAF_STATES

T = "ledger_cases"
CYCLE_FIELDS = ("party", "notice_at", "deadline", "measures", "rectified_at", "verified_by",
                "verified_at", "department", "enforcement", "closed_at", "closing_reason")
# Waiting on the party to rectify: past the deadline in these states is overdue.
RECTIFYING = ("notified", "rectifying.in_progress")


class Ledger(Projection):
    name = "ledger"
    # 2: a failed verification clears the rectified date; 3: a department's closing as
    # rectified is the rectified date when no submission gave one
    version = 3
    tables = (
        Table(T, (
            ("case_id", "TEXT"), ("number", "TEXT"), ("found_at", "TEXT"),
            ("cycle_found_at", "TEXT"), ("place_id", "TEXT"), ("place_name", "TEXT"),
            ("place_kind", "TEXT"), ("community", "TEXT"), ("grid", "TEXT"),
            ("category", "TEXT"), ("severity", "TEXT"), ("description", "TEXT"),
            ("found_by", "TEXT"), ("party", "TEXT"), ("notice_at", "TEXT"), ("deadline", "TEXT"),
            ("measures", "TEXT"), ("rectified_at", "TEXT"), ("verified_by", "TEXT"),
            ("verified_at", "TEXT"), ("state", "TEXT"), ("department", "TEXT"),
            ("enforcement", "TEXT"), ("closed_at", "TEXT"), ("closing_reason", "TEXT"),
            ("recurrence_count", "INTEGER"),
        ), key=("case_id",), by_case=True,
            indexes=(("community", "grid"),)),
    )

    def handles(self, event: Any) -> bool:
        return True  # every event moves the case's state

    def apply(self, event: Any, page: Page) -> None:
        if type(event).__name__ == "Reported":
            self.on_Reported(event, page)
            return
        row = page.get(T, page.case_id)
        if row is None:  # not a case this ledger knows (cannot happen with a whole log)
            return
        handler = self._handlers.get(type(event).__name__)
        if handler is None and row["state"] == event.state:
            return  # a comment, evidence, a reminder: nothing on the ledger changes
        row["state"] = event.state
        if handler is not None:
            handler(event, row)
        page.put(T, row)

    def on_Reported(self, e: Any, page: Page) -> None:
        place = e.place
        row = {
            "case_id": page.case_id, "number": e.number, "found_at": e.occurred_at,
            "cycle_found_at": e.occurred_at, "place_id": place["id"],
            "place_name": place["name"], "place_kind": place["kind"],
            "community": place["community"], "grid": place["grid"], "category": e.category,
            "severity": e.severity, "description": e.description, "found_by": e.actor["id"],
            "state": e.state, "recurrence_count": 0,
        }
        row.update(dict.fromkeys(CYCLE_FIELDS))
        page.put(T, row)

    def on_NoticeIssued(self, e: Any, row: dict[str, Any]) -> None:
        row["party"] = e.party["name"]
        row["notice_at"] = e.occurred_at
        row["deadline"] = e.deadline

    def on_RectificationSubmitted(self, e: Any, row: dict[str, Any]) -> None:
        row["measures"] = e.measures
        row["rectified_at"] = e.occurred_at

    def on_RectificationVerified(self, e: Any, row: dict[str, Any]) -> None:
        if not e.passed:  # refused at re-inspection: not rectified (the measures stay)
            row["rectified_at"] = None
        else:
            row["verified_by"] = e.actor["id"]
            row["verified_at"] = e.occurred_at
            row["closed_at"] = e.occurred_at
            row["closing_reason"] = e.closing_reason

    def on_RectificationRefused(self, e: Any, row: dict[str, Any]) -> None:
        row["department"] = e.department

    on_CaseEscalated = on_RectificationRefused

    def on_EnforcementRecorded(self, e: Any, row: dict[str, Any]) -> None:
        entry = ENTRY_PARTS.join(part for part in (e.measure, e.decision_number,
                                                   e.amount if e.amount != "0.00" else "")
                                 if part)
        row["enforcement"] = (ENTRIES.join((row["enforcement"], entry)) if row["enforcement"]
                              else entry)

    def on_RectificationOrdered(self, e: Any, row: dict[str, Any]) -> None:
        row["deadline"] = e.deadline

    on_DeadlineExtended = on_RectificationOrdered

    def on_CaseClosed(self, e: Any, row: dict[str, Any]) -> None:
        row["closed_at"] = e.occurred_at
        row["closing_reason"] = e.closing_reason
        if e.closing_reason == "rectified" and row["rectified_at"] is None:
            # closed as rectified by the department with no submission on record (a major
            # hazard escalated at once): the statistics count it rectified that day too
            row["rectified_at"] = e.occurred_at

    def on_CaseDismissed(self, e: Any, row: dict[str, Any]) -> None:
        row["closed_at"] = e.occurred_at
        row["closing_reason"] = e.closing_reason

    def on_PlaceMoved(self, e: Any, row: dict[str, Any]) -> None:
        # the open case is listed where its place now is (grids redrawn)
        row.update(place_kind=e.place["kind"], community=e.place["community"],
                   grid=e.place["grid"])

    def on_CaseReopened(self, e: Any, row: dict[str, Any]) -> None:
        row.update(dict.fromkeys(CYCLE_FIELDS))
        row["cycle_found_at"] = e.occurred_at
        row["recurrence_count"] += 1


# -- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilter:
    """Which cases to list. ``state`` matches a state or its top state (``rectifying``)."""

    community: str | None = None
    grid: str | None = None
    category: str | None = None
    severity: str | None = None
    state: str | None = None
    overdue: bool | None = None
    found_from: date | None = None
    found_to: date | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in FILTER_STATES:
            raise DomainError(f"unknown state {self.state!r}; expected one of: "
                              f"{', '.join(FILTER_STATES)}")
        check_range(self.found_from, self.found_to)

    def units(self) -> Named:
        return (("community", self.community), ("grid", self.grid))


# A state, or a top state with sub-states (rectifying).
FILTER_STATES = tuple(dict.fromkeys([*LEAF_STATES, *map(top_state, LEAF_STATES)]))


COLUMNS = (
    Column("number", "Case number", "编号"),
    Column("found_date", "Found", "发现日期", "date"),
    Column("place", "Place", "场所"),
    Column("place_kind", "Place kind", "场所类型", vocab="place_kind"),
    Column("community", "Community", "社区"),
    Column("grid", "Grid", "网格"),
    Column("category", "Category", "隐患类别", vocab="category"),
    Column("severity", "Severity", "隐患等级", vocab="severity"),
    Column("description", "Description", "隐患描述"),
    Column("found_by", "Found by", "发现人"),
    Column("responsible_party", "Responsible party", "责任主体"),
    Column("notice_date", "Notice date", "通知日期", "date"),
    Column("deadline", "Deadline", "整改期限", "date"),
    Column("measures", "Measures taken", "整改措施"),
    Column("rectified_date", "Rectified", "整改完成日期", "date"),
    Column("verified_by", "Verified by", "验收人"),
    Column("verified_date", "Verified", "验收日期", "date"),
    Column("state", "State", "状态", vocab="state"),
    Column("department", "Department", "移交部门", vocab="department"),
    Column("enforcement", "Enforcement", "执法情况", vocab="enforcement"),
    Column("days_open", "Days open", "持续天数", "int"),
    Column("overdue", "Overdue", "是否逾期", "bool"),
    Column("closing_reason", "Closing reason", "销号原因", vocab="closing_reason"),
    Column("recurrence_count", "Recurrences", "复发次数", "int"),
)
_SELECT = ("number, found_at, place_name, place_kind, community, grid, category, severity, "
           "description, found_by, party, notice_at, deadline, measures, rectified_at, "
           "verified_by, verified_at, state, department, enforcement, closed_at, "
           "closing_reason, recurrence_count, cycle_found_at, case_id")


def query(db: Db, filters: LedgerFilter | None = None, *, as_of: date,
          basis: str = "recorded") -> Report:
    """The ledger rows matching ``filters``, ordered by case number, as read on ``as_of``."""
    f = filters or LedgerFilter()
    clause, params = where(
        ("community = ?", f.community), ("grid = ?", f.grid), ("category = ?", f.category),
        ("severity = ?", f.severity),
        ("(state = ? OR state LIKE ?)", (f.state, f"{f.state}.%") if f.state else None),
        ("found_at >= ?", f.found_from and day_start(f.found_from)),
        ("found_at < ?", f.found_to and day_end(f.found_to)))
    with db.transaction() as tx:
        found = tx.execute(f"SELECT {_SELECT} FROM {T} WHERE {clause} "
                           "ORDER BY number, case_id", params)
    rows = [_row(values, as_of) for values in found]
    if f.overdue is not None:
        overdue_at = [c.key for c in COLUMNS].index("overdue")
        rows = [r for r in rows if r[overdue_at] is f.overdue]
    return Report("ledger", "Hazard ledger", "隐患排查治理台账", COLUMNS, rows, as_of, basis)


def _row(v: tuple[Any, ...], as_of: date) -> tuple[Any, ...]:
    (number, found_at, place, kind, community, grid, category, severity, description,
     found_by, party, notice_at, deadline, measures, rectified_at, verified_by, verified_at,
     state, department, enforcement, closed_at, closing_reason, recurrences,
     cycle_found_at, _case_id) = v
    is_open = top_state(state) != "closed"
    until = as_of if is_open else (local_day(closed_at) or as_of)
    days_open = max(0, (until - local_day(cycle_found_at)).days)  # type: ignore[operator]
    overdue = bool(is_open and state in RECTIFYING and deadline and deadline < as_of.isoformat())
    return (number, local_day(found_at), place, kind, community, grid, category, severity,
            description, found_by, party, local_day(notice_at),
            date.fromisoformat(deadline) if deadline else None, measures,
            local_day(rectified_at), verified_by, local_day(verified_at), state, department,
            enforcement, days_open, overdue, closing_reason, recurrences)
