"""Catch-up, rebuild and status: moving read models along the event log, page by page.

Every page of case-event notifications (up to ``PAGE_SIZE``, ``BULK_PAGE_SIZE`` for a long
backlog such as a rebuild) is decoded once and applied to every projection behind it; all
their rows and their tracking positions are written in ONE transaction (``Db.writer``). A
crash (or an exception in a handler) rolls the whole page back, so resuming starts again
from the last committed page: no event is skipped or counted twice.

The tracking row also guards against two runners at once: the page's ``UPDATE`` of the
position only succeeds from the position this runner read, so a concurrent runner makes one
of them fail (``ProjectionConflict``) instead of double counting.

The same ``Runner`` replays a filtered stream into an in-memory database for as-of reports
(``projections.asof``): one set of handlers for both.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.errors import DomainError
from domain.events import CASE_EVENT_TYPES
from projections.db import Db, Tx, store_db
from projections.decoding import event_decoder
from projections.eventlog import row_counter, row_reader
from projections.framework import Page, Projection

# Events per page, and so per transaction. Every commit writes the b-tree pages the page
# touched: measured on a 60k-event rebuild, pages of 5,000 took 40% less time than pages of
# 1,000. A short catch-up simply makes a smaller page.
PAGE_SIZE = 5000
# Pages of a long catch-up (a rebuild): each commit rewrites every leaf page of the keyed
# tables' indexes that the page's new keys (random case ids) fell into, so the cost per
# event of small pages grows with the tables. Measured on a 10^6-event SQLite rebuild,
# pages of 25,000 took 15% less time than pages of 5,000 (a page's decoded events stay
# in memory: about 100 MB at this size).
BULK_PAGE_SIZE = 25_000
CASE_TOPICS = [get_topic(cls) for cls in CASE_EVENT_TYPES]
TRACKING_DDL = ("CREATE TABLE IF NOT EXISTS projection_tracking ("
                "name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL)")

Progress = Callable[[int, int], None]  # (done, total) in notification ids
Keep = Callable[[Any], bool]


class ProjectionConflict(DomainError):
    """Another process moved a projection while this one was applying a page."""


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int
    version: int
    stored_version: int | None
    up_to_date: bool
    # Case events a catch-up would apply: those after ``position``, or every one when the
    # projection is to be built or rebuilt. ``head`` is the log's last record, whatever it
    # is (a case number, a place register, an account), so a projection caught up may
    # stand short of it.
    to_apply: int = 0


class EventSource:
    """Decoded case events from the store's notification log, in notification order."""

    def __init__(self, service: Any) -> None:
        self.recorder = service.recorder
        self.decode = event_decoder(service.app.mapper)
        self.rows = row_reader(service.recorder, CASE_TOPICS)
        self.count = row_counter(service.recorder, CASE_TOPICS)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def pages(self, after: int, stop: int, size: int = PAGE_SIZE
              ) -> Iterator[tuple[int, list[tuple[int, str, Any]]]]:
        """``(last id read, [(id, case id, event), ...])`` for case events in ``(after, stop]``."""
        # A case has several events: its id as stored (text in SQLite, a UUID in PostgreSQL)
        # -> (its text, its UUID), each made once.
        decode, read = self.decode, self.rows
        ids: dict[UUID | str, tuple[str, UUID]] = {}
        while after < stop:
            rows = read(after, stop, size)
            if not rows:
                return
            page = []
            for seq, stored_id, version, topic, state in rows:
                known = ids.get(stored_id)
                if known is None:
                    known = ids[stored_id] = _both_forms(stored_id)
                page.append((seq, known[0], decode(topic, bytes(state), known[1], version)))
            yield rows[-1][0], page
            after = rows[-1][0]


def _both_forms(stored_id: UUID | str) -> tuple[str, UUID]:
    if isinstance(stored_id, UUID):
        return str(stored_id), stored_id
    return stored_id, UUID(stored_id)


