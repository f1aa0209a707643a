"""The per-case chain in the domain: each event seals its content and links to the last."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from uuid import UUID

from domain.chain import GENESIS, canonical_content, content_hash_of
from tests.factories import to_escalated


def test_events_link_and_replay_carries_the_head(cases):
    case_id = to_escalated(cases)
    events = cases.history(case_id)
    assert events[0].previous_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.previous_hash == before.content_hash
    for event in events:
        assert event.compute_content_hash() == event.content_hash  # the seal survives storage
    assert cases.get_case(case_id).chain_head == events[-1].content_hash
    assert cases.get_case(case_id, version=2).chain_head == events[1].content_hash


def test_the_canonical_form_is_exactly_as_documented():
    # Changing this form breaks every stored seal: this test pins it down byte for byte.
    text = canonical_content(
        "domain.events:CommentAdded", 1, UUID(int=1), 3,
        {"originator_id": UUID(int=1), "originator_version": 3, "content_hash": "x",
         "previous_hash": "p", "reason": "周二", "n": 1,
         "timestamp": datetime(2026, 3, 2, 9, 0, tzinfo=UTC)})
    assert text == (
        '{"class_version":1,"originator_id":"00000000-0000-0000-0000-000000000001",'
        '"originator_version":3,"state":{"n":1,"previous_hash":"p","reason":"周二",'
        '"timestamp":"2026-03-02T09:00:00.000000+00:00"},"topic":"domain.events:CommentAdded"}'
    ).encode()
    assert content_hash_of("domain.events:CommentAdded", 1, UUID(int=1), 3, {}) == \
        content_hash_of("domain.events:CommentAdded", 1, str(UUID(int=1)), 3, {})
