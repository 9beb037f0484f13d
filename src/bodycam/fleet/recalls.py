"""Recalls and firmware rollouts: which cameras, who holds them, and how far along.

A **recall** selects every camera (not retired) of a battery lot, a firmware version or
a model, sets each to ``recalled`` and lists it with its holder at that moment. Each
camera is then tracked to one outcome: ``returned`` (back with the equipment unit, its
assignment ended), ``replaced`` (the holder got the named replacement camera) or
``cleared`` (inspected and safe: back to its earlier status). Until then it is
``outstanding``. A recalled camera that uploads again (an upload event, or a recording
ingested with its serial) after the recall and before it was cleared is flagged.

A **rollout** selects every camera (not retired; of one model when given) that does not
run the target firmware. Each is ``pending`` until the camera reports that version in a
device event or the inventory records it (import or ``camera set``): then ``updated``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.fleet.common import (
    FleetError,
    History,
    end_assignment,
    find_camera,
    holders_of,
    open_assignment_of,
)
from bodycam.fleet.models import (
    Assignment,
    Camera,
    CameraStatus,
    Campaign,
    CampaignItem,
    CampaignKind,
    ItemStatus,
)
from bodycam.fleet.recall_uploads import UploadFlag, uploads_after
from bodycam.fleet.recall_warnings import WarningView, warnings_of
from bodycam.ids import new_id, utcnow

__all__ = [
    "CRITERIA",
    "OUTCOMES",
    "CampaignItemView",
    "CampaignView",
    "create_recall",
    "create_rollout",
    "list_campaigns",
    "resolve_recall",
    "show_campaign",
    "sync_rollouts",
]

CRITERIA = ("battery_lot", "firmware", "model")
OUTCOMES = (ItemStatus.RETURNED.value, ItemStatus.REPLACED.value, ItemStatus.CLEARED.value)
_ATTR = {"battery_lot": Camera.battery_lot, "firmware": Camera.firmware_version}
_ATTR["model"] = Camera.model


@dataclass(frozen=True)
class CampaignItemView:
    """One camera of a recall or rollout, with its holder now and when it began."""

    serial: str
    model: str
    battery_lot: str
    firmware: str
    camera_status: str
    status: str
    holder: str
    holder_at_start: str
    replacement: str | None = None
    resolved_at: datetime | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form (times in ISO 8601)."""
        return {
            "serial": self.serial,
            "model": self.model,
            "battery_lot": self.battery_lot,
            "firmware": self.firmware,
            "camera_status": self.camera_status,
            "status": self.status,
            "holder": self.holder,
            "holder_at_start": self.holder_at_start,
            "replacement": self.replacement,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "note": self.note,
        }


@dataclass
class CampaignView:
    """A recall or rollout with its progress (counts, shares) and its cameras."""

    id: str
    kind: str
    criterion: str
    value: str
    model: str | None
    reason: str
    created_at: datetime
    created_by: str
    counts: dict[str, int]
    items: list[CampaignItemView] = field(default_factory=list)
    uploads: list[UploadFlag] = field(default_factory=list)
    warnings: list[WarningView] = field(default_factory=list)
    """Warnings recorded at ingest: a camera still outstanding uploaded a recording."""

    @property
    def total(self) -> int:
        """How many cameras the campaign covers."""
        return sum(self.counts.values())

    @property
    def open_status(self) -> str:
        """The status of a camera not dealt with yet: outstanding or pending."""
        return (
            ItemStatus.OUTSTANDING.value
            if self.kind == CampaignKind.RECALL.value
            else ItemStatus.PENDING.value
        )

    def share(self, status: str) -> float | None:
        """The share of the cameras with ``status`` (None when there are none)."""
        return self.counts.get(status, 0) / self.total if self.total else None

    @property
    def done(self) -> int:
        """Cameras dealt with (every status but the open one)."""
        return self.total - self.counts.get(self.open_status, 0)

    def as_dict(self) -> dict[str, Any]:
        """JSON form: the campaign, counts and shares, its cameras and flagged uploads."""
        return {
            "id": self.id,
            "kind": self.kind,
            "criterion": self.criterion,
            "value": self.value,
            "model": self.model,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "total": self.total,
            "done": self.done,
            "counts": dict(self.counts),
            "shares": {k: self.share(k) for k in self.counts},
            "cameras": [i.as_dict() for i in self.items],
            "uploads_after_recall": [u.as_dict() for u in self.uploads],
            "upload_warnings": [w.as_dict() for w in self.warnings],
        }


