"""Inventory imports from CSV: cameras, docks, assignments. All or nothing, idempotent.

Each import reads the whole file, checks every row (its own values, and what it refers
to: docks, cameras, officers, the camera's other assignments), and stores nothing
when any row has a problem: the report lists each one as line, field and reason, like
the dispatch import (see `bodycam.fleet.importing`). A clean file is stored in one
transaction with one audit record (``fleet:inventory:import``) and one history row per
changed field. Importing the same file again changes nothing (every row is
``unchanged``); a later file updates what it changes. A blank cell leaves the stored
value as it is. The columns are documented in ``docs/fleet.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.fleet.common import end_assignment, parse_date, parse_instant
from bodycam.fleet.csvtable import Problem
from bodycam.fleet.importing import (
    ImportOutcome,
    ImportRun,
    cell_text,
    first_seen,
    in_chunks,
    run_import,
)
from bodycam.fleet.models import Assignment, AssignmentKind, Camera, CameraStatus, Dock
from bodycam.fleet.recalls import sync_rollouts
from bodycam.ids import utcnow

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "CAMERA_COLUMNS",
    "DOCK_COLUMNS",
    "ImportOutcome",
    "import_assignments",
    "import_cameras",
    "import_docks",
]

CAMERA_COLUMNS: dict[str, tuple[str, ...]] = {
    "serial": ("serial_number", "camera", "camera_serial"),
    "model": (),
    "hardware_revision": ("hardware", "revision", "hw_revision"),
    "battery_lot": ("lot",),
    "firmware": ("firmware_version",),
    "purchase_date": ("purchased",),
    "warranty_end": ("warranty", "warranty_until"),
    "status": (),
    "dock": ("home_dock", "pool"),
}
DOCK_COLUMNS: dict[str, tuple[str, ...]] = {
    "dock": ("dock_id", "id"),
    "precinct": (),
    "ports": (),
    "location": (),
}
ASSIGNMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "serial": ("serial_number", "camera", "camera_serial"),
    "badge": ("officer",),
    "kind": (),
    "start": ("started_at", "from"),
    "end": ("ended_at", "to"),
    "dock": ("pool",),
    "note": (),
}
_IMPORT_STATUSES = [s.value for s in CameraStatus if s != CameraStatus.RECALLED]
_CAMERA_ATTR = {"firmware": "firmware_version", "dock": "dock_id"}


# --- cameras ---------------------------------------------------------------------------------


def import_cameras(factory: sessionmaker[Session], actor: Actor, path: Path) -> ImportOutcome:
    """Create or update cameras from a CSV file (`fleet:inventory:manage`; see module)."""
    return run_import(
        factory, actor, "cameras", path, CAMERA_COLUMNS, {"serial", "model"}, _apply_cameras
    )


def _camera_values(
    line: int, v: dict[str, str], docks: set[str], problems: list[Problem]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("model", "hardware_revision", "battery_lot", "firmware"):
        text = cell_text(v, name, line, problems)
        if text is not None:
            values[name] = text
    if "model" not in values and not any(p.field == "model" for p in problems if p.line == line):
        problems.append(Problem(line, "model", "is blank"))
    for name in ("purchase_date", "warranty_end"):
        if v.get(name):
            try:
                values[name] = parse_date(v[name])
            except ValueError as exc:
                problems.append(Problem(line, name, str(exc)))
    bought, ends = values.get("purchase_date"), values.get("warranty_end")
    if isinstance(bought, date) and isinstance(ends, date) and ends < bought:
        problems.append(Problem(line, "warranty_end", f"{ends} is before the purchase {bought}"))
    status = v.get("status", "").lower().replace(" ", "_")
    if status == CameraStatus.RECALLED.value:
        problems.append(
            Problem(line, "status", "recalled is set by a recall (bodycam fleet recall create)")
        )
    elif status and status not in _IMPORT_STATUSES:
        problems.append(
            Problem(line, "status", f"{v['status']!r} is not one of {', '.join(_IMPORT_STATUSES)}")
        )
    elif status:
        values["status"] = status
    dock = cell_text(v, "dock", line, problems)
    if dock is not None:
        if dock in docks:
            values["dock"] = dock
        else:
            problems.append(Problem(line, "dock", f"there is no dock {dock} (import docks first)"))
    return values


def _apply_cameras(s: Session, run: ImportRun) -> None:
    docks = set(s.scalars(select(Dock.id)))
    seen: dict[str, int] = {}
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for line, v in run.table.rows:
        serial = cell_text(v, "serial", line, run.problems)
        if serial is None:
            if not v.get("serial"):
                run.problems.append(Problem(line, "serial", "is blank"))
            continue
        if not first_seen(seen, serial, line, "serial", run.problems):
            continue
        rows.append((line, serial, _camera_values(line, v, docks, run.problems)))
    existing = {c.serial: c for c in in_chunks(s, Camera.serial, list(seen), Camera)}
    retiring = [
        (line, existing[serial])
        for line, serial, values in rows
        if values.get("status") == CameraStatus.RETIRED.value and serial in existing
    ]
    held = set(
        s.scalars(
            select(Assignment.open_camera).where(
                Assignment.open_camera.in_([c.id for _, c in retiring])
            )
        )
    )
    for line, cam in retiring:
        if cam.id in held and cam.status != CameraStatus.RETIRED.value:
            run.problems.append(
                Problem(
                    line, "status", f"camera {cam.serial} is issued; return it before retiring it"
                )
            )
    if run.problems:
        return
    for line, serial, values in rows:
        cam = existing.get(serial)
        attrs = {_CAMERA_ATTR.get(k, k): val for k, val in values.items()}
        if cam is None:
            attrs.setdefault("status", CameraStatus.SPARE.value)
            cam = Camera(serial=serial, **attrs)
            s.add(cam)
            s.flush()
            shown = dict(attrs) | {"status": cam.status}
            run.log(cam.id, "created", new=shown)
            run.created += 1
            continue
        if cam.status == CameraStatus.RECALLED.value and attrs.get("status", cam.status) != (
            CameraStatus.RECALLED.value
        ):
            run.warnings.append(
                f"line {line}: camera {serial} is recalled; its status stays recalled until "
                "its recall is resolved"
            )
            attrs.pop("status")
        changed = {k: val for k, val in attrs.items() if getattr(cam, k) != val}
        if not changed:
            run.unchanged += 1
            continue
        for k, val in changed.items():
            run.log(cam.id, "updated", k, getattr(cam, k), val)
            setattr(cam, k, val)
        cam.updated_at = utcnow()
        if "firmware_version" in changed:
            sync_rollouts(run.log, cam)
        run.updated += 1


# --- docks -----------------------------------------------------------------------------------


def import_docks(factory: sessionmaker[Session], actor: Actor, path: Path) -> ImportOutcome:
    """Create or update docks from a CSV file (`fleet:inventory:manage`; see module)."""
    return run_import(
        factory, actor, "docks", path, DOCK_COLUMNS, {"dock", "precinct", "ports"}, _apply_docks
    )


def _apply_docks(s: Session, run: ImportRun) -> None:
    seen: dict[str, int] = {}
    rows: list[tuple[str, dict[str, Any]]] = []
    for line, v in run.table.rows:
        dock = cell_text(v, "dock", line, run.problems)
        if dock is None:
            if not v.get("dock"):
                run.problems.append(Problem(line, "dock", "is blank"))
            continue
        if not first_seen(seen, dock, line, "dock", run.problems):
            continue
        values: dict[str, Any] = {}
        precinct = cell_text(v, "precinct", line, run.problems)
        if precinct is None and not v.get("precinct"):
            run.problems.append(Problem(line, "precinct", "is blank"))
        elif precinct is not None:
            values["precinct"] = precinct
        try:
            ports = int(v.get("ports", ""))
        except ValueError:
            run.problems.append(
                Problem(line, "ports", f"{v.get('ports', '')!r} is not a whole number")
            )
        else:
            if 1 <= ports <= 1000:
                values["ports"] = ports
            else:
                run.problems.append(Problem(line, "ports", f"{ports} is not between 1 and 1000"))
        if v.get("location"):
            values["location"] = v["location"]
        rows.append((dock, values))
    if run.problems:
        return
    existing = {d.id: d for d in in_chunks(s, Dock.id, list(seen), Dock)}
    for dock_id, values in rows:
        dock = existing.get(dock_id)
        if dock is None:
            s.add(Dock(id=dock_id, **values))
            run.log(dock_id, "created", new=values, object_type="dock")
            run.created += 1
            continue
        changed = {k: val for k, val in values.items() if getattr(dock, k) != val}
        if not changed:
            run.unchanged += 1
            continue
        for k, val in changed.items():
            run.log(dock_id, "updated", k, getattr(dock, k), val, object_type="dock")
            setattr(dock, k, val)
        dock.updated_at = utcnow()
        run.updated += 1


# --- assignments -----------------------------------------------------------------------------


@dataclass
class _Interval:
    """One assignment of a camera on its timeline: from the file (line) or stored (row)."""

    start: datetime
    end: datetime | None
    line: int | None = None
    row: Assignment | None = None
    camera: Camera | None = None
    officer: User | None = None
    kind: str = ""
    dock: str | None = None
    note: str = ""


def import_assignments(factory: sessionmaker[Session], actor: Actor, path: Path) -> ImportOutcome:
    """Record camera assignments over time from a CSV file (`fleet:inventory:manage`).

    Each row is one interval of one camera with one officer: a personal issue, or a
    checkout from a pool (``dock``: the pool). A blank end leaves it open. A row is
    invalid when its camera or officer is unknown, it ends before it starts, it overlaps
    another assignment of the same camera (in the file or stored), a second one would be
    open, or it opens an assignment of a camera that is recalled, retired or in repair.
    A stored assignment with the same camera and start is the same assignment: an end
    given for an open one closes it; one that differs otherwise is a problem.
    """
    return run_import(
        factory,
        actor,
        "assignments",
        path,
        ASSIGNMENT_COLUMNS,
        {"serial", "badge", "kind", "start"},
        _apply_assignments,
    )


def _assignment_rows(s: Session, run: ImportRun) -> list[_Interval]:
    rows = run.table.rows
    serials = sorted({v["serial"] for _, v in rows if v.get("serial")})
    badges = sorted({v["badge"] for _, v in rows if v.get("badge")})
    cameras = {c.serial: c for c in in_chunks(s, Camera.serial, serials, Camera)}
    officers = {u.badge: u for u in in_chunks(s, User.badge, badges, User)}
    docks = set(s.scalars(select(Dock.id)))
    kinds = [k.value for k in AssignmentKind]
    out: list[_Interval] = []
    for line, v in rows:
        before = len(run.problems)
        cam = cameras.get(v.get("serial", ""))
        if not v.get("serial"):
            run.problems.append(Problem(line, "serial", "is blank"))
        elif cam is None:
            run.problems.append(Problem(line, "serial", f"there is no camera {v['serial']}"))
        officer = officers.get(v.get("badge", ""))
        if not v.get("badge"):
            run.problems.append(Problem(line, "badge", "is blank"))
        elif officer is None or not officer.active:
            run.problems.append(Problem(line, "badge", f"there is no active officer {v['badge']}"))
        kind = v.get("kind", "").lower()
        if kind not in kinds:
            run.problems.append(
                Problem(line, "kind", f"{v.get('kind', '')!r} is not personal or pool")
            )
        times: dict[str, datetime | None] = {"start": None, "end": None}
        for name in times:
            if v.get(name):
                try:
                    times[name] = parse_instant(v[name])
                except ValueError as exc:
                    run.problems.append(Problem(line, name, str(exc)))
            elif name == "start":
                run.problems.append(Problem(line, "start", "is blank"))
        start, end = times["start"], times["end"]
        if start is not None and end is not None and end <= start:
            run.problems.append(Problem(line, "end", f"{v['end']} is not after the start"))
        dock = v.get("dock") or None
        if dock is not None and dock not in docks:
            run.problems.append(Problem(line, "dock", f"there is no dock {dock}"))
        if kind == AssignmentKind.POOL.value and dock is None:
            run.problems.append(Problem(line, "dock", "is blank; a pool checkout names its pool"))
        if len(run.problems) == before and start is not None:
            out.append(
                _Interval(start, end, line, None, cam, officer, kind, dock, v.get("note", ""))
            )
    return out


def _check_timeline(s: Session, run: ImportRun, rows: list[_Interval]) -> None:
    """Key conflicts, overlaps, two open ones, and opening an unusable camera."""
    by_camera: dict[str, list[_Interval]] = {}
    keys: dict[tuple[str, datetime], _Interval] = {}
    for r in rows:
        assert r.camera is not None
        key = (r.camera.id, r.start)
        if key in keys:
            run.problems.append(
                Problem(r.line or 0, "start", f"repeats camera and start of line {keys[key].line}")
            )
            continue
        keys[key] = r
        by_camera.setdefault(r.camera.id, []).append(r)
    stored = in_chunks(s, Assignment.camera_id, list(by_camera), Assignment)
    for a in stored:
        mine = keys.get((a.camera_id, a.started_at))
        if mine is None:
            by_camera[a.camera_id].append(_Interval(a.started_at, a.ended_at, row=a))
            continue
        mine.row = a
        assert mine.officer is not None
        if a.officer_id != mine.officer.id or a.kind != mine.kind:
            run.problems.append(
                Problem(
                    mine.line or 0,
                    "badge",
                    f"camera {mine.camera.serial if mine.camera else ''} already has an "
                    f"assignment from {a.started_at.isoformat()} to another officer or of "
                    "another kind",
                )
            )
        elif a.ended_at is not None and mine.end != a.ended_at:
            run.problems.append(
                Problem(
                    mine.line or 0,
                    "end",
                    f"the stored assignment from {a.started_at.isoformat()} ended at "
                    f"{a.ended_at.isoformat()}; an import does not change a recorded end",
                )
            )
    for timeline in by_camera.values():
        timeline.sort(key=lambda i: i.start)
        for a, b in pairwise(timeline):
            if a.end is not None and a.end <= b.start:
                continue
            here, other = (b, a) if b.line is not None else (a, b)
            what = (
                f"line {other.line}"
                if other.line is not None
                else f"the stored assignment from {other.start.isoformat()}"
            )
            run.problems.append(
                Problem(here.line or 0, "start", f"overlaps {what} of the same camera")
            )
    unusable = {CameraStatus.RECALLED, CameraStatus.RETIRED, CameraStatus.IN_REPAIR}
    for r in rows:
        cam = r.camera
        if r.end is None and r.row is None and cam is not None and cam.status in unusable:
            run.problems.append(
                Problem(
                    r.line or 0,
                    "serial",
                    f"camera {cam.serial} is {cam.status}; it cannot be assigned",
                )
            )


def _apply_assignments(s: Session, run: ImportRun) -> None:
    rows = _assignment_rows(s, run)
    _check_timeline(s, run, rows)  # the valid rows' conflicts, reported with the rest
    if run.problems:
        return
    now = utcnow()
    # Close what ends first, so a camera's next open assignment never meets its old one.
    for r in rows:
        a = r.row
        if a is None:
            continue
        if r.end == a.ended_at:
            run.unchanged += 1
            continue
        assert r.end is not None  # an open stored one, closed by the file
        end_assignment(run.log, a, r.end, r.officer.badge if r.officer else None)
        run.updated += 1
    s.flush()
    for r in rows:
        if r.row is not None:
            continue
        assert r.camera is not None and r.officer is not None
        cam = r.camera
        s.add(
            Assignment(
                camera_id=cam.id,
                officer_id=r.officer.id,
                kind=r.kind,
                dock_id=r.dock,
                started_at=r.start,
                ended_at=r.end,
                open_camera=cam.id if r.end is None else None,
                note=r.note,
                created_by=run.actor.user_id,
                ended_by=run.actor.user_id if r.end is not None else None,
            )
        )
        held = {
            "badge": r.officer.badge,
            "kind": r.kind,
            "dock": r.dock,
            "start": r.start.isoformat(),
            "end": r.end.isoformat() if r.end else None,
        }
        run.log(cam.id, "assigned", "holder", None, held)
        if r.end is None and cam.status == CameraStatus.SPARE.value:
            run.log(cam.id, "updated", "status", cam.status, CameraStatus.IN_SERVICE.value)
            cam.status, cam.updated_at = CameraStatus.IN_SERVICE.value, now
        run.created += 1
