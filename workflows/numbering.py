"""Human-readable case numbers (``HZ-2026-000123``), unique across the store.

Uniqueness is not this module's job: each number is the id of a ``CaseNumber`` aggregate
saved with its case, so two writers that pick the same number cannot both commit. This
module only proposes the smallest free number cheaply, so that retries are rare.
"""

from __future__ import annotations

from eventsourcing.persistence import AggregateRecorder

from workflows.records import case_number_id

PREFIX = "HZ"


def format_number(year: int, serial: int) -> str:
    return f"{PREFIX}-{year}-{serial:06d}"


class CaseNumbers:
    def __init__(self, recorder: AggregateRecorder) -> None:
        self._recorder = recorder
        self._next: dict[int, int] = {}

    def propose(self, year: int) -> str:
        """The smallest number of ``year`` not yet issued, as far as the store shows now."""
        serial = self._next.get(year) or self._first_free(year)
        while self._taken(year, serial):
            serial += 1
        self._next[year] = serial
        return format_number(year, serial)

    def issued(self, number: str) -> None:
        """Remember that ``number`` committed, so the next proposal starts after it."""
        _, year, serial = number.split("-")
        self._next[int(year)] = max(self._next.get(int(year), 1), int(serial) + 1)

    def _taken(self, year: int, serial: int) -> bool:
        found = self._recorder.select_events(case_number_id(format_number(year, serial)), limit=1)
        return bool(found)

    def _first_free(self, year: int) -> int:
        # Numbers are issued without gaps, so "taken" is true up to some serial and false
        # after it: gallop to a free one, then bisect. About 2*log2(n) key look-ups.
        low, high = 0, 1
        while self._taken(year, high):
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if self._taken(year, middle):
                low = middle
            else:
                high = middle
        return high
