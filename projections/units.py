"""Units a report filter may name: those the system knows, so a misspelt one is refused
rather than answered with an empty report that reads "no hazards".

Known units are every unit an account has held (registered or changed to, revoked accounts
included) and every grid and community a case was reported in, each with the community and
street it lies in (``YS-C01-G01`` -> ``YS-C01`` -> ``YS``), and the department codes. So a
grid with a grid worker but no case yet is known, and so is a unit found only in history (an
account since moved away, a case long closed), for a report as of a past date; a unit first
named after that date is known too, and simply has nothing in that report.

They are read from the log, not from a read model: no event pays for this, and only a
report that came back empty asks (a unit that matches a row is known). Accounts come first
(few records), then reports of cases, until every unit asked about is found.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.errors import DomainError
from domain.events import Reported
from domain.values import SYSTEM_ACTOR, Department
from projections.decoding import event_decoder
from projections.eventlog import row_reader
from projections.report import Named

# api.accounts' event classes, by topic: the read models do not import the API. A test
# checks these against the classes.
ACCOUNT_TOPICS = ("api.accounts:Account.Registered", "api.accounts:Account.Changed")
REPORTED_TOPIC = get_topic(Reported)
PAGE = 5000
DEPARTMENTS = frozenset(d.value for d in Department)



@dataclass
class Known:
    """The units (by level) and people seen so far."""

    levels: dict[str, set[str]] = field(default_factory=lambda: {
        "street": set(), "community": set(), "grid": set(), "department": set(DEPARTMENTS)})
    people: set[str] = field(default_factory=lambda: {SYSTEM_ACTOR.id})

    def add_account_unit(self, unit: str) -> None:
        """An account's unit: a department, or a street, community or grid by its depth
        (as ``users add`` checks it), with the units it lies in."""
        if unit not in DEPARTMENTS:
            parts = unit.split("-")
            for level, depth in (("street", 1), ("community", 2), ("grid", 3))[:len(parts)]:
                self.levels[level].add("-".join(parts[:depth]))

    def add_place(self, place: dict[str, str]) -> None:
        community = place["community"]
        self.levels["grid"].add(place["grid"])
        self.levels["community"].add(community)
        self.levels["street"].add(community.split("-", 1)[0])

    def has(self, kind: str, value: str) -> bool:
        if kind in self.levels:
            return value in self.levels[kind]
        units = any(value in found for found in self.levels.values())
        return units or (kind == "unit or person" and value in self.people)

    def like(self, kind: str, value: str) -> list[str]:
        """A known name ``value`` was probably meant for: the same in other letter case
        (ys-c01), else one a character or two away (YS-C1 for YS-C01)."""
        pool = sorted(self.levels[kind] if kind in self.levels else
                      set().union(*self.levels.values()))
        same = [name for name in pool if name.casefold() == value.casefold()]
        return same or difflib.get_close_matches(value, pool, n=1, cutoff=0.85)


def require_known(service: Any, named: Named) -> None:
    """Refuse the first value in ``named`` that no account or case of the log names."""
    missing = [(kind, value) for kind, value in named if value]
    if not missing:
        return
    known = Known()
    for _ in _reading(service, known):
        missing = [(kind, value) for kind, value in missing if not known.has(kind, value)]
        if not missing:
            return
    kind, value = missing[0]
    if kind == "department":
        raise DomainError(f"unknown department {value!r}; expected one of: "
                          f"{', '.join(sorted(DEPARTMENTS))}")
    close = known.like(kind, value)
    hint = f"; did you mean {close[0]}?" if close else ""
    held = "has that name or unit" if kind == "unit or person" else "holds it"
    raise DomainError(f"unknown {kind} {value!r}: no account {held} and no case was "
                      f"reported in it{hint}")


def _reading(service: Any, known: Known) -> Iterator[None]:
    """Fill ``known`` from the log a page at a time, accounts first; yields before the
    first (departments and the system actor are known without it) and after each."""
    yield
    decode = event_decoder(service.app.mapper)
    stop = service.recorder.max_notification_id() or 0
    for topics in (ACCOUNT_TOPICS, (REPORTED_TOPIC,)):
        read, after = row_reader(service.recorder, topics), 0
        while rows := read(after, stop, PAGE):
            for _, originator_id, version, topic, state in rows:
                event = decode(topic, bytes(state), UUID(str(originator_id)), version)
                if topic == REPORTED_TOPIC:
                    known.add_place(event.place)
                else:
                    known.add_account_unit(event.unit)
                    if topic == ACCOUNT_TOPICS[0]:  # registered: the account's name
                        known.people.add(event.name)
            after = rows[-1][0]
            yield
