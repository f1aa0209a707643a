"""What is due on a case now: reminders, missed deadlines, slow re-inspections, climbs.

Pure decisions from a case (the aggregate, freshly loaded) and the policy. The tick
(``workflows.escalation``) asks this for each candidate the due index names, and the
service asks it again inside the command, against the case as it is at that moment, so a
case that moved on in between (rectified, extended, accepted, closed) is left alone.

Each due action carries a deterministic command id: two ticks deciding the same action
on the same case present the same id, so the second one is a replay, never a second event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.case import top_state
from domain.errors import DomainError
from domain.timeutil import local_date, parse_instant
from workflows.policy import Policy
from workflows.rules import Duration

# Waiting on the party to rectify: only here does a deadline run. A submitted
# rectification waits on the inspector instead; an approved extension moves the deadline.
WAITING_ON_PARTY = ("notified", "rectifying.in_progress")
BEFORE_ESCALATION = ("found", "notified", "rectifying")


class NotDue(DomainError):
    """The action is no longer due on this case (it moved on since the tick looked)."""


@dataclass(frozen=True)
class Due:
    """One action due on one case: the service method (named like its trigger) to run."""

    action: str
    command_id: str


def local_day(instant: str) -> date:
    return local_date(parse_instant(instant))


def current_level(case: Any, policy: Policy) -> tuple[str, str]:
    """The escalation's level and since when, for the case's current escalation."""
    raised = case.escalation_level
    if raised and raised["escalated_at"] == case.escalated_at:
        return raised["level"], raised["since"]
    return policy.first_level().value, case.escalated_at


def verification_due(case: Any, policy: Policy) -> tuple[date, str]:
    """The last day to re-inspect the case's submitted rectification, and its rule: the
    day recorded on the submission, which the inspector was given and accountability
    judges by; for a submission recorded without one, the rules in force now."""
    if case.verify_due is not None:
        return date.fromisoformat(case.verify_due), case.verify_rule or ""
    return policy.verification_due(local_day(case.submitted_at))


def acceptance_due(case: Any, policy: Policy) -> tuple[date, str]:
    """The last day the case's escalation may stay unaccepted at its current level, and the
    rule: the day recorded when it came to that level (on the escalation, which
    accountability judges the department by, or on the climb); for one recorded without
    it, by the rules now."""
    level, since = current_level(case, policy)
    raised = case.escalation_level
    if raised and raised["escalated_at"] == case.escalated_at:  # climbed
        recorded, recorded_rule = raised.get("due"), raised.get("rule")
    else:
        recorded, recorded_rule = case.accept_due, case.accept_rule
    if recorded is not None:
        return date.fromisoformat(recorded), recorded_rule or ""
    return policy.acceptance_due(level, local_day(since))


def due_actions(case: Any, policy: Policy, now: datetime) -> list[Due]:
    """Every action due on ``case`` at ``now``, in the order to run them."""
    if not case.is_open:
        return []
    today, key = local_date(now), f"{case.id}:{case.cycle_started_version}"
    if case.escalated_at is None and top_state(case.state) in BEFORE_ESCALATION \
            and policy.escalates_at_once(case.severity):
        return [Due("escalate_at_once", f"major-escalation:{key}")]
    if case.state in WAITING_ON_PARTY and case.deadline:
        deadline = date.fromisoformat(case.deadline)
        if today > deadline and case.missed_deadline != case.deadline:
            return [Due("escalate_overdue", f"deadline-missed:{key}:{case.deadline}")]
        if today > deadline:  # recorded missed on its own (``miss_deadline``), not escalated
            return [Due("escalate_missed", f"missed-escalation:{key}:{case.deadline}")]
        remind = policy.reminder_day(deadline)
        if remind is not None and today >= remind and case.reminded_for != case.deadline:
            return [Due("remind_deadline", f"deadline-reminder:{key}:{case.deadline}")]
    if case.state == "rectifying.awaiting_verification" and case.submitted_at \
            and case.verification_flagged_for != case.submitted_at \
            and today > verification_due(case, policy)[0]:
        return [Due("flag_verification_overdue",
                    f"verification-overdue:{case.id}:{case.submitted_at}")]
    due: list[Due] = []
    if case.state == "escalated":
        if policy.supervised_listing(case.severity) and not case.supervised:
            due.append(Due("list_supervised", f"supervised-listing:{key}"))
        if not case.escalation_accepted:
            level, _ = current_level(case, policy)
            higher = policy.next_level(level)
            if higher is not None and today > acceptance_due(case, policy)[0]:
                due.append(Due("raise_escalation_level",
                               f"escalation-level:{case.id}:{case.escalated_at}:{higher.value}"))
    return due


# Recording a missed deadline alone is due whenever recording it with its escalation is.
_SAME_TIME = {"miss_deadline": "escalate_overdue"}


def require_due(case: Any, action: str, policy: Policy, now: datetime) -> None:
    """NotDue unless ``action`` is due on ``case`` at ``now`` (checked inside the command)."""
    if _SAME_TIME.get(action, action) not in {d.action for d in due_actions(case, policy, now)}:
        raise NotDue(f"{action} is not due on {case.number} at {now.isoformat()}")


@dataclass(frozen=True)
class Horizons:
    """Thresholds (China local dates, ISO text) for finding cases that may be due today.

    - ``today``: a deadline before it is missed;
    - ``remind_until``: a deadline on or before it is within the reminder lead (None: off);
    - ``submitted_before``: a submission on a day before it is past the re-inspection limit;
    - ``since_before``: per escalation level that can still climb, a level reached on a day
      before it is past that level's limit to accept; ``first_level`` is the level of a
      fresh escalation;
    - ``unlisted_before``: the same for a level the rules no longer list (an escalation
      pending when the chain was edited), which goes to the top after the top's limit
      (``Policy.next_level``); ``listed`` names the levels the chain does list;
    - ``major_at_once`` / ``major_listed``: major hazards are escalated / listed at once.

    Each is exact for its rule: e.g. the reminder of deadline D is due on or after the N-th
    working day before D, which is today exactly when D is on or before the N-th working
    day after today; a period in calendar days that ends on the next working day is
    inverted as such (``Policy.started_before``).
    """

    today: str
    remind_until: str | None
    submitted_before: str
    first_level: str
    since_before: dict[str, str] = field(default_factory=dict)
    listed: tuple[str, ...] = ()
    unlisted_before: str | None = None
    major_at_once: bool = True
    major_listed: bool = True

    @classmethod
    def of(cls, policy: Policy, now: datetime) -> Horizons:
        today = local_date(now)
        rules = policy.rules.model
        lead = rules.reminders.before_deadline

        def before(span: Duration) -> str:
            return policy.started_before(today, span).isoformat()

        return cls(
            today=today.isoformat(),
            remind_until=policy.calendar.add(today, lead).isoformat() if lead.days else None,
            submitted_before=before(rules.verification.within),
            first_level=policy.first_level().value,
            since_before={lv.level.value: before(lv.accept_within) for lv in policy.chain[:-1]},
            listed=tuple(level.level.value for level in policy.chain),
            unlisted_before=before(policy.chain[-1].accept_within),
            major_at_once=rules.major_hazard.escalate_at_once,
            major_listed=rules.major_hazard.supervised_listing,
        )
