"""Small aggregates that let the service keep promises across concurrent writers.

They are saved in the same transaction as the case events they guard, so either both
land or neither does:
- ``CaseNumber``: one per issued number; its primary key makes a number unique store-wide.
- ``CommandRecord``: one per (actor, client command id); makes a command idempotent.
- ``PlaceRegister``: one per place; what the place is (grid, community, kind) as first
  reported, so one place id never names two places, and the open cases there, for
  duplicate detection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

_NS = uuid5(NAMESPACE_URL, "https://hazardflow.invalid/ids")


def case_number_id(number: str) -> UUID:
    return uuid5(_NS, f"case-number:{number}")


def command_record_id(actor_id: str, command_id: str) -> UUID:
    return uuid5(_NS, f"command:{actor_id}:{command_id}")


def place_register_id(place_id: str) -> UUID:
    return uuid5(_NS, f"place:{place_id}")


class CaseNumber(Aggregate):
    class Issued(Aggregate.Created):
        number: str
        case_id: UUID

    def __init__(self, number: str, case_id: UUID) -> None:
        self.number = number
        self.case_id = case_id

    @classmethod
    def issue(cls, number: str, case_id: UUID, at: datetime) -> CaseNumber:
        return cls._create(
            cls.Issued, id=case_number_id(number), number=number, case_id=case_id, timestamp=at
        )


class CommandRecord(Aggregate):
    class Applied(Aggregate.Created):
        actor_id: str
        command_id: str
        fingerprint: str
        result: dict[str, Any]

    def __init__(
        self, actor_id: str, command_id: str, fingerprint: str, result: dict[str, Any]
    ) -> None:
        self.actor_id = actor_id
        self.command_id = command_id
        self.fingerprint = fingerprint
        self.result = result

    @classmethod
    def applied(
        cls, actor_id: str, command_id: str, fingerprint: str, result: dict[str, Any],
        at: datetime,
    ) -> CommandRecord:
        return cls._create(
            cls.Applied, id=command_record_id(actor_id, command_id), actor_id=actor_id,
            command_id=command_id, fingerprint=fingerprint, result=result, timestamp=at,
        )


class PlaceRegister(Aggregate):
    """What a place is and its open cases, by case id -> category."""

    class Opened(Aggregate.Created):
        place_id: str

    class Described(Aggregate.Event):
        """The place's identity as first reported. Its own event, not fields of ``Opened``:
        registers opened before places were described take it at their next report."""

        grid: str
        community: str
        kind: str

        def apply(self, register: PlaceRegister) -> None:
            register.identity = {"grid": self.grid, "community": self.community,
                                 "kind": self.kind}

    class CaseOpened(Aggregate.Event):
        case_id: str
        category: str

        def apply(self, register: PlaceRegister) -> None:
            register.open_cases = {**register.open_cases, self.case_id: self.category}

    class CaseClosed(Aggregate.Event):
        case_id: str

        def apply(self, register: PlaceRegister) -> None:
            register.open_cases = {
                k: v for k, v in register.open_cases.items() if k != self.case_id
            }

    class Moved(Described):
        """An administrator says what the place is now (grids redrawn, a kind misrecorded):
        later reports must match it. Its open cases move with it (each records
        ``PlaceMoved``, in the same transaction); closed ones keep the place as they were.
        Sets the identity as ``Described`` does, with who moved it and why."""

        moved_by: str
        reason: str

    def __init__(self, place_id: str) -> None:
        self.place_id = place_id
        self.identity: dict[str, str] | None = None
        self.open_cases: dict[str, str] = {}

    @classmethod
    def open(cls, place_id: str, at: datetime) -> PlaceRegister:
        return cls._create(
            cls.Opened, id=place_register_id(place_id), place_id=place_id, timestamp=at
        )

    def describe(self, identity: dict[str, str], at: datetime) -> None:
        """Record what the place is, once; the caller has checked it against ``identity``."""
        if self.identity is None:
            self.trigger_event(self.Described, timestamp=at, **identity)

    def move(self, identity: dict[str, str], by: str, reason: str, at: datetime) -> None:
        self.trigger_event(self.Moved, timestamp=at, moved_by=by, reason=reason, **identity)

    def agrees_with(self, identity: dict[str, str]) -> bool:
        """Whether ``identity`` is the place as registered (or the place is not described
        yet, so anything agrees)."""
        return self.identity is None or self.identity == identity

    def open_case(self, case_id: UUID, category: str, at: datetime) -> None:
        self.trigger_event(self.CaseOpened, case_id=str(case_id), category=category, timestamp=at)

    def close_case(self, case_id: UUID, at: datetime) -> None:
        if str(case_id) in self.open_cases:
            self.trigger_event(self.CaseClosed, case_id=str(case_id), timestamp=at)

    @property
    def is_open(self) -> bool:
        """Whether any case at the place is open."""
        return bool(self.open_cases)

    def open_case_of(self, category: str) -> UUID | None:
        for case_id, open_category in sorted(self.open_cases.items()):
            if open_category == category:
                return UUID(case_id)
        return None
