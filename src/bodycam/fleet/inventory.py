"""The inventory day to day: list and look up cameras and docks, issue, check out,
return, and edit a camera. Bulk imports are in `bodycam.fleet.imports`.

Every change writes history rows (`bodycam.fleet.common.History`) and one audit record
in the same transaction. A camera has at most one open assignment: issuing or checking
out a camera somebody holds is refused with a sentence (the database's unique
``open_camera`` is the backstop against two people doing it at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
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
    Holder,
    end_assignment,
    find_camera,
    find_dock,
    find_officer,
    holders_of,
    jsonable,
    open_assignment_of,
    parse_date,
)
from bodycam.fleet.models import (
    Assignment,
    AssignmentKind,
    Camera,
    CameraStatus,
    DeviceEvent,
    Dock,
    FleetHistory,
)
from bodycam.fleet.recalls import sync_rollouts
from bodycam.ids import utcnow

__all__ = [
    "EDITABLE",
    "AssignmentRow",
    "CameraDetail",
    "CameraRow",
    "DockRow",
    "assign_camera",
    "camera_detail",
    "list_cameras",
    "list_docks",
    "return_camera",
    "update_camera",
]

EDITABLE = (
    "model",
    "hardware_revision",
    "battery_lot",
    "firmware",
    "purchase_date",
    "warranty_end",
    "status",
    "dock",
)
"""The fields `update_camera` changes (``firmware`` and ``dock`` as in the CSV)."""
_ATTR = {"firmware": "firmware_version", "dock": "dock_id"}
_LIMITS = {"model": 100, "hardware_revision": 40, "battery_lot": 64, "firmware": 40}
_SETTABLE = (
    CameraStatus.IN_SERVICE,
    CameraStatus.SPARE,
    CameraStatus.IN_REPAIR,
    CameraStatus.RETIRED,
)


@dataclass(frozen=True)
class CameraRow:
    """A camera as listed: its fields and its holder now."""

    serial: str
    model: str
    hardware_revision: str
    battery_lot: str
    firmware: str
    purchase_date: date | None
    warranty_end: date | None
    status: str
    dock: str | None
    holder: Holder

    @classmethod
    def of(cls, cam: Camera, holder: Holder) -> CameraRow:
        """The row of ``cam``."""
        return cls(
            cam.serial,
            cam.model,
            cam.hardware_revision,
            cam.battery_lot,
            cam.firmware_version,
            cam.purchase_date,
            cam.warranty_end,
            cam.status,
            cam.dock_id,
            holder,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form (dates ISO; the holder as an object)."""
        return {
            "serial": self.serial,
            "model": self.model,
            "hardware_revision": self.hardware_revision,
            "battery_lot": self.battery_lot,
            "firmware": self.firmware,
            "purchase_date": jsonable(self.purchase_date),
            "warranty_end": jsonable(self.warranty_end),
            "status": self.status,
            "dock": self.dock,
            "holder": self.holder.as_dict(),
        }


@dataclass(frozen=True)
class AssignmentRow:
    """One assignment of a camera: who, how, from when to when."""

    serial: str
    badge: str | None
    username: str
    kind: str
    dock: str | None
    started_at: datetime
    ended_at: datetime | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "serial": self.serial,
            "badge": self.badge,
            "username": self.username,
            "kind": self.kind,
            "dock": self.dock,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "note": self.note,
        }


@dataclass
class CameraDetail:
    """One camera: its row, assignments, history and latest device events."""

    camera: CameraRow
    assignments: list[AssignmentRow] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "camera": self.camera.as_dict(),
            "assignments": [a.as_dict() for a in self.assignments],
            "history": self.history,
            "events": self.events,
        }


@dataclass(frozen=True)
class DockRow:
    """A dock and how many cameras call it home."""

    id: str
    precinct: str
    location: str
    ports: int
    cameras: int

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "dock": self.id,
            "precinct": self.precinct,
            "location": self.location,
            "ports": self.ports,
            "cameras": self.cameras,
        }


