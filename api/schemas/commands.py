"""Command bodies: one model per lifecycle trigger, each with an example.

``params()`` turns a body into the keyword arguments of the service method named like
the trigger. The actor is never a field here: it comes from the bearer token.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field

from api.schemas.common import Code, MediaType, Printable, Sha256, Strict, trimmed
from domain.values import (
    Category,
    Department,
    EnforcementMeasure,
    Evidence,
    Party,
    PartyRole,
    Place,
    PlaceKind,
    Severity,
)
from workflows import lifecycle

WHEN = "2026-03-02T09:30:00+08:00"

Name = Annotated[str, trimmed(200), Printable]
Address = Annotated[str, trimmed(300, 0), Printable]
Contact = Annotated[str, trimmed(100, 0), Printable]
FileName = Annotated[str, trimmed(255), Printable]
Reference = Annotated[str, trimmed(100), Printable]
CaseRef = Annotated[str, trimmed(64, 0), Printable]
Prose = Annotated[str, trimmed(2000), Printable]
OptionalProse = Annotated[str, trimmed(2000, 0), Printable]


def sane_year(value: date) -> date:
    """A day or instant in the years hazardflow serves (ValueError: a 422 at the edge)."""
    # Checked on the year as given, before anything converts it to UTC: 0001-01-01T00:00
    # +08:00 or 9999-12-31T23:59-14:00 has no UTC instant (OverflowError, a 500).
    if not 2000 <= value.year <= 2100:
        raise ValueError("year must be between 2000 and 2100")
    return value


Day = Annotated[date, AfterValidator(sane_year)]
Instant = Annotated[AwareDatetime, AfterValidator(sane_year)]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class PlaceIn(Strict):
    model_config = _examples({"id": "P-0001", "name": "出租屋 1号", "kind": "rental_house",
                              "address": "园山路 1 号", "grid": "YS-C01-G01",
                              "community": "YS-C01"})

    id: Code
    name: Name
    kind: PlaceKind
    address: Address = ""
    grid: Code = Field(description="grid id: the community id, a dash, the grid's code")
    community: Code = Field(description="community id: the street id, a dash, a code")

    def value(self) -> Place:
        return Place(self.id, self.name, self.kind, self.address, self.grid, self.community)


class EvidenceIn(Strict):
    model_config = _examples({"name": "photo-1.jpg", "media_type": "image/jpeg",
                              "sha256": "9f86d081884c7d659a2feaa0c55ad015"
                                        "a3bf4f1b2b0b822cd15d6c15b0f00a08", "size": 48213})

    name: FileName
    media_type: MediaType = Field(default="application/octet-stream")
    sha256: Sha256
    size: int = Field(ge=0, le=10**10)

    def value(self) -> Evidence:
        return Evidence(self.name, self.media_type, self.sha256, self.size)


class PartyIn(Strict):
    model_config = _examples({"name": "房东 陈先生", "role": "landlord",
                              "contact": "13800000000"})

    name: Name
    role: PartyRole
    contact: Contact = ""

    def value(self) -> Party:
        return Party(self.name, self.role, self.contact)


class CommandIn(Strict):
    """What every command may carry: when it happened on the street (default: now)."""

    model_config = _examples({"occurred_at": WHEN})

    occurred_at: Instant | None = Field(
        default=None, description="business time, with an offset; default: when recorded")

    def params(self) -> dict[str, Any]:
        return {"occurred_at": self.occurred_at}


class ReportIn(CommandIn):
    model_config = _examples({
        "place": PlaceIn.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
        "category": "flying_wire_charging", "severity": "general",
        "description": "楼道飞线充电, 电动车停放在楼梯间", "occurred_at": WHEN})

    place: PlaceIn
    category: Category
    severity: Severity = Severity.GENERAL
    description: Prose
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)
    confirm_new: bool = Field(default=False, description="report even though the place has "
                                                         "an open case of this category")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "place": self.place.value(),
                "category": self.category.value, "severity": self.severity.value,
                "description": self.description,
                "evidence": [e.value() for e in self.evidence], "confirm_new": self.confirm_new}


class NotifyIn(CommandIn):
    model_config = _examples({"party": PartyIn.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                              "deadline": "2026-03-09"})

    party: PartyIn
    deadline: Day | None = Field(default=None, description="default: by the deadline policy")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "party": self.party.value(), "deadline": self.deadline}


class StartRectificationIn(CommandIn):
    pass


class AcceptEscalationIn(CommandIn):
    pass


class SubmitRectificationIn(CommandIn):
    model_config = _examples({"measures": "拆除飞线, 引导集中充电", "evidence": []})

    measures: Prose
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "measures": self.measures,
                "evidence": [e.value() for e in self.evidence]}


class VerifyIn(CommandIn):
    model_config = _examples({"passed": True}, {"passed": False, "reason": "飞线仍在"})

    passed: bool
    reason: OptionalProse = ""

    def params(self) -> dict[str, Any]:
        return {**super().params(), "passed": self.passed, "reason": self.reason}


class HandOverIn(CommandIn):
    model_config = _examples({"reason": "房东拒不整改", "department": "fire"})

    reason: Prose
    department: Department | None = Field(default=None,
                                          description="default: routed by category and place")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "reason": self.reason, "department": self.department}


class RefuseIn(HandOverIn):
    pass


class EscalateIn(HandOverIn):
    pass


class RecordEnforcementIn(CommandIn):
    model_config = _examples({"decision_number": "园消罚决字〔2026〕12号", "measure": "fine",
                              "amount": "5000.00"})

    decision_number: Reference
    measure: EnforcementMeasure
    amount: Decimal = Field(default=Decimal(0), ge=0, le=Decimal(100000000),
                            max_digits=11, decimal_places=2, description="yuan")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "decision_number": self.decision_number,
                "measure": self.measure.value, "amount": str(self.amount)}


class OrderRectificationIn(CommandIn):
    model_config = _examples({"deadline": "2026-03-16", "reason": "责令限期整改"})

    deadline: Day | None = None
    reason: OptionalProse = ""

    def params(self) -> dict[str, Any]:
        return {**super().params(), "deadline": self.deadline, "reason": self.reason}


class CloseIn(CommandIn):
    model_config = _examples({"closing_reason": "enforced", "reason": "罚款已缴, 飞线已拆"})

    closing_reason: Literal["enforced", "rectified"] = "enforced"
    reason: OptionalProse = ""

    def params(self) -> dict[str, Any]:
        return {**super().params(), "closing_reason": self.closing_reason,
                "reason": self.reason}


class DismissIn(CommandIn):
    model_config = _examples({"closing_reason": "unfounded", "reason": "现场核实无隐患"})

    closing_reason: Literal["unfounded", "duplicate"]
    reason: Prose
    duplicate_of: CaseRef = Field(default="", description="the case this one duplicates")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "closing_reason": self.closing_reason,
                "reason": self.reason, "duplicate_of": self.duplicate_of}


class ReopenIn(CommandIn):
    model_config = _examples({"reason": "复查发现飞线充电复发"})

    reason: Prose
    confirm_new: bool = Field(False, description="reopen even though another case of the "
                              "category is open at the place (else 409, probable duplicate)")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "reason": self.reason, "confirm_new": self.confirm_new}


class ExtendDeadlineIn(CommandIn):
    model_config = _examples({"deadline": "2026-03-20", "reason": "需采购消防器材"})

    deadline: Day
    reason: Prose

    def params(self) -> dict[str, Any]:
        return {**super().params(), "deadline": self.deadline, "reason": self.reason}


class CommentIn(CommandIn):
    model_config = _examples({"text": "请于周二集中整治日前完成整改"})

    text: Prose

    def params(self) -> dict[str, Any]:
        return {**super().params(), "text": self.text}


# The body of each trigger on an existing case. A test checks that it names exactly the
# lifecycle's triggers (``workflows.lifecycle.TRIGGERS``), so a new trigger needs a body.
TRIGGER_BODIES: dict[str, type[CommandIn]] = {
    "notify": NotifyIn,
    "start_rectification": StartRectificationIn,
    "submit_rectification": SubmitRectificationIn,
    "verify": VerifyIn,
    "refuse": RefuseIn,
    "escalate": EscalateIn,
    "accept_escalation": AcceptEscalationIn,
    "record_enforcement": RecordEnforcementIn,
    "order_rectification": OrderRectificationIn,
    "close": CloseIn,
    "dismiss": DismissIn,
    "reopen": ReopenIn,
    "extend_deadline": ExtendDeadlineIn,
    "comment": CommentIn,
}

# Lifecycle triggers with routes of their own elsewhere (not a JSON command body).
SERVED_ELSEWHERE: dict[str, str] = {
    "attach_evidence": "POST /api/cases/{case}/evidence (evidence upload, the audit routes)",
    # An open case follows its place when an admin moves the place.
    "move_place": "POST /api/places/{place_id}/move",
    # Run by the engine only (role system): `hazardflow escalate-due` and the worker.
    **{t: "the deadline and escalation tick" for t in lifecycle.engine_triggers()},
}
