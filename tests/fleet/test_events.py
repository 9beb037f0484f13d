"""Dock logs: the format's rules, all or nothing, each event stored once, firmware reports."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bodycam.fleet import events, inventory
from bodycam.fleet.common import FleetImportError
from bodycam.fleet.models import Camera, DeviceEvent
from tests.fleet.conftest import Fleet

GOOD = [
    {"camera": "CAM-1", "event": "undock", "at": "2026-03-01T07:00:00-05:00", "dock": "N-01",
     "battery": 100, "firmware": "1.0"},
    {"camera": "CAM-1", "event": "power_on", "at": "2026-03-01T12:01:00Z"},
    {"camera": "CAM-1", "event": "battery", "at": "2026-03-01T15:00:00Z", "battery": 61},
    {"camera": "CAM-1", "event": "record_start", "at": "2026-03-01T15:10:00Z"},
    {"camera": "CAM-1", "event": "record_stop", "at": "2026-03-01T15:20:00Z"},
    {"camera": "CAM-1", "event": "power_off", "at": "2026-03-01T23:59:00Z"},
    {"camera": "CAM-1", "event": "dock", "at": "2026-03-02T00:00:00Z", "dock": "N-01",
     "battery": 35},
    {"camera": "CAM-1", "event": "upload", "at": "2026-03-02T00:20:00Z", "dock": "N-01",
     "sha256": "AB" * 32},
]  # fmt: skip


def stored(ctx) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(DeviceEvent)) or 0


def test_a_dock_log_is_stored_and_reimporting_it_stores_nothing(fleet: Fleet):
    ctx = fleet.ctx
    path = fleet.log("dock.jsonl", [*GOOD[:4], "", *GOOD[4:]])  # a blank line is no event
    first = events.import_dock_log(ctx.sessions, fleet.eq, path).report
    assert (first["rows"], first["valid"], first["stored"], first["duplicates"]) == (8, 8, 8, 0)
    assert first["imported"] and first["invalid"] == []
    with ctx.sessions() as s:
        undock = s.scalars(select(DeviceEvent).where(DeviceEvent.kind == "undock")).one()
        upload = s.scalars(select(DeviceEvent).where(DeviceEvent.kind == "upload")).one()
    assert undock.at.isoformat() == "2026-03-01T12:00:00+00:00"  # stored in UTC
    assert (undock.dock_id, undock.battery_pct, undock.firmware) == ("N-01", 100, "1.0")
    assert upload.sha256 == "ab" * 32
    again = events.import_dock_log(ctx.sessions, fleet.eq, path).report
    assert (again["stored"], again["duplicates"]) == (0, 8)
    assert stored(ctx) == 8


def test_an_event_repeated_in_one_file_or_another_is_stored_once(fleet: Fleet):
    ctx = fleet.ctx
    one = fleet.log("one.jsonl", [GOOD[0], GOOD[1], GOOD[0]])
    report = events.import_dock_log(ctx.sessions, fleet.eq, one).report
    assert (report["stored"], report["duplicates"]) == (2, 1)
    # The same instant written with another offset is the same event.
    same = dict(GOOD[1], at="2026-03-01T07:01:00-05:00")
    report = events.import_dock_log(ctx.sessions, fleet.eq, fleet.log("two.jsonl", [same])).report
    assert (report["stored"], report["duplicates"]) == (0, 1)
    assert stored(ctx) == 2


def test_an_invalid_line_stores_nothing_and_each_problem_is_named(fleet: Fleet):
    ctx = fleet.ctx
    lines = [
        GOOD[0],  # 1 fine
        "{not json",  # 2
        "[1, 2]",  # 3 not an object
        {"camera": "CAM-1", "event": "dock", "at": "2026-03-01T07:00:00"},  # 4 no offset
        {"camera": "CAM-1", "event": "explode", "at": "2026-03-01T07:00:00Z"},  # 5
        {"camera": "CAM-1", "event": "battery", "at": "2026-03-01T07:00:00Z"},  # 6 no level
        {"camera": "CAM-1", "event": "battery", "at": "2026-03-01T07:00:00Z", "battery": 101},
        {"camera": "CAM-1", "event": "dock", "at": "2026-03-01T07:00:00Z", "sha256": "ab" * 32},
        {"camera": "CAM-1", "event": "upload", "at": "2026-03-01T07:00:00Z", "sha256": "xyz"},
        {"camera": "CAM-9", "event": "dock", "at": "2026-03-01T07:00:00Z"},  # 10 unknown
        {"camera": "CAM-1", "event": "dock", "at": "2026-03-01T07:00:00Z", "dock": "Z-9"},
        {"camera": "CAM-1", "event": "dock", "at": "2026-03-01T07:00:00Z", "temp": 40},
        {"event": "dock", "at": "2026-03-01T07:00:00Z"},  # 13 no camera
    ]
    with pytest.raises(FleetImportError) as info:
        events.import_dock_log(ctx.sessions, fleet.eq, fleet.log("bad.jsonl", lines))
    report = info.value.report
    got = {(p["line"], p["field"]) for p in report["invalid"]}
    assert got == {
        (2, "line"),
        (3, "line"),
        (4, "at"),
        (5, "event"),
        (6, "battery"),
        (7, "battery"),
        (8, "sha256"),
        (9, "sha256"),
        (10, "camera"),
        (11, "dock"),
        (12, "temp"),
        (13, "camera"),
    }
    reasons = {(p["line"], p["field"]): p["reason"] for p in report["invalid"]}
    assert reasons[(2, "line")].startswith("is not JSON")
    assert "no UTC offset" in reasons[(4, "at")]
    assert "no camera CAM-9 in the inventory" in reasons[(10, "camera")]
    assert report["valid"] == 1 and report["imported"] is False
    assert stored(ctx) == 0


def test_reported_firmware_updates_the_inventory_unless_older(fleet: Fleet):
    ctx = fleet.ctx
    log = [
        {"camera": "CAM-2", "event": "dock", "at": "2026-03-05T00:00:00Z", "firmware": "1.3"},
        {"camera": "CAM-2", "event": "dock", "at": "2026-03-04T00:00:00Z", "firmware": "1.2"},
    ]
    report = events.import_dock_log(ctx.sessions, fleet.eq, fleet.log("fw.jsonl", log)).report
    assert report["firmware_updates"] == 1
    older = [
        {"camera": "CAM-2", "event": "undock", "at": "2026-03-03T00:00:00Z", "firmware": "1.1"}
    ]
    events.import_dock_log(ctx.sessions, fleet.eq, fleet.log("old.jsonl", older))
    with ctx.sessions() as s:
        cam = s.scalars(select(Camera).where(Camera.serial == "CAM-2")).one()
    assert cam.firmware_version == "1.3"
    history = inventory.camera_detail(ctx.sessions, fleet.eq, "CAM-2").history
    reported = [(h["change"], h["old"], h["new"]) for h in history if h["change"] == "reported"]
    assert reported == [("reported", "1.0", "1.3")]


def test_only_event_senders_may_import(fleet: Fleet):
    from bodycam.auth.actor import PermissionDenied

    path = fleet.log("dock.jsonl", GOOD)
    for name in ("o1", "auditor", "admin"):
        with pytest.raises(PermissionDenied):
            events.import_dock_log(fleet.ctx.sessions, fleet.dept.actor(name), path)
    assert stored(fleet.ctx) == 0
