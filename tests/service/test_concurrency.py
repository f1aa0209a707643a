"""Optimistic concurrency, idempotent replay, duplicates and unique numbers under load."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from domain.errors import IdempotencyMismatch, ProbableDuplicate, VersionConflict
from tests import factories as f


def count_events(cases) -> int:
    return cases.recorder.max_notification_id() or 0


def test_a_stale_version_is_refused_and_not_applied(cases):
    case_id = f.report(cases)
    cases.notify(case_id, f.safety_officer, party=f.landlord, expected_version=1)
    before = count_events(cases)
    with pytest.raises(VersionConflict) as raised:
        cases.comment(case_id, f.grid_worker, text="decided on v1", expected_version=1)
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert count_events(cases) == before
    assert cases.comment(case_id, f.grid_worker, text="on v2", expected_version=2).version == 3


def test_a_replayed_command_returns_the_original_result_and_appends_nothing(cases, clock):
    first = cases.report(f.grid_worker, place=f.place(), category="blocked_fire_exit",
                         severity="general", description="堵塞", command_id="phone-42")
    after_first = count_events(cases)
    clock.advance(minutes=5)
    again = cases.report(f.grid_worker, place=f.place(), category="blocked_fire_exit",
                         severity="general", description="堵塞", command_id="phone-42")
    assert again.replayed and (again.case_id, again.number, again.version) == (
        first.case_id, first.number, first.version)
    assert count_events(cases) == after_first

    r1 = cases.notify(first.case_id, f.safety_officer, party=f.landlord, command_id="n-1")
    r2 = cases.notify(first.case_id, f.safety_officer, party=f.landlord, command_id="n-1")
    assert r2.replayed and r2.version == r1.version == 2
    assert [e.trigger for e in cases.history(first.case_id)] == ["report", "notify"]


def test_a_reused_command_id_with_other_content_is_refused(cases):
    case_id = f.report(cases)
    cases.comment(case_id, f.grid_worker, text="一", command_id="c-1")
    with pytest.raises(IdempotencyMismatch):
        cases.comment(case_id, f.grid_worker, text="二", command_id="c-1")
    # Command ids belong to their actor: another actor may use the same id.
    assert not cases.comment(case_id, f.volunteer, text="二", command_id="c-1").replayed


def test_a_probable_duplicate_appends_nothing_unless_confirmed(cases):
    first = f.report(cases)
    before = count_events(cases)
    with pytest.raises(ProbableDuplicate) as raised:
        f.report(cases)
    assert raised.value.case_id == first and raised.value.number == "HZ-2026-000001"
    assert count_events(cases) == before
    other_category = f.report(cases, category="fire_equipment")
    assert other_category != first
    confirmed = cases.report(f.grid_worker, place=f.place(), category="flying_wire_charging",
                             severity="general", description="另一处", confirm_new=True)
    assert confirmed.number == "HZ-2026-000003"


def run_in_threads(n: int, work) -> list:
    results, errors = [None] * n, []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # collected and re-raised by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_case_numbers_are_unique_and_gap_free_under_concurrent_reports(open_service):
    writers = [open_service() for _ in range(4)]  # separate connections, like processes
    per_writer = 15

    def work(i: int) -> list[str]:
        return [writers[i].report(f.grid_worker, place=f.place(100 * i + k),
                                  category="fire_equipment", severity="general",
                                  description="灭火器过期").number
                for k in range(per_writer)]

    numbers = [n for batch in run_in_threads(4, work) for n in batch]
    assert len(set(numbers)) == len(numbers) == 60
    assert sorted(numbers) == [f"HZ-2026-{i:06d}" for i in range(1, 61)]


def test_concurrent_duplicate_reports_open_one_case(open_service):
    writers = [open_service() for _ in range(4)]

    def work(i: int):
        try:
            return writers[i].report(f.grid_worker, place=f.place(7), category="gas_safety",
                                     severity="general", description="燃气泄漏").number
        except ProbableDuplicate as duplicate:
            return ("duplicate of", duplicate.number)

    outcomes = run_in_threads(4, work)
    opened = [o for o in outcomes if isinstance(o, str)]
    assert len(opened) == 1
    assert Counter(outcomes)[("duplicate of", opened[0])] == 3


def test_concurrent_commands_on_one_case_with_versions_apply_once(open_service):
    writers = [open_service() for _ in range(4)]
    case_id = f.report(writers[0])

    def work(i: int):
        try:
            return writers[i].comment(case_id, f.grid_worker, text=f"from {i}",
                                      expected_version=1).version
        except VersionConflict:
            return "conflict"

    outcomes = run_in_threads(4, work)
    assert sorted(outcomes, key=str) == [2, "conflict", "conflict", "conflict"]
    assert [e.trigger for e in writers[0].history(case_id)] == ["report", "comment"]
