"""Tamper with the tables directly, as an insider with database access could; verify says
where, on SQLite and PostgreSQL."""

from __future__ import annotations

import os

from tests.audit import tamper
from tests.audit.conftest import Record


def _first(record: Record):
    result = record.verify()
    assert not result.ok
    return result, result.problems[0]


def test_an_untouched_store_verifies(record: Record):
    result = record.verify()
    assert result.ok, [p.describe() for p in result.problems]
    assert result.events == record.cases.recorder.max_notification_id()
    assert (result.cases, result.files) == (3, 1)
    assert result.case_events == 4 + 4 + 2
    assert result.summary().startswith("OK: ")


def test_an_edited_payload_is_named(record: Record):
    # The landlord's phone number on the notice of case 2 is changed behind the app's back.
    tamper.edit_payload(record.cases, record.escalated, 2, "13800000000", "13900000000")
    result, first = _first(record)
    assert (first.kind, first.case_number, first.version) == ("edited", "HZ-2026-000002", 2)
    assert first.notification_id == tamper.notification_id(record.cases, record.escalated, 2)
    assert len(result.problems) == 1
    assert "edited payload: case HZ-2026-000002" in first.describe()


def test_a_payload_edited_by_sql_text_functions_is_named(record: Record):
    # SQLite's replace() returns TEXT: verify stopped with a TypeError from the hash.
    tamper.edit_payload_in_sql(record.cases, record.escalated, 2, "13800000000", "13900000000")
    result, first = _first(record)
    assert (first.kind, first.case_number, first.version) == ("edited", "HZ-2026-000002", 2)
    assert {(p.kind, p.notification_id) for p in result.problems} == {
        ("edited", tamper.notification_id(record.cases, record.escalated, 2))}


def test_a_deleted_event_is_named(record: Record):
    at = tamper.notification_id(record.cases, record.rectified, 3)
    tamper.delete_event(record.cases, record.rectified, 3)
    result, first = _first(record)
    assert (first.kind, first.case_number, first.version, first.notification_id) == (
        "deleted", "HZ-2026-000001", 3, at)
    assert len(result.problems) == 1  # the gap is not reported twice


def test_a_deleted_case_is_named(record: Record):
    at = tamper.notification_id(record.cases, record.escalated, 1)
    assert tamper.delete_aggregate(record.cases, record.escalated) == 4
    result, first = _first(record)
    assert (first.kind, first.case_number, first.version, first.notification_id) == (
        "deleted", "HZ-2026-000002", 1, at)
    assert {(p.kind, p.case_number) for p in result.problems} == {("deleted", "HZ-2026-000002")}
    assert sorted(p.version for p in result.problems) == [1, 2, 3, 4]


def test_two_swapped_rows_are_named(record: Record):
    a = tamper.notification_id(record.cases, record.rectified, 2)
    b = tamper.notification_id(record.cases, record.escalated, 1)
    tamper.swap_rows(record.cases, a, b)
    result, first = _first(record)
    # At a's position now sits case 2's report, chained at b.
    assert (first.kind, first.notification_id, first.case_number, first.version) == (
        "reordered", a, "HZ-2026-000002", 1)
    assert f"chained at #{b}" in first.detail
    assert [(p.kind, p.notification_id) for p in result.problems] == [
        ("reordered", a), ("reordered", b)]


def test_a_row_forged_into_a_deleted_row_place_is_named(record: Record):
    at = tamper.notification_id(record.cases, record.reported, 2)
    tamper.delete_event(record.cases, record.reported, 2)
    tamper.insert_copy(record.cases, record.rectified, 4, 5, at=at)
    _result, first = _first(record)
    assert (first.kind, first.notification_id, first.case_number, first.version) == (
        "inserted", at, "HZ-2026-000001", 5)


def test_a_row_appended_behind_the_apps_back_fails_the_case_chain(record: Record):
    # Past the witness, the global chain would take it in; the case chain does not.
    end = record.cases.recorder.max_notification_id()
    tamper.insert_copy(record.cases, record.rectified, 4, 5, at=end + 1)
    _result, first = _first(record)
    assert (first.kind, first.case_number, first.version) == ("edited", "HZ-2026-000001", 5)


def test_a_replaced_evidence_file_is_named(record: Record):
    path = record.blobs.path(record.photo)
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes().replace(b"flying wire", b"tidy hallway"))
    result, first = _first(record)
    assert (first.kind, first.file, first.case_number, first.version) == (
        "file_replaced", record.photo, "HZ-2026-000003", 2)
    assert len(result.problems) == 1


def test_a_missing_evidence_file_is_named(record: Record):
    record.blobs.path(record.photo).unlink()
    _result, first = _first(record)
    assert (first.kind, first.file, first.case_number) == (
        "file_missing", record.photo, "HZ-2026-000003")


def test_an_evidence_file_turned_into_a_directory_is_named_missing(record: Record):
    # The blob store raised IsADirectoryError: `audit verify` stopped with an error line
    # (exit 2, no report) and GET /api/evidence answered 500, instead of naming the file.
    path = record.blobs.path(record.photo)
    path.unlink()
    path.mkdir()
    _result, first = _first(record)
    assert (first.kind, first.file) == ("file_missing", record.photo)
    path.rmdir()
    path.parent.rmdir()
    path.parent.write_bytes(b"not a folder")  # its folder replaced by a file
    _result, first = _first(record)
    assert (first.kind, first.file) == ("file_missing", record.photo)


def test_a_witness_position_moved_past_its_last_row_is_caught(record: Record):
    # Verify said OK; catch-up then skipped every row recorded up to the forged position,
    # which the witness never chained (deletable unseen, as if past the witness).
    from projections.db import store_db

    end = record.cases.recorder.max_notification_id()
    with store_db(record.cases).transaction() as tx:
        tx.execute("UPDATE audit_chain_position SET position = ?", (end + 100,))
    _result, first = _first(record)
    assert (first.kind, first.notification_id) == ("witness", end + 100)
    assert f"its last row is #{end}" in first.detail


def test_the_witness_table_rewritten_alone_is_caught(record: Record):
    from projections.db import store_db

    with store_db(record.cases).transaction() as tx:
        tx.execute("UPDATE audit_chain SET head = ? WHERE notification_id = 3", ("f" * 64,))
    _result, first = _first(record)
    assert (first.kind, first.notification_id) == ("witness", 3)


def test_a_witness_time_moved_to_cut_a_days_digest_short_is_caught(record: Record):
    # The witness's recorded_at is not in the chain head, but a day's digest is cut by it:
    # moved into the future from #3 on, `audit digest` for the day ended at #2, leaving
    # the day's later events out of what was published, and verify still said OK.
    from projections.db import store_db

    with store_db(record.cases).transaction() as tx:
        tx.execute("UPDATE audit_chain SET recorded_at = ? WHERE notification_id >= 3",
                   ("2099-01-01T00:00:00.000000+00:00",))
    _result, first = _first(record)
    assert (first.kind, first.notification_id) == ("witness", 3)
    assert "the witness says this event was recorded at '2099-01-01" in first.detail
