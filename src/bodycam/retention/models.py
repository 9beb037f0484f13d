"""Retention tables: schedule versions, legal holds, cases and the deletion queue.

A recording's due date (``recordings.retain_until``) and the rule behind it
(``retention_basis``) are kept on the recording itself, recomputed whenever its
category or the schedule changes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class HoldKind(StrEnum):
    """What a legal hold covers."""

    RECORDING = "recording"  # one recording
    CASE = "case"  # every recording linked to a case number
    QUERY = "query"  # every recording a saved search matches (officer, dates, category, tag)


class HoldSource(StrEnum):
    """Who placed a hold: a person, or the system for an open case or request."""

    MANUAL = "manual"
    OPEN_CASE = "open_case"  # placed when a case opens, released when it closes
    OPEN_REQUEST = "open_request"  # placed while a public-records request is open


class HoldReason(StrEnum):
    """Why footage is held."""

    CASE = "case"
    LITIGATION = "litigation"
    COMPLAINT = "complaint"
    RECORDS_REQUEST = "records_request"
    OTHER = "other"


class QueueStatus(StrEnum):
    """Where a recording stands in the deletion queue."""

    PENDING = "pending"  # past its due date, awaiting an approver
    RECOVERABLE = "recoverable"  # approved; purged after the recovery window
    CANCELLED = "cancelled"  # held, or no longer due (the schedule changed)
    PURGED = "purged"  # destroyed; see its destruction certificate


class RetentionSchedule(Base):
    """One imported version of the retention schedule, kept forever."""

    __tablename__ = "retention_schedules"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LegalHold(Base):
    """A hold on one recording or on every recording of a case: never deleted while held."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(64), index=True)
    reason_type: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    release_reason: Mapped[str] = mapped_column(Text, default="")
    query: Mapped[str | None] = mapped_column(Text, default=None)
    """For a query hold: the search it covers, as canonical JSON (see ``HoldQuery``)."""
    source: Mapped[str] = mapped_column(
        String(20), default=HoldSource.MANUAL.value, server_default=HoldSource.MANUAL.value
    )
    origin: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    """For an automatic hold: what placed it (the case number, or the request number)."""


class CaseStatus(StrEnum):
    """Whether a case is still being worked."""

    OPEN = "open"
    CLOSED = "closed"


class Case(Base):
    """A case (investigation, prosecution, complaint): while open, its footage is held."""

    __tablename__ = "cases"

    case_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=CaseStatus.OPEN.value)
    opened_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    close_reason: Mapped[str] = mapped_column(Text, default="")


class DeletionItem(Base):
    """A recording past its due date: queued for review, approved, or cancelled."""

    __tablename__ = "deletion_queue"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    due_at: Mapped[datetime]
    basis: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=QueueStatus.PENDING.value)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    purge_after: Mapped[datetime | None] = mapped_column(default=None)
    closed_reason: Mapped[str] = mapped_column(Text, default="")


class DestructionCertificate(Base):
    """A signed statement of what was destroyed, when, under which rule, approved by whom.

    ``body`` is canonical JSON (the audit log's canonical form); ``signature`` is an
    Ed25519 signature over ``"bodycam destruction certificate\n" + body`` by the
    deployment's signing key, so it stays verifiable after the bytes are gone.
    """

    __tablename__ = "destruction_certificates"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), unique=True)
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    key_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
