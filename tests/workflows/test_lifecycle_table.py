"""Every (state, trigger, role) cell of the lifecycle, checked against the machine."""

from __future__ import annotations

import itertools

import pytest

from domain.errors import IllegalTransition
from domain.values import Role
from workflows import lifecycle
from workflows.lifecycle import MACHINE, RULES, next_state

CELLS = list(itertools.product(lifecycle.LEAF_STATES, lifecycle.TRIGGERS, list(Role)))


def expected(state: str, trigger: str, role: Role) -> set[str]:
    """Destinations the machine itself allows, read by asking it for its transitions."""
    dests = set()
    for source in [state.rsplit(".", i)[0] for i in range(state.count(".") + 1)]:
        for t in MACHINE.events[trigger].transitions.get(source, []):
            roles = next(c.func.roles for c in t.conditions if hasattr(c.func, "roles"))
            if role in roles:
                dests.add(t.dest or state)
    return dests


@pytest.mark.parametrize(("state", "trigger", "role"), CELLS,
                         ids=["-".join((s, t, r.value)) for s, t, r in CELLS])
def test_each_cell_follows_the_machine(state: str, trigger: str, role: Role) -> None:
    allowed = expected(state, trigger, role)
    outcomes = ["passed", "failed"] if trigger == "verify" else [None]
    if not allowed:
        for outcome in outcomes:
            with pytest.raises(IllegalTransition) as raised:
                next_state(state, trigger, role, outcome)
            message = str(raised.value)
            assert state in message and trigger in message
            assert raised.value.allowed == lifecycle.allowed_triggers(state, role)
        return
    got = {next_state(state, trigger, role, outcome) for outcome in outcomes}
    assert got == allowed


def test_the_contract_of_the_issue_holds() -> None:
    assert next_state("new", "report", Role.VOLUNTEER) == "found"
    assert next_state("found", "notify", Role.SAFETY_OFFICER) == "notified"
    assert next_state("notified", "start_rectification", Role.SAFETY_OFFICER) == \
        "rectifying.in_progress"
    assert next_state("rectifying.in_progress", "submit_rectification", Role.SAFETY_OFFICER) \
        == "rectifying.awaiting_verification"
    assert next_state("rectifying.awaiting_verification", "verify", Role.INSPECTOR,
                      "passed") == "closed"
    assert next_state("rectifying.awaiting_verification", "verify", Role.INSPECTOR,
                      "failed") == "rectifying.in_progress"
    assert next_state("rectifying.awaiting_verification", "refuse", Role.SAFETY_OFFICER) \
        == "escalated"
    assert next_state("found", "escalate", Role.SYSTEM) == "escalated"
    assert next_state("escalated", "order_rectification", Role.DEPARTMENT_OFFICER) == \
        "rectifying.in_progress"
    assert next_state("notified", "dismiss", Role.SAFETY_OFFICER) == "closed"
    assert next_state("closed", "reopen", Role.GRID_WORKER) == "found"
    assert next_state("escalated", "accept_escalation", Role.DEPARTMENT_OFFICER) == "escalated"


def test_verify_cannot_run_before_a_submission() -> None:
    with pytest.raises(IllegalTransition, match="not allowed from rectifying.in_progress"):
        next_state("rectifying.in_progress", "verify", Role.INSPECTOR, "passed")


def test_an_unknown_trigger_names_the_allowed_ones() -> None:
    with pytest.raises(IllegalTransition, match="no trigger named 'approve'.*notify"):
        next_state("found", "approve", Role.SAFETY_OFFICER)


def test_the_table_is_read_from_the_machine_only_once() -> None:
    # The rules are a view of the machine: every machine transition appears in them.
    machine_triggers = {t for t in MACHINE.events}
    assert machine_triggers == set(lifecycle.TRIGGERS)
    assert {r.trigger for r in RULES} == machine_triggers
