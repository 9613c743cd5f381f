"""Timestamps in archives: ISO 8601, UTC, with a "Z"."""

from __future__ import annotations

from datetime import UTC, date, datetime


def time_text(value: datetime | None) -> str | None:
    """An aware (or naive UTC) datetime as ISO 8601 text ending in Z."""
    if value is None:
        return None
    # The store's UTC datetimes (aware, or naive when read with `stored_utc`), formatted
    # directly: a session has ~10^5 of them.
    if value.tzinfo is None:
        return value.isoformat() + "Z"
    if value.tzinfo is UTC:
        return value.isoformat()[:-6] + "Z"
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    """The datetime of an archive timestamp."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_text(value: date | None) -> str | None:
    """A date as YYYY-MM-DD."""
    return value.isoformat() if value else None


def parse_date(value: str | None) -> date | None:
    """The date of an archive date."""
    return date.fromisoformat(value) if value else None
