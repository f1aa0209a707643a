"""Who holds which role and unit: read from the accounts' events in the log.

Accountability lists a person's row per role and unit they acted in, and the cases waiting
on that role in that unit as waiting on them (超期未办 counts against their name). A person
moved to another unit (``users change``) or whose account was revoked no longer holds the
old one: cases waiting there, above all ones reported after they left, are not theirs to
answer for. The accounts live in the API's aggregates, which the read models do not import,
so their events are read by topic (as ``projections.units`` reads them), and only when an
accountability report is read: no event of a rebuild pays for this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from projections.decoding import event_decoder
from projections.eventlog import row_reader

# api.accounts' event classes, by topic (a test checks them against the classes).
REGISTERED, CHANGED, REVOKED, REISSUED = (f"api.accounts:Account.{name}" for name in (
    "Registered", "Changed", "Revoked", "Reissued"))
PAGE = 5000

Holders = dict[str, tuple[str, str] | None]  # account name -> (role, unit) held, None: revoked


def account_holders(service: Any, until: datetime | None = None) -> Holders:
    """Each account's role and unit as recorded by ``until`` (None: now), None for one
    revoked then. Names without an account (the demo's people, the system) are absent."""
    decode = event_decoder(service.app.mapper)
    read = row_reader(service.recorder, (REGISTERED, CHANGED, REVOKED, REISSUED))
    names: dict[str, str] = {}  # account id -> name
    held: dict[str, tuple[str, str]] = {}
    revoked: set[str] = set()
    stop, after = service.recorder.max_notification_id() or 0, 0
    while rows := read(after, stop, PAGE):
        for _, originator_id, version, topic, stored in rows:
            event = decode(topic, bytes(stored), UUID(str(originator_id)), version)
            if until is not None and event.timestamp > until:
                continue
            account = str(originator_id)
            if topic == REGISTERED:
                names[account] = event.name
                held[account] = (event.role, event.unit)
            elif topic == CHANGED:
                held[account] = (event.role, event.unit)
            elif topic == REVOKED:
                revoked.add(account)
            else:
                revoked.discard(account)
        after = rows[-1][0]
    return {name: (None if account in revoked else held[account])
            for account, name in names.items()}
