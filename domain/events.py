"""The events of a hazard case. They are the record: past tense, plain data, never edited.

Every event carries who acted (``actor``: id, role, unit), the ``trigger`` that caused it,
the ``state`` the case is in afterwards, ``occurred_at`` (business time: when it happened
on the street) and ``recorded_at`` (when the system recorded it, from the injected clock),
and ``reason`` (free text; empty where the action has none).

``apply`` only assigns: replaying the log must never fail or branch on rules.
Schema changes are made by upcasting (``class_version`` + ``upcast_vN_vN+1``), never by
editing stored events.

Every case event is a ``ChainedEvent`` (``domain.chain``): it carries ``content_hash`` and
``previous_hash``, which make the case's history tamper-evident.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain.chain import ChainedEvent


class CaseEvent(ChainedEvent):
    trigger: str
    state: str
    actor: dict[str, str]
    occurred_at: str
    recorded_at: str
    reason: str

    def apply(self, case: Any) -> None:
        case.state = self.state
        case.last_occurred_at = max(case.last_occurred_at, self.occurred_at)
        case.chain_head = self.content_hash
        self.evolve(case)

    def evolve(self, case: Any) -> None:
        """Event-specific assignments."""


class Reported(CaseEvent, Aggregate.Created):
    """A hazard found on patrol (发现 / 上报).

    ``notice_due`` is the last day for the safety officer's rectification notice under the
    rules (``notice.within``; ``rule`` says which): slow action (慢作为) from the day after.
    Version 1 events were written without either (``None``: read as 3 calendar days).
    """

    class_version = 2

    number: str
    place: dict[str, str]
    category: str
    severity: str
    description: str
    evidence: list[dict[str, Any]]
    notice_due: str | None
    rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(notice_due=None, rule=None)

    def apply(self, case: Any) -> None:
        # The aggregate has no __init__: all initial state is assigned here.
        case.number = self.number
        case.place = dict(self.place)
        case.category = self.category
        case.severity = self.severity
        case.description = self.description
        case.evidence = list(self.evidence)
        case.reported_by = dict(self.actor)
        case.found_at = self.occurred_at
        case.last_occurred_at = self.occurred_at
        case.recurrence_count = 0
        case.cycles = []
        case.cycle_started_version = 1
        case.rework_count = 0
        case.enforcement = []
        case.comments = 0
        case.reset_cycle()
        super().apply(case)


class NoticeIssued(CaseEvent):
    party: dict[str, str]
    deadline: str
    rule: str

    def evolve(self, case: Any) -> None:
        case.party = dict(self.party)
        case.deadline = self.deadline
        case.notified_at = self.occurred_at


class RectificationStarted(CaseEvent):
    pass


class RectificationSubmitted(CaseEvent):
    """The party's rectification, submitted for re-inspection (复查验收).

    ``verify_due`` is the last day for the inspector's re-inspection under the rules
    (``verification.within``; ``rule`` says which): slow action (慢作为) from the day after.
    Version 1 events were written without either (``None``: judged by the tick's
    ``VerificationOverdue`` only).
    """

    class_version = 2

    measures: str
    evidence: list[dict[str, Any]]
    verify_due: str | None
    rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(verify_due=None, rule=None)

    def evolve(self, case: Any) -> None:
        case.measures = self.measures
        case.evidence = case.evidence + list(self.evidence)
        case.submitted_by = self.actor["id"]
        case.submitted_at = self.occurred_at
        case.verify_due, case.verify_rule = self.verify_due, self.rule


class RectificationVerified(CaseEvent):
    passed: bool
    closing_reason: str

    def evolve(self, case: Any) -> None:
        case.verified_by = self.actor["id"]
        case.verified_at = self.occurred_at
        if self.passed:
            case.closing_reason = self.closing_reason
            case.closed_at = self.occurred_at
        else:
            case.rework_count += 1
            case.submitted_by = None


class RectificationRefused(CaseEvent):
    """The party refused (拒不整改): the case goes to ``department`` (routed by ``rule``) and
    waits for it to accept, by ``accept_due`` as on ``CaseEscalated``."""

    class_version = 2

    department: str
    rule: str
    accept_due: str | None
    accept_rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(accept_due=None, accept_rule=None)

    def evolve(self, case: Any) -> None:
        case.department = self.department
        case.refused = True
        case.escalated_at = self.occurred_at
        case.escalation_accepted = False
        case.accept_due, case.accept_rule = self.accept_due, self.accept_rule


class CaseEscalated(CaseEvent):
    """The case goes to ``department`` (routed by ``rule``), which must accept it.

    ``accept_due`` is the last day the escalation may stay unaccepted at the first level of
    the chain (``escalation.chain[0].accept_within``; ``accept_rule`` says which, as the
    tick's ``EscalationLevelRaised.due`` would): the department is slow from the day after.
    Version 1 events were written without either (``None``: judged by the tick's
    ``EscalationLevelRaised`` only).
    """

    class_version = 2

    department: str
    rule: str
    accept_due: str | None
    accept_rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(accept_due=None, accept_rule=None)

    def evolve(self, case: Any) -> None:
        case.department = self.department
        case.escalated_at = self.occurred_at
        case.accept_due, case.accept_rule = self.accept_due, self.accept_rule
        case.escalation_accepted = False


class EscalationAccepted(CaseEvent):
    """The department took the escalation on; its decision (enforce, order the party back or
    close) is due by ``decide_due`` under the rules (``escalation.decide_within``; ``rule``
    says which). Version 1 events were written without either (``None``: read as 30
    calendar days).
    """

    class_version = 2

    decide_due: str | None
    rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(decide_due=None, rule=None)

    def evolve(self, case: Any) -> None:
        case.escalation_accepted = True


class EnforcementRecorded(CaseEvent):
    decision_number: str
    measure: str
    amount: str

    def evolve(self, case: Any) -> None:
        case.enforcement = case.enforcement + [
            {
                "decision_number": self.decision_number,
                "measure": self.measure,
                "amount": self.amount,
                "recorded_by": self.actor["id"],
                "occurred_at": self.occurred_at,
            }
        ]
        case.cycle_enforcements += 1


class RectificationOrdered(CaseEvent):
    deadline: str
    rule: str

    def evolve(self, case: Any) -> None:
        case.deadline = self.deadline
        case.submitted_by = None


class CaseClosed(CaseEvent):
    closing_reason: str

    def evolve(self, case: Any) -> None:
        case.closing_reason = self.closing_reason
        case.closed_at = self.occurred_at


class CaseDismissed(CaseEvent):
    closing_reason: str
    duplicate_of: str

    def evolve(self, case: Any) -> None:
        case.closing_reason = self.closing_reason
        case.duplicate_of = self.duplicate_of or None
        case.closed_at = self.occurred_at


class CaseReopened(CaseEvent):
    """The hazard came back (复发): the case is found again and waits for a notice, due by
    ``notice_due`` as on ``Reported`` (version 1 events: ``None``, read as 3 calendar days).
    """

    class_version = 2

    previous_cycle: dict[str, Any]
    notice_due: str | None
    rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(notice_due=None, rule=None)

    def evolve(self, case: Any) -> None:
        case.cycles = case.cycles + [dict(self.previous_cycle)]
        case.recurrence_count += 1
        case.cycle_started_version = self.originator_version
        case.reset_cycle()
        case.found_at = self.occurred_at


class DeadlineExtended(CaseEvent):
    deadline: str
    previous_deadline: str

    def evolve(self, case: Any) -> None:
        case.deadline = self.deadline
        case.extensions += 1


class CommentAdded(CaseEvent):
    def evolve(self, case: Any) -> None:
        case.comments += 1


class EvidenceAttached(CaseEvent):
    """Photos or documents added to the record, by content hash (the bytes are in the
    blob store, ``workflows.evidence``); ``reason`` holds the uploader's note."""

    evidence: list[dict[str, Any]]

    def evolve(self, case: Any) -> None:
        case.evidence = case.evidence + list(self.evidence)


class PlaceMoved(CaseEvent):
    """The case's place was registered in another grid (or as another kind) by an admin
    (``hazardflow places move``: grids redrawn, a kind misrecorded), and the open case
    moves with it to that grid's and community's desks. ``place`` is the whole place as
    it now is; ``moved_from`` what it was (grid, community, kind); ``reason`` the admin's.
    Closed cases keep the place their events recorded, as does everything already counted
    in the old grid.

    Moved to another community, a case waiting on its community's officers (a notice, a
    re-inspection) is theirs from the move, with the time the rules give from that day:
    ``notice_due`` or ``verify_due``, by ``rule`` (None when the community stays, or the
    case waits on its party or a department, whose due days stay as they were).
    """

    # 2: the due days; version 1 was written by the first build that moved cases (main
    # between 9895f0e and 786af28, 2026-12-06) with none: the old desk's days stand
    class_version = 2

    place: dict[str, str]
    moved_from: dict[str, str]
    notice_due: str | None
    verify_due: str | None
    rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        for name in ("notice_due", "verify_due", "rule"):
            state.setdefault(name, None)  # 786af28 wrote them still as version 1

    def evolve(self, case: Any) -> None:
        case.place = dict(self.place)
        if self.verify_due is not None:
            case.verify_due, case.verify_rule = self.verify_due, self.rule


# -- what the engine records on its own (the deadline and escalation tick) ---------------
# Each carries the ``rule`` that fired (with the rules version in its text) and the
# ``policy_version`` itself, so a historical rebuild explains itself with the rules then
# in force.


class DeadlineReminded(CaseEvent):
    """A reminder that the rectification deadline is near (整改期限提醒)."""

    deadline: str
    rule: str
    policy_version: str

    def evolve(self, case: Any) -> None:
        case.reminded_for = self.deadline


class DeadlineMissed(CaseEvent):
    """The rectification deadline passed with no rectification submitted (逾期未整改).

    Recorded with the escalation it causes, in the same transaction.
    """

    deadline: str
    due_at: str
    rule: str
    policy_version: str

    def evolve(self, case: Any) -> None:
        case.missed_deadline = self.deadline


class VerificationOverdue(CaseEvent):
    """A submitted rectification was not re-inspected in time: slow action on the
    inspector's desk (复查超时)."""

    submitted_at: str
    due: str
    desk: str
    unit: str
    rule: str
    policy_version: str

    def evolve(self, case: Any) -> None:
        case.verification_flagged_for = self.submitted_at


class EscalationLevelRaised(CaseEvent):
    """No one accepted the escalation within its level's limit: it climbs one level.

    ``due`` is the last day the escalation could stay unaccepted at ``previous_level``
    under the rules (working days): the department is slow (慢作为) from the day after.
    Version 1 events were written without it (``None``: read as the day before the raise).
    ``level_due`` is the last day it may stay unaccepted at ``level``, by ``level_rule``
    then; version 2 events were written without either (``None``: the rules at the tick).
    """

    class_version = 3

    level: str
    previous_level: str
    department: str
    due: str | None
    rule: str
    policy_version: str
    level_due: str | None
    level_rule: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["due"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.update(level_due=None, level_rule=None)

    def evolve(self, case: Any) -> None:
        case.escalation_level = {"level": self.level, "since": self.occurred_at,
                                 "escalated_at": case.escalated_at, "due": self.level_due,
                                 "rule": self.level_rule}


class SupervisedListingImposed(CaseEvent):
    """A major hazard put under supervised listing (挂牌督办)."""

    rule: str
    policy_version: str

    def evolve(self, case: Any) -> None:
        case.supervised = True


CASE_EVENT_TYPES: tuple[type[CaseEvent], ...] = (
    Reported,
    NoticeIssued,
    RectificationStarted,
    RectificationSubmitted,
    RectificationVerified,
    RectificationRefused,
    CaseEscalated,
    EscalationAccepted,
    EnforcementRecorded,
    RectificationOrdered,
    CaseClosed,
    CaseDismissed,
    CaseReopened,
    DeadlineExtended,
    CommentAdded,
    EvidenceAttached,
    PlaceMoved,
    DeadlineReminded,
    DeadlineMissed,
    VerificationOverdue,
    EscalationLevelRaised,
    SupervisedListingImposed,
)
