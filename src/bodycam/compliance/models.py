"""Dispatch tables: import batches, events and officer assignments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class CadImportBatch(Base):
    """One import of one dispatch export, with its validation report."""

    __tablename__ = "cad_imports"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mapping: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class DispatchEvent(Base):
    """A call for service or self-initiated activity, as the dispatch system recorded it."""

    __tablename__ = "dispatch_events"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    call_type: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    initial_call_type: Mapped[str | None] = mapped_column(String(200), default=None)
    priority: Mapped[str | None] = mapped_column(String(40), default=None)
    self_initiated: Mapped[bool | None] = mapped_column(default=None)
    precinct: Mapped[str | None] = mapped_column(String(60), default=None, index=True)
    sector: Mapped[str | None] = mapped_column(String(60), default=None)
    beat: Mapped[str | None] = mapped_column(String(60), default=None)
    location: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    disposition: Mapped[str | None] = mapped_column(String(200), default=None)
    batch_id: Mapped[str] = mapped_column(ForeignKey("cad_imports.id"))


class DispatchAssignment(Base):
    """One officer (by badge) or unit on one event, with its own times."""

    __tablename__ = "dispatch_assignments"
    __table_args__ = (UniqueConstraint("event_id", "badge"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(ForeignKey("dispatch_events.event_id"), index=True)
    badge: Mapped[str] = mapped_column(String(64), index=True)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)


class ComplianceResult(Base):
    """The verdict on one officer-event, with its evidence (replaced by each match run)."""

    __tablename__ = "compliance_results"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("dispatch_assignments.id"), unique=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    coverage: Mapped[float] = mapped_column(default=0.0)
    late_s: Mapped[float] = mapped_column(default=0.0)
    early_s: Mapped[float] = mapped_column(default=0.0)
    gaps_s: Mapped[float] = mapped_column(default=0.0)
    policy: Mapped[str | None] = mapped_column(String(100), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    recordings: Mapped[list[str]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
