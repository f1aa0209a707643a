"""The global hash chain over the whole log, kept as a witness table beside the events.

For every row of the event log, in notification order, the witness stores what the row
was when it was chained (originator id, version, topic, SHA-256 of the stored state bytes,
recorded time) and the running chain head::

    head(n) = SHA-256( head(n-1) "\\n" n "\\n" originator_id "\\n" version "\\n" topic
                       "\\n" SHA-256(state bytes of row n) )      (hex, UTF-8)

with ``head(0) = GENESIS`` (64 zeros). Every row of every aggregate is covered (cases,
case numbers, command records, place registers, accounts), so deleting a whole case,
deleting, inserting or reordering a row, or editing a payload changes every later head.

The witness is a projection: ``ChainWitness.catch_up`` chains the rows past its position,
a page per transaction together with its position (compare-and-set, so two catch-ups
never chain a row twice). ``hazardflow worker`` runs it every round (``witness_tick``);
``audit verify``, ``audit digest`` and ``audit chain`` run it too. A day's digest is the head at the end of that day (China time),
which can be published outside the system; ``projections.verify`` recomputes the chain
from the log and compares it with the witness and with published digests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from domain.chain import GENESIS
from domain.errors import DomainError
from domain.timeutil import end_of_local_day, iso, shown
from projections.db import Tx, store_db

PAGE = 1000
WITNESS = "audit_chain"
POSITION = "audit_chain_position"
EVIDENCE = "audit_evidence"

DDL = (
    (f"CREATE TABLE IF NOT EXISTS {WITNESS} (notification_id BIGINT PRIMARY KEY, "
    "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, topic TEXT NOT NULL, "
    "state_sha256 TEXT NOT NULL, recorded_at TEXT NOT NULL, head TEXT NOT NULL)"),
    (f"CREATE INDEX IF NOT EXISTS {WITNESS}_by_event ON {WITNESS} "
    "(originator_id, originator_version)"),
    f"CREATE INDEX IF NOT EXISTS {WITNESS}_by_time ON {WITNESS} (recorded_at)",
    (f"CREATE TABLE IF NOT EXISTS {POSITION} (name TEXT PRIMARY KEY, position BIGINT NOT NULL, "
    "head TEXT NOT NULL)"),
    (f"CREATE TABLE IF NOT EXISTS {EVIDENCE} (sha256 TEXT NOT NULL, notification_id BIGINT "
    "NOT NULL, case_id TEXT NOT NULL, PRIMARY KEY (sha256, notification_id))"),
)


def state_digest(state: bytes | str) -> str:
    # A row edited with SQLite's text functions (replace()) comes back as text, not bytes.
    return hashlib.sha256(state.encode() if isinstance(state, str) else state).hexdigest()


def link(previous: str, notification_id: int, originator_id: Any, version: int, topic: str,
         state_sha256: str) -> str:
    """The chain head after one row (see the module docstring for the exact form)."""
    text = f"{previous}\n{notification_id}\n{originator_id}\n{version}\n{topic}\n{state_sha256}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode_state(mapper: Any, state: bytes) -> dict[str, Any]:
    """A stored event's fields exactly as written: decrypted, decompressed, not upcast."""
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    return mapper.transcoder.decode(state)


# The stored timestamp, read without decoding the event (the witness and ``verify`` read it
# for every row of the log). Inside a JSON string a quote is escaped, so no text passes.
_TIMESTAMP = re.compile(rb'"timestamp":\{"_type_":"datetime_iso","_data_":"([^"\\]+)"\}')


def recorded_at_of(mapper: Any, state: bytes, fields: dict[str, Any] | None = None) -> str:
    """When the event in ``state`` was recorded, as the witness keeps it (``iso``), or ""
    for a row that holds no readable time. ``fields``: the row already decoded."""
    if fields is None and not mapper.cipher and not mapper.compressor:
        found = _TIMESTAMP.search(state)
        if found is not None:
            try:
                return iso(datetime.fromisoformat(found.group(1).decode()))
            except ValueError:
                pass  # decoded below, as the witness does
    if fields is None:
        try:
            fields = decode_state(mapper, state)
        except Exception:  # noqa: BLE001 - an undecodable row has no time
            return ""
    recorded = fields.get("timestamp")
    return iso(recorded) if isinstance(recorded, datetime) else ""


