"""Rebuilding read models in several processes at once, one group of projections each.

A rebuild in one process is bound by Python: decoding an event costs about as much as
applying it to two read models. Each projection keeps its own tracking row, so groups of
projections can be rebuilt side by side: every process reads and decodes the log itself
and applies it to its own group with the ordinary ``Runner`` (same handlers, same pages,
rows and position in one transaction). Nothing changes for correctness: a process that
fails leaves its projections at their last committed page, and any later catch-up resumes
them. On SQLite the processes take turns at the single write lock (a page's transaction);
the decoding and the handlers of one overlap the other's. ``hazardflow projections rebuild
--processes N`` uses it. Measured on 2 cores (A/B, same store, one after the other):
10^6 stored events, PostgreSQL 56.0 s -> 40.6 s, SQLite 61.7 s -> 52.5 s; on 10^5 it varied
with what else the machine was doing, from a little slower to 1.4x faster.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from projections import by_names
from projections.runner import Progress, Runner

# Client CPU per event of each projection's own work (alone minus decoding, µs, SQLite 10^5
# in benchmarks/results/projections.md), to balance the groups; unknown names weigh 8.
WEIGHTS = {"accountability": 11, "audit": 7.5, "risk": 6.5, "ledger": 6, "stats": 4.5,
           "escalations": 4}

OpenService = Callable[[], Any]


def groups(names: Sequence[str], processes: int) -> list[list[str]]:
    """``names`` split into at most ``processes`` groups of about equal weight."""
    bins: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(max(1, processes))]
    for name in sorted(names, key=lambda n: -WEIGHTS.get(n, 8)):
        weight, members = min(bins, key=lambda b: b[0])
        bins.remove((weight, members))
        bins.append((weight + WEIGHTS.get(name, 8), [*members, name]))
    return [members for _, members in bins if members]


def rebuild_in_processes(open_service: OpenService, names: Sequence[str] | None = None,
                         processes: int = 2, progress: Progress | None = None) -> int:
    """Rebuild ``names`` (default: all) split over ``processes``; the events each read.

    ``open_service`` opens the event store in the child process (for example
    ``functools.partial(open_cases, settings)``); it must be picklable where processes
    are spawned rather than forked. ``progress`` is called in this process with the
    slowest group's ``(done, total)``.
    """
    everything = [p.name for p in by_names(list(names) if names else None)]
    work = groups(everything, processes)
    if len(work) == 1:
        return _rebuild(open_service, work[0], progress)
    # Fork where there is one: the children start at once, without importing the app again;
    # each opens its own connections (none of the parent's is used in a child).
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    opening = context.Lock()
    # Each group's (done, total) in shared memory, for the progress bar of this process.
    shared = context.Array("q", [0, 0] * len(work), lock=False)
    with context.Pool(len(work), initializer=_started, initargs=(opening, shared)) as pool:
        result = pool.starmap_async(_rebuild_slot, [(open_service, group, slot)
                                                    for slot, group in enumerate(work)])
        while not result.ready():
            result.wait(0.2)
            _show(shared, progress)
        counts = result.get()
    _show(shared, progress)  # the last page of the slowest group
    return max(counts)


def _show(shared: Any, progress: Progress | None) -> None:
    """The slowest group's (done, total), once every group has read its first page."""
    if progress is not None and all(shared[1::2]):
        progress(min(shared[0::2]), max(shared[1::2]))


_opening: Any = None
_shared: Any = None


def _started(lock: Any, shared: Any) -> None:
    global _opening, _shared
    _opening, _shared = lock, shared
    # A forked worker inherits the parent's SIGTERM handler (an application's or a
    # benchmark's graceful-exit one). The pool ends its workers with SIGTERM once the work
    # is done, and a handler that does not end one, or an exit that gets stuck part-way,
    # left the pool's join waiting for ever (seen once in a benchmark run). Workers end at
    # once instead; their work is over by then, or rolled back with the transaction.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _rebuild_slot(open_service: OpenService, names: list[str], slot: int) -> int:
    def report(done: int, total: int) -> None:
        _shared[2 * slot], _shared[2 * slot + 1] = done, total

    return _rebuild(open_service, names, report)


def _rebuild(open_service: OpenService, names: list[str], progress: Progress | None = None
             ) -> int:
    # One at a time: opening a store and a runner's set-up create tables (and, on
    # PostgreSQL, functions) that two sessions cannot create at once.
    with _opening if _opening is not None else nullcontext():
        service = open_service()
        runner = Runner(service, by_names(names))
        runner.setup()
    try:
        return runner.rebuild(progress)
    finally:
        service.shutdown()
