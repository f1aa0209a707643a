"""A rebuild split over processes gives exactly the rows of one runner."""

from __future__ import annotations

import multiprocessing
import signal
from functools import partial

from api.wiring import open_cases
from projections import all_projections, parallel
from projections.db import SqliteDb, store_db
from projections.parallel import groups, rebuild_in_processes
from projections.runner import Runner
from tests.projections.helpers import dump
from tests.projections.history import RandomHistory


def test_groups_cover_every_projection_once_and_balance_the_work():
    names = [p.name for p in all_projections()]
    split = groups(names, 2)
    assert sorted(n for group in split for n in group) == sorted(names)
    assert len(split) == 2
    assert [sorted(group) for group in groups(names, 1)] == [sorted(names)]


def test_a_rebuild_in_two_processes_equals_one_runner(cases, clock, settings):
    RandomHistory(cases, clock, seed=21).run(80)
    Runner(cases, all_projections()).catch_up()  # rows to be replaced by the rebuild
    RandomHistory(cases, clock, seed=22).run(20)
    single = SqliteDb.memory()
    Runner(cases, all_projections(), single).catch_up()

    seen = []
    read = rebuild_in_processes(partial(open_cases, settings), processes=2,
                                progress=lambda done, total: seen.append((done, total)))

    source = Runner(cases, all_projections()).source
    assert read == sum(len(events) for _, events in source.pages(0, source.head()))
    assert dump(store_db(cases)) == dump(single)
    assert all(s.up_to_date for s in Runner(cases, all_projections()).status())
    # progress never passes the head, and ends with every group done
    assert seen and all(done <= total <= source.head() for done, total in seen)
    assert seen[-1][0] == seen[-1][1] > 0


def test_a_worker_ends_at_sigterm_whatever_the_parent_does_with_it():
    """The pool ends workers still waiting for work with SIGTERM; a forked worker inherits
    the parent's handler (an application's, or the benchmark's graceful exit), which must
    not keep it alive: the pool's join would wait for ever."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)  # the parent ignores it
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(1, initializer=parallel._started,
                          initargs=(context.Lock(), context.Array("q", [0, 0], lock=False))
                          ) as pool:
            assert pool.apply(signal.getsignal, (signal.SIGTERM,)) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
