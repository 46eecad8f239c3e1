"""Time, in one place: naive UTC datetimes in the database, ISO 8601 'Z' strings in the API."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"
