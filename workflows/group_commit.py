"""Group commit: the commands waiting to be written share one transaction.

On PostgreSQL every eventsourcing insert transaction takes an exclusive table lock so that
notification ids commit in order; one transaction per command therefore tops out near
550 commands/s whatever the number of clients (shared/ENGINEERING_NOTES.md). Here each
process gets one writer thread. A request thread decides its command as usual (load,
lifecycle, aggregate), hands the resulting events to the writer and waits; the writer
takes every command waiting at that moment and writes them all in one transaction, then
answers each.

Two rules keep it exact:
- Events are collected from the aggregates once, before queueing, and the writer keeps
  them: a failed batch is retried from those events, never by saving the aggregates again
  (``save()`` clears their pending events even when the transaction fails).
- One conflicting command must fail alone. When a batch hits a conflict (a stale version,
  a taken case number, a reused command id: the store's ``IntegrityError``) the writer
  splits it in halves and retries each, down to the single command that conflicts; that
  command's caller gets the ``IntegrityError`` and the service decides it again from
  fresh state, exactly as without group commit. Any other error fails the whole batch,
  since nothing of it was written.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from workflows.service import HazardCases

_STOP = object()


class _Signal:
    """A one-shot ``threading.Event`` made of a lock taken at the start and released by
    ``set()``: the Event's condition variable is Python code, run twice per command."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        self._lock.release()

    def wait(self) -> None:
        with self._lock:
            pass

    def is_set(self) -> bool:
        return not self._lock.locked()


@dataclass
class _Ticket:
    """One command's events, and the answer its caller waits for."""

    events: list[Any]
    done: _Signal = field(default_factory=_Signal)
    error: BaseException | None = None

    def finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self.done.set()


class GroupCommit:
    """Installs itself as ``service.commit``; ``stop()`` restores the plain save."""

    def __init__(self, service: HazardCases, max_batch: int = 256) -> None:
        self._service = service
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._previous = service.commit
        self.batches = 0
        self.commands = 0
        self._writer = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._writer.start()
        service.commit = self.commit

    def commit(self, *aggregates: Aggregate) -> None:
        """Write the aggregates' pending events with whatever else is waiting; raise the
        store's error if this command's write failed."""
        events = [e for a in aggregates for e in a.collect_events()]
        if not events:
            return
        ticket = _Ticket(events)
        self._queue.put(ticket)
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error

    def stop(self) -> None:
        self._service.commit = self._previous
        self._queue.put(_STOP)
        self._writer.join(timeout=10)

    # -- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self.batches += 1
            self.commands += len(batch)
            self._write(batch)

    def _write(self, batch: list[_Ticket]) -> None:
        try:
            self._service.events.put([e for t in batch for e in t.events])
        except IntegrityError as error:
            if len(batch) == 1:
                batch[0].finish(error)
                return
            middle = len(batch) // 2
            self._write(batch[:middle])
            self._write(batch[middle:])
            return
        except BaseException as error:  # noqa: BLE001 - every waiter must get an answer; none of the batch was written
            for ticket in batch:
                ticket.finish(error)
            return
        for ticket in batch:
            ticket.finish()
