"""The aggregates this process last wrote, lent to the next command that decides on them.

Loading a case for a command costs a store read, decoding its events and replaying them;
the process that wrote the case last usually holds that state already. ``LentAggregates``
keeps it, on three rules that keep every decision as correct as a fresh load:

- An aggregate is *taken* out (no copy, no sharing): one command at a time decides on it,
  and a command that fails leaves nothing behind; only an aggregate whose events were
  written is *returned*, and a lower version never replaces a higher one.
- A kept aggregate may be stale: another process may have written the case since. Every
  command writes the next version of what it decided on, so a decision on stale state
  collides with the stored version (``IntegrityError``) and the service decides again
  from the store. A command refused on kept state (illegal transition, stale
  ``If-Match``, broken rule) is also decided again from the store before the refusal
  stands: a stale copy never refuses a command the stored state allows.
- Reads (``GET``, history, reports) never come from here: they read the store.

The service keeps open cases, and place registers while a case at the place is open: a
closed case rarely gets another command, nor a place with nothing open another report soon,
and every kept object is one more for the garbage collector to scan. (In the load
benchmark, registers of places with nothing open filled the 10,000 places and made most of
what each full collection scanned, a pause of every request of that process;
benchmarks/results/load.md.)
"""

from __future__ import annotations

import threading
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


class LentAggregates:
    """At most ``limit`` aggregates, the least recently written forgotten first."""

    def __init__(self, limit: int = 10_000) -> None:
        self._kept: dict[UUID, Aggregate] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def take(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The kept aggregate of that id if it is a ``kind``; it is no longer kept."""
        with self._lock:
            kept = self._kept.get(aggregate_id)
            if not isinstance(kept, kind):
                return None
            del self._kept[aggregate_id]
            return kept

    def give_back(self, *aggregates: Aggregate) -> None:
        """Keep aggregates whose pending events were all written."""
        if self._limit <= 0:
            return
        with self._lock:
            for aggregate in aggregates:
                kept = self._kept.pop(aggregate.id, None)
                newer = kept if kept is not None and kept.version > aggregate.version else None
                self._kept[aggregate.id] = newer or aggregate  # re-inserted: most recent last
            while len(self._kept) > self._limit:
                del self._kept[next(iter(self._kept))]
