"""Policy tables: applied policy versions, officers' statements, complainant sessions.

A :class:`PolicyVersion` keeps the document exactly as applied, with a snapshot of the
recording rules it referenced and the versions of the retention schedule and disclosure
clock it was checked against; versions are never changed or deleted. An
:class:`OfficerStatement` records that an officer gave their initial statement about a
recording or an event (a case or dispatch event number). A :class:`ComplainantSession`
ties a complainant's watermarked, time-limited share to the supervisor who runs it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class PolicyVersion(Base):
    """One applied version of the agency's camera policy, kept forever."""

    __tablename__ = "policy_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    """The document's own ``policy.version`` name (e.g. ``2026-01``)."""
    title: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[datetime] = mapped_column(index=True)
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    rules_file: Mapped[str] = mapped_column(String(500))
    rules_body: Mapped[str] = mapped_column(Text)
    """The recording rules the document referenced, as read when it was applied."""
    rules_sha256: Mapped[str] = mapped_column(String(64))
    retention_version: Mapped[int] = mapped_column(Integer)
    """The retention schedule version checked against (the one in force when applied)."""
    clock_version: Mapped[int] = mapped_column(Integer)
    """The disclosure clock version checked against (0: the built-in example)."""
    note: Mapped[str] = mapped_column(Text, default="")
    applied_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfficerStatement(Base):
    """An officer's initial statement about a recording or an event, as recorded by staff."""

    __tablename__ = "policy_statements"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    recording_id: Mapped[str | None] = mapped_column(
        ForeignKey("recordings.id"), default=None, index=True
    )
    event: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    """A case number or dispatch event number the statement covers."""
    given_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ComplainantSession(Base):
    """A supervised viewing of a complaint's footage by the complainant, over a share."""

    __tablename__ = "policy_complainant_sessions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id"), unique=True)
    complaint_number: Mapped[str] = mapped_column(String(64), index=True)
    complainant_name: Mapped[str] = mapped_column(String(200))
    supervisor_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    """The supervisor who runs the session (present while the complainant watches)."""
    arranged_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    policy_version: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    end_reason: Mapped[str] = mapped_column(Text, default="")
