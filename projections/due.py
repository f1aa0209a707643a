"""The due index: per case, the facts the deadline and escalation tick looks at.

A tick must not load every aggregate of a big store to find the few that are due. This
read model keeps, per case, the state, deadline, submission, escalation level and
acceptance, and ``candidates`` asks the database which cases may be due at an instant.
It is only an index: the tick verifies every candidate against the aggregate itself
(``workflows.deadlines``) before acting, so a lagging index costs a load, never a wrong event.

The thresholds come from the rules (working days), which this projection does not know:
``workflows.deadlines.Horizons`` carries them in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.timeutil import LOCAL_TZ
from projections.db import Db
from projections.framework import Page, Projection, Table
from projections.runner import ProjectionConflict, Runner
from workflows.deadlines import Horizons

T = "due_cases"


def _day(instant: str) -> str:
    return datetime.fromisoformat(instant).astimezone(LOCAL_TZ).date().isoformat()


class DueIndex(Projection):
    name = "due_index"
    # 2: the re-inspection's due day as recorded on the submission; 3: the acceptance's;
    # 4: the acceptance's at a level climbed to
    version = 4
    tables = (
        Table(T, (
            ("case_id", "TEXT"), ("state", "TEXT"), ("severity", "TEXT"), ("deadline", "TEXT"),
            ("reminded_for", "TEXT"), ("submitted_at", "TEXT"), ("submitted_day", "TEXT"),
            ("verify_due", "TEXT"), ("flagged_for", "TEXT"), ("escalated_at", "TEXT"),
            ("level", "TEXT"), ("level_since_day", "TEXT"), ("accept_due", "TEXT"),
            ("accepted", "INTEGER"), ("supervised", "INTEGER"),
        ), key=("case_id",), by_case=True, indexes=(("state",),)),
    )

    def handles(self, event: Any) -> bool:
        return True  # every event moves the state

    def apply(self, event: Any, page: Page) -> None:
        name = type(event).__name__
        if name == "Reported":
            row: dict[str, Any] | None = {"case_id": str(event.originator_id),
                                          "severity": event.severity}
            _new_cycle(row)  # type: ignore[arg-type]
        else:
            row = page.get(T, str(event.originator_id))
        if row is None:
            return
        row["state"] = event.state
        handler = self._handlers.get(name)
        if handler is not None:
            handler(event, row)
        page.put(T, row)

    def on_NoticeIssued(self, e: Any, row: dict[str, Any]) -> None:
        row["deadline"] = e.deadline

    on_DeadlineExtended = on_NoticeIssued
    on_RectificationOrdered = on_NoticeIssued

    def on_DeadlineReminded(self, e: Any, row: dict[str, Any]) -> None:
        row["reminded_for"] = e.deadline

    def on_RectificationSubmitted(self, e: Any, row: dict[str, Any]) -> None:
        row["submitted_at"] = e.occurred_at
        row["submitted_day"] = _day(e.occurred_at)
        row["verify_due"] = e.verify_due

    def on_PlaceMoved(self, e: Any, row: dict[str, Any]) -> None:
        if e.verify_due is not None:  # moved to another community's inspectors: theirs anew
            row["verify_due"] = e.verify_due

    def on_VerificationOverdue(self, e: Any, row: dict[str, Any]) -> None:
        row["flagged_for"] = e.submitted_at

    def on_CaseEscalated(self, e: Any, row: dict[str, Any]) -> None:
        row["escalated_at"] = e.occurred_at
        row["level"] = None  # the first level of the chain in force
        row["level_since_day"] = _day(e.occurred_at)
        row["accept_due"] = e.accept_due
        row["accepted"] = 0

    on_RectificationRefused = on_CaseEscalated

    def on_EscalationLevelRaised(self, e: Any, row: dict[str, Any]) -> None:
        row["level"] = e.level
        row["level_since_day"] = _day(e.occurred_at)
        row["accept_due"] = e.level_due

    def on_EscalationAccepted(self, e: Any, row: dict[str, Any]) -> None:
        row["accepted"] = 1

    def on_SupervisedListingImposed(self, e: Any, row: dict[str, Any]) -> None:
        row["supervised"] = 1

    def on_CaseReopened(self, e: Any, row: dict[str, Any]) -> None:
        _new_cycle(row)


def _new_cycle(row: dict[str, Any]) -> None:
    row.update(deadline=None, reminded_for=None, submitted_at=None, submitted_day=None,
               verify_due=None, flagged_for=None, escalated_at=None, level=None,
               level_since_day=None, accept_due=None, accepted=0, supervised=0)


def candidates(db: Db, h: Horizons) -> list[UUID]:
    """Cases that may have something due under ``h``, in case-id order."""
    waiting = "state IN ('notified', 'rectifying.in_progress') AND deadline IS NOT NULL"
    clauses = [f"({waiting} AND deadline < ?)"]
    params: list[Any] = [h.today]
    if h.remind_until is not None:
        clauses.append(f"({waiting} AND deadline <= ? "
                       "AND (reminded_for IS NULL OR reminded_for <> deadline))")
        params.append(h.remind_until)
    # past the due day recorded on the submission, or, for one recorded without it, past
    # the rules' limit now (``workflows.deadlines.verification_due``)
    clauses.append("(state = 'rectifying.awaiting_verification' "
                   "AND (flagged_for IS NULL OR flagged_for <> submitted_at) "
                   "AND (verify_due < ? OR (verify_due IS NULL AND submitted_day < ?)))")
    params += [h.today, h.submitted_before]
    # past the due day recorded when it came to its level (escalated, or climbed)
    clauses.append("(state = 'escalated' AND accepted = 0 AND accept_due < ?)")
    params.append(h.today)
    for level, before in h.since_before.items():
        clauses.append("(state = 'escalated' AND accepted = 0 AND COALESCE(level, ?) = ? "
                       "AND level_since_day < ?)")
        params += [h.first_level, level, before]
    if h.unlisted_before is not None and h.listed:
        marks = ", ".join("?" for _ in h.listed)
        clauses.append(f"(state = 'escalated' AND accepted = 0 AND COALESCE(level, ?) NOT IN "
                       f"({marks}) AND level_since_day < ?)")
        params += [h.first_level, *h.listed, h.unlisted_before]
    if h.major_at_once:
        clauses.append("(severity = 'major' AND escalated_at IS NULL "
                       "AND state NOT IN ('closed', 'escalated'))")
    if h.major_listed:
        clauses.append("(severity = 'major' AND state = 'escalated' AND supervised = 0)")
    with db.transaction() as tx:
        rows = tx.execute(f"SELECT case_id FROM {T} WHERE {' OR '.join(clauses)} "
                          "ORDER BY case_id", params)
    return [UUID(case_id) for (case_id,) in rows]


class StoreDueIndex:
    """The due index in the store's own database, brought up to date before each tick."""

    def __init__(self, service: Any) -> None:
        self._runner = Runner(service, [DueIndex()])

    def refresh(self) -> None:
        try:
            self._runner.catch_up()
        except ProjectionConflict:
            # Another tick (or the worker) is moving the index right now; its rows are at
            # most a page behind, and every candidate is verified on the aggregate anyway.
            pass

    def candidates(self, horizons: Horizons) -> list[UUID]:
        return candidates(self._runner.db, horizons)
