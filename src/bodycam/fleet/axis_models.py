"""Tables of the Axis Body Worn Integration API: the registries and the recording containers.

An Axis Body Worn System (BWS) uses bodycam as its *content destination* through a small
subset of the OpenStack Swift API. It registers each user as an object of the ``Users``
container, each camera as an object of ``Devices`` and itself as an object of ``System``;
those objects are rows here, linked to the bodycam officer (by badge, the user's
``UserID``) and to the fleet camera (by serial) when they exist. Each recording is a
container of clip objects; the bytes of an object are staged on disk under
``<home>/axis/<container id>/<object id>`` until the container is marked ``Complete``,
when every clip goes through the evidence ingest and ``recording_id`` names the result.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class ContainerStatus(StrEnum):
    """Where a recording container stands."""

    TRANSFERRING = "transferring"
    """The BWS is still sending objects and metadata."""
    COMPLETE = "complete"
    """The BWS set ``Status: Complete`` and every clip is in the vault."""
    REJECTED = "rejected"
    """Completion was refused for good (a 400): the BWS keeps the recording for download."""


class AxisSystem(Base):
    """A Body Worn System connected to this content destination (``System/<SystemID>``)."""

    __tablename__ = "axis_systems"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    system_id: Mapped[str] = mapped_column(String(100), unique=True)
    connection_id: Mapped[str] = mapped_column(String(100), default="")
    """Set when the object is created; never changes (a different one is refused)."""
    name: Mapped[str] = mapped_column(String(100), default="")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    registered_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AxisUser(Base):
    """A user of the BWS (``Users/<UserUUID>``), linked to a bodycam officer by badge."""

    __tablename__ = "axis_users"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    uuid: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    user_key: Mapped[str] = mapped_column(String(100), default="")
    """The user-supplied ``UserID`` (capability ``StoreUserIDKey``): the officer's badge."""
    active: Mapped[bool] = mapped_column(default=True)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    registered_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AxisDevice(Base):
    """A camera of the BWS (``Devices/<BWCSerialNumber>``), linked to the fleet by serial."""

    __tablename__ = "axis_devices"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    camera_id: Mapped[str | None] = mapped_column(ForeignKey("fleet_cameras.id"), default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    registered_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AxisContainer(Base):
    """A Swift container: one recording (``<UserID>_<BWCSerialNumber>_<TriggerOnTime>``) or
    one of the registries (``System``, ``Users``, ``Devices``)."""

    __tablename__ = "axis_containers"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    """``recording`` or ``registry``."""
    status: Mapped[str] = mapped_column(String(20), default=ContainerStatus.TRANSFERRING.value)
    user_uuid: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str] = mapped_column(String(64), default="")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The container's metadata (``X-Container-Meta-*``), names as the BWS sent them."""
    error: Mapped[str] = mapped_column(Text, default="")
    """Why completion was refused (a rejected container)."""
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class AxisObject(Base):
    """An object of a recording container: a clip, or a key, bookmark or track file."""

    __tablename__ = "axis_objects"
    __table_args__ = (UniqueConstraint("container_id", "name"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    container_id: Mapped[str] = mapped_column(ForeignKey("axis_containers.id"))
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(10))
    """``clip`` (``.mp4`` or ``.mkv``) or ``key``, ``bookmark``, ``gnss``, ``other``."""
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    md5: Mapped[str] = mapped_column(String(32), default="")
    """The Swift ETag of the bytes."""
    sha256: Mapped[str] = mapped_column(String(64), default="")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recording_id: Mapped[str | None] = mapped_column(ForeignKey("recordings.id"), default=None)
    """The recording the clip became (set once, at completion)."""
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
