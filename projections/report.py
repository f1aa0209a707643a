"""What a read model's query returns: columns with zh/en headings, and plain rows.

``Report`` is the contract between the read models and their renderers
(``projections.render``: table, csv, xlsx, json) used by the CLI and the HTTP API alike.
Values are plain Python: str, int, float, bool, ``datetime.date`` or None; a ``datetime``
column holds an instant as the log stores it (ISO 8601 text in UTC), shown so in a table,
CSV and JSON, and a date-and-time cell in XLSX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from domain.errors import DomainError
from domain.timeutil import LOCAL_TZ, end_of_local_day, iso

# What a filter names, as (kind, value) pairs, a None value naming nothing: kind is street,
# community, grid, department, unit (any of them), "unit or person", person (an actor) or
# case. A report that comes back empty refuses a value the system does not know, and a grid
# named with a community it does not lie in (``projections.units``).
Named = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    zh: str
    # text | int | float | rate | date | datetime (UTC) | local_datetime (China time) | bool
    kind: str = "text"
    vocab: str | None = None  # a vocabulary in projections.vocab, translated for zh

    def heading(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Report:
    """A rendered-ready result: what, as of when, on which basis, and the rows."""

    name: str
    title_en: str
    title_zh: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    as_of: date
    basis: str = "recorded"
    meta: dict[str, Any] = field(default_factory=dict)
    # An XLSX sheet's name holds 31 characters: a shorter title where the title is longer.
    sheet_en: str | None = None
    sheet_zh: str | None = None

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def sheet(self, lang: str) -> str:
        """The name of the report's XLSX sheet: its title, or the shorter one given."""
        short = self.sheet_zh if lang == "zh" else self.sheet_en
        return short or self.title(lang)

    def dicts(self) -> list[dict[str, Any]]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row)) for row in self.rows]


def local_day(instant: str | None) -> date | None:
    """The China calendar date of a stored ISO instant."""
    if not instant:
        return None
    return datetime.fromisoformat(instant).astimezone(LOCAL_TZ).date()


_UTC_SUFFIX = "+00:00"


def local_day_text(instant: str) -> str:
    """``local_day(instant).isoformat()``, fast for the stored form (UTC, ``+00:00``).

    Handlers call this for every event. China has kept UTC+8 without daylight saving since
    1991, so from 16:00 UTC it is the next local day; any other form takes the slow path.
    """
    if instant.endswith(_UTC_SUFFIX) and instant > "1992":
        day = instant[:10]
        if instant[11:13] < "16":
            return day
        return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    return local_day(instant).isoformat()  # type: ignore[union-attr]


def day_start(day: date) -> str:
    """The stored-instant form of the first moment of ``day`` in China."""
    return iso(end_of_local_day(day - timedelta(days=1)))


def day_end(day: date) -> str:
    """The stored-instant form of the first moment after ``day`` in China."""
    return iso(end_of_local_day(day))


def where(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """``WHERE`` text and parameters for the ``(clause, value)`` pairs whose value is given.

    A clause has one ``?`` per parameter; a tuple value fills several.
    """
    given = [(clause, value) for clause, value in conditions if value not in (None, "")]
    params = [p for _, value in given for p in (value if isinstance(value, tuple) else (value,))]
    return " AND ".join(clause for clause, _ in given) or "1 = 1", params


def check_range(first: date | str | None, last: date | str | None) -> None:
    """Refuse a range that ends before it starts: it would match nothing, without a word."""
    if first is not None and last is not None and first > last:  # type: ignore[operator]
        raise DomainError(f"the range is empty: {first} is after {last}")


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
