"""The demo fleet: built from the recordings through the real imports, once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bodycam.db import transaction
from bodycam.evidence.models import UNCATEGORIZED, Category, Recording
from bodycam.fleet import recalls, reports
from bodycam.fleet.demo import build_fleet
from bodycam.fleet.models import Assignment, Camera, DeviceEvent


def test_build_fleet_from_the_recordings(ctx, dept, tmp_path):
    start = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    with transaction(ctx.sessions) as s:
        cat = s.scalars(select(Category.id).where(Category.name == UNCATEGORIZED)).one()
        for n, (name, serial) in enumerate(
            [("o1", "BWC-1"), ("o2", "BWC-2"), ("o3", "BWC-3"), ("o1", "BWC-1")]
        ):
            at = start + timedelta(days=n % 2, hours=n)
            s.add(
                Recording(
                    sha256=hashlib.sha256(f"demo {n}".encode()).hexdigest(), size_bytes=1,
                    original_filename="x.mp4", officer_id=dept.users[name].id,
                    camera_serial=serial, category_id=cat, recorded_start=at,
                    recorded_end=at + timedelta(minutes=5), ingested_by=dept.users[name].id,
                    container="mp4", video_codec="h264", duration_s=300.0, width=64,
                    height=64, fps=30.0, has_audio=False, frame_count=1,
                )
            )  # fmt: skip
    eq = dept.actor("equipment")
    built = build_fleet(ctx.sessions, eq, tmp_path / "fleet")
    assert built is not None
    assert (built.cameras, built.docks) == (3 + 4, 1)
    assert build_fleet(ctx.sessions, eq, tmp_path / "fleet") is None  # once
    with ctx.sessions() as s:
        lots = dict(s.execute(select(Camera.serial, Camera.battery_lot)).all())
        # BWC-2 was returned in the recall: its assignment ended.
        assert s.scalar(select(func.count()).where(Assignment.ended_at.is_(None))) == 2
        assert s.scalar(select(func.count()).select_from(DeviceEvent)) == built.events > 0
    assert lots["BWC-1"] == "LOT-2025-07" and lots["BWC-2"] == "LOT-2025-09"
    view = recalls.show_campaign(ctx.sessions, eq, built.recall_id, everything=True)
    assert [(i.serial, i.status) for i in view.items] == [("BWC-2", "returned")]
    battery = reports.battery_by_lot(
        ctx.sessions, eq, start=start - timedelta(days=1), end=start + timedelta(days=3)
    )
    assert sum(b.shifts for b in battery) == 4  # BWC-1 on two days, BWC-2 and BWC-3 once
    uploads = reports.late_uploads(
        ctx.sessions, eq, start=start - timedelta(days=1), end=start + timedelta(days=3)
    )
    assert uploads.matched == 4
