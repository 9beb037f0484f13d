"""Recalled cameras that upload again: the warning a recall must give.

A camera is under a recall from the moment the recall is created until it is cleared
(returned and replaced cameras stay under it for good: they should never record again).
An upload inside that window is flagged: an ``upload`` device event from a dock, or a
recording ingested with the camera's serial (``camera_serial``). When a dock reported
the upload of a recording that was also ingested (same SHA-256), it is one flag.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.evidence.models import Recording
from bodycam.fleet.common import FleetError
from bodycam.fleet.models import (
    Camera,
    Campaign,
    CampaignItem,
    CampaignKind,
    DeviceEvent,
    EventKind,
    ItemStatus,
)

__all__ = ["UploadFlag", "recall_windows", "recalled_uploads", "uploads_after"]

CHUNK = 500


@dataclass(frozen=True)
class UploadFlag:
    """A camera under recall that uploaded again: a device event or an ingest."""

    recall_id: str
    serial: str
    source: str
    """``event`` (an upload event) or ``ingest`` (a recording stored with its serial)."""
    at: datetime
    sha256: str | None
    recording_id: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "recall": self.recall_id,
            "serial": self.serial,
            "source": self.source,
            "at": self.at.isoformat(),
            "sha256": self.sha256,
            "recording": self.recording_id,
        }


def recall_windows(
    s: Session, camera_ids: list[str]
) -> dict[str, list[tuple[str, datetime, datetime | None]]]:
    """For each camera under a recall: (recall id, from, until cleared or None)."""
    out: dict[str, list[tuple[str, datetime, datetime | None]]] = {}
    for start in range(0, len(camera_ids), CHUNK):
        rows = s.execute(
            select(CampaignItem, Campaign)
            .join(Campaign, Campaign.id == CampaignItem.recall_id)
            .where(
                Campaign.kind == CampaignKind.RECALL.value,
                CampaignItem.camera_id.in_(camera_ids[start : start + CHUNK]),
            )
        )
        for item, camp in rows:
            until = item.resolved_at if item.status == ItemStatus.CLEARED.value else None
            out.setdefault(item.camera_id, []).append((camp.id, camp.created_at, until))
    return out


def uploads_after(s: Session, camps: list[Campaign]) -> list[UploadFlag]:
    """Uploads by cameras of ``camps`` after the recall and before they were cleared."""
    if not camps:
        return []
    rows = list(
        s.execute(
            select(CampaignItem, Camera)
            .join(Camera, Camera.id == CampaignItem.camera_id)
            .where(CampaignItem.recall_id.in_([c.id for c in camps]))
        )
    )
    created = {c.id: c.created_at for c in camps}
    windows: dict[str, list[tuple[str, datetime, datetime | None]]] = {}
    serial_of: dict[str, str] = {}
    for item, cam in rows:
        until = item.resolved_at if item.status == ItemStatus.CLEARED.value else None
        windows.setdefault(cam.id, []).append((item.recall_id, created[item.recall_id], until))
        serial_of[cam.id] = cam.serial
    earliest = min(created.values())
    flags: list[UploadFlag] = []

    def inside(camera_id: str, at: datetime) -> list[str]:
        return [
            rid
            for rid, since, until in windows.get(camera_id, [])
            if at >= since and (until is None or at < until)
        ]

    ids = list(windows)
    for start in range(0, len(ids), CHUNK):
        for ev in s.scalars(
            select(DeviceEvent).where(
                DeviceEvent.camera_id.in_(ids[start : start + CHUNK]),
                DeviceEvent.kind == EventKind.UPLOAD.value,
                DeviceEvent.at >= earliest,
            )
        ):
            for rid in inside(ev.camera_id, ev.at):
                flags.append(
                    UploadFlag(rid, serial_of[ev.camera_id], "event", ev.at, ev.sha256, None)
                )
    seen = {(f.recall_id, f.sha256): i for i, f in enumerate(flags) if f.sha256}
    by_serial = {serial: cid for cid, serial in serial_of.items()}
    serials = list(by_serial)
    for start in range(0, len(serials), CHUNK):
        for rec_id, sha, found, ingested in s.execute(
            select(
                Recording.id, Recording.sha256, Recording.camera_serial, Recording.ingested_at
            ).where(
                Recording.camera_serial.in_(serials[start : start + CHUNK]),
                Recording.ingested_at >= earliest,
            )
        ):
            camera_serial = str(found)
            for rid in inside(by_serial[camera_serial], ingested):
                known = seen.get((rid, sha))
                if known is not None:  # the dock reported this upload: one flag, both sides
                    flags[known] = replace(flags[known], recording_id=rec_id)
                else:
                    flags.append(UploadFlag(rid, camera_serial, "ingest", ingested, sha, rec_id))
    flags.sort(key=lambda f: (f.at, f.serial, f.source))
    return flags


def recalled_uploads(
    factory: sessionmaker[Session], actor: Actor, recall_id: str | None = None
) -> list[UploadFlag]:
    """Uploads by recalled cameras after their recall (one recall, or every recall)."""
    require(factory, actor, Permission.FLEET_VIEW, "see uploads of recalled cameras")
    with factory() as s:
        if recall_id is not None:
            camp = s.get(Campaign, recall_id.strip())
            if camp is None or camp.kind != CampaignKind.RECALL.value:
                raise FleetError(f"There is no recall {recall_id}.")
            camps = [camp]
        else:
            camps = list(
                s.scalars(select(Campaign).where(Campaign.kind == CampaignKind.RECALL.value))
            )
        return uploads_after(s, camps)
