"""The warning a recall gives when one of its cameras uploads again.

Every evidence ingest that names a camera serial (CLI ingest, tus upload, dock agent, the
Axis API) ends with :func:`warn_if_recalled`. When the camera is part of a recall created
before the recording reached the vault and its item is still ``outstanding`` (not yet
returned, replaced or cleared), one :class:`RecallWarning` row and one
``fleet:recall:upload_warning`` audit record are written together, once per recall and
recording. The check runs after the ingest committed and never raises: a recording is
never refused or lost because of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.fleet.common import FleetError
from bodycam.fleet.models import Camera, Campaign, CampaignItem, CampaignKind, ItemStatus
from bodycam.fleet.recall_warning_models import RecallWarning

__all__ = ["WarningView", "list_warnings", "warn_if_recalled", "warnings_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarningView:
    """One recorded warning: which recall, camera and recording, when and how it came."""

    recall_id: str
    serial: str
    recording_id: str
    sha256: str
    via: str
    uploaded_by: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "recall": self.recall_id,
            "serial": self.serial,
            "recording": self.recording_id,
            "sha256": self.sha256,
            "via": self.via,
            "uploaded_by": self.uploaded_by,
            "at": self.at.isoformat(),
        }


def warn_if_recalled(
    factory: sessionmaker[Session], actor: Actor, recording_id: str, camera_serial: str
) -> list[str]:
    """Record a warning for each open recall of the camera; the recall ids. Never raises."""
    try:
        return _warn(factory, actor, recording_id, camera_serial.strip())
    except Exception:  # the ingest already committed; a failed warning must not undo it
        log.exception("recall warning for recording %s (camera %s)", recording_id, camera_serial)
        return []


def _warn(
    factory: sessionmaker[Session], actor: Actor, recording_id: str, serial: str
) -> list[str]:
    with factory() as s:
        cam = s.scalars(select(Camera).where(Camera.serial == serial)).first()
        if cam is None:
            return []
        open_items = list(
            s.scalars(
                select(CampaignItem.recall_id)
                .join(Campaign, Campaign.id == CampaignItem.recall_id)
                .where(
                    CampaignItem.camera_id == cam.id,
                    CampaignItem.status == ItemStatus.OUTSTANDING.value,
                    Campaign.kind == CampaignKind.RECALL.value,
                )
            )
        )
    if not open_items:
        return []
    warned: list[str] = []
    with transaction(factory) as s:
        rec = s.get(Recording, recording_id)
        if rec is None:
            return []
        for recall_id in open_items:
            camp = s.get(Campaign, recall_id)
            if camp is None or rec.ingested_at < camp.created_at:
                continue  # in the vault before the recall: not an upload "again"
            seen = s.scalars(
                select(RecallWarning.id).where(
                    RecallWarning.recall_id == recall_id,
                    RecallWarning.recording_id == rec.id,
                )
            ).first()
            if seen is not None:
                continue
            s.add(
                RecallWarning(
                    recall_id=recall_id,
                    camera_id=cam.id,
                    recording_id=rec.id,
                    sha256=rec.sha256,
                    via=actor.via[:20],
                    uploaded_by=actor.username[:100],
                )
            )
            s.flush()
            record(
                s,
                actor,
                AuditAction.FLEET_RECALL_UPLOAD_WARNING,
                "fleet_recall",
                recall_id,
                {
                    "serial": cam.serial,
                    "recording": rec.id,
                    "sha256": rec.sha256,
                    "via": actor.via,
                    "uploaded_by": actor.username,
                },
            )
            log.warning(
                "camera %s under recall %s uploaded recording %s", cam.serial, recall_id, rec.id
            )
            warned.append(recall_id)
    return warned


def warnings_of(
    s: Session, *, recall_id: str | None = None, camera_id: str | None = None
) -> list[WarningView]:
    """The warnings of one recall or one camera, oldest first (inside a caller's check)."""
    stmt = select(RecallWarning, Camera.serial).join(Camera, Camera.id == RecallWarning.camera_id)
    if recall_id is not None:
        stmt = stmt.where(RecallWarning.recall_id == recall_id)
    if camera_id is not None:
        stmt = stmt.where(RecallWarning.camera_id == camera_id)
    return [
        WarningView(w.recall_id, serial, w.recording_id, w.sha256, w.via, w.uploaded_by, w.at)
        for w, serial in s.execute(stmt.order_by(RecallWarning.at, RecallWarning.id))
    ]


def list_warnings(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    recall_id: str | None = None,
    serial: str | None = None,
) -> list[WarningView]:
    """Recorded upload warnings: of one recall, of one camera, or all of them."""
    require(factory, actor, Permission.FLEET_VIEW, "see recall warnings")
    with factory() as s:
        camera_id = None
        if serial is not None:
            cam = s.scalars(select(Camera).where(Camera.serial == serial.strip())).first()
            if cam is None:
                raise FleetError(f"There is no camera {serial}.")
            camera_id = cam.id
        if recall_id is not None and s.get(Campaign, recall_id.strip()) is None:
            raise FleetError(f"There is no recall {recall_id}.")
        return warnings_of(
            s, recall_id=recall_id.strip() if recall_id else None, camera_id=camera_id
        )