def _statuses(kind: str) -> list[str]:
    if kind == CampaignKind.RECALL.value:
        return [ItemStatus.OUTSTANDING.value, *OUTCOMES]
    return [ItemStatus.PENDING.value, ItemStatus.UPDATED.value]


def _view(s: Session, camp: Campaign, *, only_open: bool = False) -> CampaignView:
    rows = list(
        s.execute(
            select(CampaignItem, Camera)
            .join(Camera, Camera.id == CampaignItem.camera_id)
            .where(CampaignItem.recall_id == camp.id)
            .order_by(Camera.serial)
        )
    )
    counts = dict.fromkeys(_statuses(camp.kind), 0) | Counter(i.status for i, _ in rows)
    creator = s.get(User, camp.created_by)
    view = CampaignView(
        camp.id,
        camp.kind,
        camp.criterion,
        camp.value,
        camp.model,
        camp.reason,
        camp.created_at,
        creator.username if creator else camp.created_by,
        counts,
    )
    open_status = view.open_status
    shown = [(i, c) for i, c in rows if not only_open or i.status == open_status]
    holders = holders_of(s, [c for _, c in shown])
    for item, cam in shown:
        view.items.append(
            CampaignItemView(
                cam.serial,
                cam.model,
                cam.battery_lot,
                cam.firmware_version,
                cam.status,
                item.status,
                str(holders[cam.id]),
                item.holder,
                item.replacement_serial,
                item.resolved_at,
                item.note,
            )
        )
    return view


def _create(
    factory: sessionmaker[Session],
    actor: Actor,
    kind: CampaignKind,
    criterion: str,
    value: str,
    model: str | None,
    reason: str,
) -> CampaignView:
    reason = reason.strip()
    if not reason:
        raise FleetError(f"Give the reason for the {kind.value} (--reason).")
    value = value.strip()
    if not value or len(value) > 100:
        raise FleetError(f"The {criterion.replace('_', ' ')} must be 1 to 100 characters.")
    with transaction(factory) as s:
        camp = Campaign(
            id=new_id(),
            kind=kind.value,
            criterion=criterion,
            value=value,
            model=model,
            reason=reason,
            created_by=actor.user_id,
        )
        stmt = select(Camera).where(Camera.status != CameraStatus.RETIRED.value)
        if kind == CampaignKind.RECALL:
            stmt = stmt.where(_ATTR[criterion] == value)
        else:
            stmt = stmt.where(Camera.firmware_version != value)
            if model is not None:
                stmt = stmt.where(Camera.model == model)
        cameras = list(s.scalars(stmt.order_by(Camera.serial)))
        if not cameras:
            what = (
                f"{criterion.replace('_', ' ')} {value}"
                if kind == CampaignKind.RECALL
                else f"firmware other than {value}" + (f" of model {model}" if model else "")
            )
            raise FleetError(f"No camera (not retired) has {what}; nothing was created.")
        s.add(camp)
        s.flush()
        holders = holders_of(s, cameras)
        log = History(s, actor, f"{kind.value}:{camp.id}")
        for cam in cameras:
            s.add(
                CampaignItem(
                    recall_id=camp.id,
                    camera_id=cam.id,
                    status=(
                        ItemStatus.OUTSTANDING.value
                        if kind == CampaignKind.RECALL
                        else ItemStatus.PENDING.value
                    ),
                    holder=str(holders[cam.id]),
                    previous_status=cam.status,
                    previous_firmware=cam.firmware_version,
                )
            )
            if kind == CampaignKind.RECALL and cam.status != CameraStatus.RECALLED.value:
                log(cam.id, "recalled", "status", cam.status, CameraStatus.RECALLED.value)
                cam.status, cam.updated_at = CameraStatus.RECALLED.value, utcnow()
        s.flush()
        details: dict[str, Any] = {
            "criterion": criterion,
            "value": value,
            "reason": reason,
            "cameras": len(cameras),
            "serials": [c.serial for c in cameras],
        }
        if kind == CampaignKind.ROLLOUT:
            details["model"] = model
        action = (
            AuditAction.FLEET_RECALL_CREATE
            if kind == CampaignKind.RECALL
            else AuditAction.FLEET_ROLLOUT_CREATE
        )
        record(s, actor, action, "fleet_recall", camp.id, details)
        view = _view(s, camp)
        view.uploads = []
        return view


