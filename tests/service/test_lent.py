"""Kept aggregates (workflows.lent): a command decided on a stale copy never decides wrongly.

Two services on one store stand for two server processes: each keeps the cases it wrote
last, and the other moves them on behind its back.
"""

from __future__ import annotations

import pytest

from domain.errors import IllegalTransition, ProbableDuplicate, VersionConflict
from tests import factories as f
from workflows.records import PlaceRegister, place_register_id


@pytest.fixture
def pair(open_service):
    return open_service(), open_service()


def triggers(cases, case_id) -> list[str]:
    return [e.trigger for e in cases.history(case_id)]


def test_a_written_case_is_kept_and_used_by_the_next_command(cases):
    case_id = f.to_notified(cases)
    kept = cases.lent.take(case_id, type(cases.get_case(case_id)))
    assert kept is not None and kept.version == 2 and kept.state == "notified"
    cases.lent.give_back(kept)
    cases.start_rectification(case_id, f.safety_officer, expected_version=2)
    assert cases.get_case(case_id).version == 3


def test_a_stale_copy_does_not_refuse_a_current_if_match(pair):
    a, b = pair
    case_id = f.to_notified(a)  # a keeps version 2
    b.start_rectification(case_id, f.safety_officer, expected_version=2)
    result = a.submit_rectification(case_id, f.safety_officer, measures="拆除飞线",
                                    expected_version=3)
    assert (result.state, result.version) == ("rectifying.awaiting_verification", 4)
    assert triggers(b, case_id) == ["report", "notify", "start_rectification",
                                    "submit_rectification"]


def test_a_stale_copy_does_not_refuse_a_trigger_the_stored_state_allows(pair):
    a, b = pair
    case_id = f.to_notified(a)  # a keeps "notified": submitting is illegal there
    b.start_rectification(case_id, f.safety_officer)
    assert a.submit_rectification(case_id, f.safety_officer, measures="拆除").version == 4


def test_a_stale_copy_does_not_allow_what_the_stored_state_refuses(pair):
    a, b = pair
    case_id = f.to_rectifying(a)  # a keeps "rectifying": submitting is legal there
    b.submit_rectification(case_id, f.safety_officer, measures="拆除")
    with pytest.raises(IllegalTransition):
        a.submit_rectification(case_id, f.safety_officer, measures="again")
    with pytest.raises(VersionConflict) as raised:
        a.comment(case_id, f.grid_worker, text="on v3", expected_version=3)
    assert raised.value.actual == 4
    assert triggers(b, case_id).count("submit_rectification") == 1


def test_a_command_on_a_stale_copy_is_applied_once_on_the_stored_state(pair):
    a, b = pair
    case_id = f.report(a)
    b.comment(case_id, f.grid_worker, text="from b")
    result = a.comment(case_id, f.grid_worker, text="from a")  # a's copy is version 1
    assert result.version == 3
    assert triggers(a, case_id) == ["report", "comment", "comment"]
    assert a.comment(case_id, f.grid_worker, text="again").version == 4


def test_a_stale_place_register_neither_hides_nor_invents_a_duplicate(pair):
    a, b = pair
    first = f.to_awaiting_verification(a)  # a keeps the place register: one open case
    b.verify(first, f.inspector, passed=True)  # closed behind a's back
    second = a.report(f.grid_worker, place=f.place(), category="flying_wire_charging",
                      severity="general", description="又一处")
    assert second.case_id != first
    with pytest.raises(ProbableDuplicate):  # b's register copy is stale the other way
        b.report(f.grid_worker, place=f.place(), category="flying_wire_charging",
                 severity="general", description="再一处")


def test_a_failed_command_leaves_nothing_kept(cases):
    case_id = f.to_notified(cases)
    with pytest.raises(VersionConflict):
        cases.start_rectification(case_id, f.safety_officer, expected_version=1)
    assert cases.lent.take(case_id, type(cases.get_case(case_id))) is None
    assert cases.start_rectification(case_id, f.safety_officer, expected_version=2).version == 3


def test_a_closed_case_is_not_kept_nor_its_place_register_once_nothing_is_open_there(cases):
    case_id = f.to_awaiting_verification(cases)
    cases.verify(case_id, f.inspector, passed=True)
    case = cases.get_case(case_id)
    assert cases.lent.take(case_id, type(case)) is None
    assert cases.lent.take(place_register_id(case.place["id"]), PlaceRegister) is None
    # Read from the store instead, it lets the hazard be reported again as a new case.
    assert cases.get_case(f.report(cases)).state == "found"


def test_a_place_register_with_a_case_still_open_stays_kept(cases):
    closing = f.to_awaiting_verification(cases)
    other = f.report(cases, category="blocked_fire_exit")  # the same place, still open
    cases.verify(closing, f.inspector, passed=True)
    register = cases.lent.take(place_register_id(f.place().id), PlaceRegister)
    assert register is not None and register.open_cases == {str(other): "blocked_fire_exit"}
