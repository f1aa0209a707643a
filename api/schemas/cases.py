"""What the API answers about cases: a command's result, a case, its history."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.case import HazardCase
from domain.events import CaseEvent
from domain.values import Actor, Role
from workflows import lifecycle
from workflows.service import CommandResult

_CASE_ID = "6f1c2a4e-5b7d-4c1e-9a3f-2b8d7e6c5a41"
# The department decides (enforce, order back, close) only once it has accepted the
# escalation, and accepts it once: invariants of the aggregate (``HazardCase.
# accept_escalation``, ``_check_accepted``) that the state x role table does not hold.
_DECISIONS = frozenset({"record_enforcement", "order_rectification", "close"})
# Not an action on this case: the case follows its place when an admin moves the place
# (``POST /api/places/{place_id}/move``), so it is not offered with the case.
_NOT_ON_THE_CASE = frozenset({"move_place"})


def offered_triggers(state: str, role: Role, escalation_accepted: bool) -> list[str]:
    """The triggers the lifecycle allows ``role`` from ``state``, less those the case would
    refuse now for its escalation's acceptance. Everything that tells a caller what they may
    do next says this: the case view and a refused trigger's 403 / 409
    (``api.conflicts.named_by_number``)."""
    allowed = [t for t in lifecycle.allowed_triggers(state, role) if t not in _NOT_ON_THE_CASE]
    if state != "escalated":
        return allowed
    refused = {"accept_escalation"} if escalation_accepted else _DECISIONS
    return [trigger for trigger in allowed if trigger not in refused]


class CommandOut(BaseModel):
    """The case as the command left it: its state and new version (use it in If-Match)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": _CASE_ID, "number": "HZ-2026-000001", "state": "notified", "version": 2}]})

    case_id: UUID
    number: str
    state: str
    version: int

    @classmethod
    def of(cls, result: CommandResult) -> CommandOut:
        return cls(case_id=result.case_id, number=result.number, state=result.state,
                   version=result.version)


class CaseOut(BaseModel):
    """A case now (or at a version / instant), and what the caller may do next."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": _CASE_ID, "number": "HZ-2026-000001", "state": "notified", "version": 2,
        "place": {"id": "P-0001", "name": "出租屋 1号", "kind": "rental_house",
                  "address": "园山路 1 号", "grid": "YS-C01-G01", "community": "YS-C01"},
        "category": "flying_wire_charging", "severity": "general",
        "description": "楼道飞线充电", "evidence": [],
        "reported_by": {"id": "gw-li", "role": "grid_worker", "unit": "YS-C01-G01"},
        "found_at": "2026-03-02T01:00:00.000000+00:00",
        "party": {"name": "房东 陈先生", "role": "landlord", "contact": "13800000000"},
        "deadline": "2026-03-09", "department": None, "escalation_accepted": False,
        "closing_reason": None, "closed_at": None, "recurrence_count": 0, "extensions": 0,
        "allowed_triggers": ["comment", "escalate"]}]})

    case_id: UUID
    number: str
    state: str
    version: int
    place: dict[str, str]
    category: str
    severity: str
    description: str
    evidence: list[dict[str, Any]]
    reported_by: dict[str, str]
    found_at: str
    party: dict[str, str] | None
    deadline: str | None
    department: str | None
    escalation_accepted: bool
    closing_reason: str | None
    closed_at: str | None
    recurrence_count: int
    extensions: int
    allowed_triggers: list[str] = Field(
        description="triggers the caller may use next: those the lifecycle allows the "
                    "caller's role from this state, less what the case would refuse now (a "
                    "department's decisions before it accepts the escalation, a second "
                    "acceptance)")

    @classmethod
    def of(cls, case: HazardCase, actor: Actor) -> CaseOut:
        return cls(
            case_id=case.id, number=case.number, state=case.state, version=case.version,
            place=case.place, category=case.category, severity=case.severity,
            description=case.description, evidence=case.evidence,
            reported_by=case.reported_by, found_at=case.found_at, party=case.party,
            deadline=case.deadline, department=case.department,
            escalation_accepted=case.escalation_accepted, closing_reason=case.closing_reason,
            closed_at=case.closed_at, recurrence_count=case.recurrence_count,
            extensions=case.extensions,
            allowed_triggers=offered_triggers(case.state, actor.role,
                                              case.escalation_accepted),
        )


_COMMON = {"originator_id", "originator_version", "timestamp", "trigger", "state", "actor",
           "occurred_at", "recorded_at", "reason", "originator_topic"}


class HistoryEntryOut(BaseModel):
    """One recorded event of the case: who did what, when, and what it changed."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "version": 2, "event": "NoticeIssued", "trigger": "notify", "state": "notified",
        "actor": {"id": "so-chen", "role": "safety_officer", "unit": "YS-C01"},
        "occurred_at": "2026-03-02T01:30:00.000000+00:00",
        "recorded_at": "2026-03-02T01:30:00.000000+00:00", "reason": "",
        "data": {"deadline": "2026-03-09", "rule": "explicit",
                 "party": {"name": "房东 陈先生", "role": "landlord", "contact": ""}}}]})

    version: int
    event: str
    trigger: str
    state: str
    actor: dict[str, str]
    occurred_at: str
    recorded_at: str
    reason: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: CaseEvent) -> HistoryEntryOut:
        data = {k: v for k, v in event.__dict__.items() if k not in _COMMON}
        return cls(version=event.originator_version, event=type(event).__name__,
                   trigger=event.trigger, state=event.state, actor=event.actor,
                   occurred_at=event.occurred_at, recorded_at=event.recorded_at,
                   reason=event.reason, data=data)