def create_recall(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    battery_lot: str | None = None,
    firmware: str | None = None,
    model: str | None = None,
    reason: str,
) -> CampaignView:
    """Recall every camera (not retired) of one battery lot, firmware or model.

    Sets each to ``recalled`` (a history row each), lists it with its holder now, and
    writes one ``fleet:recall:create`` audit record naming every serial.
    """
    require(factory, actor, Permission.FLEET_RECALL_MANAGE, "recall cameras")
    given = {
        k: v
        for k, v in (("battery_lot", battery_lot), ("firmware", firmware), ("model", model))
        if v is not None
    }
    if len(given) != 1:
        raise FleetError("Name exactly one of --battery-lot, --firmware or --model.")
    (criterion, value), *_ = given.items()
    return _create(factory, actor, CampaignKind.RECALL, criterion, value, None, reason)


def create_rollout(
    factory: sessionmaker[Session],
    actor: Actor,
    firmware: str,
    *,
    model: str | None = None,
    reason: str,
) -> CampaignView:
    """Track every camera (not retired; of ``model`` if given) until it runs ``firmware``."""
    require(factory, actor, Permission.FLEET_RECALL_MANAGE, "start firmware rollouts")
    return _create(factory, actor, CampaignKind.ROLLOUT, "firmware", firmware, model, reason)


def _campaign(s: Session, campaign_id: str, kind: str | None) -> Campaign:
    camp = s.get(Campaign, campaign_id.strip())
    if camp is None or (kind is not None and camp.kind != kind):
        raise FleetError(f"There is no {kind or 'recall or rollout'} {campaign_id}.")
    return camp


def list_campaigns(
    factory: sessionmaker[Session], actor: Actor, kind: str | None = None
) -> list[CampaignView]:
    """Every recall and rollout (or one kind), newest first, with their counts."""
    require(factory, actor, Permission.FLEET_VIEW, "see recalls and rollouts")
    with factory() as s:
        stmt = select(Campaign).order_by(Campaign.created_at.desc())
        if kind is not None:
            stmt = stmt.where(Campaign.kind == kind)
        out = []
        for camp in s.scalars(stmt):
            view = _view(s, camp, only_open=True)
            view.items = []
            out.append(view)
        return out


def show_campaign(
    factory: sessionmaker[Session],
    actor: Actor,
    campaign_id: str,
    *,
    kind: str | None = None,
    everything: bool = False,
) -> CampaignView:
    """A recall's or rollout's progress: counts, its open cameras with their holders now
    (every camera with ``everything``), and, for a recall, the uploads after it."""
    require(factory, actor, Permission.FLEET_VIEW, "see recalls and rollouts", campaign_id)
    with factory() as s:
        camp = _campaign(s, campaign_id, kind)
        view = _view(s, camp, only_open=not everything)
        if camp.kind == CampaignKind.RECALL.value:
            view.uploads = uploads_after(s, [camp])
            view.warnings = warnings_of(s, recall_id=camp.id)
        return view


