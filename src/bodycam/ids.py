"""Opaque identifiers (ULID) and UTC time helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID


def new_id() -> str:
    """A new sortable opaque id (26-character ULID)."""
    return str(ULID())


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as aware UTC; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """Format as RFC 3339 UTC with microseconds, e.g. ``2026-11-23T23:30:00.123456Z``."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
