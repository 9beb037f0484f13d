"""Issuing, checking out and returning cameras; one open assignment; edits with history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.db import transaction
from bodycam.fleet import inventory
from bodycam.fleet.common import FleetError
from bodycam.fleet.models import Assignment
from tests.fleet.conftest import Fleet

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def actions(ctx) -> list[str]:
    with ctx.sessions() as s:
        return list(s.scalars(select(AuditRecord.action).where(AuditRecord.action.like("fleet:%"))))


def test_issue_return_and_pool_checkout_are_kept_as_history(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    issued = inventory.assign_camera(ctx.sessions, eq, "CAM-1", "1001", at=T0)
    assert (issued.badge, issued.kind, issued.ended_at) == ("1001", "personal", None)
    row = inventory.list_cameras(ctx.sessions, eq, status="in_service")[0]
    assert row.serial == "CAM-1" and str(row.holder) == "officer 1001 (o1)"
    back = inventory.return_camera(ctx.sessions, eq, "CAM-1", at=T0 + timedelta(days=2))
    assert back.ended_at == T0 + timedelta(days=2)
    pool = inventory.assign_camera(
        ctx.sessions, eq, "CAM-1", "2001", kind="pool", at=T0 + timedelta(days=3)
    )
    assert (pool.kind, pool.dock) == ("pool", "N-01")  # its home dock is the pool
    holder = inventory.camera_detail(ctx.sessions, eq, "CAM-1").camera.holder
    assert str(holder) == "officer 2001 (o3), from pool N-01"
    inventory.return_camera(ctx.sessions, eq, "CAM-1", at=T0 + timedelta(days=3, hours=10))
    detail = inventory.camera_detail(ctx.sessions, eq, "CAM-1")
    assert str(detail.camera.holder) == "dock N-01 (North)"
    assert [(a.badge, a.kind) for a in detail.assignments] == [
        ("1001", "personal"),
        ("2001", "pool"),
    ]
    changes = [(h["change"], h["field"]) for h in detail.history]
    assert changes == [
        ("created", ""),
        ("assigned", "holder"),
        ("updated", "status"),  # spare -> in_service
        ("returned", "holder"),
        ("assigned", "holder"),
        ("returned", "holder"),
    ]
    assert actions(ctx).count("fleet:camera:assign") == 2
    assert actions(ctx).count("fleet:camera:return") == 2


def test_no_two_open_assignments(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    inventory.assign_camera(ctx.sessions, eq, "CAM-2", "1001", at=T0)
    with pytest.raises(FleetError, match="held by officer 1001"):
        inventory.assign_camera(ctx.sessions, eq, "CAM-2", "1002", at=T0 + timedelta(hours=1))
    # The database refuses a second open assignment even when the check is bypassed.
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), transaction(ctx.sessions) as s:
        first = s.scalars(select(Assignment)).one()
        s.add(
            Assignment(
                camera_id=first.camera_id,
                officer_id=first.officer_id,
                kind="personal",
                started_at=T0 + timedelta(days=1),
                open_camera=first.camera_id,
                created_by=first.created_by,
            )
        )
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Assignment)) == 1


def test_assignment_refusals(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    with pytest.raises(FleetError, match="no camera with serial NOPE"):
        inventory.assign_camera(ctx.sessions, eq, "NOPE", "1001")
    with pytest.raises(FleetError, match="no active officer with badge 7777"):
        inventory.assign_camera(ctx.sessions, eq, "CAM-1", "7777")
    with pytest.raises(FleetError, match="not issued to anyone"):
        inventory.return_camera(ctx.sessions, eq, "CAM-1")
    inventory.assign_camera(ctx.sessions, eq, "CAM-1", "1001", at=T0)
    with pytest.raises(FleetError, match="is earlier"):
        inventory.return_camera(ctx.sessions, eq, "CAM-1", at=T0 - timedelta(hours=1))
    inventory.return_camera(ctx.sessions, eq, "CAM-1", at=T0 + timedelta(hours=8))
    with pytest.raises(FleetError, match="is earlier"):
        inventory.assign_camera(ctx.sessions, eq, "CAM-1", "1002", at=T0 + timedelta(hours=1))
    inventory.update_camera(ctx.sessions, eq, "CAM-2", {"status": "in_repair"})
    with pytest.raises(FleetError, match="in_repair; it cannot be issued"):
        inventory.assign_camera(ctx.sessions, eq, "CAM-2", "1001")


def test_update_camera_keeps_each_change(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    row = inventory.update_camera(
        ctx.sessions, eq, "CAM-3", {"battery_lot": "LOT-C", "warranty_end": "2029-01-01"}
    )
    assert (row.battery_lot, str(row.warranty_end)) == ("LOT-C", "2029-01-01")
    history = inventory.camera_detail(ctx.sessions, eq, "CAM-3").history
    assert [(h["field"], h["old"], h["new"]) for h in history[1:]] == [
        ("battery_lot", "LOT-B", "LOT-C"),
        ("warranty_end", "2028-06-01", "2029-01-01"),
    ]
    assert actions(ctx).count("fleet:camera:update") == 1
    with pytest.raises(FleetError, match="status must be one of"):
        inventory.update_camera(ctx.sessions, eq, "CAM-3", {"status": "lost"})
    with pytest.raises(FleetError, match="recalled by a recall"):
        inventory.update_camera(ctx.sessions, eq, "CAM-3", {"status": "recalled"})
    with pytest.raises(FleetError, match="cannot be changed: serial"):
        inventory.update_camera(ctx.sessions, eq, "CAM-3", {"serial": "X"})
    with pytest.raises(FleetError, match="before the purchase date"):
        inventory.update_camera(ctx.sessions, eq, "CAM-3", {"warranty_end": "2020-01-01"})


def test_docks_list_with_camera_counts(fleet: Fleet):
    rows = inventory.list_docks(fleet.ctx.sessions, fleet.eq)
    assert [(d.id, d.precinct, d.cameras) for d in rows] == [
        ("N-01", "North", 2),
        ("S-01", "South", 2),
    ]


def test_the_fleet_is_read_by_its_viewers_only(fleet: Fleet):
    from bodycam.auth.actor import PermissionDenied

    for name in ("auditor", "admin", "equipment"):
        assert len(inventory.list_cameras(fleet.ctx.sessions, fleet.dept.actor(name))) == 4
    for name in ("o1", "sgt_a", "clerk", "analyst", "external"):
        with pytest.raises(PermissionDenied):
            inventory.list_cameras(fleet.ctx.sessions, fleet.dept.actor(name))
