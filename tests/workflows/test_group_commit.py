"""Group commit: commands share transactions, and a conflicting command fails alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from eventsourcing.persistence import IntegrityError

from domain.case import Act
from domain.errors import VersionConflict
from tests import factories as f
from workflows.group_commit import GroupCommit, _Ticket
from workflows.service import HazardCases


def _comment_events(cases: HazardCases, case_id, text: str) -> list:  # type: ignore[no-untyped-def]
    """The events of a comment decided on the case as stored now (not yet written)."""
    case = cases.get_case(case_id)
    now = cases.clock.now()
    case.comment(Act(f.street_supervisor, "comment", case.state, now, now), text)
    return list(case.collect_events())


def test_a_conflicting_command_fails_alone_and_the_rest_commit(cases: HazardCases) -> None:
    x, y = f.report(cases, 1), f.report(cases, 2)
    group = GroupCommit(cases)
    try:
        first = _Ticket(_comment_events(cases, x, "first"))
        stale = _Ticket(_comment_events(cases, x, "decided on the same version"))
        other = _Ticket(_comment_events(cases, y, "elsewhere"))
        group._write([first, stale, other])
    finally:
        group.stop()
    assert first.done.is_set() and first.error is None
    assert isinstance(stale.error, IntegrityError)
    assert other.done.is_set() and other.error is None
    assert [e.reason for e in cases.history(x)][1:] == ["first"]
    assert [e.reason for e in cases.history(y)][1:] == ["elsewhere"]


def test_concurrent_commands_share_transactions_and_each_lands_once(
        cases: HazardCases) -> None:
    ids = [f.report(cases, n) for n in range(1, 9)]
    group = GroupCommit(cases)
    try:
        def comment(i: int) -> int:
            # Two writers per case, no expected version: a collision is decided again.
            return cases.comment(ids[i % len(ids)], f.street_supervisor, text=f"c{i}").version

        with ThreadPoolExecutor(16) as pool:
            versions = list(pool.map(comment, range(64)))
    finally:
        group.stop()
    assert group.commands >= 64 and group.batches < group.commands
    for case_id in ids:
        history = cases.history(case_id)
        assert [e.originator_version for e in history] == list(range(1, 10))
        assert sorted(e.reason for e in history[1:]) == sorted(
            f"c{i}" for i in range(64) if ids[i % len(ids)] == case_id)
    assert sorted(versions) == sorted(v for v in range(2, 10) for _ in ids)


def test_stale_version_and_idempotency_behave_as_without_group_commit(
        cases: HazardCases) -> None:
    case_id = f.report(cases)
    group = GroupCommit(cases)
    try:
        cases.comment(case_id, f.street_supervisor, text="a", command_id="k")
        replay = cases.comment(case_id, f.street_supervisor, text="a", command_id="k")
        with pytest.raises(VersionConflict):
            cases.comment(case_id, f.street_supervisor, text="b", expected_version=1)
    finally:
        group.stop()
    assert replay.replayed and len(cases.history(case_id)) == 2
    assert cases.commit == cases.app.save  # stop() restores the plain save
