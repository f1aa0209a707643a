"""Business time. Hazard work runs on mainland China local time (UTC+8, no DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def require_aware(instant: datetime, what: str) -> datetime:
    from domain.errors import DomainError

    if instant.tzinfo is None or instant.utcoffset() is None:
        raise DomainError(f"{what} must carry a timezone (e.g. 2026-03-01T09:30:00+08:00)")
    return instant


def local_date(instant: datetime) -> date:
    """The calendar date of ``instant`` in China."""
    return instant.astimezone(LOCAL_TZ).date()


def end_of_local_day(day: date) -> datetime:
    """The first instant after ``day`` ends in China: a deadline day is met until then."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)


def iso(instant: datetime) -> str:
    """The stable text form of an instant in events: UTC, ISO 8601, always microseconds.

    One fixed form makes the strings sort in time order and hash the same way forever.
    """
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def shown(instant: datetime) -> str:
    """An instant as people here read it in a message: China time, to the second."""
    return instant.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
