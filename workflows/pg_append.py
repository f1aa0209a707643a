"""PostgreSQL: a batch of events appended with one statement, on the library's own terms.

eventsourcing's PostgreSQL recorder appends a batch in a pipelined transaction: ``SET
LOCAL lock_timeout``, ``LOCK TABLE ... IN EXCLUSIVE MODE`` (so notification ids commit in
the order they were issued: a reader tailing the log never passes a gap that fills in
later), ``NOTIFY``, the ``INSERT ... RETURNING notification_id`` of an array of a
composite type, and the commit. Driving those five statements through psycopg's pipeline
costs about 1.0 ms of client CPU per batch, against 0.3 ms for one call of a database
function doing the same (measured on 2-event batches, ``benchmarks/bench_append.py``); in
the HTTP server that was a third of a command's CPU. The library's own function
(``POSTGRES_ENABLE_DB_FUNCTIONS``) is one call too, but it takes no table lock.

``install`` creates ``hazardflow_append_events`` beside the events table (the same lock
timeout, lock, ``NOTIFY`` channel, columns and ``RETURNING``; the call is its own
transaction, the pool's connections being in autocommit) and routes the recorder's
``insert_events`` through it. What callers see is unchanged: the notification ids in
order, eventsourcing's ``IntegrityError`` for a taken (originator, version) with nothing
of the batch written, the library's retries of a lost connection. A call with extra
arguments (a process application's tracking record) keeps the library's path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier, Literal

FUNCTION = "hazardflow_append_events"

_CREATE = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids {id_type}[], versions bigint[], topics text[], states bytea[])
RETURNS SETOF bigint LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM set_config('lock_timeout', {lock_timeout}, true);
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    NOTIFY {channel};
    RETURN QUERY
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(ids, versions, topics, states)
        RETURNING notification_id;
END
$body$
"""


def install(recorder: Any) -> None:
    """Create (or replace) the function and send ``recorder``'s appends through it.

    Run it where concurrent start-ups are already serialised (``api.wiring.open_cases``):
    two sessions replacing one function at once can fail one of them."""
    datastore = recorder.datastore
    schema = Identifier(datastore.schema)
    create = SQL(_CREATE).format(
        schema=schema, function=Identifier(FUNCTION),
        id_type=SQL(datastore.originator_id_type),
        lock_timeout=Literal(f"{datastore.lock_timeout}s"),
        table=Identifier(recorder.events_table_name),
        channel=Identifier(recorder.channel_name))
    with datastore.get_connection() as conn:
        conn.execute(create)
    # psycopg sends a list of small ints as the smallest integer array type: say bigint[]
    # rather than lean on PostgreSQL's implicit array coercion to find the function.
    call = SQL("SELECT * FROM {}.{}(%s, %s::bigint[], %s, %s)").format(
        schema, Identifier(FUNCTION))
    recorder.insert_events = _appender(recorder, call)


def _appender(recorder: Any, call: Composed) -> Callable[..., Sequence[int] | None]:
    library = recorder.insert_events
    datastore = recorder.datastore

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        if kwargs or not stored_events:
            return library(stored_events, **kwargs)
        params = ([e.originator_id for e in stored_events],
                  [e.originator_version for e in stored_events],
                  [e.topic for e in stored_events], [e.state for e in stored_events])
        # get_connection turns psycopg's errors into eventsourcing's (IntegrityError...)
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(call, params, prepare=True)
            return [notification_id for (notification_id,) in cur.fetchall()]

    return insert_events
