"""Each fleet report on a small set of events whose answer is worked out by hand."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bodycam.db import transaction
from bodycam.evidence.models import UNCATEGORIZED, Category, Recording
from bodycam.fleet import events, inventory, reports
from bodycam.fleet.common import FleetError
from tests.fleet.conftest import Fleet

D = datetime(2026, 3, 1, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> str:
    return (D + timedelta(days=day - 1, hours=hour, minutes=minute)).isoformat()


def send(fleet: Fleet, *items: dict) -> None:
    events.ingest_events(fleet.ctx.sessions, fleet.eq, list(items))


def ev(camera: str, kind: str, when: str, **more) -> dict:
    return {"camera": camera, "event": kind, "at": when, **more}


def test_not_docked_for_n_days(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    for serial, badge in (("CAM-1", "1001"), ("CAM-2", "1002"), ("CAM-3", "2001")):
        inventory.assign_camera(ctx.sessions, eq, serial, badge, at=D)
    send(
        fleet,
        ev("CAM-1", "dock", at(9, 0), dock="N-01"),
        ev("CAM-1", "dock", at(11, 0), dock="N-01"),  # after the report's time: not seen
        ev("CAM-2", "dock", at(1, 0), dock="S-01"),
        ev("CAM-3", "undock", at(2, 0)),
    )
    now = D + timedelta(days=9)  # 2026-03-10T00:00Z
    rows = reports.not_docked(ctx.sessions, eq, 3, now=now)
    assert [(r.serial, r.days, r.dock) for r in rows] == [
        ("CAM-3", None, None),
        ("CAM-2", 9.0, "S-01"),
    ]
    assert rows[0].holder == "officer 2001 (o3)" and rows[1].last_dock == D
    everyone = reports.not_docked(ctx.sessions, eq, 3, now=now, status=None)
    assert [r.serial for r in everyone] == ["CAM-3", "CAM-4", "CAM-2"]  # CAM-4 is a spare
    assert [r.serial for r in reports.not_docked(ctx.sessions, eq, 0.5, now=now)] == [
        "CAM-3",
        "CAM-2",
        "CAM-1",
    ]
    with pytest.raises(FleetError, match="negative"):
        reports.not_docked(ctx.sessions, eq, -1)


def _recording(fleet: Fleet, name: str, end: datetime) -> str:
    sha = hashlib.sha256(name.encode()).hexdigest()
    with transaction(fleet.ctx.sessions) as s:
        cat = s.scalars(select(Category.id).where(Category.name == UNCATEGORIZED)).one()
        o1 = fleet.dept.users["o1"]
        s.add(
            Recording(
                sha256=sha,
                size_bytes=1,
                original_filename=f"{name}.mp4",
                officer_id=o1.id,
                camera_serial="CAM-1",
                category_id=cat,
                recorded_start=end - timedelta(minutes=10),
                recorded_end=end,
                ingested_by=o1.id,
                container="mp4",
                video_codec="h264",
                duration_s=600.0,
                width=64,
                height=64,
                fps=30.0,
                has_audio=False,
                frame_count=1,
            )
        )
    return sha


def test_uploads_later_than_the_end_of_the_shift(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    end = D + timedelta(days=1, hours=10)  # 2026-03-02T10:00Z
    r1, r2, r3 = (_recording(fleet, n, end) for n in ("r1", "r2", "r3"))
    send(
        fleet,
        ev("CAM-1", "upload", at(2, 20), sha256=r1),  # 10 h after: on time
        ev("CAM-1", "upload", at(3, 0), sha256=r2, dock="N-01"),  # 14 h after: late
        ev("CAM-1", "upload", at(2, 12), sha256=r3),  # 2 h after
        ev("CAM-1", "upload", at(5, 0), sha256=r3),  # a repeat of r3: its first counts
        ev("CAM-1", "upload", at(2, 13), sha256="0" * 64),  # no such recording
        ev("CAM-1", "upload", at(2, 14)),  # the dock did not know the hash
        ev("CAM-1", "upload", at(12, 0), sha256=r2),  # outside the period
    )
    result = reports.late_uploads(ctx.sessions, eq, start=D, end=D + timedelta(days=9))
    assert (result.uploads, result.matched, result.unmatched) == (5, 3, 2)
    assert [(r.recording_id is not None, r.delay_h, r.dock) for r in result.late] == [
        (True, 14.0, "N-01")
    ]
    assert result.rate == pytest.approx(1 / 3)
    strict = reports.late_uploads(
        ctx.sessions, eq, start=D, end=D + timedelta(days=9), shift_grace=timedelta(hours=1)
    )
    assert sorted(r.delay_h for r in strict.late) == [2.0, 10.0, 14.0]


def test_power_cycling_rate(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    send(
        fleet,
        # CAM-1 on 2026-03-03: off dock 08:00-18:00 (10 h), on 08-10 and 12-18 (8 h).
        ev("CAM-1", "undock", at(3, 8)),
        ev("CAM-1", "power_on", at(3, 8)),
        ev("CAM-1", "power_off", at(3, 10)),
        ev("CAM-1", "power_on", at(3, 12)),
        ev("CAM-1", "dock", at(3, 18)),
        ev("CAM-1", "power_off", at(3, 20)),  # docked: not a cycle in the field
        # CAM-2 from 20:00, docking after the period's end: 4 h off dock in it, 2 h on.
        ev("CAM-2", "undock", at(3, 20)),
        ev("CAM-2", "power_on", at(3, 20)),
        ev("CAM-2", "power_off", at(3, 22)),
        ev("CAM-2", "dock", at(4, 4)),
        # CAM-3 undocked the day before: followed from 24 h before the period.
        ev("CAM-3", "undock", at(2, 22)),
        ev("CAM-3", "power_on", at(2, 22)),
        ev("CAM-3", "dock", at(3, 6)),
    )
    rows = reports.power_cycling(
        ctx.sessions, eq, start=D + timedelta(days=2), end=D + timedelta(days=3)
    )
    got = [(r.serial, r.off_dock_h, r.powered_on_h, r.rate, r.power_cycles) for r in rows]
    assert got == [
        ("CAM-2", 4.0, 2.0, 0.5, 1),
        ("CAM-1", 10.0, 8.0, 0.8, 1),
        ("CAM-3", 6.0, 6.0, 1.0, 0),
    ]


def test_battery_health_by_lot(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    send(
        fleet,
        # LOT-A, CAM-1: two shifts, lowest 15 (ends 15: below 20) and 30 (ends 30).
        ev("CAM-1", "undock", at(1, 12), battery=100),
        ev("CAM-1", "battery", at(1, 16), battery=50),
        ev("CAM-1", "dock", at(1, 22), battery=15),
        ev("CAM-1", "undock", at(2, 12), battery=100),
        ev("CAM-1", "battery", at(2, 16), battery=40),
        ev("CAM-1", "dock", at(2, 22), battery=30),
        # LOT-A, CAM-2: a shift without any reading.
        ev("CAM-2", "undock", at(2, 12)),
        ev("CAM-2", "dock", at(2, 22)),
        # LOT-B, CAM-3: lowest 10 (ends 10: below) and 25 (no level at the dock: ends 25).
        ev("CAM-3", "undock", at(3, 12), battery=90),
        ev("CAM-3", "dock", at(3, 20), battery=10),
        ev("CAM-3", "undock", at(4, 12)),
        ev("CAM-3", "battery", at(4, 15), battery=25),
        ev("CAM-3", "dock", at(4, 20)),
        # ... and a shift still open: not counted.
        ev("CAM-3", "undock", at(5, 12)),
        ev("CAM-3", "battery", at(5, 15), battery=5),
    )
    rows = reports.battery_by_lot(ctx.sessions, eq, start=D, end=D + timedelta(days=9))
    got = {
        r.lot: (r.cameras, r.shifts, r.with_readings, r.median_min_pct, r.ending_below, r.share)
        for r in rows
    }
    assert got == {"LOT-A": (2, 3, 2, 22.5, 1, 0.5), "LOT-B": (1, 2, 2, 17.5, 1, 0.5)}
    lot_a = rows[0]
    assert lot_a.share_low == pytest.approx(0.0945, abs=1e-3)
    assert lot_a.share_high == pytest.approx(0.9055, abs=1e-3)
    lenient = reports.battery_by_lot(
        ctx.sessions, eq, start=D, end=D + timedelta(days=9), threshold=12
    )
    assert [r.ending_below for r in lenient] == [0, 1]
