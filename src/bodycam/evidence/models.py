"""Evidence tables: recordings, categories, tags, case numbers and edit history.

A recording row points at its original blob by SHA-256; the bytes are never
modified. Metadata edits are kept as history rows (who, when, old, new).
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
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class AccessClass(StrEnum):
    """Narrows who may see recordings of a category."""

    NORMAL = "normal"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"


UNCATEGORIZED = "Uncategorized"


class Category(Base):
    """An evidence category (drives retention later and access class now)."""

    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    access_class: Mapped[str] = mapped_column(String(20), default=AccessClass.NORMAL.value)
    description: Mapped[str] = mapped_column(Text, default="")
    retention: Mapped[str | None] = mapped_column(String(40), default=None)
    """The schedule's period for this category ("3 years", "until deleted"); None: none yet."""


class Recording(Base):
    """One original video file and its metadata."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_officer_start", "officer_id", "recorded_start"),
        Index("ix_recordings_start", "recorded_start"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    original_filename: Mapped[str] = mapped_column(String(255))
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    camera_serial: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_start: Mapped[datetime]
    recorded_end: Mapped[datetime]
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    ingested_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    container: Mapped[str] = mapped_column(String(40))
    video_codec: Mapped[str] = mapped_column(String(40))
    audio_codec: Mapped[str | None] = mapped_column(String(40), default=None)
    duration_s: Mapped[float] = mapped_column(Float)
    width: Mapped[int]
    height: Mapped[int]
    fps: Mapped[float] = mapped_column(Float)
    has_audio: Mapped[bool]
    frame_count: Mapped[int]
    creation_time: Mapped[datetime | None] = mapped_column(default=None)
    retain_until: Mapped[datetime | None] = mapped_column(default=None, index=True)
    """When it is due for deletion under the schedule (None: never, or no schedule yet)."""
    retention_basis: Mapped[str] = mapped_column(String(200), default="")
    """Which rule set ``retain_until`` (category, period, schedule version)."""
    tier: Mapped[str] = mapped_column(String(10), default="hot", server_default="hot")
    """Where the original's bytes are: ``hot`` (the main store) or ``archive``."""
    purged_at: Mapped[datetime | None] = mapped_column(default=None)
    """When its bytes were destroyed under the schedule (the row stays, for the audit log)."""

    tags: Mapped[list[RecordingTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RecordingTag.tag"
    )
    cases: Mapped[list[RecordingCase]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RecordingCase.case_number"
    )
    extra_categories: Mapped[list[RecordingExtraCategory]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RecordingExtraCategory.name"
    )
    """Further categories (e.g. a traffic stop that became an arrest). They extend
    retention (the longest period wins); the primary category alone decides access."""


class RecordingTag(Base):
    """A free-text tag on a recording."""

    __tablename__ = "recording_tags"
    __table_args__ = (UniqueConstraint("recording_id", "tag"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    tag: Mapped[str] = mapped_column(String(100), index=True)


class RecordingCase(Base):
    """A case or incident number linked to a recording."""

    __tablename__ = "recording_cases"
    __table_args__ = (UniqueConstraint("recording_id", "case_number"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    case_number: Mapped[str] = mapped_column(String(64), index=True)


class RecordingExtraCategory(Base):
    """An additional category of a recording (retention only)."""

    __tablename__ = "recording_extra_categories"
    __table_args__ = (UniqueConstraint("recording_id", "category_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class RecordingEdit(Base):
    """One metadata change, kept forever as history."""

    __tablename__ = "recording_edits"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)


# Substring search (``lower(column) LIKE '%text%'``) on PostgreSQL: GIN trigram indexes of
# the lowered columns (pg_trgm, migration 0020). SQLite has none and scans.
for _name, _column in (
    ("ix_recordings_title_trgm", Recording.__table__.c.title),
    ("ix_recordings_notes_trgm", Recording.__table__.c.notes),
    ("ix_recordings_filename_trgm", Recording.__table__.c.original_filename),
    ("ix_recording_cases_case_number_trgm", RecordingCase.__table__.c.case_number),
):
    Index(
        _name,
        func.lower(_column).label("lowered"),
        postgresql_using="gin",
        postgresql_ops={"lowered": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")
