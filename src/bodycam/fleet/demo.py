"""The demo department's fleet: docks, cameras of two battery lots, dock logs, a recall.

Built from what the demo already holds: each officer's camera (the serial on their
recordings) is issued to them, and each day they recorded becomes a shift in a dock
log (undock, power, recording, battery, dock, upload of each recording). The second
battery lot drains faster, some uploads wait until the next day, and that lot is
recalled, with a few cameras already returned, one replaced by a spare and one
cleared. Everything goes through the same files and services as real data, as the
equipment unit, so the audit log and the history show it. Running it again reuses
what exists.
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.auth.actor import Actor
from bodycam.auth.models import Squad, User
from bodycam.evidence.models import Recording
from bodycam.fleet import events, imports, recalls
from bodycam.fleet.models import Camera
from bodycam.ids import utcnow

LOTS = ("LOT-2025-07", "LOT-2025-09")
RECALLED_LOT = LOTS[1]
SPARES = 4


@dataclass(frozen=True)
class DemoFleet:
    """What was built, for the demo's summary line."""

    cameras: int
    docks: int
    events: int
    recall_id: str
    outstanding: int


def _write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def _officers(s: Session) -> list[tuple[User, str, str]]:
    """Each officer with a camera on their recordings: (user, serial, precinct)."""
    rows = s.execute(
        select(User, Recording.camera_serial, Squad.precinct)
        .join(Recording, Recording.officer_id == User.id)
        .outerjoin(Squad, Squad.id == User.squad_id)
        .where(Recording.camera_serial.is_not(None), User.badge.is_not(None))
        .distinct()
        .order_by(User.badge)
    )
    seen: set[str] = set()
    out = []
    for user, serial, precinct in rows:
        if serial and serial not in seen:
            seen.add(serial)
            out.append((user, serial, precinct or "North"))
    return out


def _shifts(s: Session, rnd: random.Random, lot_of: dict[str, str]) -> list[dict[str, Any]]:
    """A dock log from the recordings: one shift per camera and day it recorded."""
    days: dict[tuple[str, str], list[Recording]] = defaultdict(list)
    for rec in s.scalars(select(Recording).where(Recording.camera_serial.in_(list(lot_of)))):
        assert rec.camera_serial is not None
        days[(rec.camera_serial, rec.recorded_start.date().isoformat())].append(rec)
    log: list[dict[str, Any]] = []

    def ev(serial: str, kind: str, at: datetime, **more: Any) -> None:
        log.append({"camera": serial, "event": kind, "at": at.isoformat(), **more})

    for (serial, _), recs in sorted(days.items()):
        recs.sort(key=lambda r: r.recorded_start)
        dock = lot_of[serial].split("|")[1]
        weak = lot_of[serial].startswith(RECALLED_LOT)
        out = recs[0].recorded_start - timedelta(minutes=rnd.randrange(30, 90))
        back = recs[-1].recorded_end + timedelta(minutes=rnd.randrange(30, 90))
        final = rnd.randrange(4, 30) if weak else rnd.randrange(25, 60)
        span = (back - out).total_seconds() or 1.0
        ev(serial, "undock", out, dock=dock, battery=100, firmware="2.4.1")
        ev(serial, "power_on", out + timedelta(minutes=1))
        for rec in recs:
            level = round(100 - (100 - final) * (rec.recorded_start - out).total_seconds() / span)
            ev(serial, "record_start", rec.recorded_start, battery=max(final, level))
            ev(serial, "record_stop", rec.recorded_end)
        if rnd.random() < 0.3:  # switched off for a while in the field
            mid = out + (back - out) / 2
            ev(serial, "power_off", mid)
            ev(serial, "power_on", mid + timedelta(minutes=rnd.randrange(20, 120)))
        ev(serial, "power_off", back - timedelta(minutes=2))
        ev(serial, "dock", back, dock=dock, battery=final)
        late = rnd.random() < 0.1  # the dock's network was down until the next day
        for i, rec in enumerate(recs):
            when = back + timedelta(hours=14 if late else 0, minutes=5 + i)
            ev(serial, "upload", when, dock=dock, sha256=rec.sha256)
    return log


