"""The table of recall warnings: a camera under an open recall uploaded a recording."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class RecallWarning(Base):
    """A recording ingested from a camera whose recall item was still outstanding.

    Written once per recall and recording, at ingest (any path), with an audit record;
    never updated or deleted.
    """

    __tablename__ = "fleet_recall_warnings"
    __table_args__ = (UniqueConstraint("recall_id", "recording_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recall_id: Mapped[str] = mapped_column(ForeignKey("fleet_recalls.id"), index=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("fleet_cameras.id"), index=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(20), default="")
    """How the recording arrived: the ingesting actor's channel (cli, api, axis, ...)."""
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")
    """The user name that ingested it (a dock's, an officer's or a BWS account)."""
    at: Mapped[datetime] = mapped_column(default=utcnow)
