"""Redaction in the vault: projects under review, their tracks, redacted copies, QC findings.

A *project* is one clerk's redaction of one recording: the analysis found tracks (one
per person), the clerk decides on each, adds manual boxes, full-frame ranges and audio
ranges; all of it is the project's working plan (a :class:`RedactionPlan` as canonical
JSON). Rendering writes a *redacted copy*: a new blob, never the original, whose row
names the source hash, the exact plan and its hash, the engine and the detector. A
quality-control pass over the copy lists faces still visible (*findings*); the copy can
be approved for release only when every finding is resolved.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class ProjectStatus(StrEnum):
    """Where a redaction project stands."""

    DETECTING = "detecting"  # the analysis is running
    REVIEW = "review"  # tracks are ready for decisions
    FAILED = "failed"  # the analysis failed (see error)


class CopyStatus(StrEnum):
    """Where a redacted copy stands."""

    NEEDS_REVIEW = "needs_review"  # QC found faces still visible, not all resolved
    CLEAN = "clean"  # QC found nothing, or every finding was resolved
    APPROVED = "approved"  # approved for release


class RedactionProject(Base):
    """One redaction of one recording, under review."""

    __tablename__ = "redaction_projects"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=ProjectStatus.DETECTING.value)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str] = mapped_column(Text, default="", server_default="")


class RedactionTrack(Base):
    """A track the analysis found: what a reviewer needs to recognise it."""

    __tablename__ = "redaction_tracks"
    __table_args__ = (UniqueConstraint("project_id", "track_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("redaction_projects.id"), index=True)
    track_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(32))
    first_frame: Mapped[int] = mapped_column(Integer)
    last_frame: Mapped[int] = mapped_column(Integer)
    detections: Mapped[int] = mapped_column(Integer)
    mean_score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail_frame: Mapped[int] = mapped_column(Integer)


class RedactedCopy(Base):
    """A rendered derivative: a new blob naming its source and the exact plan."""

    __tablename__ = "redacted_copies"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("redaction_projects.id"), index=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    plan: Mapped[str] = mapped_column(Text)
    plan_hash: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(80))
    detector: Mapped[str] = mapped_column(String(120))
    render: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    qc_threshold: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    approval_note: Mapped[str] = mapped_column(Text, default="")


class QCFinding(Base):
    """A face the quality-control pass still saw in a redacted copy."""

    __tablename__ = "redaction_findings"
    __table_args__ = (UniqueConstraint("copy_id", "number"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    copy_id: Mapped[str] = mapped_column(ForeignKey("redacted_copies.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    start_frame: Mapped[int] = mapped_column(Integer)
    end_frame: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    box: Mapped[list[int]] = mapped_column(JSON)
    box_frame: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    accepted: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
