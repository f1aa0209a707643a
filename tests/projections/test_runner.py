"""Incremental catch-up equals a full rebuild; a failed page is rolled back and resumed."""

from __future__ import annotations

import threading

import pytest

from projections import all_projections, by_names
from projections.db import SqliteDb, store_db
from projections.ledger import Ledger
from projections.runner import ProjectionConflict, Runner
from tests import factories as f
from tests.projections.helpers import dump
from tests.projections.history import RandomHistory


def test_incremental_catch_ups_equal_a_full_rebuild(cases, clock):
    history = RandomHistory(cases, clock, seed=7)
    runner = Runner(cases, all_projections(), page_size=40)
    catch_ups = {17, 18, 60, 61, 62, 99, 140, 141}  # also when nothing new was recorded
    history.run(170, every=lambda step: runner.catch_up() if step in catch_ups else None)
    runner.catch_up()
    assert history.steps > 100
    incremental = dump(runner.db)
    assert len(incremental["ledger_cases"]) == len(history.ids)

    in_memory = SqliteDb.memory()
    Runner(cases, all_projections(), in_memory).catch_up()
    Runner(cases, all_projections()).rebuild()
    rebuilt = dump(runner.db)
    for table, rows in incremental.items():
        assert rows == rebuilt[table], table
        assert rows == dump(in_memory)[table], table
    assert all(s.up_to_date for s in runner.status())


class Boom(Exception):
    pass


def _fail_at(projection, n: int):
    """Make ``projection`` raise ``Boom`` at the ``n``-th event it applies (the ones before
    are applied); returns the function that makes it whole again."""
    real_apply, seen = projection.apply, []

    def apply_then_fail(event, page):
        seen.append(event)
        if len(seen) == n:
            raise Boom(f"injected after {n - 1} events")
        real_apply(event, page)

    projection.apply = apply_then_fail

    def heal() -> None:
        projection.apply = real_apply

    return heal


def test_a_failed_catch_up_resumes_to_exactly_the_uninterrupted_result(cases, clock):
    RandomHistory(cases, clock, seed=11).run(120)
    failing = all_projections()
    _fail_at(failing[0], 75)
    runner = Runner(cases, failing, page_size=30)
    with pytest.raises(Boom):
        runner.catch_up()

    # Only whole pages before the failure are committed, rows and positions together.
    positions = {s.name: s.position for s in Runner(cases, all_projections()).status()}
    partial = dump(runner.db)
    assert 0 < positions["ledger"] < cases.recorder.max_notification_id()
    assert positions["ledger"] == positions["audit"]
    assert [r[0] for r in partial["audit_events"]] == sorted(
        n.id for n in cases.recorder.select_notifications(1, 10_000, stop=positions["audit"])
        if n.topic.startswith("domain.events:"))

    Runner(cases, all_projections(), page_size=30).catch_up()
    uninterrupted = SqliteDb.memory()
    Runner(cases, all_projections(), uninterrupted, page_size=30).catch_up()
    assert dump(runner.db) == dump(uninterrupted)


def test_a_rebuild_stopped_by_an_error_resumes_in_the_same_runner(cases, clock):
    """As the worker goes on after an error: the tables the failed rebuild created are now
    written by key, so their key indexes (on SQLite made after a rebuild) come first."""
    RandomHistory(cases, clock, seed=14).run(120)
    projections = all_projections()
    healed = _fail_at(projections[0], 75)
    runner = Runner(cases, projections, page_size=30)
    with pytest.raises(Boom):
        runner.rebuild()
    healed()
    RandomHistory(cases, clock, seed=15).run(20)  # and more events meanwhile
    runner.catch_up()

    uninterrupted = SqliteDb.memory()
    Runner(cases, all_projections(), uninterrupted, page_size=30).catch_up()
    assert dump(runner.db) == dump(uninterrupted)


