"""The per-case hash chain: every case event seals its own content and links to the last.

Each chained event carries two fields besides its data:

- ``content_hash``: SHA-256 (lower-case hex) of the event's *canonical content*;
- ``previous_hash``: the ``content_hash`` of the previous event of the same case, or
  ``GENESIS`` (64 zeros) for version 1.

The canonical content is UTF-8 JSON with sorted keys, no insignificant whitespace
(``separators=(",", ":")``), non-ASCII characters kept as they are, of this object::

    {"class_version": 1, "originator_id": "<uuid>", "originator_version": 3,
     "state": {<every field of the event except originator_id, originator_version
               and content_hash; previous_hash included>},
     "topic": "domain.events:NoticeIssued"}

Inside ``state`` an instant is written as UTC ISO 8601 with microseconds
(``2026-03-02T01:00:00.000000+00:00``), a UUID as its canonical text, a date as
``YYYY-MM-DD`` and a Decimal as its string. ``topic`` is the event class's topic as
stored with the event, and ``class_version`` the class version the event was written at
(before any upcasting), so the hash of a stored event can be recomputed from its stored
bytes forever, whatever later code does with it.

The hashes are computed when the event object is constructed (``__post_init__``), so the
event seals exactly the values it carries; replay reads them back and never recomputes.
An edited payload no longer matches its ``content_hash``; an edited, deleted, inserted or
reordered event breaks the ``previous_hash`` link of the next one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.timeutil import iso

GENESIS = "0" * 64
"""The ``previous_hash`` of a case's first event."""

HASH_FIELDS = ("content_hash",)
"""Fields left out of the canonical content (a hash cannot cover itself)."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no canonical form in the hash chain")


# One encoder for every call: json.dumps with options builds a new one each time.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False, default=_plain)


def canonical_content(
    topic: str, class_version: int, originator_id: UUID | str, originator_version: int,
    state: dict[str, Any],
) -> bytes:
    """The documented byte form an event's ``content_hash`` is the SHA-256 of."""
    fields = {k: v for k, v in state.items()
              if k not in HASH_FIELDS and k not in ("originator_id", "originator_version")}
    document = {
        "class_version": class_version,
        "originator_id": str(originator_id),
        "originator_version": originator_version,
        "state": fields,
        "topic": topic,
    }
    return _ENCODER.encode(document).encode("utf-8")


def content_hash_of(
    topic: str, class_version: int, originator_id: UUID | str, originator_version: int,
    state: dict[str, Any],
) -> str:
    return hashlib.sha256(
        canonical_content(topic, class_version, originator_id, originator_version, state)
    ).hexdigest()


class ChainedEvent(Aggregate.Event):
    """An event that seals its content and links to its predecessor (see module doc)."""

    content_hash: str
    previous_hash: str

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.content_hash:
            # Frozen dataclass: the seal is set once, at construction, never on replay.
            object.__setattr__(self, "content_hash", self.compute_content_hash())

    def compute_content_hash(self) -> str:
        cls = type(self)
        return content_hash_of(get_topic(cls), getattr(cls, "class_version", 1),
                               self.originator_id, self.originator_version, dict(vars(self)))


class Chained:
    """Aggregate mixin: hands each new event the hash it must link to.

    The aggregate keeps ``chain_head`` (the last event's ``content_hash``); the events'
    ``apply`` assigns it, so a replayed aggregate links its next event correctly.
    """

    chain_head = GENESIS

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.update(previous_hash=self.chain_head, content_hash="")
        super().trigger_event(event_class, **kwargs)  # type: ignore[misc]

    @classmethod
    def _create(cls, event_class: type[Any], **kwargs: Any) -> Any:
        kwargs.update(previous_hash=GENESIS, content_hash="")
        return super()._create(event_class, **kwargs)  # type: ignore[misc]
