"""Disclosure tables: public-records requests, their footage, steps and appeals.

A request's number (``R-2026-000123``) comes from a counter row per year, updated in
the request's own transaction (see ``bodycam.disclosure.requests``); the unique
constraint on ``number`` is the backstop. The statutory clocks are versioned like the
retention schedule: every imported version is kept, the last one is in force.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class RequesterType(StrEnum):
    """Who asks: the public, the press, a person in the footage, or their attorney."""

    PUBLIC = "public"
    MEDIA = "media"
    SUBJECT = "subject"
    ATTORNEY = "attorney"


class RequestStatus(StrEnum):
    """The steps of a request, in order; the last four close it."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    SEARCHING = "searching"
    REDACTING = "redacting"
    REVIEW = "review"
    RELEASED_FULL = "released_full"
    RELEASED_PARTIAL = "released_partial"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


CLOSED = frozenset(
    {
        RequestStatus.RELEASED_FULL,
        RequestStatus.RELEASED_PARTIAL,
        RequestStatus.DENIED,
        RequestStatus.WITHDRAWN,
    }
)
"""The statuses that close a request (its footage is no longer held for it)."""

DECIDED = CLOSED - {RequestStatus.WITHDRAWN}
"""Closing statuses that answer the request (a withdrawal answers nothing)."""


class AppealOutcome(StrEnum):
    """How an appeal ended."""

    GRANTED = "granted"
    DENIED = "denied"
    PARTLY = "partly"


class DisclosureCounter(Base):
    """The last request number issued in a year (one row per year)."""

    __tablename__ = "disclosure_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class DisclosureClock(Base):
    """One imported version of the statutory clocks (TOML), kept forever."""

    __tablename__ = "disclosure_clocks"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisclosureRequest(Base):
    """A public-records request for footage: who asks, for what, and where it stands."""

    __tablename__ = "disclosure_requests"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_contact: Mapped[str] = mapped_column(String(200), default="")
    requester_type: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    range_start: Mapped[datetime | None] = mapped_column(default=None)
    range_end: Mapped[datetime | None] = mapped_column(default=None)
    location: Mapped[str] = mapped_column(Text, default="")
    officer_badges: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(index=True)
    """When the request arrived (backdated for a paper request); the clocks start here."""
    jurisdiction: Mapped[str] = mapped_column(String(40))
    """The clock it runs on: a key of the statutory clocks in force."""
    critical_incident: Mapped[bool] = mapped_column(default=False)
    incident_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(
        String(20), default=RequestStatus.RECEIVED.value, index=True
    )
    exemption: Mapped[str] = mapped_column(Text, default="")
    """The exemption cited for a denial or a partial release."""
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    """The first response: the acknowledgment, or a denial or withdrawal that came first."""
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    """Business days added to the decision deadline, in all."""
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisclosureRecording(Base):
    """A recording attached to a request (held while the request is open)."""

    __tablename__ = "disclosure_request_recordings"
    __table_args__ = (UniqueConstraint("request_id", "recording_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("disclosure_requests.id"), index=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    attached_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    attached_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisclosureStep(Base):
    """One step in a request's history: a status change, an extension, footage, an appeal.

    The audit log holds the same facts, signed; this is the request's own readable history.
    """

    __tablename__ = "disclosure_steps"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("disclosure_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str | None] = mapped_column(String(20), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")


class DisclosureAppeal(Base):
    """An appeal of a request's outcome (or of no answer in time), with its own deadline."""

    __tablename__ = "disclosure_appeals"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("disclosure_requests.id"), index=True)
    filed_at: Mapped[datetime]
    grounds: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(10), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
