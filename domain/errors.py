"""Errors the domain and the workflows raise. The API maps them to HTTP in one place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID


class DomainError(Exception):
    """A command broke a rule of the domain (422 at the HTTP edge)."""


class CaseNotFound(DomainError):
    """No case of that number or id (or none the caller may see: ``api.scopes.OutOfScope``).
    An id is named in its canonical form however it was written (capitals, braces, no
    dashes), so every path answers an unknown id and a hidden one in the same words."""

    def __init__(self, case: Any) -> None:
        text = str(case).strip()
        try:
            text = str(UUID(text))
        except ValueError:
            pass  # a case number (or a ref with more said), named as given
        super().__init__(f"no hazard case {text}")
        self.case = case


class IllegalTransition(DomainError):
    """A trigger not allowed from the case's state, or not for the actor's role."""

    def __init__(self, state: str, trigger: str, role: str, allowed: Iterable[str], why: str):
        allowed = sorted(allowed)
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"cannot {trigger} a case in state {state} as {role}: {why}; "
            f"triggers allowed here for {role}: {allowed_text}"
        )
        self.state = state
        self.trigger = trigger
        self.role = role
        self.allowed = allowed


class NotPermitted(DomainError):
    """The role may use the trigger, but not this actor on this case (e.g. another department)."""


class SeparationOfDuties(NotPermitted):
    """The same person may not both submit and verify a rectification."""


class VersionConflict(DomainError):
    """The command was decided on a version of the case that is no longer current."""

    def __init__(self, case_id: Any, expected: int, actual: int) -> None:
        super().__init__(
            f"case {case_id} is at version {actual}, not {expected}: reload it and decide again"
        )
        self.case_id = case_id
        self.expected = expected
        self.actual = actual


class IdempotencyMismatch(DomainError):
    """A client command id was reused for a different command."""


_DUPLICATE_ADVICE = {
    "report": "confirm it is a new hazard to report it anyway",
    "reopen": "act on that case, or confirm this is another hazard to reopen anyway",
}


class ProbableDuplicate(DomainError):
    """A report, or the reopening of a closed case, names a place and category that already
    have an open case (``case_id`` and ``number`` None: one the caller may not see, told
    without naming it)."""

    def __init__(self, case_id: Any, number: str | None, trigger: str = "report") -> None:
        which = (f"open case {number}" if number is not None
                 else "an open case outside your area")
        super().__init__(
            f"probable duplicate of {which} at the same place and category; "
            + _DUPLICATE_ADVICE[trigger]
        )
        self.case_id = case_id
        self.number = number
        self.trigger = trigger


class PlaceMismatch(DomainError):
    """A report names a place id already registered as another place: another grid,
    community or kind. One id must name one place, or its risk grade and ledger rows would
    mix two places. ``registered`` and ``given`` are the two identities (grid, community,
    kind); both None when the registered place lies outside the caller's area, which is
    then not described to them."""

    def __init__(self, place_id: str, registered: dict[str, str] | None,
                 given: dict[str, str] | None) -> None:
        if registered is None or given is None:
            told = "is already used by a place outside your area"
        else:
            told = "is registered as " + ", ".join(
                f"{key} {registered[key]}, not {given[key]}"
                for key in registered if registered[key] != given.get(key))
        super().__init__(
            f"place {place_id} {told}: report it with the place's own grid, community and "
            "kind, or give this place its own id"
        )
        self.place_id = place_id
        self.registered = registered
        self.given = given


class PlaceNotFound(DomainError):
    """No place of that id is registered, or it lies outside the caller's area (told alike,
    as a case out of scope is)."""

    def __init__(self, place_id: str, in_area: bool = False) -> None:
        told = " in your area" if in_area else ": it has never been reported"
        super().__init__(f"no place {place_id} is registered{told}")
        self.place_id = place_id