def test_a_sqlite_table_made_with_its_key_inline_keeps_one_unique_index(tmp_path, clock):
    """Stores made before keys became separate indexes keep their tables as they are."""
    from api.settings import Settings
    from api.wiring import open_cases

    service = open_cases(Settings(sqlite_path=tmp_path / "old.db", database_url=None),
                         clock=clock)
    try:
        RandomHistory(service, clock, seed=16).run(40)
        runner = Runner(service, [Ledger()])
        runner.catch_up()
        table = Ledger.tables[0]
        with runner.db.writer() as tx:  # the table as the older ddl made it
            tx.execute(f"DROP TABLE {table.name}")
            columns = ", ".join(f"{n} {k}" for n, k in table.columns)
            tx.execute(f"CREATE TABLE {table.name} ({columns}, UNIQUE ({table.key[0]}))")
            tx.execute("UPDATE projection_tracking SET position = 0 WHERE name = 'ledger'")
        later = Runner(service, [Ledger()], page_size=10)
        later.catch_up()
        RandomHistory(service, clock, seed=17).run(10)
        later.catch_up()  # rows rewritten by key, through the inline unique key
        with later.db.transaction() as tx:
            unique = [row for row in tx.execute(f"PRAGMA index_list({table.name})") if row[2]]
        assert len(unique) == 1
        rebuilt = SqliteDb.memory()
        Runner(service, [Ledger()], rebuilt).catch_up()
        assert dump(later.db, ["ledger"]) == dump(rebuilt, ["ledger"])
    finally:
        service.shutdown()


def test_two_runners_cannot_both_apply_the_same_page(cases, clock):
    RandomHistory(cases, clock, seed=3).run(30)
    first, second = Runner(cases, [Ledger()]), Runner(cases, [Ledger()])
    first.setup()
    second.setup()
    first.catch_up()
    clock.advance(hours=1)
    RandomHistory(cases, clock, seed=4).run(5)
    # ``second`` read position 0 before ``first`` moved it: its page must be refused.
    positions = {"ledger": 0}
    events = list(second.source.pages(0, second.source.head()))
    with pytest.raises(ProjectionConflict):
        second._apply_page(events[0][0], events[0][1], positions)
    first.catch_up()
    rebuilt = SqliteDb.memory()
    Runner(cases, [Ledger()], rebuilt).catch_up()
    assert dump(first.db, ["ledger"]) == dump(rebuilt, ["ledger"])


def test_a_new_projection_version_is_rebuilt_on_catch_up(cases, clock):
    RandomHistory(cases, clock, seed=5).run(20)
    Runner(cases, [Ledger()]).catch_up()

    class LedgerNext(Ledger):
        version = Ledger.version + 1

    runner = Runner(cases, [LedgerNext()])
    assert runner.status()[0].up_to_date is False
    runner.catch_up()
    assert runner.status()[0].stored_version == Ledger.version + 1
    assert len(dump(runner.db, ["ledger"])["ledger_cases"]) == len(
        {n.originator_id for n in cases.recorder.select_notifications(1, 10_000)
         if n.topic == "domain.events:Reported"})


def test_a_report_read_while_another_runner_holds_the_page_still_answers(cases, clock,
                                                                       monkeypatch):
    from projections.reports import read

    RandomHistory(cases, clock, seed=9).run(10)
    Runner(cases, [Ledger()]).catch_up()
    RandomHistory(cases, clock, seed=10).run(5)

    def moved_by_someone_else(*args, **kwargs):
        raise ProjectionConflict("projection ledger was moved by another process")

    monkeypatch.setattr(Runner, "_advance", staticmethod(moved_by_someone_else))
    assert read(cases, "ledger").rows  # the rows already built, not an error


