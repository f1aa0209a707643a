"""Random trigger sequences by random roles, checked against the lifecycle table.

For every command the expected outcome is read from ``workflows.lifecycle.RULES``: a cell
the table forbids must raise IllegalTransition and append nothing; an allowed cell must
land in the table's destination state, unless one of the aggregate's documented
invariants refuses it (also appending nothing). After every step, the case rebuilt from
the stored events must equal the aggregate the command produced in memory.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from api.settings import Settings
from api.wiring import open_cases
from domain.case import HazardCase
from domain.clock import FixedClock
from domain.errors import DomainError, IllegalTransition, NotPermitted, SeparationOfDuties
from domain.values import Actor, Evidence, Role
from tests import factories as f
from workflows import lifecycle
from workflows.deadlines import NotDue

# Two people per role, so separation of duties and department scoping both get exercised.
UNITS = {Role.DEPARTMENT_OFFICER: ["emergency_management", "fire"]}  # "other" routes to the first
PEOPLE = [Actor(f"{role.value}-{i}", role, UNITS.get(role, [f.COMMUNITY, f.COMMUNITY])[i])
          for role in Role for i in (0, 1) if role is not Role.SYSTEM] + [f.system]
# The one person who is both a safety officer and an inspector, to try verifying one's own work.
PEOPLE.append(Actor("safety_officer-0", Role.INSPECTOR, f.COMMUNITY))

# Invariants the table cannot express; a refusal for one of these is an allowed outcome.
# (The engine's triggers run only when the rules say they are due.)
INVARIANT_REFUSALS = (NotPermitted, SeparationOfDuties, NotDue)
INVARIANT_MESSAGES = ("must accept the escalation", "already accepted", "extension must move",
                      "record the enforcement decision first",  # closing as enforced
                      "before the order date", "before the notice date",
                      "before the day it is granted",  # an extension to a day already past
                      "is not due on")  # an engine trigger run before its time


def params_for(trigger: str, case: Any, today: date, draw_bool: bool) -> dict[str, Any]:
    deadline = date.fromisoformat(case.deadline) if case.deadline else today
    builders = {
        "notify": {"party": f.landlord},
        "start_rectification": {},
        "submit_rectification": {"measures": "已整改"},
        "verify": {"passed": draw_bool, "reason": "仍有隐患"},
        "refuse": {"reason": "拒不整改"},
        "escalate": {"reason": "逾期"},
        "accept_escalation": {},
        "record_enforcement": {"decision_number": "D-1", "measure": "warning"},
        "order_rectification": {"deadline": today + timedelta(days=7)},
        "close": {"closing_reason": "enforced"},
        "dismiss": {"closing_reason": "unfounded", "reason": "误报"},
        "reopen": {"reason": "复发"},
        "extend_deadline": {"deadline": deadline + timedelta(days=3), "reason": "延期"},
        "comment": {"text": "备注"},
        "attach_evidence": {"evidence": [Evidence("a.jpg", "image/jpeg", "b" * 64, 10)]},
        # Not a command on one case: the place moves, and its open cases with it (act).
        "move_place": {},
        # The engine's triggers take nothing: the rules and the case decide what is due.
        **{trigger: {} for trigger in lifecycle.engine_triggers()},
    }
    missing = set(lifecycle.TRIGGERS) - set(builders) - {"report"}
    assert not missing, f"add parameter builders for new triggers: {sorted(missing)}"
    return builders[trigger]


class Lifecycle(RuleBasedStateMachine):
    cases = Bundle("cases")

    @initialize()
    def open_store(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.clock = FixedClock(datetime(2026, 3, 2, 1, tzinfo=UTC))
        self.service = open_cases(
            Settings(sqlite_path=Path(self.folder.name) / "p.db", database_url=None),
            clock=self.clock)
        self.saved: list[Any] = []
        real_save = self.service.save

        def capture(*aggregates: Any) -> Any:
            self.saved = [a for a in aggregates if isinstance(a, HazardCase)]
            return real_save(*aggregates)

        self.service.save = capture
        self.places = 0

    def teardown(self) -> None:
        if hasattr(self, "service"):
            self.service.shutdown()
            self.folder.cleanup()

    @rule(target=cases, reporter=st.sampled_from(PEOPLE))
    def report(self, reporter: Actor):
        self.places += 1
        allowed = {r.dest for r in lifecycle.RULES
                   if r.source == "new" and reporter.role in r.roles}
        try:
            result = self.service.report(reporter, place=f.place(self.places),
                                         category="other", severity="general",
                                         description="隐患")
        except IllegalTransition:
            assert not allowed
            return None
        assert {result.state} == allowed
        return result.case_id

    @rule(case_id=cases, data=st.data(), hours=st.integers(min_value=0, max_value=200))
    def act_as_the_table_allows(self, case_id, data: st.DataObject, hours: int) -> None:
        """Mostly walk allowed cells, so that every state is reached."""
        if case_id is None:
            return
        state = self.service.get_case(case_id).state
        rule_ = data.draw(st.sampled_from([r for r in lifecycle.RULES if r.source == state]))
        actor = data.draw(st.sampled_from([p for p in PEOPLE if p.role in rule_.roles]))
        self.act(case_id, rule_.trigger, actor, rule_.outcome != "failed", hours)

    @rule(case_id=cases, trigger=st.sampled_from([t for t in lifecycle.TRIGGERS
                                                  if t != "report"]),
          actor=st.sampled_from(PEOPLE), passed=st.booleans(),
          hours=st.integers(min_value=0, max_value=200))
    def act(self, case_id, trigger: str, actor: Actor, passed: bool, hours: int) -> None:
        """Any trigger by anyone: mostly cells the table forbids."""
        if case_id is None:
            return
        self.clock.advance(hours=hours)
        before = self.service.get_case(case_id)
        outcome = ("passed" if passed else "failed") if trigger == "verify" else None
        dests = {r.dest for r in lifecycle.RULES
                 if (r.source, r.trigger) == (before.state, trigger) and actor.role in r.roles
                 and r.outcome == outcome}
        today = self.clock.now().date()
        params = params_for(trigger, before, today, passed)
        if trigger == "move_place":
            self.move_the_place(before, actor, dests)
            return
        # a case reopened at a place moved since it closed follows it in the same command
        follows = trigger == "reopen" and self._registered(before) != {
            key: before.place[key] for key in ("grid", "community", "kind")}
        try:
            result = self.service.act(case_id, trigger, actor, **params)
        except IllegalTransition:
            assert not dests, f"{trigger} from {before.state} by {actor.role} was refused"
            assert self.service.get_case(case_id).version == before.version
            return
        except DomainError as refusal:
            assert dests, f"table forbids {trigger} from {before.state}, got {refusal!r}"
            assert isinstance(refusal, INVARIANT_REFUSALS) or any(
                m in str(refusal) for m in INVARIANT_MESSAGES), repr(refusal)
            assert self.service.get_case(case_id).version == before.version
            return
        assert {result.state} == dests
        assert result.version == before.version + 1 + follows
        event(f"{before.state} -{trigger}-> {result.state}")
        self.last = case_id

    def move_the_place(self, before: Any, actor: Actor, dests: set[str]) -> None:
        """An admin's move of the case's place to the other grid: the open case follows
        (one event, same state) where the table allows it; a closed case stays."""
        other = "YS-C01-G02" if before.place["grid"] == f.GRID else f.GRID
        if self._registered(before)["grid"] == other:
            other = before.place["grid"]  # moved while closed: move it back
        try:
            self.service.move_place(before.place["id"], grid=other, community=f.COMMUNITY,
                                    kind=None, reason="网格调整", actor=actor)
        except IllegalTransition:
            assert not dests and before.is_open, f"move_place by {actor.role} was refused"
            assert self.service.get_case(before.id).version == before.version
            return
        after = self.service.get_case(before.id)
        if before.is_open:
            assert {after.state} == dests and after.version == before.version + 1
            assert after.place["grid"] == other
            event(f"{before.state} -move_place-> {after.state}")
        else:
            assert after.version == before.version and after.place == before.place

    def _registered(self, case: Any) -> dict[str, str]:
        return self.service.place_register(case.place["id"]).identity

    @invariant()
    def stored_events_rebuild_the_same_case(self) -> None:
        for in_memory in getattr(self, "saved", []):
            rebuilt = self.service.get_case(in_memory.id)
            mine = {k: v for k, v in vars(in_memory).items() if k != "_pending_events"}
            theirs = {k: v for k, v in vars(rebuilt).items() if k != "_pending_events"}
            assert mine == theirs


Lifecycle.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestLifecycle = Lifecycle.TestCase
