"""Read-only views the fleet pages need beside the inventory services: the camera table
filtered and paged in the database, the choices its filters offer, and one camera's
uploads and recalls.

Every function needs ``fleet:inventory:view`` and changes nothing. The table's filters
are those of ``bodycam fleet camera list`` plus the precinct of the home dock, the holder
(a badge or user name, or ``none``) and "not docked for N days" (no ``dock`` event in the
last N days, or never: the not-docked report's definition, for cameras of any status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql import Subquery

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.evidence.models import Recording
from bodycam.fleet.common import FleetError, find_camera, holders_of
from bodycam.fleet.inventory import CameraRow
from bodycam.fleet.models import (
    Assignment,
    Camera,
    CameraStatus,
    Campaign,
    CampaignItem,
    DeviceEvent,
    Dock,
    EventKind,
)
from bodycam.fleet.recall_uploads import recall_windows
from bodycam.ids import utcnow

__all__ = [
    "CameraActivity",
    "CameraFilters",
    "CameraPage",
    "CameraRecall",
    "Choices",
    "ListedCamera",
    "UploadRow",
    "browse_cameras",
    "camera_activity",
    "filter_choices",
]

MAX_PER_PAGE = 500


@dataclass(frozen=True)
class CameraFilters:
    """What the camera table is narrowed to (None or blank: no filter)."""

    status: str | None = None
    model: str | None = None
    battery_lot: str | None = None
    firmware: str | None = None
    precinct: str | None = None
    dock: str | None = None
    holder: str | None = None
    """A badge or user name holding the camera now, or ``none`` (held by nobody)."""
    not_docked_days: float | None = None


@dataclass(frozen=True)
class ListedCamera:
    """A camera in the table: its row, its home dock's precinct and its last dock."""

    camera: CameraRow
    precinct: str
    last_dock: datetime | None


@dataclass
class CameraPage:
    """One page of the filtered camera table."""

    rows: list[ListedCamera]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filtered table has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def _last_docks(when: datetime) -> Subquery:
    """Each camera's last dock event at or before ``when``."""
    return (
        select(DeviceEvent.camera_id, func.max(DeviceEvent.at).label("at"))
        .where(DeviceEvent.kind == EventKind.DOCK.value, DeviceEvent.at <= when)
        .group_by(DeviceEvent.camera_id)
        .subquery()
    )