def resolve_recall(
    factory: sessionmaker[Session],
    actor: Actor,
    recall_id: str,
    serial: str,
    outcome: str,
    *,
    replacement: str | None = None,
    note: str = "",
    at: datetime | None = None,
) -> CampaignItemView:
    """Record what became of one recalled camera: returned, replaced or cleared.

    Returned and replaced end the camera's open assignment; a replacement (a spare or
    in-service camera under no recall and held by nobody) is issued to the same holder.
    Cleared puts the camera back to its status before the recall (unless another recall
    still holds it). Only an outstanding camera can be resolved. Audited.
    """
    require(factory, actor, Permission.FLEET_RECALL_MANAGE, "resolve recalled cameras", recall_id)
    if outcome not in OUTCOMES:
        raise FleetError(f"The outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}.")
    if (replacement is not None) != (outcome == ItemStatus.REPLACED.value):
        raise FleetError(
            "Name the replacement camera (--replacement SERIAL) exactly when replaced."
        )
    when = at or utcnow()
    with transaction(factory) as s:
        camp = _campaign(s, recall_id, CampaignKind.RECALL.value)
        cam = find_camera(s, serial)
        item = s.scalars(
            select(CampaignItem).where(
                CampaignItem.recall_id == camp.id, CampaignItem.camera_id == cam.id
            )
        ).first()
        if item is None:
            raise FleetError(f"Camera {cam.serial} is not part of recall {camp.id}.")
        if item.status != ItemStatus.OUTSTANDING.value:
            raise FleetError(f"Camera {cam.serial} of recall {camp.id} is already {item.status}.")
        log = History(s, actor, f"recall:{camp.id}")
        current = open_assignment_of(s, cam.id)
        officer = s.get(User, current.officer_id) if current else None
        if outcome == ItemStatus.REPLACED.value:
            assert replacement is not None
            item.replacement_serial = _replace(log, cam, replacement, current, when)
        elif outcome == ItemStatus.RETURNED.value and current is not None:
            end_assignment(log, current, when, officer.badge if officer else None)
        if outcome == ItemStatus.CLEARED.value:
            still = s.scalars(
                select(CampaignItem.id).where(
                    CampaignItem.camera_id == cam.id,
                    CampaignItem.id != item.id,
                    CampaignItem.status == ItemStatus.OUTSTANDING.value,
                )
            ).first()
            back = item.previous_status
            if back == CameraStatus.RECALLED.value:
                back = CameraStatus.SPARE.value
            if still is None and cam.status != back:
                log(cam.id, "resolved", "status", cam.status, back)
                cam.status, cam.updated_at = back, when
        log(cam.id, "resolved", "recall", item.status, outcome)
        item.status, item.resolved_at, item.resolved_by = outcome, when, actor.user_id
        item.note = note.strip()
        s.flush()
        record(
            s,
            actor,
            AuditAction.FLEET_RECALL_RESOLVE,
            "fleet_recall",
            camp.id,
            {
                "serial": cam.serial,
                "outcome": outcome,
                "replacement": item.replacement_serial,
                "note": item.note,
            },
        )
        holder = holders_of(s, [cam])[cam.id]
        return CampaignItemView(
            cam.serial,
            cam.model,
            cam.battery_lot,
            cam.firmware_version,
            cam.status,
            item.status,
            str(holder),
            item.holder,
            item.replacement_serial,
            item.resolved_at,
            item.note,
        )


def _replace(
    log: History, cam: Camera, serial: str, current: Assignment | None, when: datetime
) -> str:
    """End the recalled camera's assignment and give its holder the replacement."""
    s = log.session
    new = find_camera(s, serial)
    if new.id == cam.id:
        raise FleetError("A camera cannot replace itself.")
    if new.status not in (CameraStatus.SPARE.value, CameraStatus.IN_SERVICE.value):
        raise FleetError(f"Camera {new.serial} is {new.status}; it cannot replace another.")
    if open_assignment_of(s, new.id) is not None:
        raise FleetError(f"Camera {new.serial} is assigned already; return it first.")
    if current is None:
        return new.serial
    officer = s.get(User, current.officer_id)
    badge = officer.badge if officer else None
    end_assignment(log, current, when, badge)
    s.flush()
    s.add(
        Assignment(
            camera_id=new.id,
            officer_id=current.officer_id,
            kind=current.kind,
            dock_id=current.dock_id,
            started_at=when,
            open_camera=new.id,
            note=f"replaces {cam.serial} ({log.source})",
            created_by=log.actor.user_id,
        )
    )
    held = {"badge": badge, "kind": current.kind, "replaces": cam.serial}
    log(new.id, "assigned", "holder", None, held)
    if new.status == CameraStatus.SPARE.value:
        log(new.id, "updated", "status", new.status, CameraStatus.IN_SERVICE.value)
        new.status, new.updated_at = CameraStatus.IN_SERVICE.value, when
    return new.serial


def sync_rollouts(log: History, camera: Camera) -> int:
    """Mark the camera's pending rollout items updated if it now runs their firmware."""
    rows = log.session.execute(
        select(CampaignItem, Campaign)
        .join(Campaign, Campaign.id == CampaignItem.recall_id)
        .where(
            CampaignItem.camera_id == camera.id,
            CampaignItem.status == ItemStatus.PENDING.value,
            Campaign.kind == CampaignKind.ROLLOUT.value,
            Campaign.value == camera.firmware_version,
        )
    )
    done = 0
    for item, camp in rows:
        item.status, item.resolved_at = ItemStatus.UPDATED.value, utcnow()
        item.resolved_by = log.actor.user_id
        item.note = f"firmware {camera.firmware_version} seen ({log.source})"
        pending, updated = ItemStatus.PENDING.value, ItemStatus.UPDATED.value
        log(camera.id, "resolved", "rollout", pending, updated, source=f"rollout:{camp.id}")
        done += 1
    return done
