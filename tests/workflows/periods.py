"""Rules and histories shared by the tests of periods in calendar days ending on a working day
(``calendar_day_periods_end_on_working_day``): workflows, service and accountability."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib import resources
from typing import Any
from uuid import UUID

from tests import factories as f
from workflows.policy import Policy
from workflows.rules import parse_rules

DEFAULT = resources.files("workflows").joinpath("default_rules.toml").read_text("utf-8")
KEY = "calendar_day_periods_end_on_working_day = true"
OFF = (KEY, KEY.replace("true", "false"))
ABSENT = (KEY, "")  # a rules file written before the key: the old meaning


def packaged_rules(*edits: tuple[str, str]) -> Policy:
    """The packaged rules, edited as an office would (each ``old`` replaced everywhere)."""
    text = DEFAULT
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return Policy(parse_rules(text.encode()))


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC))  # 09:00 in China


def event_of(cases, case_id: UUID, kind: str) -> Any:
    (event,) = [e for e in cases.history(case_id) if type(e).__name__ == kind]
    return event


def accepted_on(cases, clock, day: date, n: int) -> Any:
    """The ``EscalationAccepted`` of a case refused, escalated and accepted by the fire
    department on ``day`` (a new case at place ``n``)."""
    at(clock, day)
    case_id = f.report(cases, n)
    cases.notify(case_id, f.safety_officer, party=f.landlord)
    cases.refuse(case_id, f.safety_officer, reason="房东拒不整改")
    cases.accept_escalation(case_id, f.fire_officer)
    return event_of(cases, case_id, "EscalationAccepted")
