"""Supervisor review tables: recordings sampled for review, with the checklist's answers.

One row per recording drawn for one cycle (``2026-11`` or ``2026-W47``). It is created
``pending`` by a sampling run, assigned to a supervisor of the officer's squad, and
ends ``done`` (every checklist item answered) or ``skipped`` (with a reason). A row
that is done or skipped is never changed again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class ReviewStatus(StrEnum):
    """Where a review stands."""

    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


CHECKLIST = (
    "late_activation",
    "early_deactivation",
    "muted",
    "obstructed",
    "wrong_category",
    "professionalism",
    "training_need",
    "commendation",
)
"""The checklist items, in the order a reviewer answers them. ``professionalism`` is
``ok`` or ``concern``; every other item is yes or no."""


class SupervisorReview(Base):
    """One recording drawn for one cycle's review, and the supervisor's verdict on it."""

    __tablename__ = "supervisor_reviews"
    __table_args__ = (UniqueConstraint("cycle", "recording_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    cycle: Mapped[str] = mapped_column(String(10))
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    squad_id: Mapped[str | None] = mapped_column(ForeignKey("squads.id"), default=None, index=True)
    """The officer's squad when the recording was drawn."""
    supervisor_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id"), default=None, index=True
    )
    """Who is to review it; None while the squad has no supervisor."""
    required_event: Mapped[bool] = mapped_column(default=False)
    """Compliance matching linked it to an officer-event the policy requires recorded."""
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Those events' numbers."""
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    status: Mapped[str] = mapped_column(String(10), default=ReviewStatus.PENDING.value, index=True)
    sampled_at: Mapped[datetime] = mapped_column(default=utcnow)
    sampled_by: Mapped[str] = mapped_column(ForeignKey("users.id"))

    late_activation: Mapped[bool | None] = mapped_column(default=None)
    early_deactivation: Mapped[bool | None] = mapped_column(default=None)
    muted: Mapped[bool | None] = mapped_column(default=None)
    obstructed: Mapped[bool | None] = mapped_column(default=None)
    wrong_category: Mapped[bool | None] = mapped_column(default=None)
    expected_category: Mapped[str | None] = mapped_column(String(100), default=None)
    """The category the recording should have had, when the reviewer named one."""
    professionalism: Mapped[str | None] = mapped_column(String(10), default=None)
    training_need: Mapped[bool | None] = mapped_column(default=None)
    commendation: Mapped[bool | None] = mapped_column(default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    skip_reason: Mapped[str | None] = mapped_column(Text, default=None)
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
