"""``audit verify``: walk the log and prove it is what was recorded, or say where it is not.

Three independent checks, in one pass in notification order:

1. The witness (``projections.chain``): every row must be where the global chain saw it,
   with the same state bytes, and the recomputed head must equal the witnessed head.
   A row the witness has but the log lacks is *deleted*; a row the log has at a position
   the witness gave another row is *reordered* when the witness saw it elsewhere, else
   *inserted*; the same row with other bytes is an *edited payload*.
2. The per-case chain (``domain.chain``): each case event's content must still hash to
   its ``content_hash`` and link by ``previous_hash`` to the event before it, versions
   without gaps. This holds even for someone who rewrote the witness table too.
3. Published digests: the head recomputed from the log alone must equal every digest
   at its position. Only this catches a rewrite of log *and* witness together.

Then every evidence file the events reference must be in the blob store, unchanged.
Problems are reported in log order; after one, the walk re-synchronises with the witness
so one tampered row does not drown the report in consequences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from domain.chain import GENESIS, ChainedEvent, content_hash_of
from projections.chain import (
    PAGE,
    ChainWitness,
    Digest,
    WitnessRow,
    decode_state,
    recorded_at_of,
    evidence_hashes,
    link,
    state_digest,
)
from workflows.evidence import BlobStore

MAX_PROBLEMS = 100
CASE_NUMBER_TOPIC = "workflows.records:CaseNumber.Issued"

KINDS = {
    "edited": "edited payload",
    "deleted": "deleted row",
    "inserted": "inserted row",
    "reordered": "reordered row",
    "broken_link": "broken case chain",
    "witness": "witness table altered",
    "digest": "published digest no longer matches",
    "file_missing": "evidence file missing",
    "file_replaced": "evidence file replaced",
}


@dataclass
class Problem:
    """One place where the record does not match what was chained."""

    kind: str
    detail: str
    notification_id: int | None = None
    originator_id: str = ""
    version: int | None = None
    case_number: str = ""
    file: str = ""

    def describe(self) -> str:
        where = []
        if self.case_number:
            where.append(f"case {self.case_number}")
        if self.originator_id:
            where.append(f"{'' if self.case_number else 'aggregate '}id {self.originator_id}")
        if self.version is not None:
            where.append(f"version {self.version}")
        if self.notification_id is not None:
            where.append(f"notification #{self.notification_id}")
        if self.file:
            where.append(f"file {self.file}")
        return f"{KINDS[self.kind]}: {', '.join(where)}: {self.detail}"


@dataclass
class Report:
    events: int = 0
    case_events: int = 0
    cases: int = 0
    files: int = 0
    digests: int = 0
    position: int = 0
    head: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts = (f"{self.events:,} events ({self.case_events:,} case events in "
                  f"{self.cases:,} cases), {self.files:,} evidence files, "
                  f"{self.digests:,} published digests")
        if self.ok:
            return f"OK: {counts} verified; chain head #{self.position} {self.head}"
        return f"FAILED: {len(self.problems)} problem(s) in {counts}"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["problems"] = [{**asdict(p), "kind_label": KINDS[p.kind],
                             "message": p.describe()} for p in self.problems]
        return data


@dataclass
class _Walk:
    log_head: str = GENESIS  # recomputed from the log alone: compared with digests
    check_head: str = GENESIS  # re-synchronised with the witness after a problem
    last: dict[str, tuple[int, str]] = field(default_factory=dict)  # case -> version, hash
    numbers: dict[str, str] = field(default_factory=dict)  # case id -> case number
    files: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # sha -> ref
    witnessed: tuple[int, str] = (0, GENESIS)  # the last witness row: id, head


class Verifier:
    """Verifies the store of ``service`` (and the evidence files in ``blobs``)."""

    def __init__(self, service: Any, blobs: BlobStore | None = None,
                 witness: ChainWitness | None = None) -> None:
        self._recorder = service.recorder
        self._mapper = service.app.mapper
        self.witness = witness or ChainWitness(service)
        self._blobs = blobs
        self._chained_topics: dict[str, bool] = {}

    def run(self, digests: Sequence[Digest] = (), *, catch_up: bool = True,
            progress: Callable[[int], None] | None = None) -> Report:
        if catch_up:
            self.witness.catch_up()
        position, head = self.witness.position()
        report, walk = Report(position=position, head=head, digests=len(digests)), _Walk()
        pending = sorted(digests, key=lambda d: d.position)
        for n, w in self._merge(position):
            while pending and (n or w).notification_id > pending[0].position:  # type: ignore[union-attr]
                self._check_digest(pending.pop(0), walk.log_head, report)
            self._row(n, w, walk, report)
            if progress and n is not None and report.events % PAGE == 0:
                progress(PAGE)
        if progress:
            progress(report.events % PAGE)
        for digest in pending:
            self._check_digest(digest, walk.log_head, report)
        if walk.witnessed != (position, head):
            # A position moved past the last chained row: catch-up would skip the rows
            # recorded in between, and nothing would ever chain them.
            report.problems.append(Problem(
                "witness", f"the witness position says #{position} with head {head[:16]}…, "
                f"but its last row is #{walk.witnessed[0]} with head {walk.witnessed[1][:16]}…",
                position))
        report.cases = len(walk.last)
        self._check_files(walk, report, progress)
        del report.problems[MAX_PROBLEMS:]
        self._name_cases(report, walk.numbers)
        return report

    # -- the walk -------------------------------------------------------------------------

    def _merge(self, stop: int) -> Iterator[tuple[Any, WitnessRow | None]]:
        """Log rows and witness rows side by side, by notification id, up to ``stop``."""
        log, chained = self._log(stop), self.witness.iter_rows(stop)
        n, w = next(log, None), next(chained, None)
        while n is not None or w is not None:
            if w is None or (n is not None and n.id < w.notification_id):
                yield _Row(n), None
                n = next(log, None)
            elif n is None or w.notification_id < n.id:
                yield None, w
                w = next(chained, None)
            else:
                yield _Row(n), w
                n, w = next(log, None), next(chained, None)

    def _log(self, stop: int) -> Iterator[Any]:
        start = 1
        while start <= stop:
            page = self._recorder.select_notifications(start, PAGE, stop=stop)
            if not page:
                return
            yield from page
            start = page[-1].id + 1

    def _row(self, n: _Row | None, w: WitnessRow | None, walk: _Walk, report: Report) -> None:
        found = len(report.problems)
        if w is not None:
            walk.witnessed = (w.notification_id, w.head)
        if n is not None:
            report.events += 1
            in_step = walk.check_head == walk.log_head
            walk.log_head = link(walk.log_head, n.id, n.originator_id, n.originator_version,
                                 n.topic, n.sha)
            self._against_witness(n, w, walk, report, walk.log_head if in_step else None)
            self._case_chain(n, walk, report, already_flagged=len(report.problems) > found)
        else:
            assert w is not None
            self._missing(w, report)
        if len(report.problems) > found and w is not None:
            walk.check_head = w.head
            # The witnessed event is accounted for: the case chain expects the next version
            # rather than reporting the same gap a second time.
            last = walk.last.get(w.originator_id)
            if self._is_chained(w.topic) and (last is None or w.originator_version > last[0]):
                walk.last[w.originator_id] = (w.originator_version, "")

    def _against_witness(self, n: _Row, w: WitnessRow | None, walk: _Walk,
                         report: Report, next_head: str | None) -> None:
        """``next_head``: the head after this row when the two heads agree (computed once)."""
        oid, version = str(n.originator_id), n.originator_version
        if w is None or (w.originator_id, w.originator_version) != (oid, version):
            chained_at = self.witness.find(oid, version)
            if chained_at is not None:
                report.problems.append(Problem(
                    "reordered", f"this event now sits at #{n.id} but was chained at "
                    f"#{chained_at}", n.id, oid, version))
            else:
                instead = "" if w is None else (
                    f"; the chained row here was id {w.originator_id} version "
                    f"{w.originator_version}")
                report.problems.append(Problem(
                    "inserted", f"this row was never chained{instead}", n.id, oid, version))
            return
        if n.sha != w.state_sha256 or n.topic != w.topic:
            report.problems.append(Problem(
                "edited", f"the stored bytes hash to {n.sha[:16]}…, chained as "
                f"{w.state_sha256[:16]}…", n.id, oid, version))
            return
        walk.check_head = next_head or link(walk.check_head, n.id, oid, version, n.topic, n.sha)
        if walk.check_head != w.head:
            report.problems.append(Problem(
                "witness", "the witnessed chain head differs from the one recomputed here",
                n.id, oid, version))
        elif w.recorded_at != (recorded := recorded_at_of(self._mapper, n.state)):
            # not in the head, but what a day's digest is cut by: edited, it would leave the
            # day's later events out of the digest published for it
            report.problems.append(Problem(
                "witness", f"the witness says this event was recorded at {w.recorded_at!r}, "
                f"the event itself {recorded!r}", n.id, oid, version))

    def _missing(self, w: WitnessRow, report: Report) -> None:
        now_at = self._log_position(w.originator_id, w.originator_version)
        if now_at is not None:
            report.problems.append(Problem(
                "reordered", f"this event was chained at #{w.notification_id} but now sits "
                f"at #{now_at}", w.notification_id, w.originator_id, w.originator_version))
        else:
            report.problems.append(Problem(
                "deleted", "this event was chained but is no longer in the log",
                w.notification_id, w.originator_id, w.originator_version))

    def _case_chain(self, n: _Row, walk: _Walk, report: Report, already_flagged: bool) -> None:
        if not self._is_chained(n.topic):
            return
        fields = self._decode(n, report)
        if fields is None:
            return
        report.case_events += 1
        oid, version = str(n.originator_id), n.originator_version
        if version == 1 and "number" in fields:
            walk.numbers[oid] = str(fields["number"])
        for sha in evidence_hashes(fields):
            walk.files.setdefault(sha, (oid, version, n.id))
        problem = None if already_flagged else _case_problem(n, fields, walk.last.get(oid))
        if problem is not None:
            report.problems.append(problem)
        previous = walk.last.get(oid)
        if previous is None or version > previous[0]:
            walk.last[oid] = (version, str(fields.get("content_hash", "")))

    def _name_cases(self, report: Report, numbers: dict[str, str]) -> None:
        """Case numbers for the problems, from the case-number records when a case's own
        report is gone (read only when something failed: the walk need not decode them)."""
        unnamed = {p.originator_id for p in report.problems
                   if p.originator_id and p.originator_id not in numbers}
        start = 1
        while unnamed:
            page = self._recorder.select_notifications(start, PAGE, topics=[CASE_NUMBER_TOPIC])
            if not page:
                break
            for n in page:
                try:
                    fields = decode_state(self._mapper, n.state)
                except Exception:  # noqa: BLE001, S112 - an unreadable record names nothing
                    continue
                numbers.setdefault(str(fields.get("case_id")), str(fields.get("number")))
                unnamed.discard(str(fields.get("case_id")))
            start = page[-1].id + 1
        for problem in report.problems:
            problem.case_number = problem.case_number or numbers.get(problem.originator_id, "")

    def _decode(self, n: _Row, report: Report) -> dict[str, Any] | None:
        try:
            return decode_state(self._mapper, n.state)
        except Exception as error:  # noqa: BLE001 - unreadable bytes are a finding
            report.problems.append(Problem(
                "edited", f"the stored bytes no longer decode ({type(error).__name__})",
                n.id, str(n.originator_id), n.originator_version))
            return None

    def _is_chained(self, topic: str) -> bool:
        if topic not in self._chained_topics:
            try:
                cls = resolve_topic(topic)
                self._chained_topics[topic] = isinstance(cls, type) and issubclass(
                    cls, ChainedEvent)
            except Exception:  # noqa: BLE001 - an unknown topic is simply not a case event
                self._chained_topics[topic] = False
        return self._chained_topics[topic]

    def _log_position(self, originator_id: str, version: int) -> int | None:
        """Where the log holds this event now, if anywhere (a moved row)."""
        db, table = self.witness.db, self._recorder.events_table_name
        if db.dialect == "sqlite":
            statement = f"SELECT rowid FROM {table} WHERE originator_id = ? " \
                        "AND originator_version = ?"
            params: tuple[Any, ...] = (UUID(originator_id).hex, version)
        else:
            statement = f"SELECT notification_id FROM {table} WHERE originator_id = ? " \
                        "AND originator_version = ?"
            params = (UUID(originator_id), version)
        with db.transaction() as tx:
            found = tx.execute(statement, params)
        return int(found[0][0]) if found else None

    # -- digests and files ----------------------------------------------------------------

    @staticmethod
    def _check_digest(digest: Digest, log_head: str, report: Report) -> None:
        if digest.position > report.position:
            report.problems.append(Problem(
                "digest", f"the digest published for {digest.day} covers #{digest.position}, "
                f"past the end of the chained log at #{report.position}", digest.position))
        elif log_head != digest.head:
            report.problems.append(Problem(
                "digest", f"the log up to #{digest.position} hashes to {log_head[:16]}…, but "
                f"{digest.head[:16]}… was published for {digest.day}", digest.position))

    def _check_files(self, walk: _Walk, report: Report,
                     progress: Callable[[int], None] | None) -> None:
        report.files = len(walk.files)
        if self._blobs is None:
            return
        for sha, (oid, version, nid) in walk.files.items():
            check = self._blobs.check(sha)
            if check.status == "missing":
                report.problems.append(Problem(
                    "file_missing", "no file with this hash in the evidence store", nid, oid,
                    version, file=sha))
            elif check.status == "replaced":
                report.problems.append(Problem(
                    "file_replaced", f"the stored file now hashes to {check.actual_sha256}",
                    nid, oid, version, file=sha))
            if progress:
                progress(1)


class _Row:
    """A log row and the SHA-256 of its state bytes (computed once)."""

    __slots__ = ("id", "originator_id", "originator_version", "sha", "state", "topic")

    def __init__(self, n: Any) -> None:
        self.id = n.id
        self.originator_id = str(n.originator_id)  # once: str(UUID) is not free
        self.originator_version = n.originator_version
        self.topic = n.topic
        self.state = n.state
        self.sha = state_digest(n.state)

    @property
    def notification_id(self) -> int:
        return self.id


def _case_problem(n: _Row, fields: dict[str, Any], previous: tuple[int, str] | None
                  ) -> Problem | None:
    oid, version = str(n.originator_id), n.originator_version
    stored = fields.get("content_hash")
    class_version = fields.pop("class_version", 1)
    if stored != content_hash_of(n.topic, class_version, oid, version, fields):
        return Problem("edited", "the event's content no longer matches its content_hash",
                       n.id, oid, version)
    expected = 1 if previous is None else previous[0] + 1
    if version > expected:
        missing = f"version {expected}" if version == expected + 1 else \
            f"versions {expected}-{version - 1}"
        return Problem("deleted", f"{missing} of this case is missing before it", n.id, oid,
                       version)
    if version < expected:
        return Problem("reordered", f"it comes after version {expected - 1} of its case",
                       n.id, oid, version)
    if previous is not None and not previous[1]:
        return None  # the previous event is gone, already reported by the witness check
    if fields.get("previous_hash") != (GENESIS if previous is None else previous[1]):
        return Problem("broken_link", "previous_hash does not match the case's previous "
                       "event", n.id, oid, version)
    return None
