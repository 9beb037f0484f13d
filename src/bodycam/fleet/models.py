"""Fleet tables: docks, cameras, assignments, camera history, device events, recalls.

A camera's current state lives on its row; every change to it (and to a dock) is also appended to
``fleet_history`` (who, when, what, old and new value, from where), which is never
updated or deleted. An assignment is one interval of a camera with an officer
(a personal issue, or a checkout from a shared pool); ``open_camera`` holds the camera
id while the interval is open and NULL once it ends, so a unique constraint on it
allows at most one open assignment per camera on both engines (NULLs never collide).

Device events are append-only too: ``key`` is the SHA-256 of the event's canonical
form, unique, so an event delivered twice (a dock log imported again, an API retry)
is stored once. Recalls and firmware rollouts share one table (``kind``); each affected
camera gets one item that is tracked to its outcome.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class CameraStatus(StrEnum):
    """Where a camera stands in its life."""

    IN_SERVICE = "in_service"
    SPARE = "spare"
    IN_REPAIR = "in_repair"
    RECALLED = "recalled"
    RETIRED = "retired"


class AssignmentKind(StrEnum):
    """A camera issued to one officer, or checked out of a shared pool for a shift."""

    PERSONAL = "personal"
    POOL = "pool"


class EventKind(StrEnum):
    """What a camera or its dock reported."""

    DOCK = "dock"
    UNDOCK = "undock"
    POWER_ON = "power_on"
    POWER_OFF = "power_off"
    BATTERY = "battery"
    RECORD_START = "record_start"
    RECORD_STOP = "record_stop"
    UPLOAD = "upload"


class CampaignKind(StrEnum):
    """A recall pulls cameras from service; a rollout brings them to a firmware version."""

    RECALL = "recall"
    ROLLOUT = "rollout"


class ItemStatus(StrEnum):
    """Where one camera of a recall or rollout stands."""

    OUTSTANDING = "outstanding"
    """Recall: the camera has not been dealt with yet."""
    RETURNED = "returned"
    """Recall: the camera is back with the equipment unit (out of service)."""
    REPLACED = "replaced"
    """Recall: the holder got another camera (``replacement_serial``); this one is back."""
    CLEARED = "cleared"
    """Recall: inspected and found safe; back to its earlier status."""
    PENDING = "pending"
    """Rollout: the camera has not reported the new firmware yet."""
    UPDATED = "updated"
    """Rollout: the camera reported (or the inventory says) the new firmware."""


class Dock(Base):
    """A docking station: charges cameras and uploads their footage."""

    __tablename__ = "fleet_docks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The dock's own identifier, as dock logs name it (e.g. ``N-01``)."""
    location: Mapped[str] = mapped_column(Text, default="")
    precinct: Mapped[str] = mapped_column(String(100), default="", index=True)
    ports: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Camera(Base):
    """One body-worn camera of the fleet."""

    __tablename__ = "fleet_cameras"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(String(100), index=True)
    hardware_revision: Mapped[str] = mapped_column(String(40), default="")
    battery_lot: Mapped[str] = mapped_column(String(64), default="", index=True)
    firmware_version: Mapped[str] = mapped_column(String(40), default="", index=True)
    purchase_date: Mapped[date | None] = mapped_column(default=None)
    warranty_end: Mapped[date | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default=CameraStatus.SPARE.value, index=True)
    dock_id: Mapped[str | None] = mapped_column(ForeignKey("fleet_docks.id"), default=None)
    """Its home dock or pool: where it sits when nobody holds it."""
    firmware_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    """When a device event last reported its firmware (older reports do not overwrite)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """A camera with an officer from ``started_at`` until ``ended_at`` (None: still)."""

    __tablename__ = "fleet_assignments"
    __table_args__ = (
        UniqueConstraint("camera_id", "started_at"),
        Index("ix_fleet_assignments_officer_started", "officer_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    camera_id: Mapped[str] = mapped_column(ForeignKey("fleet_cameras.id"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    dock_id: Mapped[str | None] = mapped_column(ForeignKey("fleet_docks.id"), default=None)
    """For a pool checkout: the pool (dock) it came from and goes back to."""
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    open_camera: Mapped[str | None] = mapped_column(String(26), unique=True, default=None)
    """The camera id while the assignment is open, else NULL: one open one per camera."""
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    ended_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)


class FleetHistory(Base):
    """One change to a camera or a dock (a field, its status, its holder), kept forever."""

    __tablename__ = "fleet_history"
    __table_args__ = (Index("ix_fleet_history_object_at", "object_type", "object_id", "at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    object_type: Mapped[str] = mapped_column(String(10))
    """``camera`` or ``dock``."""
    object_id: Mapped[str] = mapped_column(String(64))
    """The camera's id (not its serial, which could be corrected) or the dock's id."""
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    change: Mapped[str] = mapped_column(String(20))
    """created, updated, assigned, returned, recalled, resolved or reported (by an event)."""
    field: Mapped[str] = mapped_column(String(40), default="")
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(80), default="")
    """Where the change came from: ``cli``, ``import:ID``, ``events:ID``, ``recall:ID``."""


class FleetImport(Base):
    """One inventory CSV or dock-log import, or one batch of events sent to the API."""

    __tablename__ = "fleet_imports"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    """cameras, docks, assignments, events (a dock log) or api (events sent to the API)."""
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    imported_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeviceEvent(Base):
    """One event a camera or its dock reported; stored once (``key``)."""

    __tablename__ = "fleet_events"
    __table_args__ = (Index("ix_fleet_events_camera_at", "camera_id", "at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the event's canonical form: the same event is never stored twice."""
    camera_id: Mapped[str] = mapped_column(ForeignKey("fleet_cameras.id"))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    dock_id: Mapped[str | None] = mapped_column(ForeignKey("fleet_docks.id"), default=None)
    battery_pct: Mapped[int | None] = mapped_column(Integer, default=None)
    firmware: Mapped[str | None] = mapped_column(String(40), default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    """For an upload: the SHA-256 of the uploaded recording, when the dock knows it."""
    batch_id: Mapped[str] = mapped_column(ForeignKey("fleet_imports.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A recall (cameras out of service) or a firmware rollout, over matching cameras."""

    __tablename__ = "fleet_recalls"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    criterion: Mapped[str] = mapped_column(String(20))
    """What selected the cameras: battery_lot, firmware or model (a rollout: firmware)."""
    value: Mapped[str] = mapped_column(String(100))
    """The lot, firmware version or model recalled; a rollout's target firmware."""
    model: Mapped[str | None] = mapped_column(String(100), default=None)
    """A rollout limited to one camera model."""
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignItem(Base):
    """One camera of a recall or rollout, and what became of it."""

    __tablename__ = "fleet_recall_items"
    __table_args__ = (UniqueConstraint("recall_id", "camera_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    recall_id: Mapped[str] = mapped_column(ForeignKey("fleet_recalls.id"), index=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("fleet_cameras.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    holder: Mapped[str] = mapped_column(Text, default="")
    """Who held the camera when the recall or rollout was created, in words."""
    previous_status: Mapped[str] = mapped_column(String(20))
    """The camera's status before the recall (a cleared camera goes back to it)."""
    previous_firmware: Mapped[str] = mapped_column(String(40), default="")
    replacement_serial: Mapped[str | None] = mapped_column(String(64), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
