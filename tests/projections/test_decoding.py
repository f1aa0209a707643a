"""The runner's decoder gives exactly the library's events, and falls back where it must."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import orjson
import pytest

from domain.events import CASE_EVENT_TYPES
from projections.decoding import event_decoder
from projections.runner import CASE_TOPICS
from tests.projections.history import RandomHistory


def _notifications(cases):
    return cases.recorder.select_notifications(1, 100_000, topics=CASE_TOPICS)


def _decoder(cases):
    decode = event_decoder(cases.app.mapper)
    return lambda n: decode(n.topic, n.state, n.originator_id, n.originator_version)


def test_every_case_event_decodes_as_the_library_decodes_it(cases, clock):
    RandomHistory(cases, clock, seed=5).run(150)
    notes = _notifications(cases)
    decode, library = _decoder(cases), cases.app.mapper.to_domain_event

    kinds = set()
    for n in notes:
        fast, slow = decode(n), library(n)
        assert type(fast) is type(slow)
        assert fast.__dict__ == slow.__dict__
        assert type(fast.timestamp) is datetime and fast.timestamp == slow.timestamp
        kinds.add(type(fast).__name__)
    # the history reaches most event types, so the comparison is not about one class only
    assert len(kinds) >= len(CASE_EVENT_TYPES) // 2


def test_events_at_their_class_version_do_not_need_the_library(cases, clock, monkeypatch):
    RandomHistory(cases, clock, seed=7).run(80)
    notes = _notifications(cases)
    # classes past version 1 (Reported, EscalationAccepted, ...) are among them
    assert sum(b'"class_version"' in n.state for n in notes) >= 20
    mapper, used = cases.app.mapper, []
    original = mapper.to_domain_event
    monkeypatch.setattr(mapper, "to_domain_event",
                        lambda stored: used.append(stored.topic) or original(stored))
    decode = _decoder(cases)
    for n in notes:
        decode(n)
    assert used == []
    old = replace(notes[0], state=notes[0].state.replace(b'"class_version":2', b'"class_version":1'))
    assert b'"class_version":1' in old.state
    decode(old)  # an older version is upcast by the library
    assert used == [old.topic]


@pytest.mark.parametrize("state", [
    # another transcoded value besides the timestamp: only the library knows its type
    (b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-05T08:00:00+08:00"},'
    b'"extra":{"_type_":"uuid_hex","_data_":"0123456789abcdef0123456789abcdef"}}'),
    # an integer past 64 bits: orjson refuses it, the standard json module does not
    (b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-05T08:00:00+08:00"},'
    b'"big":123456789012345678901234567890}'),
    # written at a class version: upcasting is the library's
    (b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-05T08:00:00+08:00"},'
    b'"class_version":1}'),
])
def test_unusual_events_take_the_library_path(cases, clock, state):
    RandomHistory(cases, clock, seed=6).run(3)
    note = replace(_notifications(cases)[0], state=state)
    decode, library = _decoder(cases), cases.app.mapper.to_domain_event
    assert decode(note).__dict__ == library(note).__dict__


def test_an_escalation_level_raised_written_before_due_existed_reads_with_none(cases, clock):
    from tests.factories import to_escalated
    from workflows.escalation import tick

    to_escalated(cases, 1, accepted=False)
    clock.advance(days=10)
    tick(cases)
    (note,) = [n for n in _notifications(cases) if n.topic.endswith(":EscalationLevelRaised")]
    fields = orjson.loads(note.state)
    assert fields.pop("class_version") == 3 and fields.pop("level_due") == "2026-03-16"
    assert fields.pop("level_rule").startswith("rules ")
    version_2 = replace(note, state=orjson.dumps({**fields, "class_version": 2}))
    assert fields.pop("due") == "2026-03-04"
    version_1 = replace(note, state=orjson.dumps(fields))  # as stored before ``due`` existed
    for decode in (_decoder(cases), cases.app.mapper.to_domain_event):
        assert decode(version_1).due is None and decode(note).due == "2026-03-04"
        assert decode(version_1).level_due is decode(version_2).level_due is None
        assert decode(version_2).due == "2026-03-04"
        assert decode(note).level_due == "2026-03-16"


def test_a_place_moved_written_by_the_first_build_that_moved_cases_reads_with_none(
        cases, clock):
    # The first build that moved cases (9895f0e) wrote PlaceMoved without due days, the
    # next (786af28) with them but still as version 1: `case show` and the tick failed on
    # both with "'PlaceMoved' object has no attribute 'verify_due'" (QA helper's store).
    from tests.factories import admin, report

    report(cases, 1)
    clock.advance(days=1)
    cases.move_place("P-0001", grid="YS-C02-G01", community="YS-C02", kind=None,
                     reason="网格调整", actor=admin)
    (note,) = [n for n in _notifications(cases) if n.topic.endswith(":PlaceMoved")]
    fields = orjson.loads(note.state)
    assert fields.pop("class_version") == 2 and fields["notice_due"] == "2026-03-06"
    with_days = replace(note, state=orjson.dumps(fields))  # 786af28
    without = replace(note, state=orjson.dumps(
        {k: v for k, v in fields.items() if k not in ("notice_due", "verify_due", "rule")}))
    for decode in (_decoder(cases), cases.app.mapper.to_domain_event):
        assert decode(with_days).notice_due == decode(note).notice_due == "2026-03-06"
        old = decode(without)
        assert (old.notice_due, old.verify_due, old.rule) == (None, None, None)
        assert old.place == decode(note).place


@pytest.mark.parametrize("kind, added, rule", [
    ("Reported", {"notice_due": "2026-03-05"}, "rule"),
    ("EscalationAccepted", {"decide_due": "2026-04-01"}, "rule"),
    ("CaseReopened", {"notice_due": "2026-03-05"}, "rule"),
    ("RectificationSubmitted", {"verify_due": "2026-03-05"}, "rule"),
    ("RectificationRefused", {"accept_due": "2026-03-04"}, "accept_rule"),
    ("CaseEscalated", {"accept_due": "2026-03-04"}, "accept_rule"),
])
def test_events_written_before_their_due_day_existed_read_with_none(cases, clock, kind, added,
                                                                    rule):
    from tests.factories import (
        fire_officer,
        report,
        safety_officer,
        street_supervisor,
        to_awaiting_verification,
        to_enforced,
    )

    case_id = to_enforced(cases, 1)
    cases.close(case_id, fire_officer, closing_reason="enforced")
    cases.reopen(case_id, safety_officer, reason="复发")
    to_awaiting_verification(cases, 2)
    cases.escalate(report(cases, 3), street_supervisor, reason="集中整治")
    note = next(n for n in _notifications(cases) if n.topic.endswith(f":{kind}"))
    fields = orjson.loads(note.state)
    assert fields.pop("class_version") == 2 and fields.pop(rule).startswith("rules ")
    for name, day in added.items():
        assert fields.pop(name) == day
    version_1 = replace(note, state=orjson.dumps(fields))  # as stored before the due day
    for decode in (_decoder(cases), cases.app.mapper.to_domain_event):
        old, new = decode(version_1), decode(note)
        assert [getattr(old, name) for name in added] == [None] and getattr(old, rule) is None
        assert [getattr(new, name) for name in added] == list(added.values())