def browse_cameras(
    factory: sessionmaker[Session],
    actor: Actor,
    filters: CameraFilters,
    *,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> CameraPage:
    """The cameras matching ``filters``, by serial, one page of them with their holders."""
    require(factory, actor, Permission.FLEET_VIEW, "see the camera fleet")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise FleetError(f"The page must be 1 or more and at most {MAX_PER_PAGE} a page.")
    f = filters
    if f.status and f.status not in {st.value for st in CameraStatus}:
        choices = ", ".join(st.value for st in CameraStatus)
        raise FleetError(f"Unknown camera status {f.status!r}; choose {choices}.")
    if f.not_docked_days is not None and f.not_docked_days < 0:
        raise FleetError("The number of days cannot be negative.")
    when = now or utcnow()
    with factory() as s:
        last = _last_docks(when)
        stmt = select(Camera, last.c.at).outerjoin(last, last.c.camera_id == Camera.id)
        for column, value in (
            (Camera.status, f.status),
            (Camera.model, f.model),
            (Camera.battery_lot, f.battery_lot),
            (Camera.firmware_version, f.firmware),
            (Camera.dock_id, f.dock),
        ):
            if value:
                stmt = stmt.where(column == value)
        if f.precinct:
            stmt = stmt.where(
                Camera.dock_id.in_(select(Dock.id).where(Dock.precinct == f.precinct))
            )
        if f.holder:
            held = select(Assignment.camera_id).where(Assignment.open_camera.is_not(None))
            if f.holder.strip().lower() == "none":
                stmt = stmt.where(Camera.id.not_in(held))
            else:
                who = f.holder.strip()
                stmt = stmt.where(
                    Camera.id.in_(
                        held.join(User, User.id == Assignment.officer_id).where(
                            or_(User.badge == who, User.username == who)
                        )
                    )
                )
        if f.not_docked_days is not None:
            cutoff = when - timedelta(days=f.not_docked_days)
            stmt = stmt.where(or_(last.c.at.is_(None), last.c.at < cutoff))
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = list(
            s.execute(stmt.order_by(Camera.serial).offset((page - 1) * per_page).limit(per_page))
        )
        cams = [c for c, _ in rows]
        holders = holders_of(s, cams)
        precincts = {d.id: d.precinct for d in s.scalars(select(Dock))}
        listed = [
            ListedCamera(CameraRow.of(c, holders[c.id]), precincts.get(c.dock_id or "", ""), at)
            for c, at in rows
        ]
    return CameraPage(listed, total, page, per_page)


@dataclass(frozen=True)
class Choices:
    """The values the table's filters offer, as found in the inventory."""

    statuses: list[str]
    models: list[str]
    battery_lots: list[str]
    firmware: list[str]
    precincts: list[str]
    docks: list[str]


def filter_choices(factory: sessionmaker[Session], actor: Actor) -> Choices:
    """Every status, and the models, lots, firmware, precincts and docks in use."""
    require(factory, actor, Permission.FLEET_VIEW, "see the camera fleet")

    def distinct(s: Session, column: InstrumentedAttribute[str]) -> list[str]:
        return [v for v in s.scalars(select(column).distinct().order_by(column)) if v]

    with factory() as s:
        return Choices(
            [st.value for st in CameraStatus],
            distinct(s, Camera.model),
            distinct(s, Camera.battery_lot),
            distinct(s, Camera.firmware_version),
            distinct(s, Dock.precinct),
            distinct(s, Dock.id),
        )


@dataclass(frozen=True)
class UploadRow:
    """One upload of a camera: a dock's upload event, or a recording stored with its
    serial; ``recall`` names the recall it happened under (it should not have)."""

    at: datetime
    source: str
    """``event`` or ``ingest``."""
    dock: str | None
    sha256: str | None
    recording_id: str | None
    recall: str | None


@dataclass(frozen=True)
class CameraRecall:
    """A recall or rollout the camera is part of, and where it stands in it."""

    id: str
    kind: str
    criterion: str
    value: str
    reason: str
    created_at: datetime
    status: str
    replacement: str | None


@dataclass
class CameraActivity:
    """One camera's latest uploads (newest first) and its recalls and rollouts."""

    uploads: list[UploadRow] = field(default_factory=list)
    campaigns: list[CameraRecall] = field(default_factory=list)


def camera_activity(
    factory: sessionmaker[Session], actor: Actor, serial: str, *, uploads: int = 50
) -> CameraActivity:
    """The camera's last ``uploads`` uploads (events and ingests) and its campaigns."""
    require(factory, actor, Permission.FLEET_VIEW, "see the camera fleet", serial)
    out = CameraActivity()
    with factory() as s:
        cam = find_camera(s, serial)
        windows = recall_windows(s, [cam.id]).get(cam.id, [])

        def under(at: datetime) -> str | None:
            return next((rid for rid, a, b in windows if at >= a and (b is None or at < b)), None)

        events = list(
            s.scalars(
                select(DeviceEvent)
                .where(DeviceEvent.camera_id == cam.id, DeviceEvent.kind == EventKind.UPLOAD.value)
                .order_by(DeviceEvent.at.desc(), DeviceEvent.id.desc())
                .limit(uploads)
            )
        )
        hashes = [e.sha256 for e in events if e.sha256]
        by_hash: dict[str, str] = {
            sha: rid
            for sha, rid in s.execute(
                select(Recording.sha256, Recording.id).where(Recording.sha256.in_(hashes))
            )
        }
        rows = [
            UploadRow(e.at, "event", e.dock_id, e.sha256, by_hash.get(e.sha256 or ""), under(e.at))
            for e in events
        ]
        seen = {r.recording_id for r in rows if r.recording_id}
        for rid, sha, at in s.execute(
            select(Recording.id, Recording.sha256, Recording.ingested_at)
            .where(Recording.camera_serial == cam.serial)
            .order_by(Recording.ingested_at.desc())
            .limit(uploads)
        ):
            if rid not in seen:
                rows.append(UploadRow(at, "ingest", None, sha, rid, under(at)))
        rows.sort(key=lambda r: r.at, reverse=True)
        out.uploads = rows[:uploads]
        for item, camp in s.execute(
            select(CampaignItem, Campaign)
            .join(Campaign, Campaign.id == CampaignItem.recall_id)
            .where(CampaignItem.camera_id == cam.id)
            .order_by(Campaign.created_at.desc())
        ):
            out.campaigns.append(
                CameraRecall(
                    camp.id,
                    camp.kind,
                    camp.criterion,
                    camp.value,
                    camp.reason,
                    camp.created_at,
                    item.status,
                    item.replacement_serial,
                )
            )
    return out