def build_fleet(
    factory: sessionmaker[Session], equipment: Actor, folder: Path, seed: int = 7
) -> DemoFleet | None:
    """Build the demo fleet under ``folder`` as ``equipment``; None if one exists."""
    with factory() as s:
        if s.scalar(select(func.count()).select_from(Camera)):
            return None
        officers = _officers(s)
    if not officers:
        return None
    rnd = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret  # nosec B311
    folder.mkdir(parents=True, exist_ok=True)
    precincts = sorted({p for _, _, p in officers})
    docks = {p: f"{p[0].upper()}-01" for p in precincts}
    dock_rows: list[list[Any]] = [["dock", "precinct", "ports", "location"]]
    dock_rows += [[d, p, 24, f"{p} station, equipment room"] for p, d in docks.items()]
    header = ["serial", "model", "hardware_revision", "battery_lot", "firmware"]
    header += ["purchase_date", "warranty_end", "status", "dock"]
    cameras: list[list[Any]] = [header]
    lot_of: dict[str, str] = {}
    for i, (_, serial, precinct) in enumerate(officers):
        lot = LOTS[i % 2]
        lot_of[serial] = f"{lot}|{docks[precinct]}"
        cameras.append(
            [
                serial,
                "AX-3",
                "B",
                lot,
                "2.4.1",
                "2025-01-10",
                "2028-01-10",
                "spare",
                docks[precinct],
            ]
        )
    for n in range(1, SPARES + 1):
        dock = docks[precincts[n % len(precincts)]]
        cameras.append(
            [
                f"BWC-SPARE-{n}",
                "AX-3",
                "C",
                LOTS[0],
                "2.4.1",
                "2025-06-01",
                "2028-06-01",
                "spare",
                dock,
            ]
        )
    with factory() as s:
        first = {
            serial: s.scalar(
                select(func.min(Recording.recorded_start)).where(Recording.camera_serial == serial)
            )
            for _, serial, _ in officers
        }
    issued: list[list[Any]] = [["serial", "badge", "kind", "start", "end", "dock", "note"]]
    for user, serial, _ in officers:
        start = (first[serial] or utcnow()) - timedelta(days=2)
        issued.append([serial, user.badge, "personal", start.isoformat(), "", "", "demo issue"])
    imports.import_docks(factory, equipment, _write_csv(folder / "docks.csv", dock_rows))
    imports.import_cameras(factory, equipment, _write_csv(folder / "cameras.csv", cameras))
    imports.import_assignments(factory, equipment, _write_csv(folder / "assignments.csv", issued))
    with factory() as s:
        log = _shifts(s, rnd, lot_of)
    log_path = folder / "dock-log.jsonl"
    log_path.write_text("".join(json.dumps(e) + "\n" for e in log), encoding="utf-8")
    stored = events.import_dock_log(factory, equipment, log_path).report["stored"]
    view = recalls.create_recall(
        factory,
        equipment,
        battery_lot=RECALLED_LOT,
        reason="Vendor notice (demo): cells of this lot may swell; pull them from service",
    )
    serials = [i.serial for i in view.items]
    for serial in serials[:3]:
        recalls.resolve_recall(factory, equipment, view.id, serial, "returned")
    if len(serials) > 4:
        recalls.resolve_recall(
            factory, equipment, view.id, serials[3], "replaced", replacement="BWC-SPARE-1"
        )
        recalls.resolve_recall(
            factory,
            equipment,
            view.id,
            serials[4],
            "cleared",
            note="cells outside the affected range",
        )
    if len(serials) > 5:  # a recalled camera still docked and uploading: flagged
        late = [{"camera": serials[5], "event": "upload", "at": utcnow().isoformat()}]
        events.ingest_events(factory, equipment, late)
    shown = recalls.show_campaign(factory, equipment, view.id)
    return DemoFleet(
        len(cameras) - 1, len(docks), stored, view.id, shown.counts.get("outstanding", 0)
    )
