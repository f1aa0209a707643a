"""Daily digests: published heads keep verifying as the log grows, and stop at an edit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.chain import GENESIS
from domain.errors import DomainError
from domain.timeutil import end_of_local_day, local_date
from projections.chain import DIGEST_GRACE, Digest
from tests.audit import tamper
from tests.factories import report, safety_officer

MONDAY = date(2026, 3, 2)  # the fixture's clock starts Monday 09:00 China time


def test_a_past_days_digest_verifies_after_more_events_and_fails_after_an_edit(record, clock):
    clock.advance(days=1)
    published = record.witness.digest(MONDAY, clock.now())
    assert published.position == record.cases.recorder.max_notification_id()

    report(record.cases, 4)  # Tuesday's work
    record.cases.comment(record.escalated, safety_officer, text="周二集中整治日")
    assert record.witness.digest(MONDAY, clock.now()) == published  # a day's head is final
    result = record.verify(digests=[published])
    assert result.ok and result.digests == 1
    assert result.events > published.position

    tamper.edit_payload(record.cases, record.rectified, 1, "P-0001", "P-0009")
    result = record.verify(digests=[published])
    kinds = [p.kind for p in result.problems]
    assert kinds[0] == "edited" and "digest" in kinds
    digest_problem = next(p for p in result.problems if p.kind == "digest")
    assert str(MONDAY) in digest_problem.detail


def test_a_rewrite_of_log_and_witness_together_is_caught_by_the_digest_only(record, clock):
    clock.advance(days=1)
    published = record.witness.digest(MONDAY, clock.now())
    # The insider deletes the last row and rebuilds the witness to match: every table agrees.
    last = record.cases.recorder.max_notification_id()
    rows = record.cases.recorder.select_notifications(last, 1)
    tamper.delete_event(record.cases, rows[0].originator_id, rows[0].originator_version)
    from projections.db import store_db

    with store_db(record.cases).transaction() as tx:
        tx.execute("DELETE FROM audit_chain")
        tx.execute("UPDATE audit_chain_position SET position = 0, head = ?", (GENESIS,))
    assert record.verify().ok
    result = record.verify(digests=[published])
    assert [p.kind for p in result.problems] == ["digest"]


def test_the_digest_of_a_day_not_over_is_refused(record, clock):
    with pytest.raises(DomainError, match="has not ended yet"):
        record.witness.digest(MONDAY, clock.now())


def test_the_digest_before_any_event_is_the_genesis(record, clock):
    assert record.witness.digest(date(2026, 3, 1), clock.now()) == Digest(
        date(2026, 3, 1), 0, GENESIS)


def test_a_digest_line_reads_back_and_a_bad_one_is_named():
    digest = Digest(MONDAY, 19, "ab" * 32)
    assert Digest.parse(digest.line()) == digest
    with pytest.raises(DomainError, match="digests.txt:3: 'nonsense'"):
        Digest.parse("nonsense", "digests.txt:3: ")


@pytest.mark.parametrize("line", [
    "2026-03-02 19 " + "0_" + "ab" * 31,  # int(..., 16) takes an underscore
    "2026-03-02 19 " + "+" + "a" * 63,  # and a sign
    "2026-03-02 -0 " + "ab" * 32,  # a position with a sign
    "2026-03-02 1_9 " + "ab" * 32,
    "20260302 19 " + "ab" * 32,  # the basic ISO form is not the published line's
])
def test_a_digest_line_not_exactly_in_the_published_form_is_named(line):
    # Such a line was read as a digest and then reported as a tampered log, not as a
    # mistyped line.
    with pytest.raises(DomainError, match="is not a digest line"):
        Digest.parse(line)


def test_a_digest_file_that_is_not_text_is_named(tmp_path):
    # It stopped verify with the codec's words only: "'utf-8' codec can't decode byte
    # 0xff in position 0", naming neither the file nor what was wrong with it.
    from api.cli.audit import read_digests

    signed = tmp_path / "digests.txt.sig"
    signed.write_bytes(b"\xff\xfe\x00binary signature")
    with pytest.raises(DomainError, match=r"digests.txt.sig is not a text file of digest "
                                          r"lines \(UTF-8\)"):
        read_digests(signed)


def test_a_days_digest_waits_until_its_last_commands_have_committed(record, clock):
    # An event is stamped when its command is decided and numbered when it commits: one
    # decided at 23:59:59.9 may commit after a digest taken at 00:00:00.1, and a digest of
    # that day taken later would then differ from the published one.
    day = local_date(clock.now())
    midnight = end_of_local_day(day)
    clock.set(midnight + timedelta(seconds=1))
    with pytest.raises(DomainError, match="has just ended; its digest is final from "
                                          rf"{day + timedelta(days=1)}T00:05:00\+08:00"):
        record.witness.digest(day, clock.now())
    clock.set(midnight + DIGEST_GRACE)
    assert record.witness.digest(day, clock.now()).day == day
