"""PostgreSQL appends through one function call keep the library's guarantees."""

from __future__ import annotations

import threading
import time
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from psycopg import sql

from tests.conftest import PG_URL

pytestmark = pytest.mark.parametrize("settings", ["postgres"], indirect=True)


def _events(n: int, version: int = 1) -> list[StoredEvent]:
    return [StoredEvent(uuid4(), version, "tests:Event", b'{"n": %d}' % k) for k in range(n)]


def _connect(cases):
    conn = psycopg.connect(PG_URL, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(
        sql.Identifier(cases.recorder.datastore.schema)))
    return conn


def test_a_batch_is_stored_in_order_with_its_notification_ids(cases):
    batch = _events(3)
    ids = cases.recorder.insert_events(batch)
    assert len(ids) == 3 and ids == list(range(ids[0], ids[0] + 3))
    stored = cases.recorder.select_notifications(ids[0], 10)
    assert [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in stored] == [
        (i, e.originator_id, e.originator_version, e.topic, e.state) for i, e in zip(ids, batch)]


def test_a_taken_version_fails_the_whole_batch(cases):
    (taken,) = _events(1)
    cases.recorder.insert_events([taken])
    head = cases.recorder.max_notification_id()
    fresh = _events(2)
    with pytest.raises(IntegrityError):
        cases.recorder.insert_events([fresh[0], taken, fresh[1]])
    assert cases.recorder.max_notification_id() == head
    assert all(cases.recorder.select_events(e.originator_id) == [] for e in fresh)


def test_an_append_waits_for_the_table_lock_so_ids_commit_in_order(cases):
    cases.recorder.insert_events(_events(1))  # the function's plan is ready
    done: list[list[int]] = []
    with _connect(cases) as other:
        with other.transaction():
            # what any transaction writing to the table holds until it commits: a plain
            # INSERT would not wait for it, the EXCLUSIVE lock does
            other.execute(sql.SQL("LOCK TABLE {} IN ROW EXCLUSIVE MODE").format(
                sql.Identifier(cases.recorder.events_table_name)))
            writer = threading.Thread(target=lambda: done.append(
                list(cases.recorder.insert_events(_events(2)))))
            writer.start()
            time.sleep(0.5)
            assert done == []  # held by the lock another writer holds
        writer.join(timeout=10)
    assert len(done) == 1 and len(done[0]) == 2


def test_an_append_notifies_the_log_s_listeners(cases):
    # The channel is named after the table, not the schema: any other hazardflow store in
    # the same database (a demo, another test run) notifies it too. Only a notification
    # from one of this store's own connections counts.
    with _connect(cases) as listener:
        listener.execute(sql.SQL("LISTEN {}").format(
            sql.Identifier(cases.recorder.channel_name)))
        cases.recorder.insert_events(_events(1))
        ours = {c.info.backend_pid for c in cases.recorder.datastore.pool._pool}  # idle again
        heard = next((n.channel for n in listener.notifies(timeout=5) if n.pid in ours), None)
    assert heard == cases.recorder.channel_name


def test_appends_go_through_the_function(cases):
    with _connect(cases) as conn:
        conn.execute("DROP FUNCTION hazardflow_append_events")
    with pytest.raises(ProgrammingError, match="hazardflow_append_events"):
        cases.recorder.insert_events(_events(1))
