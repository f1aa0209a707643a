"""The hazard-case lifecycle: the one table of (state, trigger, role) -> next state.

The table is a ``transitions`` hierarchical Machine used as a pure decision table
(``model=None``): nothing calls its triggers on an aggregate, because a trigger fired on a
model changes state without recording an event. At import the machine is read once into
``RULES``; ``next_state`` looks a decision up, and everything else (API docs, role
matrices, tests) derives from ``RULES`` rather than keeping a copy.

``new`` is the pseudo-state of a case not yet reported; the real states are found,
notified, rectifying (in_progress / awaiting_verification), escalated and closed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from transitions.extensions import HierarchicalMachine
from transitions.extensions.nesting import NestedState

from domain.errors import IllegalTransition
from domain.values import Role

R = Role
REPORTERS = (R.GRID_WORKER, R.VOLUNTEER, R.PROPERTY_STAFF, R.SAFETY_OFFICER)
ESCALATORS = (R.SAFETY_OFFICER, R.STREET_SUPERVISOR, R.SYSTEM)
# Comments and evidence come from the people who work cases, in any state (a photo of a
# relapse after closing too). Leaders, auditors and admins read and cannot act: an auditor
# who could write into the record they audit would not be independent of it, and a leader's
# instruction (批示) reaches the case through the supervisor who acts on it. The system has
# nothing to add.
CASE_WORKERS = (*REPORTERS, R.INSPECTOR, R.STREET_SUPERVISOR, R.DEPARTMENT_OFFICER)
COMMENTERS = CASE_WORKERS
ATTACHERS = CASE_WORKERS


class Roles:
    """A transition's condition: the acting role is one of these."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(self, event) -> bool:  # type: ignore[no-untyped-def]
        return event.kwargs.get("role") in self.roles


class Outcome:
    """A transition's condition: the command's outcome (``verify`` passed or failed)."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    def __call__(self, event) -> bool:  # type: ignore[no-untyped-def]
        return event.kwargs.get("outcome") == self.outcome


class _DottedState(NestedState):
    separator = "."


class _Machine(HierarchicalMachine):
    state_cls = _DottedState


STATES = [
    "new",
    "found",
    "notified",
    {"name": "rectifying", "children": ["in_progress", "awaiting_verification"],
     "initial": "in_progress"},
    "escalated",
    "closed",
]


def _t(trigger: str, source: str | list[str], dest: str | None, *roles: Role,
       outcome: str | None = None) -> dict:
    conditions: list = [Roles(*roles)]
    if outcome:
        conditions.append(Outcome(outcome))
    return {"trigger": trigger, "source": source, "dest": dest, "conditions": conditions}


TRANSITIONS = [
    _t("report", "new", "found", *REPORTERS),
    _t("notify", "found", "notified", R.SAFETY_OFFICER),
    _t("start_rectification", "notified", "rectifying.in_progress", R.SAFETY_OFFICER),
    _t("submit_rectification", "rectifying.in_progress", "rectifying.awaiting_verification",
       R.SAFETY_OFFICER),
    _t("verify", "rectifying.awaiting_verification", "closed", R.INSPECTOR, outcome="passed"),
    _t("verify", "rectifying.awaiting_verification", "rectifying.in_progress", R.INSPECTOR,
       outcome="failed"),
    _t("refuse", ["notified", "rectifying"], "escalated", R.SAFETY_OFFICER),
    _t("escalate", ["found", "notified", "rectifying"], "escalated", *ESCALATORS),
    _t("accept_escalation", "escalated", None, R.DEPARTMENT_OFFICER),
    _t("record_enforcement", "escalated", None, R.DEPARTMENT_OFFICER),
    _t("order_rectification", "escalated", "rectifying.in_progress", R.DEPARTMENT_OFFICER),
    _t("close", "escalated", "closed", R.DEPARTMENT_OFFICER),
    _t("dismiss", ["found", "notified"], "closed", R.SAFETY_OFFICER),
    _t("reopen", "closed", "found", R.SAFETY_OFFICER, R.GRID_WORKER),
    _t("extend_deadline", ["notified", "rectifying"], None, R.STREET_SUPERVISOR),
    _t("comment", ["found", "notified", "rectifying", "escalated", "closed"], None, *COMMENTERS),
    # An open case follows its place into another grid when an admin moves the place
    # (``hazardflow places move``; an admin's one write), and a case reopened at a place
    # moved since it closed follows it too, recorded by the system as part of the reopen.
    _t("move_place", ["found", "notified", "rectifying", "escalated"], None, R.ADMIN,
       R.SYSTEM),
    # The engine's own triggers, run by the deadline and escalation tick
    # (``workflows.escalation``): reminders, missed deadlines, slow re-inspections,
    # unaccepted escalations climbing a level, supervised listing of major hazards.
    _t("remind_deadline", ["notified", "rectifying.in_progress"], None, R.SYSTEM),
    _t("miss_deadline", ["notified", "rectifying.in_progress"], None, R.SYSTEM),
    _t("flag_verification_overdue", "rectifying.awaiting_verification", None, R.SYSTEM),
    _t("raise_escalation_level", "escalated", None, R.SYSTEM),
    _t("list_supervised", ["found", "notified", "rectifying", "escalated"], None, R.SYSTEM),
    _t("attach_evidence", ["found", "notified", "rectifying", "escalated", "closed"], None,
       *ATTACHERS),
]

MACHINE = _Machine(
    model=None, states=STATES, transitions=TRANSITIONS, initial="new",
    auto_transitions=False, send_event=True,
)


@dataclass(frozen=True)
class Rule:
    """One row of the table: from ``source`` (a leaf state) ``trigger`` leads to ``dest``."""

    source: str
    trigger: str
    dest: str
    roles: frozenset[Role]
    outcome: str | None


def _leaf_states() -> list[str]:
    names = MACHINE.get_nested_state_names()
    return [n for n in names if not any(o.startswith(n + ".") for o in names)]


def _read_rules() -> tuple[Rule, ...]:
    """Expand the machine into rows per leaf state; children inherit their parents' rows."""
    rules = []
    for leaf in _leaf_states():
        ancestry = [leaf.rsplit(".", i)[0] for i in range(leaf.count(".") + 1)]
        for trigger, event in MACHINE.events.items():
            for source in ancestry:
                for t in event.transitions.get(source, []):
                    funcs = [c.func for c in t.conditions]
                    roles = next(f.roles for f in funcs if isinstance(f, Roles))
                    outcome = next((f.outcome for f in funcs if isinstance(f, Outcome)), None)
                    rules.append(Rule(leaf, trigger, t.dest or leaf, roles, outcome))
    return tuple(rules)


