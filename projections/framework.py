"""The pieces every read model is made of: tables, handlers, and a page of work.

A projection declares its ``tables`` and one handler method per event class it cares about
(``on_Reported(self, event, page)``). Handlers never touch SQL: they read and change rows
through the ``Page``, which holds the page's rows in memory and writes them all at once
(``executemany``) in the transaction that also moves the tracking position. The same
handlers fill the store's tables incrementally and a private in-memory database for
as-of reports, so there is one definition of every figure.

Three kinds of table:
- ``keyed``: one row per key (e.g. per case); handlers ``get`` a row dict, change it, ``put``.
- ``append``: rows only ever added (e.g. one per event in the audit trail).
- ``counter``: key -> count; handlers ``count`` deltas, summed by the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any, ClassVar

from projections.db import Tx

# Keep at most this many keyed rows cached between pages of one run (per table); past it
# the older half is dropped (rows change while young; a dropped one is read back by key).
CACHE_LIMIT = 100_000
# Remember at most this many keys of a table this run created (a rebuild), per table.
STORED_LIMIT = 1_000_000
CLUSTER_BY_ARRIVAL = True


@dataclass(frozen=True)
class Table:
    """A projection table: columns as ``(name, SQL type)``, the key, and its kind."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    kind: str = "keyed"  # keyed | append | counter
    indexes: tuple[tuple[str, ...], ...] = ()
    by_case: bool = False  # keyed by case_id: rows for a page's cases are loaded at once

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self, dialect: str = "sqlite") -> str:
        """The table itself, with its key (but a SQLite keyed table's: ``index_ddl``)."""
        cols = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        key = ", ".join(self.key)
        if dialect != "sqlite":
            # Room in each heap page lets PostgreSQL update a row in place (a HOT update,
            # no new index entries): keyed rows are rewritten many times.
            room = " WITH (fillfactor = 70)" if self.kind == "keyed" else ""
            table = f"({cols}, PRIMARY KEY ({key})){room}"
        elif self.by_rowid(dialect):
            # SQLite stores a table in rowid order. Keyed rows (cases, tasks) are keyed by
            # random ids but change while they are young: in rowid (= arrival) order a page
            # of events rewrites a few neighbouring b-tree pages, not one random page per
            # row. The key's unique index is made like a secondary index (``index_ddl``).
            table = f"({cols})"
        else:
            # Append and counter rows live in their key's b-tree: one b-tree, not two.
            table = f"({cols}, PRIMARY KEY ({key})) WITHOUT ROWID"
        return f"CREATE TABLE IF NOT EXISTS {self.name} {table}"

    def by_rowid(self, dialect: str) -> bool:
        """Whether rows sit in arrival (rowid) order, the key a unique index beside them:
        SQLite's keyed tables."""
        return dialect == "sqlite" and self.kind == "keyed" and CLUSTER_BY_ARRIVAL

    @property
    def key_index(self) -> str:
        return f"{self.name}_key"

    def key_index_ddl(self) -> str:
        return (f"CREATE UNIQUE INDEX IF NOT EXISTS {self.key_index} ON {self.name} "
                f"({', '.join(self.key)})")

    def index_names(self, dialect: str = "sqlite") -> list[str]:
        key = [self.key_index] if self.by_rowid(dialect) else []
        return key + [f"{self.name}_ix{n}" for n in range(len(self.indexes))]

    def index_ddl(self, dialect: str = "sqlite") -> list[str]:
        """The indexes beside the table, made after a rebuild's last page: one sort per index
        instead of a b-tree insert at a random place per row. On SQLite that includes a
        keyed table's unique key: with random keys (case ids), a page of events dirtied
        about every leaf of it, so each commit wrote more as the table grew (measured on a
        10^6-event rebuild: 5 µs per event for the first page's commit, 27 for the last);
        until it exists, the page addresses those rows by rowid (``Page``)."""
        secondary = [f"CREATE INDEX IF NOT EXISTS {self.name}_ix{n} ON {self.name} "
                     f"({', '.join(index)})" for n, index in enumerate(self.indexes)]
        return ([self.key_index_ddl()] if self.by_rowid(dialect) else []) + secondary

    def replace_sql(self) -> str:
        """The statement writing one row at its rowid (the rowid first, then the columns)."""
        names = ", ".join(self.names)
        marks = ", ".join("?" for _ in range(len(self.names) + 1))
        return f"INSERT OR REPLACE INTO {self.name} (rowid, {names}) VALUES ({marks})"

    def insert_sql(self) -> str:
        """The statement adding one row of parameters (a key not in the table)."""
        names = ", ".join(self.names)
        return f"INSERT INTO {self.name} ({names}) VALUES ({', '.join('?' for _ in self.names)})"

    def upsert_sql(self, source: str | None = None) -> str:
        """The statement writing one row of parameters, or every row of table ``source``."""
        names = ", ".join(self.names)
        if source is None:
            head = self.insert_sql()
        else:  # WHERE true: PostgreSQL's grammar needs it before ON CONFLICT after a SELECT
            head = f"INSERT INTO {self.name} ({names}) SELECT {names} FROM {source} WHERE true"
        if self.kind == "append":
            return head
        conflict = f"{head} ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET"
        if self.kind == "counter":
            count = self.names[-1]
            return f"{conflict} {count} = {self.name}.{count} + excluded.{count}"
        updates = ", ".join(f"{n} = excluded.{n}" for n in self.names if n not in self.key)
        return f"{conflict} {updates}"