def evidence_hashes(fields: dict[str, Any]) -> list[str]:
    """The evidence file hashes an event references (``evidence`` lists of references),
    each once: one upload may name the same file twice (the index is keyed by hash and
    event, and a repeat stopped the witness at that event for good)."""
    refs = fields.get("evidence")
    if not isinstance(refs, list):
        return []
    return list(dict.fromkeys(r["sha256"] for r in refs
                              if isinstance(r, dict) and isinstance(r.get("sha256"), str)))


@dataclass(frozen=True)
class WitnessRow:
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    state_sha256: str
    recorded_at: str
    head: str


# Far longer than a command takes from its decision to its commit (the store's lock timeout
# and the group commit's batches are seconds), and no wait for a digest published daily.
DIGEST_GRACE = timedelta(minutes=5)
_DIGEST_LINE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\s+([0-9]+)\s+([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class Digest:
    """The chain head at the end of ``day``: everything up to notification ``position``."""

    day: date
    position: int
    head: str

    def line(self) -> str:
        return f"{self.day.isoformat()} {self.position} {self.head}"

    @classmethod
    def parse(cls, line: str, where: str = "") -> Digest:
        # Exactly the form ``line`` prints: int() and fromisoformat() alone would also take
        # signs, underscores and 20260302, and a mistyped line then read as a tampered log.
        found = _DIGEST_LINE.fullmatch(line.strip())
        try:
            if found is None:
                raise ValueError
            day = date.fromisoformat(found[1])
        except ValueError:
            raise DomainError(
                f"{where}{line.strip()!r} is not a digest line 'YYYY-MM-DD POSITION HEAD'"
            ) from None
        return cls(day, int(found[2]), found[3].lower())


class _Conflict(Exception):
    """Another catch-up moved the position first."""


class ChainWitness:
    """Keeps the witness table of the global chain up to date with the log."""

    def __init__(self, service: Any) -> None:
        self._service = service
        self._recorder = service.recorder
        self._mapper = service.app.mapper
        self.db = store_db(service)
        with self.db.schema_writer() as tx:
            for statement in DDL:
                tx.execute(statement)
            tx.execute(f"INSERT INTO {POSITION} (name, position, head) VALUES ('global', 0, ?) "
                       "ON CONFLICT (name) DO NOTHING", (GENESIS,))

    def position(self) -> tuple[int, str]:
        """The last chained notification id and the head after it."""
        with self.db.transaction() as tx:
            row = tx.execute(f"SELECT position, head FROM {POSITION} WHERE name = 'global'")
        return int(row[0][0]), row[0][1]

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Chain every row past the position, a page per transaction; rows chained."""
        chained = 0
        while True:
            position, head = self.position()
            rows = self._recorder.select_notifications(position + 1, PAGE)
            if not rows:
                return chained
            try:
                with self.db.transaction() as tx:
                    self._chain_page(tx, rows, position, head)
            except _Conflict:
                continue
            except Exception as error:
                if _is_duplicate_key(error):
                    continue  # another catch-up chained this page first
                raise
            chained += len(rows)
            if progress:
                progress(len(rows))

    def _chain_page(self, tx: Tx, rows: list[Any], position: int, head: str) -> None:
        witness: list[tuple[Any, ...]] = []
        evidence: list[tuple[str, Any, str]] = []
        for n in rows:
            digest = state_digest(n.state)
            head = link(head, n.id, n.originator_id, n.originator_version, n.topic, digest)
            fields = self._fields(n.state)
            recorded_at = recorded_at_of(self._mapper, n.state, fields)
            witness.append((n.id, str(n.originator_id), n.originator_version, n.topic, digest,
                            recorded_at, head))
            evidence.extend((sha, n.id, str(n.originator_id)) for sha in evidence_hashes(fields))
        tx.execute(f"UPDATE {POSITION} SET position = ?, head = ? "
                   "WHERE name = 'global' AND position = ?", (rows[-1].id, head, position))
        if tx.rowcount() != 1:
            raise _Conflict
        tx.executemany(f"INSERT INTO {WITNESS} VALUES (?, ?, ?, ?, ?, ?, ?)", witness)
        tx.executemany(f"INSERT INTO {EVIDENCE} VALUES (?, ?, ?)", evidence)

    def _fields(self, state: bytes) -> dict[str, Any]:
        try:
            return decode_state(self._mapper, state)
        except Exception:  # noqa: BLE001 - an undecodable row is still chained, by its bytes
            return {}

    # -- reading the witness -------------------------------------------------------------

    def rows(self, start: int, stop: int) -> list[WitnessRow]:
        """Witness rows with ``start <= notification_id <= stop``, in order."""
        with self.db.transaction() as tx:
            found = tx.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, "
                f"state_sha256, recorded_at, head FROM {WITNESS} "
                "WHERE notification_id >= ? AND notification_id <= ? ORDER BY notification_id",
                (start, stop))
        return [WitnessRow(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5], r[6]) for r in found]

    def iter_rows(self, stop: int, page: int = PAGE * 5) -> Iterator[WitnessRow]:
        start = 0
        while start <= stop:
            yield from self.rows(start, min(stop, start + page - 1))
            start += page

    def find(self, originator_id: str, version: int) -> int | None:
        """Where the witness saw this event, if anywhere."""
        with self.db.transaction() as tx:
            found = tx.execute(f"SELECT notification_id FROM {WITNESS} "
                               "WHERE originator_id = ? AND originator_version = ?",
                               (originator_id, version))
        return int(found[0][0]) if found else None

    def cases_referencing(self, sha256: str) -> list[str]:
        """Ids of the cases whose events reference the evidence file ``sha256``."""
        self.catch_up()
        with self.db.transaction() as tx:
            found = tx.execute(f"SELECT DISTINCT case_id FROM {EVIDENCE} WHERE sha256 = ? "
                               "ORDER BY case_id", (sha256,))
        return [r[0] for r in found]

    def digest(self, day: date, now: datetime) -> Digest:
        """The head at the end of ``day`` (China time), by recorded time.

        It covers the longest prefix of the log recorded before that day ended, so it
        never changes once the day is over, however many events arrive later. "Over" means
        ``DIGEST_GRACE`` after midnight: an event is stamped when its command is decided and
        numbered when it commits, so one decided at 23:59:59.9 may join the log after a
        digest taken at 00:00:00.1, which it would then have had to include.
        """
        end = end_of_local_day(day)
        if end > now:
            raise DomainError(f"{day} has not ended yet in China time; its digest is final "
                              f"from {shown(end + DIGEST_GRACE)}")
        if end + DIGEST_GRACE > now:
            raise DomainError(f"{day} has just ended; its digest is final from "
                              f"{shown(end + DIGEST_GRACE)}, once the commands decided before "
                              "midnight have committed")
        self.catch_up()
        with self.db.transaction() as tx:
            first_after = tx.execute(f"SELECT MIN(notification_id) FROM {WITNESS} "
                                     "WHERE recorded_at >= ?", (iso(end),))[0][0]
            bound = "" if first_after is None else "WHERE notification_id < ?"
            params = () if first_after is None else (first_after,)
            last = tx.execute(f"SELECT notification_id, head FROM {WITNESS} {bound} "
                              "ORDER BY notification_id DESC LIMIT 1", params)
        if not last:
            return Digest(day, 0, GENESIS)
        return Digest(day, int(last[0][0]), last[0][1])


def witness_tick(service: Any) -> int:
    """The worker's periodic job: chain what was recorded since its last round."""
    return ChainWitness(service).catch_up()


def _is_duplicate_key(error: Exception) -> bool:
    import sqlite3

    import psycopg

    return isinstance(error, (sqlite3.IntegrityError, psycopg.errors.UniqueViolation))
