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
from dataclasses import dataclass, field
from typing import Any, ClassVar

from projections.db import Tx

# Keep at most this many keyed rows cached between pages of one run (per table).
CACHE_LIMIT = 200_000


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

    def ddl(self) -> list[str]:
        cols = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.name} ({cols}, PRIMARY KEY ({', '.join(self.key)}))"
        ]
        for n, index in enumerate(self.indexes):
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {self.name}_ix{n} ON {self.name} ({', '.join(index)})")
        return statements

    def upsert_sql(self) -> str:
        names = self.names
        marks = ", ".join("?" for _ in names)
        head = f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({marks})"
        if self.kind == "append":
            return head
        if self.kind == "counter":
            count = names[-1]
            return (f"{head} ON CONFLICT ({', '.join(self.key)}) "
                    f"DO UPDATE SET {count} = {self.name}.{count} + excluded.{count}")
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in self.key)
        return f"{head} ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}"


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
        return type(event).__name__ in self._handlers

    def apply(self, event: Any, page: Page) -> None:
        """Apply one event (the runner calls this for events past this projection's position)."""
        handler = self._handlers.get(type(event).__name__)
        if handler is not None:
            handler(event, page)

    def prefetch(self, events: Sequence[Any], page: Page) -> None:
        """Load in one query per table the rows this page will read (by case by default)."""
        case_ids = {str(e.originator_id) for e in events}
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


class Page:
    """The rows one page of events reads and writes, flushed once per transaction.

    Keyed rows stay cached between pages of one run: the runner is the only writer of a
    projection's tables (the tracking row guards that), so the cache equals the database.
    """

    def __init__(self, tables: Iterable[Table]) -> None:
        self._tables = {t.name: t for t in tables}
        self._rows = {name: _Rows() for name in self._tables}
        self.tx: Tx | None = None
        self.seq = 0  # the notification id of the event being applied

    # -- reading --------------------------------------------------------------------------

    def get(self, table: str, key: Any) -> dict[str, Any] | None:
        """The row with ``key`` (a value, or a tuple for a composite key), or None."""
        rows = self._rows[table]
        if key not in rows.cache:
            self.load(self._tables[table], [key])
        return rows.cache[key]

    def load(self, table: Table, keys: Iterable[Any]) -> None:
        rows = self._rows[table.name]
        wanted = sorted({k for k in keys if k not in rows.cache}, key=str)
        if not wanted or self.tx is None:
            for k in wanted:
                rows.cache[k] = None
            return
        names = table.names
        width = len(table.key)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            if width == 1:
                where = f"{table.key[0]} IN ({', '.join('?' for _ in chunk)})"
                params: list[Any] = list(chunk)
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
        spec = self._tables[table]
        key = row[spec.key[0]] if len(spec.key) == 1 else tuple(row[k] for k in spec.key)
        rows = self._rows[table]
        rows.cache[key] = row
        rows.dirty[key] = row

    def append(self, table: str, row: dict[str, Any]) -> None:
        self._rows[table].appended.append(tuple(row[n] for n in self._tables[table].names))

    def count(self, table: str, key: tuple[Any, ...], n: int = 1) -> None:
        counts = self._rows[table].counts
        counts[key] = counts.get(key, 0) + n

    def flush(self, tx: Tx) -> None:
        """Write what the page changed; the caller commits it with the tracking position."""
        for name, spec in self._tables.items():
            rows = self._rows[name]
            if rows.dirty:
                names = spec.names
                tx.executemany(spec.upsert_sql(),
                               [tuple(r[n] for n in names) for r in rows.dirty.values()])
                rows.dirty.clear()
            if rows.appended:
                tx.executemany(spec.upsert_sql(), rows.appended)
                rows.appended.clear()
            if rows.counts:
                tx.executemany(spec.upsert_sql(),
                               [(*key, n) for key, n in rows.counts.items()])
                rows.counts.clear()
            if len(rows.cache) > CACHE_LIMIT:
                rows.cache.clear()