class Projection:
    """A read model. Subclasses set ``name``, ``version``, ``tables`` and handlers.

    Bump ``version`` when tables or handlers change meaning: the stored rows are then
    rebuilt from the first event on the next catch-up.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]]

    def __init__(self) -> None:
        self._handlers = {
            attr[3:]: getattr(self, attr) for attr in dir(self) if attr.startswith("on_")
        }

    def handles(self, event: Any) -> bool:
        """Whether ``apply`` wants events of this one's class (the class alone decides)."""
        return type(event).__name__ in self._handlers

    def apply(self, event: Any, page: Page) -> None:
        """Apply one event (the runner calls this for events past this projection's position)."""
        handler = self._handlers.get(type(event).__name__)
        if handler is not None:
            handler(event, page)

    def prefetch(self, events: Sequence[Any], page: Page) -> None:
        """Load in one query per table the rows this page will read (by case by default)."""
        case_ids = set(page.case_ids)
        for table in self.tables:
            if table.by_case:
                page.load(table, case_ids)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


@dataclass
class _Rows:
    cache: dict[Any, dict[str, Any] | None] = field(default_factory=dict)
    dirty: dict[Any, dict[str, Any]] = field(default_factory=dict)
    appended: list[tuple[Any, ...]] = field(default_factory=list)
    counts: dict[tuple[Any, ...], int] = field(default_factory=dict)
    new: set[Any] = field(default_factory=set)  # dirty keys known to be absent from the table
    # Every key in the table, while all its rows passed through this page (a table the run
    # created empty): a key not here is not in the table, no query needed. None otherwise.
    stored: AbstractSet[Any] | None = None
    # Each stored key's rowid (``stored`` is then its keys), while the table has no key
    # index yet (a SQLite table this run created): rows are written and read back by
    # rowid. None otherwise.
    rowids: dict[Any, int] | None = None


_MISSING = object()


