"""The database the read models live in: the event store's own database, or memory.

Projection tables sit next to the events (the SQLite file, or the PostgreSQL schema), so
a page of events and the tracking position are written in one transaction. As-of reports
replay into a private in-memory SQLite database with the same tables and the same SQL.

SQL in ``projections`` is written once, with ``?`` placeholders and unqualified table
names; ``Db`` adapts it to the store (``%s`` and ``search_path`` on PostgreSQL).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from psycopg import sql
from psycopg.rows import tuple_row

CACHE_KIB = 64 * 1024  # SQLite page cache of the connection writing read models


class Tx(Protocol):
    """One open transaction: plain tuples out, ``?`` placeholders in."""

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        ...

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        ...

    def rowcount(self) -> int:
        ...


class Db(Protocol):
    dialect: str

    def transaction(self) -> Any:
        """A context manager yielding a ``Tx``; commits on success, rolls back on error."""
        ...

    def writer(self) -> Any:
        """``transaction`` for the runner's pages: atomic, but need not be durable at once.

        Rows and tracking position commit together, so a commit lost to a power cut
        leaves an earlier consistent state that catch-up resumes from; the event log's
        own commits keep their full durability (other connections, other settings).
        """
        ...

    def schema_writer(self) -> Any:
        """``writer`` for creating, dropping or resetting tables: one session at a time."""
        ...


class _SqliteTx:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(statement, params)
        return [tuple(row) for row in self._cursor.fetchall()]

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(statement, rows)

    def rowcount(self) -> int:
        return self._cursor.rowcount


class SqliteDb:
    """A SQLite database: the store's file (through eventsourcing's pool) or memory."""

    dialect = "sqlite"

    def __init__(self, datastore: Any = None) -> None:
        self._datastore = datastore
        self._memory: sqlite3.Connection | None = None
        if datastore is None:
            self._memory = sqlite3.connect(":memory:", isolation_level=None)
        self._writer: sqlite3.Connection | None = None
        self._writer_lock = threading.Lock()

    @classmethod
    def memory(cls) -> SqliteDb:
        return cls(None)

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTx]:
        if self._memory is not None:
            cursor = self._memory.cursor()
            cursor.execute("BEGIN")
            try:
                yield _SqliteTx(cursor)
            except BaseException:
                self._memory.rollback()
                raise
            self._memory.commit()
            return
        # BEGIN IMMEDIATE would be nicer, but eventsourcing's connection issues BEGIN
        # itself; a concurrent writer then fails on commit instead of double counting.
        with self._datastore.transaction(commit=True) as cursor:
            # Read models are updated at random case ids: with SQLite's default 2 MB page
            # cache a large store reads most touched pages back from the OS on every page.
            cursor.sqlite_cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            yield _SqliteTx(cursor.sqlite_cursor)

    @contextmanager
    def writer(self) -> Iterator[_SqliteTx]:
        """A transaction on a connection of the runner's own, ``synchronous = NORMAL``.

        In WAL mode that skips the fsync of every commit (measured: a tenth of a
        rebuild's time) yet keeps every commit atomic; see ``Db.writer``.
        """
        if self._memory is not None:
            with self.transaction() as tx:
                yield tx
            return
        with self._writer_lock:
            conn = self._writer
            if conn is None:
                pool = self._datastore.pool
                conn = sqlite3.connect(pool.db_name, uri=True, isolation_level=None,
                                       check_same_thread=False, timeout=pool.lock_timeout or 5)
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
                self._writer = conn
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(cursor)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    # BEGIN IMMEDIATE already lets one writer in at a time.
    schema_writer = writer

    def close(self) -> None:
        if self._memory is not None:
            self._memory.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class _PostgresTx:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Stream ``rows`` into ``table`` with COPY (see ``framework._write``)."""
        with self._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(statement.replace("?", "%s"), params)
        return self._cursor.fetchall() if self._cursor.description else []

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(statement.replace("?", "%s"), rows)

    def rowcount(self) -> int:
        return self._cursor.rowcount


class PostgresDb:
    """The store's PostgreSQL schema, through eventsourcing's connection pool."""

    dialect = "postgres"

    def __init__(self, datastore: Any) -> None:
        self._datastore = datastore
        self._set_path = sql.SQL("SET LOCAL search_path TO {}").format(
            sql.Identifier(datastore.schema))

    @contextmanager
    def transaction(self) -> Iterator[_PostgresTx]:
        with self._datastore.get_connection() as conn, conn.transaction():
            cursor = conn.cursor(row_factory=tuple_row)
            cursor.execute(self._set_path)
            yield _PostgresTx(cursor)

    @contextmanager
    def writer(self) -> Iterator[_PostgresTx]:
        """``transaction`` whose commit does not wait for the WAL flush (see ``Db.writer``)."""
        with self.transaction() as tx:
            tx.execute("SET LOCAL synchronous_commit = off")
            yield tx

    @contextmanager
    def schema_writer(self) -> Iterator[_PostgresTx]:
        """``writer`` holding the schema's lock for table changes until it ends.

        Two sessions creating the same table at once fail one of them (a UniqueViolation
        on ``pg_type``): the worker, a report and an operator's command all set up the read
        models, on a new store and after an upgrade changes a version.
        """
        with self.writer() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(hashtext('hazardflow.projections.' "
                       "|| current_schema()))")
            yield tx

    def close(self) -> None:
        """The pool belongs to the service; nothing to close here."""


def is_postgres(datastore: Any) -> bool:
    """Whether an event store's datastore is PostgreSQL's (else SQLite's)."""
    return hasattr(datastore, "schema")


def store_db(service: Any) -> SqliteDb | PostgresDb:
    """The database of ``service``'s event store."""
    datastore = service.recorder.datastore
    if is_postgres(datastore):
        return PostgresDb(datastore)
    return SqliteDb(datastore)