def _index_names(db):
    query = ("SELECT name FROM sqlite_master WHERE type = 'index'" if db.dialect == "sqlite"
             else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    with db.transaction() as tx:
        return {name for (name,) in tx.execute(query)}


def test_secondary_indexes_come_after_the_last_page_or_with_the_next_runner(cases, clock):
    RandomHistory(cases, clock, seed=12).run(120)
    dialect = store_db(cases).dialect
    wanted = {name for p in all_projections() for t in p.tables
              for name in t.index_names(dialect)}
    failing = all_projections()
    _fail_at(failing[0], 75)
    runner = Runner(cases, failing, page_size=30)
    with pytest.raises(Boom):
        runner.rebuild()
    assert not wanted & _index_names(runner.db)  # a stopped rebuild: rows, no indexes yet

    Runner(cases, all_projections()).setup()
    assert wanted <= _index_names(runner.db)
    fresh = Runner(cases, all_projections())
    fresh.rebuild()
    assert wanted <= _index_names(fresh.db)


@pytest.mark.parametrize("stored_limit", [10, 1_000_000])
def test_rows_dropped_from_a_small_cache_are_read_back(cases, clock, monkeypatch,
                                                      stored_limit):
    from projections import framework

    history = RandomHistory(cases, clock, seed=13)
    history.run(60)
    expected = SqliteDb.memory()
    Runner(cases, all_projections(), expected).catch_up()
    monkeypatch.setattr(framework, "CACHE_LIMIT", 4)
    monkeypatch.setattr(framework, "STORED_LIMIT", stored_limit)
    runner = Runner(cases, all_projections(), page_size=25)
    runner.rebuild()
    history.run(60)
    runner.catch_up()
    Runner(cases, all_projections(), expected).catch_up()
    assert dump(runner.db) == dump(expected)


def test_a_recorded_nul_character_is_shown_not_a_page_that_never_applies(cases, clock):
    # The edges and the service now refuse NUL, but the log may already hold one
    # (Open311 took it). PostgreSQL cannot store it in a text column: unhandled, every
    # projection would stop at that event for good.
    case_id = f.report(cases)
    f.comment_as_recorded_before(cases, case_id, "门\x00锁")
    runner = Runner(cases, all_projections())
    runner.catch_up()
    assert all(s.up_to_date for s in runner.status())
    reasons = [row for row in dump(runner.db)["audit_events"] if "门␀锁" in row]
    assert len(reasons) == 1
    assert cases.history(case_id)[-1].reason == "门\x00锁"  # the log itself is untouched


def test_a_runner_does_not_write_rows_it_cached_before_another_runner_moved_them(cases, clock):
    # The worker keeps one runner (and its row cache) for ever; a report, the HTTP API or
    # `projections catch-up` apply pages with runners of their own in between. Rows cached
    # before another runner changed them must not be written back over its changes.
    RandomHistory(cases, clock, seed=21).run(60)
    worker = Runner(cases, all_projections())
    worker.catch_up()
    for seed in (22, 23, 24):
        clock.advance(hours=1)
        RandomHistory(cases, clock, seed=seed).run(40)
        Runner(cases, all_projections()).catch_up()  # a reader's catch-up
        clock.advance(hours=1)
        RandomHistory(cases, clock, seed=seed + 10).run(40)
        worker.catch_up()

    rebuilt = SqliteDb.memory()
    Runner(cases, all_projections(), rebuilt).catch_up()
    assert dump(worker.db) == dump(rebuilt)


def _at_once(*calls):
    """Run ``calls`` in threads released together; the exceptions they raised."""
    barrier, failures = threading.Barrier(len(calls)), []

    def run(call):
        barrier.wait()
        try:
            call()
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            failures.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_runners_set_up_at_once_on_a_new_store_or_a_new_version_both_go_on(open_service,
                                                                           clock):
    # The worker, the HTTP server's reports and an operator's command open the projections
    # at the same moment on a new store, and again after an upgrade bumps a version: on
    # PostgreSQL two sessions creating the same table at once failed one of them
    # (UniqueViolation on pg_type), a traceback or a 500.
    first, second = open_service(), open_service()
    RandomHistory(first, clock, seed=25).run(20)
    assert _at_once(Runner(first, all_projections()).status,
                    Runner(second, all_projections()).status) == []
    assert _at_once(Runner(first, all_projections()).setup,
                    Runner(second, all_projections()).setup) == []

    class LedgerV2(Ledger):
        version = 2

    assert _at_once(Runner(first, [LedgerV2()]).setup, Runner(second, [LedgerV2()]).setup) == []
    runner = Runner(first, [LedgerV2()])
    runner.catch_up()
    assert [(s.stored_version, s.up_to_date) for s in runner.status()] == [(2, True)]


def test_the_witness_is_set_up_by_two_processes_at_once(open_service):
    # The worker's first round and `audit verify` (or the evidence route) on a new store.
    from projections.chain import ChainWitness

    first, second = open_service(), open_service()
    assert _at_once(lambda: ChainWitness(first), lambda: ChainWitness(second)) == []
    assert ChainWitness(first).position()[0] == 0


def test_the_worker_goes_on_after_a_rebuild_by_another_process_whole_or_stopped(cases, clock):
    # `projections rebuild` while `hazardflow worker` runs: on SQLite the rebuilt tables have
    # no key index until the rebuild's last page, and the worker's runner, which had made
    # its indexes long before, wrote by key into them and died (OperationalError: ON
    # CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint).
    RandomHistory(cases, clock, seed=31).run(80)
    worker = Runner(cases, all_projections())
    worker.catch_up()
    clock.advance(hours=1)
    RandomHistory(cases, clock, seed=32).run(20)
    stopping = all_projections()
    _fail_at(stopping[0], 40)
    with pytest.raises(Boom):  # Ctrl-C part-way through the rebuild
        Runner(cases, stopping, page_size=30).rebuild()
    worker.catch_up()  # resumes it
    Runner(cases, all_projections(), page_size=30).rebuild()  # a whole one
    clock.advance(hours=1)
    RandomHistory(cases, clock, seed=33).run(20)
    worker.catch_up()

    rebuilt = SqliteDb.memory()
    Runner(cases, all_projections(), rebuilt).catch_up()
    assert dump(worker.db) == dump(rebuilt)


def test_runners_of_the_same_projections_in_another_order_never_deadlock(open_service, clock):
    # `projections rebuild --processes 2` groups projections by weight (accountability
    # first), the worker has them in the usual order: on PostgreSQL each page locked the
    # tracking rows one by one in its own order, and the two deadlocked (a traceback).
    first, second = open_service(), open_service()
    RandomHistory(first, clock, seed=41).run(60)
    forward, backward = all_projections(), all_projections()[::-1]
    for _ in range(3):
        failures = _at_once(Runner(first, forward).rebuild, Runner(second, backward).rebuild)
        assert all(isinstance(error, ProjectionConflict) for error in failures), failures
    Runner(first, all_projections()).catch_up()
    rebuilt = SqliteDb.memory()
    Runner(first, all_projections(), rebuilt).catch_up()
    assert dump(store_db(first)) == dump(rebuilt)


def test_the_worker_recovers_from_a_rebuild_stopped_while_making_its_indexes(cases, clock):
    # Ctrl-C while a rebuild makes its indexes (seconds on a large SQLite store) leaves the
    # projections at the head without their key indexes. A worker that was already there
    # sees nothing moved and writes by key: its round fails, and before, every round after.
    RandomHistory(cases, clock, seed=51).run(60)
    Runner(cases, all_projections()).catch_up()
    clock.advance(hours=1)
    RandomHistory(cases, clock, seed=53).run(20)
    worker = Runner(cases, all_projections())  # a worker (re)started on built tables
    worker.catch_up()
    Runner(cases, all_projections()).rebuild()
    db = store_db(cases)
    if db.dialect == "sqlite":
        with db.writer() as tx:
            for table in (t for p in all_projections() for t in p.tables):
                for name in table.index_names("sqlite"):
                    tx.execute(f"DROP INDEX IF EXISTS {name}")
    clock.advance(hours=1)
    RandomHistory(cases, clock, seed=52).run(30)
    if db.dialect == "sqlite":
        # that round is refused as a conflict (it was the upsert's OperationalError); the
        # worker names it and tries again
        with pytest.raises(ProjectionConflict, match="rebuilt by another process"):
            worker.catch_up()
    worker.catch_up()

    rebuilt = SqliteDb.memory()
    Runner(cases, all_projections(), rebuilt).catch_up()
    assert dump(worker.db) == dump(rebuilt)


def test_status_counts_the_case_events_still_to_apply(cases):
    # Positions and the head are record ids of the whole log; what remains is counted in
    # case events, the only records applied.
    f.report(cases, 1)
    f.report(cases, 2)
    runner = Runner(cases, by_names(["ledger"]))
    assert [(s.to_apply, s.up_to_date) for s in runner.status()] == [(2, False)]
    runner.catch_up()
    [caught_up] = runner.status()
    assert (caught_up.to_apply, caught_up.up_to_date) == (0, True)
    assert caught_up.position < caught_up.head  # the head is the case number's record


def test_a_rebuild_while_a_worker_catches_up_ends_in_conflicts_not_deadlocks(open_service,
                                                                             clock):
    """PostgreSQL: a worker's page held one projection's tables while waiting for the next
    tracking row (or table), which a rebuild dropping or indexing tables held while waiting
    for the first: "deadlock detected" (QA helper: 5 times in 3 runs; a loop of rebuilds
    against a catching-up worker: 11 in 15 s). The loser must be told ProjectionConflict."""
    import time

    worker_side, rebuild_side = open_service(), open_service()
    RandomHistory(worker_side, clock, seed=31).run(150)
    stop, failures = time.monotonic() + 6, []

    def keep(call):  # type: ignore[no-untyped-def]
        while time.monotonic() < stop:
            try:
                call()
            except ProjectionConflict:
                pass  # the clean refusal: the next round goes on
            except Exception as error:  # noqa: BLE001 - collected for the assertion
                failures.append(error)

    def worker() -> None:
        runner = Runner(worker_side, all_projections())
        keep(lambda: (runner.catch_up(),
                      RandomHistory(worker_side, clock, seed=len(failures) + 40).run(2)))

    def rebuilds() -> None:
        keep(lambda: Runner(rebuild_side, all_projections()).rebuild())

    assert _at_once(worker, rebuilds) == []
    assert [str(f).splitlines()[0] for f in failures] == []
