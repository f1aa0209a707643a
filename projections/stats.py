"""Statistics per month x community x category (统计报表).

Each figure is counted in the (China local) month in which its event occurred, and in the
community the case was in then (an open case moves when its place is moved to another
community's grid; what was counted before stays where it was counted):
- found: hazards reported; reopened: hazards that came back (复发);
- notified: rectification notices issued;
- rectified on time / late: passed verifications (or a department closing a case as
  rectified), on time when the rectification was submitted (or closed) by the deadline
  in force then (an extension granted while it awaits verification does not count);
- escalated: refusals and escalations to a department; enforced: enforcement decisions;
- dismissed: cases closed as unfounded or duplicate.
Rectification rate = rectified / found; on-time rate = on time / rectified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import DomainError
from projections.db import Db
from projections.framework import Page, Projection, Table
from projections.report import Column, Named, Report, check_range, local_day_text, rate, where

COUNTS, CASES = "stats_counts", "stats_cases"
MEASURES = ("found", "notified", "rectified_on_time", "rectified_late", "escalated",
            "enforced", "dismissed", "reopened")
SIMPLE = {"Reported": "found", "NoticeIssued": "notified", "RectificationRefused": "escalated",
          "CaseEscalated": "escalated", "EnforcementRecorded": "enforced",
          "CaseDismissed": "dismissed", "CaseReopened": "reopened"}


def month(instant: str) -> str:
    return local_day_text(instant)[:7]


class Statistics(Projection):
    name = "stats"
    version = 2  # 2: a submission is judged by the deadline in force when it was made
    tables = (
        Table(COUNTS, (("month", "TEXT"), ("community", "TEXT"), ("category", "TEXT"),
                       ("measure", "TEXT"), ("n", "BIGINT")),
              key=("month", "community", "category", "measure"), kind="counter"),
        Table(CASES, (("case_id", "TEXT"), ("community", "TEXT"), ("category", "TEXT"),
                      ("deadline", "TEXT"), ("submitted_at", "TEXT"),
                      ("submitted_deadline", "TEXT")),
              key=("case_id",), by_case=True),
    )

    def handles(self, event: Any) -> bool:
        return type(event).__name__ in _HANDLED

    def apply(self, event: Any, page: Page) -> None:
        kind = type(event).__name__
        case_id = page.case_id
        case: dict[str, Any] | None
        if kind == "Reported":
            case = {"case_id": case_id, "community": event.place["community"],
                    "category": event.category, "deadline": None, "submitted_at": None,
                    "submitted_deadline": None}
            page.put(CASES, case)
        else:
            case = page.get(CASES, case_id)
            if case is None:
                return
        measure = SIMPLE.get(kind)
        if kind in ("NoticeIssued", "RectificationOrdered", "DeadlineExtended"):
            case["deadline"] = event.deadline
            page.put(CASES, case)
        elif kind == "RectificationSubmitted":
            # An extension granted while it awaits verification gives no time back to it.
            case["submitted_at"], case["submitted_deadline"] = event.occurred_at, case["deadline"]
            page.put(CASES, case)
        elif kind == "RectificationVerified" and event.passed:
            measure = (self._rectified(case["submitted_deadline"], case["submitted_at"])
                       if case["submitted_at"] else
                       self._rectified(case["deadline"], event.occurred_at))
        elif kind == "CaseClosed" and event.closing_reason == "rectified":
            measure = self._rectified(case["deadline"], event.occurred_at)
        elif kind == "CaseReopened":
            case["deadline"] = case["submitted_at"] = case["submitted_deadline"] = None
            page.put(CASES, case)
        elif kind == "PlaceMoved":
            case["community"] = event.place["community"]
            page.put(CASES, case)
        if measure is not None:
            page.count(COUNTS, (month(event.occurred_at), case["community"], case["category"],
                                measure))

    @staticmethod
    def _rectified(deadline: str | None, done_at: str) -> str:
        on_time = not deadline or local_day_text(done_at) <= deadline
        return "rectified_on_time" if on_time else "rectified_late"


_HANDLED = frozenset(SIMPLE) | {"RectificationOrdered", "DeadlineExtended",
                                "RectificationSubmitted", "RectificationVerified", "CaseClosed",
                                "PlaceMoved"}


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class StatsFilter:
    """Months ``since``..``until`` as ``YYYY-MM`` (inclusive); one community or category."""

    since: str | None = None
    until: str | None = None
    community: str | None = None
    category: str | None = None

    def __post_init__(self) -> None:
        # Months are compared as text: '2026-1' would silently select October to December.
        for month in (self.since, self.until):
            if month is not None and not MONTH.fullmatch(month):
                raise DomainError(f"{month!r} is not a month like 2026-03")
        check_range(self.since, self.until)

    def units(self) -> Named:
        return (("community", self.community),)


COLUMNS = (
    Column("month", "Month", "月份"),
    Column("community", "Community", "社区"),
    Column("category", "Category", "隐患类别", vocab="category"),
    Column("found", "Found", "发现", "int"),
    Column("notified", "Notified", "下达通知", "int"),
    Column("rectified_on_time", "Rectified on time", "按期整改", "int"),
    Column("rectified_late", "Rectified late", "逾期整改", "int"),
    Column("escalated", "Escalated", "移交部门", "int"),
    Column("enforced", "Enforced", "执法处理", "int"),
    Column("dismissed", "Dismissed", "不予立案", "int"),
    Column("reopened", "Reopened", "复发", "int"),
    Column("rectification_rate", "Rectification rate", "整改率", "rate"),
    Column("on_time_rate", "On-time rate", "按期整改率", "rate"),
)


def query(db: Db, filters: StatsFilter | None = None, *, as_of: date,
          basis: str = "recorded") -> Report:
    f = filters or StatsFilter()
    clause, params = where(("month >= ?", f.since), ("month <= ?", f.until),
                           ("community = ?", f.community), ("category = ?", f.category))
    cells: dict[tuple[str, str, str], dict[str, int]] = {}
    with db.transaction() as tx:
        for m, community, category, measure, n in tx.execute(
                f"SELECT month, community, category, measure, n FROM {COUNTS} "
                f"WHERE {clause}", params):
            cells.setdefault((m, community, category), dict.fromkeys(MEASURES, 0))[measure] = int(n)
    rows = []
    for key, c in sorted(cells.items()):
        rectified = c["rectified_on_time"] + c["rectified_late"]
        rows.append((*key, *(c[m] for m in MEASURES), rate(rectified, c["found"]),
                     rate(c["rectified_on_time"], rectified)))
    return Report("stats", "Statistics by month, community and category",
                  "隐患统计(按月、社区、类别)", COLUMNS, rows, as_of, basis,
                  sheet_en="Statistics by month")