@contextmanager
def cyclic_gc_paused(long: bool) -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a long catch-up.

    Decoded events and cached rows hold no reference cycles (a 10^5-event rebuild left
    none to collect): reference counting frees them. But every page promotes tens of
    thousands of live containers, and each full collection walks the whole row cache:
    measured, about a tenth of a rebuild's time. Re-enabled as soon as the run ends.
    """
    if not long or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Runner:
    """Keeps ``projections`` in ``db`` up to date with ``service``'s event log."""

    def __init__(self, service: Any, projections: Sequence[Projection], db: Db | None = None,
                 *, keep: Keep | None = None, page_size: int | None = None) -> None:
        self.source = EventSource(service)
        self.projections = list(projections)
        # Every runner locks tracking rows and tables in this one order: two in different
        # orders (a rebuild's groups, the worker) deadlocked on PostgreSQL.
        self._by_name = sorted(self.projections, key=lambda p: p.name)
        self.db = db if db is not None else store_db(service)
        self.keep = keep
        self.page_size = page_size
        self._pages: dict[str, Page] = {}
        self._moved: dict[str, int] = {}  # where this runner's last page left each projection
        self._fresh: set[str] = set()  # projections whose tables this runner created empty
        self._unindexed: set[str] = set()  # ... whose secondary indexes are still to be made
        self._ready = False

    # -- set-up ---------------------------------------------------------------------------

    def setup(self) -> None:
        """Create missing tables; start over any projection whose version changed."""
        with self.db.schema_writer() as tx:
            tx.execute(TRACKING_DDL)
            stored = self._stored(tx)
            if any(p.name not in stored or stored[p.name][1] != p.version
                   for p in self._by_name):
                self._hold_off_writers(tx)
                stored = self._stored(tx)
            for p in self._by_name:
                if p.name not in stored:
                    self._create(tx, p)
                elif stored[p.name][1] != p.version:
                    self._reset(tx, p)
                else:  # e.g. a rebuild stopped before its last page made them
                    self._unindexed.add(p.name)
            self._index(tx)
        self._ready = True

    def _stored(self, tx: Tx) -> dict[str, tuple[int, int]]:
        rows = tx.execute("SELECT name, position, version FROM projection_tracking")
        return {name: (int(position), int(version)) for name, position, version in rows}

    def _create(self, tx: Tx, p: Projection) -> None:
        """Empty tables at position 0 (tables without a tracking row are leftovers: gone)."""
        self._fresh.add(p.name)
        self._unindexed.add(p.name)
        for table in p.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table.name}")
            tx.execute(table.ddl(self.db.dialect))
        tx.execute("INSERT INTO projection_tracking (name, position, version) VALUES (?, 0, ?)",
                   (p.name, p.version))

    def _index(self, tx: Tx, names: set[str] | None = None) -> None:
        """Create the indexes missing from projections caught up to the head (or ``names``).

        Tables created empty get their indexes after the pages that fill them (a sort per
        index, not a b-tree insert at a random place per row). Until then they are still
        correct, only slower to query; every runner's set-up makes any that are missing. A
        SQLite keyed table's unique key is one of them: until it exists, only the page that
        created the table writes it (by rowid), and anything else writing by key makes it
        first (``catch_up``).
        """
        names = set(self._unindexed) if names is None else names & self._unindexed
        self._unindexed -= names
        dialect = self.db.dialect
        wanted = [t for p in self.projections if p.name in names for t in p.tables
                  if t.index_names(dialect)]
        if not wanted:
            return
        self._hold_off_writers(tx)  # an index waits for the table's writers, which may wait
        if dialect == "sqlite":
            found = tx.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        else:
            found = tx.execute("SELECT indexname FROM pg_indexes "
                               "WHERE schemaname = current_schema()")
        have = {name for (name,) in found}
        for table in wanted:
            for name, statement in zip(table.index_names(dialect), table.index_ddl(dialect)):
                if name not in have and not (name == table.key_index
                                             and _has_unique_key(tx, table.name)):
                    tx.execute(statement)

    def _reset(self, tx: Tx, p: Projection) -> None:
        tx.execute("DELETE FROM projection_tracking WHERE name = ?", (p.name,))
        self._create(tx, p)
        self._pages.pop(p.name, None)

    # -- status, catch-up, rebuild ---------------------------------------------------------

    def status(self) -> list[Status]:
        with self.db.schema_writer() as tx:
            tx.execute(TRACKING_DDL)
            stored = self._stored(tx)
        head = self.source.head()
        result = []
        for p in self.projections:
            position, version = stored.get(p.name, (0, None))
            to_apply = self.source.count(position if version == p.version else 0, head)
            result.append(Status(p.name, position, head, p.version, version,
                                 version == p.version and not to_apply, to_apply))
        return result

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the projections' tables and apply every event from the first."""
        with self.db.schema_writer() as tx:
            tx.execute(TRACKING_DDL)
            self._hold_off_writers(tx)
            for p in self._by_name:
                self._reset(tx, p)
        self._ready = True
        return self.catch_up(progress)

    def _hold_off_writers(self, tx: Tx) -> None:
        """Before dropping, re-creating or indexing tables (PostgreSQL): wait for the pages
        being written to commit, and keep new ones from starting until this transaction ends.
        A page's first statement moves its tracking row, so a writer held here holds no
        read-model table yet; without this, a worker's page holding one projection's tables
        while waiting for its next tracking row, and a rebuild holding that row while
        waiting to drop those tables, deadlocked (the worker retried; QA helper, 5 times).
        The writer then finds its position moved: ProjectionConflict, and its next round."""
        if self.db.dialect == "postgres":
            tx.execute("LOCK TABLE projection_tracking IN SHARE ROW EXCLUSIVE MODE")

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply the events recorded since each projection's position; the count read."""
        if not self._ready:
            self.setup()
        with self.db.transaction() as tx:
            positions = {name: pos for name, (pos, _) in self._stored(tx).items()}
        positions = {p.name: positions[p.name] for p in self.projections}
        # Rows cached by this runner equal the tables only while no other runner (a report's,
        # another process's) has applied a page since: else they are read again, and, as
        # the other may have rebuilt the tables (whole or stopped), their indexes made.
        for name, position in positions.items():
            if self._moved.get(name, position) != position:
                self._pages.pop(name, None)
                self._unindexed.add(name)
        start, stop = min(positions.values(), default=0), self.source.head()
        # A projection whose rebuild stopped part-way (its page gone with the error) is
        # written by key from here on, which needs its key index first.
        stopped = {name for name in self._unindexed
                   if name not in self._fresh and name not in self._pages}
        if stopped:
            with self.db.schema_writer() as tx:
                self._index(tx, stopped)
        applied = 0
        size = self.page_size or (BULK_PAGE_SIZE if stop - start > 2 * BULK_PAGE_SIZE
                                  else PAGE_SIZE)
        with cyclic_gc_paused(stop - start > size):
            for last, events in self.source.pages(start, stop, size):
                try:
                    applied += self._apply_page(last, events, positions)
                except BaseException:
                    self._pages.clear()  # rows in the cache may hold uncommitted changes
                    self._fresh.clear()
                    # The next catch-up makes any missing index first: a rebuild stopped
                    # while making them leaves the position where this runner left it.
                    self._unindexed.update(p.name for p in self.projections)
                    raise
                if progress is not None:
                    progress(last - start, stop - start)
        if self._unindexed:
            with self.db.schema_writer() as tx:
                self._index(tx)
        return applied

    def _apply_page(self, last: int, events: list[tuple[int, str, Any]],
                    positions: dict[str, int]) -> int:
        if self.keep is not None:
            keep = self.keep
            events = [item for item in events if keep(item[2])]
        # ``handles`` depends on the event's class only: asked once per class and page.
        kinds = [type(item[2]).__name__ for item in events]
        examples = dict(zip(kinds, [item[2] for item in events]))
        first = events[0][0] if events else last
        with self.db.writer() as tx:
            for p in self._by_name:
                position = positions[p.name]
                if position >= last:
                    continue
                skip = {kind for kind, event in examples.items() if not p.handles(event)}
                if skip or position >= first:
                    mine = [item for item, kind in zip(events, kinds)
                            if item[0] > position and kind not in skip]
                else:
                    mine = events
                self._advance(tx, p.name, position, last)
                page = self._pages.get(p.name)
                if page is None:
                    page = self._pages[p.name] = Page(p.tables, fresh=p.name in self._fresh,
                                                      dialect=self.db.dialect)
                    self._fresh.discard(p.name)
                self._require_key_indexes(tx, p.name, page)
                page.tx = tx
                page.case_ids = [case_id for _, case_id, _ in mine]
                p.prefetch([e for _, _, e in mine], page)
                apply = p.apply
                for seq, case_id, event in mine:
                    page.seq, page.case_id = seq, case_id
                    apply(event, page)
                page.flush(tx)
                page.tx = None
        for p in self.projections:
            positions[p.name] = self._moved[p.name] = max(positions[p.name], last)
        return len(events)

    def _require_key_indexes(self, tx: Tx, name: str, page: Page) -> None:
        """SQLite: the tables this page writes by key still have their key index. Another
        process's rebuild drops and re-creates them without it (made after its last page);
        when it did so between this runner's look at the position and this page, from 0
        back to 0 (a reset right after a reset), the tracking row cannot tell, and the
        upsert failed ("ON CONFLICT clause does not match any ... UNIQUE constraint")."""
        if self.db.dialect != "sqlite":
            return  # PostgreSQL's keyed tables carry their primary key from the start
        if any(not _has_unique_key(tx, t.name) for t in page.written_by_key("sqlite")):
            raise ProjectionConflict(
                f"projection {name} was rebuilt by another process while catching up; "
                "run catch-up again")

    @staticmethod
    def _advance(tx: Tx, name: str, position: int, last: int) -> None:
        tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                   (last, name, position))
        if tx.rowcount() != 1:
            raise ProjectionConflict(
                f"projection {name} was moved by another process while catching up; "
                "run catch-up again")


def _has_unique_key(tx: Tx, table: str) -> bool:
    """Whether a SQLite table already has a unique index (its key's, made with the table by
    earlier versions of ``Table.ddl``)."""
    return any(row[2] for row in tx.execute(f"PRAGMA index_list({table})"))
