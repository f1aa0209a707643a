"""The audit trail: who did what and when, one row per case event.

Rows are only ever appended, keyed by notification id (the log's order). The case number
is carried on every row (it is only on the case's first event, so ``audit_cases`` keeps
it), so the trail reads on its own years later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import DomainError
from projections.db import Db
from projections.framework import Page, Projection, Table
from projections.report import Column, Named, Report, check_range, day_end, day_start, where

EVENTS, CASES = "audit_events", "audit_cases"


class AuditTrail(Projection):
    name = "audit"
    version = 1
    tables = (
        Table(EVENTS, (
            ("seq", "BIGINT"), ("case_id", "TEXT"), ("number", "TEXT"), ("version", "INTEGER"),
            ("trigger_name", "TEXT"), ("state", "TEXT"), ("actor_id", "TEXT"),
            ("role", "TEXT"), ("unit", "TEXT"), ("occurred_at", "TEXT"),
            ("recorded_at", "TEXT"), ("reason", "TEXT"),
        ), key=("seq",), kind="append",
            # Each index costs every append: by case and by actor only (time ranges scan).
            indexes=(("case_id",), ("actor_id",))),
        Table(CASES, (("case_id", "TEXT"), ("number", "TEXT")), key=("case_id",), by_case=True),
    )

    def handles(self, event: Any) -> bool:
        return True

    def apply(self, event: Any, page: Page) -> None:
        case_id = page.case_id
        number = getattr(event, "number", None)
        if number is not None:
            page.put(CASES, {"case_id": case_id, "number": number})
        else:
            known = page.get(CASES, case_id)
            number = known["number"] if known else ""
        actor = event.actor
        page.append_values(EVENTS, (
            page.seq, case_id, number, event.originator_version, event.trigger, event.state,
            actor["id"], actor["role"], actor["unit"], event.occurred_at, event.recorded_at,
            event.reason))


@dataclass(frozen=True)
class AuditFilter:
    """Events of one case (id or number), by one actor, within local dates (inclusive)."""

    case: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None
    time: str = "occurred"  # which time the date range applies to: occurred | recorded

    def __post_init__(self) -> None:
        if self.time not in ("occurred", "recorded"):
            raise DomainError(f"time must be occurred or recorded, not {self.time!r}")
        check_range(self.since, self.until)

    def units(self) -> Named:
        return (("case", self.case), ("person", self.actor))


COLUMNS = (
    Column("seq", "Seq", "序号", "int"),
    Column("number", "Case number", "编号"),
    Column("version", "Version", "版本", "int"),
    Column("trigger", "Action", "操作", vocab="trigger"),
    Column("state", "State after", "操作后状态", vocab="state"),
    Column("actor", "Actor", "操作人"),
    Column("role", "Role", "角色", vocab="role"),
    Column("unit", "Unit", "单位", vocab="department"),  # a department officer's: 消防
    Column("occurred_at", "Occurred at (UTC)", "发生时间(UTC)", "datetime"),
    Column("recorded_at", "Recorded at (UTC)", "记录时间(UTC)", "datetime"),
    Column("reason", "Reason", "理由/说明"),
)


def query(db: Db, filters: AuditFilter | None = None, *, as_of: date,
          basis: str = "recorded") -> Report:
    f = filters or AuditFilter()
    clause, params = where(
        (f"case_id IN (SELECT case_id FROM {CASES} WHERE case_id = ? OR number = ?)",
         (f.case, f.case.upper()) if f.case else None),
        ("actor_id = ?", f.actor),
        (f"{f.time}_at >= ?", f.since and day_start(f.since)),
        (f"{f.time}_at < ?", f.until and day_end(f.until)))
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT seq, number, version, trigger_name, state, actor_id, role, unit, "
            f"occurred_at, recorded_at, reason FROM {EVENTS} WHERE {clause} ORDER BY seq",
            params)
    return Report("audit", "Audit trail", "操作留痕", COLUMNS, rows, as_of, basis)