def list_cameras(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    status: str | None = None,
    battery_lot: str | None = None,
    model: str | None = None,
    firmware: str | None = None,
    dock: str | None = None,
) -> list[CameraRow]:
    """The cameras (by serial), filtered by any of the given fields, with their holders."""
    require(factory, actor, Permission.FLEET_VIEW, "see the camera fleet")
    stmt = select(Camera).order_by(Camera.serial)
    for column, value in (
        (Camera.status, status),
        (Camera.battery_lot, battery_lot),
        (Camera.model, model),
        (Camera.firmware_version, firmware),
        (Camera.dock_id, dock),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    with factory() as s:
        cams = list(s.scalars(stmt))
        holders = holders_of(s, cams)
        return [CameraRow.of(c, holders[c.id]) for c in cams]


def list_docks(factory: sessionmaker[Session], actor: Actor) -> list[DockRow]:
    """Every dock (by precinct and id) with the number of cameras whose home it is."""
    require(factory, actor, Permission.FLEET_VIEW, "see the docks")
    with factory() as s:
        grouped = s.execute(select(Camera.dock_id, func.count()).group_by(Camera.dock_id))
        counts = {dock: n for dock, n in grouped}
        return [
            DockRow(d.id, d.precinct, d.location, d.ports, counts.get(d.id, 0))
            for d in s.scalars(select(Dock).order_by(Dock.precinct, Dock.id))
        ]


def _assignment_rows(s: Session, cam: Camera) -> list[AssignmentRow]:
    rows = s.execute(
        select(Assignment, User.badge, User.username)
        .join(User, User.id == Assignment.officer_id)
        .where(Assignment.camera_id == cam.id)
        .order_by(Assignment.started_at)
    )
    return [
        AssignmentRow(
            cam.serial, badge, username, a.kind, a.dock_id, a.started_at, a.ended_at, a.note
        )
        for a, badge, username in rows
    ]


def camera_detail(
    factory: sessionmaker[Session], actor: Actor, serial: str, *, events: int = 20
) -> CameraDetail:
    """One camera with its holder, every assignment, its whole history and last events."""
    require(factory, actor, Permission.FLEET_VIEW, "see the camera fleet", serial)
    with factory() as s:
        cam = find_camera(s, serial)
        detail = CameraDetail(CameraRow.of(cam, holders_of(s, [cam])[cam.id]))
        detail.assignments = _assignment_rows(s, cam)
        users = {uid: name for uid, name in s.execute(select(User.id, User.username))}
        for h in s.scalars(
            select(FleetHistory)
            .where(FleetHistory.object_type == "camera", FleetHistory.object_id == cam.id)
            .order_by(FleetHistory.at, FleetHistory.id)
        ):
            detail.history.append(
                {
                    "at": h.at.isoformat(),
                    "user": users.get(h.user_id, h.user_id),
                    "change": h.change,
                    "field": h.field,
                    "old": h.old_value,
                    "new": h.new_value,
                    "source": h.source,
                }
            )
        latest = s.scalars(
            select(DeviceEvent)
            .where(DeviceEvent.camera_id == cam.id)
            .order_by(DeviceEvent.at.desc(), DeviceEvent.id.desc())
            .limit(events)
        )
        for ev in reversed(list(latest)):
            detail.events.append(
                {
                    "at": ev.at.isoformat(),
                    "event": ev.kind,
                    "dock": ev.dock_id,
                    "battery": ev.battery_pct,
                    "firmware": ev.firmware,
                    "sha256": ev.sha256,
                }
            )
        return detail


def assign_camera(
    factory: sessionmaker[Session],
    actor: Actor,
    serial: str,
    badge: str,
    *,
    kind: str = AssignmentKind.PERSONAL.value,
    dock: str | None = None,
    at: datetime | None = None,
    note: str = "",
) -> AssignmentRow:
    """Issue a camera to an officer (``personal``) or check it out of a pool (``pool``).

    A pool checkout names its pool (``dock``, default the camera's home dock). Refused
    when the camera is held already, is recalled, retired or in repair, or ``at`` is
    before the end of its last assignment. A spare camera becomes in service.
    """
    require(factory, actor, Permission.FLEET_MANAGE, "issue cameras", serial)
    if kind not in (AssignmentKind.PERSONAL.value, AssignmentKind.POOL.value):
        raise FleetError(f"The kind must be personal or pool, not {kind!r}.")
    when = at or utcnow()
    try:
        with transaction(factory) as s:
            cam = find_camera(s, serial)
            officer = find_officer(s, badge)
            if cam.status not in (CameraStatus.SPARE.value, CameraStatus.IN_SERVICE.value):
                raise FleetError(f"Camera {cam.serial} is {cam.status}; it cannot be issued.")
            held = open_assignment_of(s, cam.id)
            if held is not None:
                holder = holders_of(s, [cam])[cam.id]
                raise FleetError(f"Camera {cam.serial} is held by {holder}; return it first.")
            last = s.scalar(
                select(func.max(Assignment.ended_at)).where(Assignment.camera_id == cam.id)
            )
            if last is not None and when < last:
                raise FleetError(
                    f"Camera {cam.serial} was assigned until {last.isoformat()}; "
                    f"{when.isoformat()} is earlier."
                )
            pool = dock if dock is not None else cam.dock_id
            if kind == AssignmentKind.POOL.value and pool is None:
                raise FleetError(f"Name the pool (--dock) camera {cam.serial} is checked out of.")
            if pool is not None:
                pool = find_dock(s, pool).id
            pool = pool if kind == AssignmentKind.POOL.value else dock
            s.add(
                Assignment(
                    camera_id=cam.id,
                    officer_id=officer.id,
                    kind=kind,
                    dock_id=pool,
                    started_at=when,
                    open_camera=cam.id,
                    note=note.strip(),
                    created_by=actor.user_id,
                )
            )
            log = History(s, actor)
            held_by = {"badge": officer.badge, "kind": kind, "dock": pool}
            log(cam.id, "assigned", "holder", None, held_by | {"start": when.isoformat()})
            if cam.status == CameraStatus.SPARE.value:
                log(cam.id, "updated", "status", cam.status, CameraStatus.IN_SERVICE.value)
                cam.status, cam.updated_at = CameraStatus.IN_SERVICE.value, utcnow()
            s.flush()
            details = {"serial": cam.serial, **held_by, "at": when}
            record(s, actor, AuditAction.FLEET_CAMERA_ASSIGN, "fleet_camera", cam.id, details)
            return next(r for r in _assignment_rows(s, cam) if r.ended_at is None)
    except IntegrityError:
        raise FleetError(f"Camera {serial} was just issued by someone else.") from None


def return_camera(
    factory: sessionmaker[Session],
    actor: Actor,
    serial: str,
    *,
    at: datetime | None = None,
    dock: str | None = None,
) -> AssignmentRow:
    """End the camera's open assignment (returned to the equipment unit or its pool).

    ``dock`` also makes that dock the camera's home. Refused when nobody holds it or
    ``at`` is before the assignment began.
    """
    require(factory, actor, Permission.FLEET_MANAGE, "return cameras", serial)
    when = at or utcnow()
    with transaction(factory) as s:
        cam = find_camera(s, serial)
        current = open_assignment_of(s, cam.id)
        if current is None:
            raise FleetError(f"Camera {cam.serial} is not issued to anyone.")
        if when < current.started_at:
            raise FleetError(
                f"Camera {cam.serial} was issued at {current.started_at.isoformat()}; "
                f"{when.isoformat()} is earlier."
            )
        officer = s.get(User, current.officer_id)
        log = History(s, actor)
        end_assignment(log, current, when, officer.badge if officer else None)
        if dock is not None:
            home = find_dock(s, dock).id
            if home != cam.dock_id:
                log(cam.id, "updated", "dock_id", cam.dock_id, home)
                cam.dock_id, cam.updated_at = home, utcnow()
        s.flush()
        details = {"serial": cam.serial, "badge": officer.badge if officer else None, "at": when}
        record(s, actor, AuditAction.FLEET_CAMERA_RETURN, "fleet_camera", cam.id, details)
        return next(r for r in _assignment_rows(s, cam) if r.started_at == current.started_at)


def _value(name: str, raw: Any) -> Any:
    """A field's new value checked; `FleetError` names what is wrong."""
    if name in ("purchase_date", "warranty_end"):
        if raw is None or raw == "":
            return None
        if isinstance(raw, date):
            return raw
        try:
            return parse_date(str(raw))
        except ValueError as exc:
            raise FleetError(f"The {name.replace('_', ' ')} {exc}.") from None
    text = "" if raw is None else str(raw).strip()
    if name == "status":
        if text == CameraStatus.RECALLED.value:
            raise FleetError("A camera is recalled by a recall (bodycam fleet recall create).")
        if text not in _SETTABLE:
            raise FleetError(
                f"The status must be one of {', '.join(s.value for s in _SETTABLE)}, not {text!r}."
            )
        return text
    if name == "model" and not text:
        raise FleetError("The model cannot be blank.")
    limit = _LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise FleetError(f"The {name.replace('_', ' ')} is longer than {limit} characters.")
    return (text or None) if name == "dock" else text


def update_camera(
    factory: sessionmaker[Session], actor: Actor, serial: str, changes: dict[str, Any]
) -> CameraRow:
    """Change a camera's fields (`EDITABLE`); one history row per change, audited.

    A recalled camera's status changes only through its recall. Retiring a camera that
    somebody holds is refused (return it first). A new firmware updates its rollouts.
    """
    require(factory, actor, Permission.FLEET_MANAGE, "edit cameras", serial)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise FleetError(f"These camera fields cannot be changed: {', '.join(unknown)}.")
    if not changes:
        raise FleetError("Nothing to change.")
    values = {name: _value(name, raw) for name, raw in changes.items()}
    with transaction(factory) as s:
        cam = find_camera(s, serial)
        if "dock" in values and values["dock"] is not None:
            values["dock"] = find_dock(s, values["dock"]).id
        if "status" in values and values["status"] != cam.status:
            if cam.status == CameraStatus.RECALLED.value:
                raise FleetError(
                    f"Camera {cam.serial} is recalled; resolve it with bodycam fleet recall "
                    "resolve."
                )
            if values["status"] == CameraStatus.RETIRED.value and open_assignment_of(s, cam.id):
                raise FleetError(f"Camera {cam.serial} is issued; return it before retiring it.")
        bought = values.get("purchase_date", cam.purchase_date)
        ends = values.get("warranty_end", cam.warranty_end)
        if bought is not None and ends is not None and ends < bought:
            raise FleetError(f"The warranty end {ends} is before the purchase date {bought}.")
        log = History(s, actor)
        changed: dict[str, Any] = {}
        for name, new in values.items():
            attr = _ATTR.get(name, name)
            old = getattr(cam, attr)
            if old != new:
                log(cam.id, "updated", attr, old, new)
                setattr(cam, attr, new)
                changed[name] = {"old": jsonable(old), "new": jsonable(new)}
        if changed:
            cam.updated_at = utcnow()
            if "firmware" in changed:
                sync_rollouts(log, cam)
            s.flush()
            details = {"serial": cam.serial, "changes": changed}
            record(s, actor, AuditAction.FLEET_CAMERA_UPDATE, "fleet_camera", cam.id, details)
        return CameraRow.of(cam, holders_of(s, [cam])[cam.id])
