"""The HazardCase aggregate: one hazard at one place, from report to closing (销号).

Which trigger may run from which state, and by which role, is decided by the lifecycle in
``workflows.lifecycle``; the service passes that decision in as ``Act.to``. The methods
here guard the invariants the table cannot express (a reason is required, the verifier is
not the submitter, only the assigned department acts on its escalation) and then record
one event each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import events as ev
from domain.chain import Chained
from domain.errors import DomainError, NotPermitted, SeparationOfDuties
from domain.timeutil import (
    end_of_local_day,
    iso,
    local_date,
    parse_instant,
    require_aware,
    shown,
)
from domain.values import (
    Actor,
    Category,
    ClosingReason,
    Department,
    EnforcementMeasure,
    Evidence,
    Party,
    Place,
    Role,
    Severity,
    optional_text,
    parse_enum,
    require_text,
)


def top_state(state: str) -> str:
    """``rectifying.awaiting_verification`` -> ``rectifying``."""
    return state.split(".", 1)[0]


@dataclass(frozen=True)
class Act:
    """One decided action: who, which trigger, to which state, and when."""

    actor: Actor
    trigger: str
    to: str
    occurred_at: datetime
    recorded_at: datetime

    def fields(self, reason: str = "") -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "state": self.to,
            "actor": self.actor.as_dict(),
            "occurred_at": iso(self.occurred_at),
            "recorded_at": iso(self.recorded_at),
            "reason": reason,
            "timestamp": self.recorded_at,
        }


def _check_times(act: Act, not_before: str | None) -> None:
    require_aware(act.occurred_at, "occurred_at")
    if act.occurred_at > act.recorded_at:
        raise DomainError(
            f"occurred_at {shown(act.occurred_at)} is in the future "
            f"(now {shown(act.recorded_at)})"
        )
    if not_before is not None and act.occurred_at < (last := parse_instant(not_before)):
        raise DomainError(
            f"occurred_at {shown(act.occurred_at)} is before the case's last action at "
            f"{shown(last)}"
        )


class HazardCase(Chained, Aggregate):
    """A hazard case. State lives in attributes assigned by ``domain.events``.

    No class-level annotations at run time: eventsourcing would read them as constructor
    fields (a dataclass ``__init__``, and so the created event's fields). The attributes
    (number, state, place, category, severity, deadline, department, ...) are assigned by
    ``Reported.apply`` and ``reset_cycle``; they are declared for the type checker only,
    under ``TYPE_CHECKING``, which never runs. ``Chained`` links every new event to the
    previous one by hash (``domain.chain``).
    """

    if TYPE_CHECKING:
        # Assigned by Reported.apply, and on every event by CaseEvent.apply.
        number: str
        state: str
        place: dict[str, str]
        category: str
        severity: str
        description: str
        evidence: list[dict[str, Any]]
        reported_by: dict[str, str]
        found_at: str
        last_occurred_at: str
        recurrence_count: int
        cycles: list[dict[str, Any]]
        cycle_started_version: int
        rework_count: int
        enforcement: list[dict[str, str]]
        comments: int
        # One cycle's, assigned by reset_cycle.
        party: dict[str, str] | None
        deadline: str | None
        notified_at: str | None
        department: str | None
        refused: bool
        escalated_at: str | None
        escalation_accepted: bool
        cycle_enforcements: int
        measures: str | None
        submitted_by: str | None
        submitted_at: str | None
        verified_by: str | None
        verified_at: str | None
        closing_reason: str | None
        closed_at: str | None
        duplicate_of: str | None
        extensions: int
        reminded_for: str | None
        missed_deadline: str | None
        verification_flagged_for: str | None
        verify_due: str | None  # as recorded on the submission (None: before 2026-11)
        verify_rule: str | None
        accept_due: str | None  # as recorded on the escalation, for its first level
        accept_rule: str | None
        escalation_level: dict[str, str] | None
        supervised: bool

    def reset_cycle(self) -> None:
        """Clear what belongs to one cycle of the case (a reopen starts a new one)."""
        self.party = None
        self.deadline = None
        self.notified_at = None
        self.department = None
        self.refused = False
        self.escalated_at = None
        self.escalation_accepted = False
        self.cycle_enforcements = 0  # enforcement is kept whole; a cycle counts its own
        self.measures = None
        self.submitted_by = None
        self.submitted_at = None
        self.verified_by = None
        self.verified_at = None
        self.closing_reason = None
        self.closed_at = None
        self.duplicate_of = None
        self.extensions = 0
        # Kept by the deadline and escalation tick (``workflows.escalation``).
        self.reminded_for = None
        self.missed_deadline = None
        self.verification_flagged_for = None
        self.verify_due = None
        self.verify_rule = None
        self.accept_due = None
        self.accept_rule = None
        self.escalation_level = None
        self.supervised = False

    # -- creation -------------------------------------------------------------------------

    @classmethod
    def report(
        cls,
        case_id: UUID,
        act: Act,
        number: str | Callable[[], str],
        place: Place,
        category: Category | str,
        severity: Severity | str,
        description: str,
        evidence: list[Evidence],
        *,
        notice_due: date | None = None,
        rule: str | None = None,
    ) -> HazardCase:
        """A found hazard; ``notice_due`` (and the ``rule`` that set it) is the last day for
        its rectification notice, as the service decided it from the rules."""
        _check_times(act, None)
        category = parse_enum(Category, category, "category")
        severity = parse_enum(Severity, severity, "severity")
        description = require_text(description, "description")
        if callable(number):  # take a number only once the report is known to be valid
            number = number()
        return cls._create(
            ev.Reported,
            id=case_id,
            number=number,
            place=place.as_dict(),
            category=category.value,
            severity=severity.value,
            description=description,
            evidence=[e.as_dict() for e in evidence],
            notice_due=_iso_day(notice_due),
            rule=rule,
            **act.fields(),
        )

    # -- notice and rectification ---------------------------------------------------------

    def notify(self, act: Act, party: Party, deadline: date, rule: str) -> None:
        self._check(act)
        if deadline < local_date(act.occurred_at):
            raise DomainError(
                f"deadline {deadline} is before the notice date {local_date(act.occurred_at)}"
            )
        self.trigger_event(
            ev.NoticeIssued, party=party.as_dict(), deadline=deadline.isoformat(), rule=rule,
            **act.fields(),
        )

    def start_rectification(self, act: Act) -> None:
        self._check(act)
        self.trigger_event(ev.RectificationStarted, **act.fields())

    def submit_rectification(self, act: Act, measures: str, evidence: list[Evidence], *,
                             verify_due: date | None = None, rule: str | None = None) -> None:
        """``verify_due``: the last day for the re-inspection, by ``rule``."""
        self._check(act)
        self.trigger_event(
            ev.RectificationSubmitted,
            measures=require_text(measures, "measures taken"),
            evidence=[e.as_dict() for e in evidence],
            verify_due=_iso_day(verify_due),
            rule=rule,
            **act.fields(),
        )

    def verify(self, act: Act, passed: bool, reason: str) -> None:
        self._check(act)
        if act.actor.id == self.submitted_by:
            raise SeparationOfDuties(
                f"{act.actor.id} submitted this rectification and may not also verify it"
            )
        if not passed:
            reason = require_text(reason, "the reason a verification failed")
        self.trigger_event(
            ev.RectificationVerified,
            passed=passed,
            closing_reason=ClosingReason.RECTIFIED.value if passed else "",
            **act.fields(optional_text(reason, "the verification's note")),
        )

    def extend_deadline(self, act: Act, deadline: date, reason: str) -> None:
        self._check(act)
        if self.deadline is None or deadline <= date.fromisoformat(self.deadline):
            raise DomainError(f"an extension must move the deadline past {self.deadline}")
        if deadline < local_date(act.occurred_at):
            # Granted after the deadline day but before the tick, an extension to a day
            # already gone would give no time: the next tick escalates it at once.
            raise DomainError(f"the extended deadline {deadline} is before the day it is "
                              f"granted, {local_date(act.occurred_at)}")
        self.trigger_event(
            ev.DeadlineExtended,
            deadline=deadline.isoformat(),
            previous_deadline=self.deadline,
            **act.fields(require_text(reason, "the reason for an extension")),
        )

    # -- refusal, escalation and enforcement ----------------------------------------------

    def refuse(self, act: Act, reason: str, department: Department, rule: str, *,
               accept_due: date | None = None, accept_rule: str | None = None) -> None:
        """``accept_due`` as in ``escalate``."""
        self._check(act)
        self.trigger_event(
            ev.RectificationRefused,
            department=Department(department).value,
            rule=rule,
            accept_due=_iso_day(accept_due),
            accept_rule=accept_rule,
            **act.fields(require_text(reason, "the party's stated reason for refusing")),
        )

    def escalate(self, act: Act, reason: str, department: Department, rule: str, *,
                 accept_due: date | None = None, accept_rule: str | None = None) -> None:
        """``rule`` routed it to ``department``; ``accept_due`` is the last day for the
        department to accept at the chain's first level, by ``accept_rule``."""
        self._check(act)
        self.trigger_event(
            ev.CaseEscalated,
            department=Department(department).value,
            rule=rule,
            accept_due=_iso_day(accept_due),
            accept_rule=accept_rule,
            **act.fields(require_text(reason, "the reason for escalating")),
        )

    def accept_escalation(self, act: Act, decide_due: date | None = None,
                          rule: str | None = None) -> None:
        """``decide_due``: the last day for the department's decision, by ``rule``."""
        self._check_department(act)
        if self.escalation_accepted:
            raise DomainError(f"the escalation of {self.number} is already accepted")
        self.trigger_event(ev.EscalationAccepted, decide_due=_iso_day(decide_due), rule=rule,
                           **act.fields())

    def record_enforcement(
        self, act: Act, decision_number: str, measure: EnforcementMeasure | str, amount: str
    ) -> None:
        self._check_accepted(act)
        measure = parse_enum(EnforcementMeasure, measure, "enforcement measure")
        self.trigger_event(
            ev.EnforcementRecorded,
            decision_number=require_text(decision_number, "decision number", 100),
            measure=measure.value,
            amount=_amount(amount, measure),
            **act.fields(),
        )

    def order_rectification(self, act: Act, deadline: date, reason: str, rule: str) -> None:
        self._check_accepted(act)
        if deadline < local_date(act.occurred_at):
            raise DomainError(f"deadline {deadline} is before the order date")
        self.trigger_event(
            ev.RectificationOrdered, deadline=deadline.isoformat(), rule=rule,
            **act.fields(optional_text(reason, "the reason for the order")),
        )

    def close(self, act: Act, closing_reason: ClosingReason | str, reason: str) -> None:
        self._check_accepted(act)
        closing = parse_enum(ClosingReason, closing_reason, "closing reason")
        if closing not in (ClosingReason.ENFORCED, ClosingReason.RECTIFIED):
            raise DomainError("a department closes a case as enforced or rectified")
        if closing is ClosingReason.ENFORCED and not self.cycle_enforcements:
            # Checked here, not on replay: cases closed so before this rule still load.
            raise DomainError(
                f"{self.number} cannot be closed as enforced: no enforcement is recorded "
                f"since it was {'reopened' if self.recurrence_count else 'reported'}; "
                f"record the enforcement decision first (decision number, measure, amount)"
            )
        self.trigger_event(ev.CaseClosed, closing_reason=closing.value,
                           **act.fields(optional_text(reason, "the reason for closing")))

    # -- dismissal, recurrence, comments --------------------------------------------------

    def dismiss(
        self, act: Act, closing_reason: ClosingReason | str, reason: str, duplicate_of: str = ""
    ) -> None:
        self._check(act)
        closing = parse_enum(ClosingReason, closing_reason, "closing reason")
        if closing not in (ClosingReason.UNFOUNDED, ClosingReason.DUPLICATE):
            raise DomainError("a case is dismissed as unfounded or duplicate")
        if closing is ClosingReason.DUPLICATE and not duplicate_of.strip():
            raise DomainError("a duplicate must name the case it duplicates")
        self.trigger_event(
            ev.CaseDismissed,
            closing_reason=closing.value,
            duplicate_of=optional_text(duplicate_of, "the case it duplicates"),
            **act.fields(require_text(reason, "the reason for dismissing")),
        )

    def reopen(self, act: Act, reason: str, notice_due: date | None = None,
               rule: str | None = None) -> None:
        """A new cycle; ``notice_due`` as in ``report``."""
        self._check(act)
        previous = {
            "cycle": self.recurrence_count + 1,
            "found_at": self.found_at,
            "closed_at": self.closed_at,
            "closing_reason": self.closing_reason,
            "first_version": self.cycle_started_version,
            "last_version": self.version,
        }
        self.trigger_event(
            ev.CaseReopened,
            previous_cycle=previous,
            notice_due=_iso_day(notice_due),
            rule=rule,
            **act.fields(require_text(reason, "the reason for reopening")),
        )

    def attach_evidence(self, act: Act, evidence: list[Evidence], note: str) -> None:
        self._check_department(act)
        if not evidence:
            raise DomainError("attach at least one file")
        self.trigger_event(
            ev.EvidenceAttached, evidence=[e.as_dict() for e in evidence],
            **act.fields(optional_text(note, "the note")),
        )

    def move_place(self, act: Act, *, grid: str, community: str, kind: str, reason: str,
                   notice_due: date | None = None, verify_due: date | None = None,
                   rule: str | None = None) -> None:
        """Follow the case's place into the grid (and kind) it is registered as now. Only
        an open case moves: a closed one is a finished record of where it was worked. The
        due days are the new community's officers' (``ev.PlaceMoved``), as the service
        decided them from the rules."""
        self._check(act)
        if not self.is_open:
            raise DomainError(f"case {self.number} is closed: it keeps the place it had")
        moved_from = {key: self.place[key] for key in ("grid", "community", "kind")}
        now = {"grid": grid, "community": community, "kind": kind}
        if now == moved_from:
            raise DomainError(f"the place of case {self.number} already is in grid {grid}")
        self.trigger_event(ev.PlaceMoved, place={**self.place, **now}, moved_from=moved_from,
                           notice_due=_iso_day(notice_due), verify_due=_iso_day(verify_due),
                           rule=rule, **act.fields(require_text(reason, "the reason for moving")))

    def comment(self, act: Act, text: str) -> None:
        self._check(act)
        self.trigger_event(ev.CommentAdded, **act.fields(require_text(text, "comment")))

    # -- what the engine does on its own (deadline and escalation tick) -------------------

    def remind_deadline(self, act: Act, rule: str, policy_version: str) -> None:
        self._check(act)
        if self.deadline is None or self.reminded_for == self.deadline:
            raise DomainError(f"no deadline of {self.number} is waiting for a reminder")
        self.trigger_event(ev.DeadlineReminded, deadline=self.deadline, rule=rule,
                           policy_version=policy_version, **act.fields(rule))

    def miss_deadline(self, act: Act, rule: str, policy_version: str) -> None:
        """Record that the deadline passed; the caller escalates in the same save."""
        self._check(act)
        if self.deadline is None or local_date(act.occurred_at) <= date.fromisoformat(
                self.deadline):
            raise DomainError(f"the deadline {self.deadline} of {self.number} has not passed")
        due_at = end_of_local_day(date.fromisoformat(self.deadline))
        self.trigger_event(ev.DeadlineMissed, deadline=self.deadline, due_at=iso(due_at),
                           rule=rule, policy_version=policy_version, **act.fields(rule))

    def flag_verification_overdue(self, act: Act, due: date, unit: str, rule: str,
                                  policy_version: str) -> None:
        self._check(act)
        if self.submitted_at is None or self.verification_flagged_for == self.submitted_at:
            raise DomainError(f"no submitted rectification of {self.number} to flag")
        if local_date(act.occurred_at) <= due:
            raise DomainError(f"the re-inspection of {self.number} is due by {due}")
        self.trigger_event(
            ev.VerificationOverdue, submitted_at=self.submitted_at, due=due.isoformat(),
            desk="inspector", unit=unit, rule=rule, policy_version=policy_version,
            **act.fields(rule))

    def raise_escalation_level(self, act: Act, previous: str, level: str, due: date,
                               rule: str, policy_version: str,
                               level_due: tuple[date, str] | None = None) -> None:
        """``level_due``: the last day at ``level`` and its rule, as the rules give it now."""
        self._check(act)
        if self.escalation_accepted:
            raise DomainError(f"the escalation of {self.number} is already accepted")
        if previous == level:
            raise DomainError(f"the escalation of {self.number} is already at {level}")
        if local_date(act.occurred_at) <= due:
            raise DomainError(f"the escalation of {self.number} may wait for acceptance "
                              f"until {due}")
        self.trigger_event(
            ev.EscalationLevelRaised, level=level, previous_level=previous,
            department=self.department, due=due.isoformat(), rule=rule,
            policy_version=policy_version,
            level_due=level_due[0].isoformat() if level_due else None,
            level_rule=level_due[1] if level_due else None, **act.fields(rule))

    def list_supervised(self, act: Act, rule: str, policy_version: str) -> None:
        self._check(act)
        if self.supervised:
            raise DomainError(f"{self.number} is already under supervised listing")
        self.trigger_event(ev.SupervisedListingImposed, rule=rule,
                           policy_version=policy_version, **act.fields(rule))

    # -- guards ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return top_state(self.state) != "closed"

    def _check(self, act: Act) -> None:
        _check_times(act, self.last_occurred_at)

    def _check_department(self, act: Act) -> None:
        self._check(act)
        if act.actor.role is Role.DEPARTMENT_OFFICER and act.actor.unit != self.department:
            raise NotPermitted(
                f"case {self.number} is escalated to {self.department}, "
                f"not to {act.actor.unit}"
            )

    def _check_accepted(self, act: Act) -> None:
        self._check_department(act)
        if not self.escalation_accepted:
            raise DomainError(
                f"the {self.department} department must accept the escalation of "
                f"{self.number} first"
            )


def _iso_day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _amount(amount: str, measure: EnforcementMeasure) -> str:
    try:
        value = Decimal(str(amount or "0"))
    except InvalidOperation:
        raise DomainError(f"amount {amount!r} is not a number") from None
    if value < 0 or not value.is_finite():
        raise DomainError("amount must be a positive number of yuan")
    if measure is EnforcementMeasure.FINE and value == 0:
        raise DomainError("a fine needs its amount")
    return str(value.quantize(Decimal("0.01")))