class Page:
    """The rows one page of events reads and writes, flushed once per transaction.

    Keyed rows stay cached between pages of one run: while a runner moves a projection, no
    other applies a page to it (the tracking row guards that), so the cache equals the
    database. A runner whose projection another one moved since starts a new ``Page``.
    """

    def __init__(self, tables: Iterable[Table], fresh: bool = False,
                 dialect: str = "sqlite") -> None:
        self._tables = {t.name: t for t in tables}
        self._rows = {name: _Rows() for name in self._tables}
        # A row dict's key and its values in column order, taken in C (hot paths).
        self._key = {t.name: itemgetter(*t.key) for t in tables}
        self._values = {t.name: itemgetter(*t.names) for t in tables}
        if fresh:
            for name, rows in self._rows.items():
                if self._tables[name].by_rowid(dialect):
                    rows.rowids = {}
                    rows.stored = rows.rowids.keys()
                else:
                    rows.stored = set()
        self.tx: Tx | None = None
        self.seq = 0  # the notification id of the event being applied
        self.case_id = ""  # its case's id, as text (the key of by-case tables)
        self.case_ids: list[str] = []  # the case ids of the page's events, for prefetch

    def written_by_key(self, dialect: str) -> list[Table]:
        """The SQLite keyed tables this page writes by key (an upsert, which needs the key's
        unique index) rather than at rowids it made itself."""
        return [spec for name, spec in self._tables.items()
                if spec.by_rowid(dialect) and self._rows[name].rowids is None]

    # -- reading --------------------------------------------------------------------------

    def get(self, table: str, key: Any) -> dict[str, Any] | None:
        """The row with ``key`` (a value, or a tuple for a composite key), or None."""
        rows = self._rows[table]
        if key not in rows.cache:
            self.load(self._tables[table], [key])
        return rows.cache[key]

    def load(self, table: Table, keys: Iterable[Any]) -> None:
        rows = self._rows[table.name]
        missing = {k for k in keys if k not in rows.cache}
        if rows.stored is not None:
            for k in missing - rows.stored:
                rows.cache[k] = None
            missing &= rows.stored  # rows dropped from the cache: read back
        wanted = sorted(missing, key=str)
        if not wanted or self.tx is None:
            for k in wanted:
                rows.cache[k] = None
            return
        names = table.names
        width = len(table.key)
        params: list[Any]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            if rows.rowids is not None:  # no key index yet
                where = f"rowid IN ({', '.join('?' for _ in chunk)})"
                params = [rows.rowids[k] for k in chunk]
            elif width == 1:
                where = f"{table.key[0]} IN ({', '.join('?' for _ in chunk)})"
                params = list(chunk)
            else:
                one = "(" + " AND ".join(f"{k} = ?" for k in table.key) + ")"
                where = " OR ".join(one for _ in chunk)
                params = [v for k in chunk for v in k]
            for k in chunk:
                rows.cache[k] = None
            for values in self.tx.execute(
                    f"SELECT {', '.join(names)} FROM {table.name} WHERE {where}", params):
                row = dict(zip(names, values))
                key = row[table.key[0]] if width == 1 else tuple(row[k] for k in table.key)
                rows.cache[key] = row

    # -- writing --------------------------------------------------------------------------

    def put(self, table: str, row: dict[str, Any]) -> None:
        key = self._key[table](row)
        rows = self._rows[table]
        cache = rows.cache
        known, stored = cache.get(key, _MISSING), rows.stored
        # A key read as absent (or never seen in a table this run created) is inserted
        # as new, without the cost of an upsert (PostgreSQL: straight COPY, no staging).
        if known is None or (known is _MISSING and stored is not None and key not in stored):
            if rows.rowids is not None:  # written by rowid: no insert/upsert split
                rows.rowids[key] = len(rows.rowids) + 1
            else:
                rows.new.add(key)
                if stored is not None:
                    stored.add(key)  # type: ignore[attr-defined]
        cache[key] = row
        rows.dirty[key] = row

    def append(self, table: str, row: dict[str, Any]) -> None:
        self._rows[table].appended.append(self._values[table](row))

    def append_values(self, table: str, values: tuple[Any, ...]) -> None:
        """``append`` for hot paths: the values in the table's column order."""
        self._rows[table].appended.append(values)

    def count(self, table: str, key: tuple[Any, ...], n: int = 1) -> None:
        counts = self._rows[table].counts
        counts[key] = counts.get(key, 0) + n

    def flush(self, tx: Tx) -> None:
        """Write what the page changed; the caller commits it with the tracking position."""
        for name, spec in self._tables.items():
            rows = self._rows[name]
            if rows.dirty and rows.rowids is not None:
                values, rowids = self._values[name], rows.rowids
                tx.executemany(spec.replace_sql(),
                               [(rowids[k], *values(r)) for k, r in rows.dirty.items()])
                rows.dirty.clear()
            elif rows.dirty:
                values, new = self._values[name], rows.new
                if len(new) == len(rows.dirty):  # a rebuild: every row is new
                    insert_rows(tx, spec, list(map(values, rows.dirty.values())))
                    new.clear()
                elif new:
                    insert_rows(tx, spec, [values(r) for k, r in rows.dirty.items() if k in new])
                    _write(tx, spec, [values(r) for k, r in rows.dirty.items() if k not in new])
                    new.clear()
                else:
                    _write(tx, spec, list(map(values, rows.dirty.values())))
                rows.dirty.clear()
            if rows.appended:
                insert_rows(tx, spec, rows.appended)
                rows.appended.clear()
            if rows.counts:
                _write(tx, spec, [(*key, n) for key, n in rows.counts.items()])
                rows.counts.clear()
            if len(rows.cache) > CACHE_LIMIT:
                for key in list(islice(rows.cache, len(rows.cache) - CACHE_LIMIT // 2)):
                    del rows.cache[key]
                if rows.stored is not None and len(rows.stored) > STORED_LIMIT:
                    rows.stored = None
                    if rows.rowids is not None:  # from the next page on, rows by key
                        rows.rowids = None
                        tx.execute(spec.key_index_ddl())


def insert_rows(tx: Tx, spec: Table, rows: list[tuple[Any, ...]]) -> None:
    """Rows whose keys are not in the table (appended, or known new), in column order."""
    if not rows:
        return
    copy = getattr(tx, "copy", None)
    if copy is None:
        tx.executemany(spec.insert_sql(), rows)
    else:
        copy(spec.name, spec.names, rows)


def _write(tx: Tx, spec: Table, rows: list[tuple[Any, ...]]) -> None:
    """Rows of one table that may already be in it (unique keys within ``rows``): upserted.

    SQLite runs in process: ``executemany`` is fast. Over PostgreSQL's protocol every row
    of an ``executemany`` costs a bind/execute round (~70 µs of client CPU measured), so
    rows are streamed with ``COPY`` into a temporary staging table merged with one
    ``INSERT ... SELECT ... ON CONFLICT`` (rows known to be new go straight in: ``insert_rows``).
    """
    if not rows:
        return
    copy = getattr(tx, "copy", None)
    if copy is None:
        tx.executemany(spec.upsert_sql(), rows)
        return
    stage = f"stage_{spec.name}"
    tx.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {spec.name}) ON COMMIT DROP")
    copy(stage, spec.names, rows)
    tx.execute(spec.upsert_sql(stage))
    tx.execute(f"DROP TABLE {stage}")
