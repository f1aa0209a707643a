"""Units a report filter may name: those the system knows, so a misspelt one is refused
rather than answered with an empty report that reads "no hazards".

Known units are every unit an account has held (registered or changed to, revoked accounts
included) and every grid and community a case was reported in or moved to with its place,
each with the community and street it lies in (``YS-C01-G01`` -> ``YS-C01`` -> ``YS``), and
the department codes. So a grid with a grid worker but no case yet is known, and so is a
unit found only in history (an account since moved away, a case long closed), for a report
as of a past date; a unit first named after that date is known too, and simply has nothing
in that report.

People (an actor filter, accountability's unit or person) are every account's name and
everyone who acted on a case (the demo's people have no account unless asked for). A case
(a number or id) is known if the store has it, a place id if a case was reported at it.
A grid named with a community must lie in it.

They are read from the log, not from a read model: no event pays for this, and only a
report that came back empty asks (a unit that matches a row is known). Accounts come first
(few records), then reports of cases, until every unit asked about is found.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.errors import CaseNotFound, DomainError
from domain.events import CASE_EVENT_TYPES, PlaceMoved, Reported
from domain.values import SYSTEM_ACTOR, Department
from projections import holders
from projections.decoding import event_decoder
from projections.eventlog import row_reader
from projections.report import Named

# api.accounts' event classes that give an account its unit, by topic (the read models do
# not import the API; ``projections.holders`` names them, and a test checks them).
ACCOUNT_TOPICS = (holders.REGISTERED, holders.CHANGED)
REPORTED_TOPIC = get_topic(Reported)
# Events that put a case in a grid: its report, and its place's move (grids redrawn).
PLACE_TOPICS = (REPORTED_TOPIC, get_topic(PlaceMoved))
CASE_TOPICS = tuple(get_topic(cls) for cls in CASE_EVENT_TYPES)
PAGE = 5000
DEPARTMENTS = frozenset(d.value for d in Department)
PEOPLE = ("person", "unit or person")  # the kinds a person may answer
Visible = Callable[[str, str], bool]  # (kind, value): whether the caller may see it named


@dataclass
class Known:
    """The units (by level) and people seen so far."""

    levels: dict[str, set[str]] = field(default_factory=lambda: {
        "street": set(), "community": set(), "grid": set(), "department": set(DEPARTMENTS)})
    people: set[str] = field(default_factory=lambda: {SYSTEM_ACTOR.id})
    within: set[tuple[str, str]] = field(default_factory=set)  # (grid, its community)

    def add_account_unit(self, unit: str) -> None:
        """An account's unit: a department, or a street, community or grid by its depth
        (as ``users add`` checks it), with the units it lies in."""
        if unit not in DEPARTMENTS:
            parts = unit.split("-")
            for level, depth in (("street", 1), ("community", 2), ("grid", 3))[:len(parts)]:
                self.levels[level].add("-".join(parts[:depth]))
            if len(parts) == 3:
                self.within.add((unit, "-".join(parts[:2])))

    def add_place(self, place: dict[str, str]) -> None:
        community = place["community"]
        self.levels["grid"].add(place["grid"])
        self.levels["community"].add(community)
        self.levels["street"].add(community.split("-", 1)[0])
        self.within.add((place["grid"], community))

    def has(self, kind: str, value: str) -> bool:
        if kind in self.levels:
            return value in self.levels[kind]
        if kind == "person":
            return value in self.people
        units = any(value in found for found in self.levels.values())
        return units or (kind == "unit or person" and value in self.people)

    def communities_of(self, grid: str) -> list[str]:
        return sorted(community for g, community in self.within if g == grid)

    def like(self, kind: str, value: str, visible: Visible | None = None) -> list[str]:
        """A known name ``value`` was probably meant for: the same in other letter case
        (ys-c01), else one a character or two away (YS-C1 for YS-C01); with ``visible``,
        only one the caller may see named."""
        people = self.people if kind in PEOPLE else set()
        pool = sorted(self.levels[kind] if kind in self.levels else
                      people.union(*self.levels.values()) if kind != "person" else people)
        if visible is not None:
            pool = [name for name in pool if visible(kind, name)]
        same = [name for name in pool if name.casefold() == value.casefold()]
        return same or difflib.get_close_matches(value, pool, n=1, cutoff=0.85)


def require_known(service: Any, named: Named, visible: Visible | None = None) -> None:
    """Refuse the first value in ``named`` that no account, case or event of the log names,
    and a grid named with a community it does not lie in. With ``visible`` (the HTTP API's
    scope: ``api.scopes.named_visible``), a value the caller may not see is refused in the
    same words as one nobody knows, and no hint names one they may not see: otherwise an
    empty report for a place or unit elsewhere and a refusal for an unknown one told which
    exist."""
    wanted = [(kind, value) for kind, value in named if value]
    seen = _seen_by(visible)
    for kind, value in wanted:
        if kind == "case":
            _require_case(service, value)
        elif kind == "place":
            _require_place(service, value)
        if kind in ("case", "place") and not seen(kind, value, None):
            _refuse_unknown(Known(), kind, value)  # as if there were none
    missing = [(kind, value) for kind, value in wanted if kind not in ("case", "place")]
    given = dict(missing)
    pairs = ([(given["grid"], given["community"])]
             if "grid" in given and "community" in given else [])
    if not missing:
        return
    known = Known()

    def needed(source: str) -> bool:
        if source == "accounts":
            return True
        if source == "places":
            return bool(pairs) or any(kind != "person" for kind, _ in missing)
        return any(kind in PEOPLE for kind, _ in missing)

    for _ in _reading(service, known, needed):
        missing = [(kind, value) for kind, value in missing
                   if not (known.has(kind, value) and seen(kind, value, known))]
        pairs = [pair for pair in pairs if pair not in known.within]
        if not missing and not pairs:
            return
    if missing:
        _refuse_unknown(known, *missing[0], visible=visible)
    grid, community = pairs[0]
    places = known.communities_of(grid)
    raise DomainError(f"grid {grid} lies in community {' and '.join(places)}, not {community}")


def _require_case(service: Any, ref: str) -> None:
    try:
        service.history(ref)  # a number no case has, or an id of no case (an account's)
    except CaseNotFound:
        _refuse_unknown_case(ref)


def _refuse_unknown_case(ref: str) -> None:
    raise DomainError(f"unknown case {ref!r}: no case has that number or id") from None


def _require_place(service: Any, place_id: str) -> None:
    if service.place_register(place_id) is None:  # registered by its first report
        _refuse_unknown_place(place_id)


def _refuse_unknown_place(place_id: str) -> None:
    raise DomainError(f"unknown place {place_id!r}: no case was reported at it")


Seen = Callable[[str, str, "Known | None"], bool]


def _seen_by(visible: Visible | None) -> Seen:
    """``visible``, asked of a name that may be a unit or a person as what ``known`` finds
    it to be: a unit is one of the map, which the caller may not see named elsewhere."""
    def seen(kind: str, value: str, known: Known | None) -> bool:
        if visible is None:
            return True
        if kind == "unit or person" and known is not None and any(
                value in names for names in known.levels.values()):
            return visible("unit", value)
        return visible(kind, value)

    return seen


def _refuse_unknown(known: Known, kind: str, value: str, visible: Visible | None = None
                    ) -> None:
    """Say ``value`` is unknown (of another level, or a name like a known one, where the
    caller may see that one)."""
    seen = _seen_by(visible)
    if kind == "case":
        _refuse_unknown_case(value)
    if kind == "place":
        _refuse_unknown_place(value)
    if kind in known.levels:  # a unit of another level, or a person, where a unit is asked
        other = [level for level, names in known.levels.items()
                 if value in names and seen(level, value, known)]
        if other or (value in known.people and seen("person", value, known)):
            what = f"a {other[0]}" if other else "a person"
            raise DomainError(f"{value!r} is {what}, not a {kind}")
    if kind == "department":
        raise DomainError(f"unknown department {value!r}; expected one of: "
                          f"{', '.join(sorted(DEPARTMENTS))}")
    close = known.like(kind, value, lambda kind, name: seen(kind, name, known))
    hint = f"; did you mean {close[0]}?" if close else ""
    if kind == "person":
        raise DomainError(f"unknown actor {value!r}: no account has that name and no one "
                          f"of that name acted on a case{hint}")
    held = "has that name or unit" if kind == "unit or person" else "holds it"
    raise DomainError(f"unknown {kind} {value!r}: no account {held} and no case was "
                      f"reported in it{hint}")


def _reading(service: Any, known: Known,
             needed: Callable[[str], bool]) -> Iterator[None]:
    """Fill ``known`` from the log a page at a time: accounts, then reports of cases, then
    who acted on cases, each only while ``needed`` says it may find something asked about;
    yields before the first (departments and the system actor are known without it) and
    after each page."""
    yield
    decode = event_decoder(service.app.mapper)
    stop = service.recorder.max_notification_id() or 0
    for source, topics in (("accounts", ACCOUNT_TOPICS), ("places", PLACE_TOPICS),
                           ("actors", CASE_TOPICS)):
        read, after = row_reader(service.recorder, topics), 0
        while needed(source) and (rows := read(after, stop, PAGE)):
            for _, originator_id, version, topic, stored in rows:
                state = bytes(stored)
                if source == "actors" and (actor := _actor_id(service.app.mapper, state)):
                    known.people.add(actor)
                    continue
                event = decode(topic, state, UUID(str(originator_id)), version)
                if source == "actors":
                    known.people.add(event.actor["id"])
                elif topic in PLACE_TOPICS:
                    known.add_place(event.place)
                else:
                    known.add_account_unit(event.unit)
                    if topic == ACCOUNT_TOPICS[0]:  # registered: the account's name
                        known.people.add(event.name)
            after = rows[-1][0]
            yield


# Who acted, read from a case event's JSON without decoding it (this pass may read every
# case event). Inside a JSON string a quote is escaped, so no text can pass for this.
_ACTOR = re.compile(rb'"actor":\{"id":"((?:[^"\\]|\\.)*)"')


def _actor_id(mapper: Any, state: bytes) -> str | None:
    """The actor's id in ``state``, or None where the event is to be decoded instead."""
    if mapper.cipher is not None or mapper.compressor is not None:
        return None
    found = _ACTOR.search(state)
    if found is None:
        return None
    text: str = json.loads(b'"' + found.group(1) + b'"')
    return text
