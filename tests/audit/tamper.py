"""What someone with database access could do behind the application's back.

Each helper changes the event table directly with SQL, on SQLite or PostgreSQL, the way
an insider would: no application code, no events.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from projections.db import store_db
from workflows.service import HazardCases


def _table(cases: HazardCases) -> tuple[Any, str, str, Any]:
    db = store_db(cases)
    table = cases.recorder.events_table_name
    if db.dialect == "sqlite":
        return db, table, "rowid", lambda oid: UUID(str(oid)).hex
    return db, table, "notification_id", lambda oid: UUID(str(oid))


def notification_id(cases: HazardCases, originator_id: Any, version: int) -> int:
    db, table, id_col, key = _table(cases)
    with db.transaction() as tx:
        rows = tx.execute(f"SELECT {id_col} FROM {table} WHERE originator_id = ? "
                          "AND originator_version = ?", (key(originator_id), version))
    return int(rows[0][0])


def edit_payload(cases: HazardCases, originator_id: Any, version: int, old: str,
                 new: str) -> None:
    """Rewrite text inside one stored event's state bytes."""
    db, table, _, key = _table(cases)
    where = "WHERE originator_id = ? AND originator_version = ?"
    with db.transaction() as tx:
        (state,), = tx.execute(f"SELECT state FROM {table} {where}",
                               (key(originator_id), version))
        edited = bytes(state).replace(old.encode(), new.encode())
        assert edited != bytes(state), f"{old!r} is not in the event"
        tx.execute(f"UPDATE {table} SET state = ? {where}",
                   (edited, key(originator_id), version))


def edit_payload_in_sql(cases: HazardCases, originator_id: Any, version: int, old: str,
                        new: str) -> None:
    """The same edit by SQL's replace() alone; on SQLite that leaves the state as TEXT."""
    db, table, _, key = _table(cases)
    state = ("replace(state, ?, ?)" if db.dialect == "sqlite" else
             "convert_to(replace(convert_from(state, 'UTF8'), ?, ?), 'UTF8')")
    with db.transaction() as tx:
        tx.execute(f"UPDATE {table} SET state = {state} WHERE originator_id = ? "
                   "AND originator_version = ?", (old, new, key(originator_id), version))


def delete_event(cases: HazardCases, originator_id: Any, version: int) -> None:
    db, table, _, key = _table(cases)
    with db.transaction() as tx:
        tx.execute(f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?",
                   (key(originator_id), version))


def delete_aggregate(cases: HazardCases, originator_id: Any) -> int:
    """Delete every event of one aggregate (a whole case); how many rows went."""
    db, table, _, key = _table(cases)
    with db.transaction() as tx:
        tx.execute(f"DELETE FROM {table} WHERE originator_id = ?", (key(originator_id),))
        return tx.rowcount()


def swap_rows(cases: HazardCases, first: int, second: int) -> None:
    """Exchange the log positions (notification ids) of two rows."""
    db, table, id_col, _ = _table(cases)
    with db.transaction() as tx:
        tx.execute(f"UPDATE {table} SET {id_col} = ? WHERE {id_col} = ?", (-1, first))
        tx.execute(f"UPDATE {table} SET {id_col} = ? WHERE {id_col} = ?", (first, second))
        tx.execute(f"UPDATE {table} SET {id_col} = ? WHERE {id_col} = ?", (second, -1))


def insert_copy(cases: HazardCases, originator_id: Any, version: int, new_version: int,
                at: int) -> None:
    """Insert a forged row at position ``at``: a copy of an event under another version."""
    db, table, id_col, key = _table(cases)
    with db.transaction() as tx:
        (topic, state), = tx.execute(
            f"SELECT topic, state FROM {table} WHERE originator_id = ? "
            "AND originator_version = ?", (key(originator_id), version))
        tx.execute(f"INSERT INTO {table} ({id_col}, originator_id, originator_version, topic, "
                   "state) VALUES (?, ?, ?, ?, ?)",
                   (at, key(originator_id), new_version, topic, bytes(state)))