RULES = _read_rules()
TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
LEAF_STATES = tuple(s for s in _leaf_states() if s != "new")
_BY_CELL: dict[tuple[str, str], list[Rule]] = defaultdict(list)
for _rule in RULES:
    _BY_CELL[(_rule.source, _rule.trigger)].append(_rule)


def allowed_triggers(state: str, role: Role | None = None) -> list[str]:
    """Triggers that may run from ``state`` (for ``role``, when given), sorted."""
    return sorted({
        r.trigger for r in RULES if r.source == state and (role is None or role in r.roles)
    })


def next_state(state: str, trigger: str, role: Role, outcome: str | None = None) -> str:
    """The state ``trigger`` leads to from ``state`` for ``role``, or IllegalTransition."""
    if trigger not in TRIGGERS:
        raise IllegalTransition(state, trigger, role.value, allowed_triggers(state, role),
                                f"there is no trigger named {trigger!r}")
    rules = _BY_CELL.get((state, trigger), [])
    if not rules:
        raise IllegalTransition(state, trigger, role.value, allowed_triggers(state, role),
                                f"{trigger} is not allowed from {state}")
    permitted = [r for r in rules if role in r.roles]
    if not permitted:
        who = ", ".join(sorted(r.value for r in rules[0].roles))
        raise IllegalTransition(state, trigger, role.value, allowed_triggers(state, role),
                                f"only {who} may {trigger}")
    for rule in permitted:
        if rule.outcome == outcome:
            return rule.dest
    outcomes = sorted(str(r.outcome) for r in permitted)
    raise IllegalTransition(state, trigger, role.value, allowed_triggers(state, role),
                            f"{trigger} needs an outcome, one of {', '.join(outcomes)}")


def engine_triggers() -> tuple[str, ...]:
    """Triggers only the system itself runs (no person, no HTTP route)."""
    return tuple(t for t in TRIGGERS if roles_for(t) == frozenset({R.SYSTEM}))


def roles_for(trigger: str) -> frozenset[Role]:
    """Every role that may use ``trigger`` from some state."""
    return frozenset().union(*(r.roles for r in RULES if r.trigger == trigger))
