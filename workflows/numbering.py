"""Human-readable case numbers (``HZ-2026-000123``), unique across the store.

Uniqueness is guaranteed by the event log: each number is the id of a ``CaseNumber``
aggregate saved in the same transaction as its case, so two writers can never both
commit one number. Which number to try is proposed by a per-year counter row
(``hazardflow_case_counters``) incremented atomically in its own short transaction, so
concurrent reporters (threads, processes, uvicorn workers) do not race for the same
number. The counter is an allocator, not a record: losing it loses nothing (it is
re-seeded from the issued numbers), and a report that fails after taking a number leaves
a gap rather than a reused number.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresDatastore

from workflows.records import case_number_id

PREFIX = "HZ"
TABLE = "hazardflow_case_counters"


def format_number(year: int, serial: int) -> str:
    return f"{PREFIX}-{year}-{serial:06d}"


class CaseNumbers:
    def __init__(self, recorder: ApplicationRecorder) -> None:
        self._recorder = recorder
        self._datastore = recorder.datastore  # type: ignore[attr-defined]
        schema = getattr(self._datastore, "schema", None)
        self._table = f'"{schema}".{TABLE}' if schema else TABLE
        self._mark = "%s" if schema else "?"
        self._seeded: set[int] = set()
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self._table} "
                           "(year INTEGER PRIMARY KEY, last INTEGER NOT NULL)")

    def propose(self, year: int) -> str:
        """The next number of ``year``; never proposed before by any writer."""
        if year not in self._seeded:
            self._seed(year)
        m = self._mark
        increment = f"UPDATE {self._table} SET last = last + 1 WHERE year = {m} RETURNING last"
        if isinstance(self._datastore, PostgresDatastore):
            # PostgreSQL, whose pooled connections are in autocommit: one statement, one
            # round trip, and the row lock is released by the server as the statement
            # commits. In an explicit transaction (BEGIN, UPDATE, COMMIT) the lock stayed
            # held while the client came back for the COMMIT; under load every other
            # process's report queued behind it (the reports' latency tail).
            with self._datastore.get_connection() as conn:
                row = conn.execute(increment, (year,), prepare=True).fetchone()
        else:
            with self._datastore.transaction(commit=True) as cursor:
                cursor.execute(increment, (year,))
                row = cursor.fetchone()
        assert row is not None  # _seed made the year's row
        return format_number(year, row["last"])  # both stores' rows are keyed by name

    def _seed(self, year: int) -> None:
        # First use of a year in this process: make sure its row exists, starting after
        # the numbers already issued (a store that predates the counter, or lost it).
        last_issued = self._first_free(year) - 1
        m = self._mark
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self._table} (year, last) VALUES ({m}, {m}) "
                "ON CONFLICT (year) DO NOTHING", (year, last_issued))
            cursor.execute(
                f"UPDATE {self._table} SET last = {m} WHERE year = {m} AND last < {m}",
                (last_issued, year, last_issued))
        self._seeded.add(year)

    def _taken(self, year: int, serial: int) -> bool:
        found = self._recorder.select_events(case_number_id(format_number(year, serial)), limit=1)
        return bool(found)

    def _first_free(self, year: int) -> int:
        # Issued numbers are nearly dense, so gallop to a free one, then bisect:
        # about 2*log2(n) key look-ups, once per year and process.
        low, high = 0, 1
        while self._taken(year, high):
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if self._taken(year, middle):
                low = middle
            else:
                high = middle
        return high
