"""Inventory CSV imports: good files, files with row problems (nothing stored), re-imports."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.fleet import imports
from bodycam.fleet.common import FleetImportError
from bodycam.fleet.models import Assignment, Camera, Dock, FleetHistory
from tests.fleet.conftest import CAMERAS, DOCKS, Fleet


def count(ctx, model) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def cameras(ctx) -> dict[str, Camera]:
    with ctx.sessions() as s:
        return {c.serial: c for c in s.scalars(select(Camera))}


def audit_count(ctx, action: str) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).where(AuditRecord.action == action)) or 0


def test_good_files_import_with_history_and_an_audit_record(fleet: Fleet):
    ctx = fleet.ctx
    cams = cameras(ctx)
    assert sorted(cams) == ["CAM-1", "CAM-2", "CAM-3", "CAM-4"]
    c1 = cams["CAM-1"]
    assert (c1.model, c1.hardware_revision, c1.battery_lot, c1.firmware_version) == (
        "AX-3",
        "B",
        "LOT-A",
        "1.0",
    )
    assert str(c1.purchase_date) == "2025-01-10" and str(c1.warranty_end) == "2028-01-10"
    assert (c1.status, c1.dock_id) == ("spare", "N-01")
    assert cams["CAM-4"].warranty_end is None
    with ctx.sessions() as s:
        dock = s.get(Dock, "N-01")
        assert (dock.precinct, dock.ports, dock.location) == ("North", 8, "North station, room 12")
        created = s.scalars(
            select(FleetHistory).where(
                FleetHistory.object_type == "camera", FleetHistory.change == "created"
            )
        ).all()
    assert len(created) == 4
    assert audit_count(ctx, "fleet:inventory:import") == 2


def test_report_counts_and_json_shape(ctx, dept, tmp_path):
    f = Fleet(ctx, dept, tmp_path)
    out = imports.import_docks(ctx.sessions, f.eq, f.csv("d.csv", DOCKS))
    r = out.report
    assert (r["rows"], r["valid"], r["invalid"], r["created"], r["imported"]) == (2, 2, [], 2, True)
    assert r["import"] == out.import_id and r["kind"] == "docks" and len(r["sha256"]) == 64


def test_a_file_with_row_problems_imports_nothing_and_names_each(ctx, dept, tmp_path):
    f = Fleet(ctx, dept, tmp_path)
    imports.import_docks(ctx.sessions, f.eq, f.csv("d.csv", DOCKS))
    bad = f.csv(
        "bad.csv",
        [
            CAMERAS[0],
            ["C-OK", "AX-3", "B", "LOT-A", "1.0", "2025-01-10", "", "spare", "N-01"],  # 2
            ["C-DATE", "AX-3", "B", "LOT-A", "1.0", "10/01/2025", "", "spare", ""],  # 3
            ["C-DOCK", "AX-3", "B", "LOT-A", "1.0", "", "", "", "X-99"],  # 4
            ["C-OK", "AX-3", "B", "LOT-A", "1.0", "", "", "", ""],  # 5 repeats line 2
            ["C-REC", "AX-3", "B", "LOT-A", "1.0", "", "", "recalled", ""],  # 6
            ["C-MODEL", "", "B", "LOT-A", "1.0", "", "", "", ""],  # 7
            ["C-WAR", "AX-3", "", "", "", "2025-02-01", "2025-01-01", "lost", ""],  # 8
            ["C-SHORT", "AX-3"],  # 9
        ],
    )
    with pytest.raises(FleetImportError) as info:
        imports.import_cameras(ctx.sessions, f.eq, bad)
    assert "nothing was imported" in str(info.value)
    report = info.value.report
    assert report is not None and report["imported"] is False
    got = {(p["line"], p["field"]) for p in report["invalid"]}
    assert got == {
        (3, "purchase_date"),
        (4, "dock"),
        (5, "serial"),
        (6, "status"),
        (7, "model"),
        (8, "warranty_end"),
        (8, "status"),
        (9, "row"),
    }
    reasons = {(p["line"], p["field"]): p["reason"] for p in report["invalid"]}
    assert "not a date" in reasons[(3, "purchase_date")]
    assert "no dock X-99" in reasons[(4, "dock")]
    assert "repeats line 2" in reasons[(5, "serial")]
    assert "has 2 fields; the header has 9" in reasons[(9, "row")]
    assert report["rows"] == 8 and report["valid"] == 1
    assert count(ctx, Camera) == 0
    assert audit_count(ctx, "fleet:inventory:import") == 1  # the docks only


def test_a_missing_required_column_is_refused_with_a_sentence(ctx, dept, tmp_path):
    f = Fleet(ctx, dept, tmp_path)
    path = f.csv("c.csv", [["serial", "lot"], ["X", "1"]])
    with pytest.raises(FleetImportError, match="lacks the required column model"):
        imports.import_cameras(ctx.sessions, f.eq, path)


def test_reimporting_the_same_file_changes_nothing(fleet: Fleet):
    ctx = fleet.ctx
    before = (count(ctx, Camera), count(ctx, FleetHistory), cameras(ctx)["CAM-1"].updated_at)
    again = imports.import_cameras(ctx.sessions, fleet.eq, fleet.folder / "cameras.csv").report
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    docks = imports.import_docks(ctx.sessions, fleet.eq, fleet.folder / "docks.csv").report
    assert (docks["created"], docks["updated"], docks["unchanged"]) == (0, 0, 2)
    after = (count(ctx, Camera), count(ctx, FleetHistory), cameras(ctx)["CAM-1"].updated_at)
    assert after == before


def test_a_later_file_updates_what_changed_and_keeps_history(fleet: Fleet):
    ctx = fleet.ctx
    changed = [list(r) for r in CAMERAS]
    changed[1][4] = "1.2"  # CAM-1 firmware
    changed[2][7] = ""  # a blank cell leaves the status as it is
    report = imports.import_cameras(ctx.sessions, fleet.eq, fleet.csv("c2.csv", changed)).report
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 3)
    assert cameras(ctx)["CAM-1"].firmware_version == "1.2"
    with ctx.sessions() as s:
        row = s.scalars(select(FleetHistory).where(FleetHistory.field == "firmware_version")).one()
    assert (row.old_value, row.new_value, row.change) == ("1.0", "1.2", "updated")
    assert row.source.startswith("import:")


def test_dock_rows_are_checked(ctx, dept, tmp_path):
    f = Fleet(ctx, dept, tmp_path)
    path = f.csv(
        "d.csv",
        [DOCKS[0], ["A", "North", "x", ""], ["B", "", "4", ""], ["C", "North", "0", ""]],
    )
    with pytest.raises(FleetImportError) as info:
        imports.import_docks(ctx.sessions, f.eq, path)
    got = {(p["line"], p["field"]) for p in info.value.report["invalid"]}
    assert got == {(2, "ports"), (3, "precinct"), (4, "ports")}
    assert count(ctx, Dock) == 0


HEADER = ["serial", "badge", "kind", "start", "end", "dock", "note"]


def test_assignment_history_imports_and_reimports(fleet: Fleet):
    ctx = fleet.ctx
    rows = [
        HEADER,
        ["CAM-1", "1001", "personal", "2026-01-01T08:00:00Z", "2026-02-01T08:00:00Z", "", ""],
        ["CAM-1", "1002", "personal", "2026-02-01T08:00:00Z", "", "", "reissued"],
        ["CAM-3", "2001", "pool", "2026-03-01T07:00:00-05:00", "2026-03-01T19:00:00-05:00",
         "S-01", ""],
    ]  # fmt: skip
    path = fleet.csv("a.csv", rows)
    report = imports.import_assignments(ctx.sessions, fleet.eq, path).report
    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 0)
    cams = cameras(ctx)
    assert cams["CAM-1"].status == "in_service"  # issued: no longer spare
    assert cams["CAM-3"].status == "spare"  # its only assignment ended
    with ctx.sessions() as s:
        open_ = s.scalars(select(Assignment).where(Assignment.ended_at.is_(None))).all()
        pool = s.scalars(select(Assignment).where(Assignment.kind == "pool")).one()
    assert len(open_) == 1 and open_[0].open_camera == cams["CAM-1"].id
    assert pool.started_at.isoformat() == "2026-03-01T12:00:00+00:00"
    again = imports.import_assignments(ctx.sessions, fleet.eq, path).report
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    closing = [*rows[:2], [*rows[2][:4], "2026-03-01T08:00:00Z", "", ""]]
    closed = imports.import_assignments(ctx.sessions, fleet.eq, fleet.csv("b.csv", closing))
    assert (closed.report["created"], closed.report["updated"]) == (0, 1)
    assert count(ctx, Assignment) == 3
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).where(Assignment.open_camera.is_not(None))) == 0


def test_assignment_problems_refuse_the_file(fleet: Fleet):
    ctx = fleet.ctx
    from bodycam.fleet.recalls import create_recall

    create_recall(ctx.sessions, fleet.eq, model="BX-1", reason="test")  # CAM-4 recalled
    rows = [
        HEADER,
        ["CAM-1", "1001", "personal", "2026-01-01T08:00:00Z", "", "", ""],  # 2 open
        ["CAM-1", "1002", "personal", "2026-01-05T08:00:00Z", "", "", ""],  # 3 overlaps 2
        ["CAM-2", "9999", "personal", "2026-01-01T08:00:00Z", "", "", ""],  # 4 badge
        ["CAM-2", "1001", "loan", "2026-01-01T08:00:00", "", "", ""],  # 5 kind, offset
        ["CAM-3", "1001", "pool", "2026-01-02T08:00:00Z", "2026-01-01T08:00:00Z", "", ""],  # 6
        ["CAM-4", "2001", "personal", "2026-01-01T08:00:00Z", "", "", ""],  # 7 recalled
        ["CAM-9", "2001", "personal", "2026-01-01T08:00:00Z", "", "", ""],  # 8 camera
    ]
    with pytest.raises(FleetImportError) as info:
        imports.import_assignments(ctx.sessions, fleet.eq, fleet.csv("a.csv", rows))
    got = {(p["line"], p["field"]) for p in info.value.report["invalid"]}
    assert got == {
        (3, "start"),
        (4, "badge"),
        (5, "kind"),
        (5, "start"),
        (6, "end"),
        (6, "dock"),
        (7, "serial"),
        (8, "serial"),
    }
    reasons = {(p["line"], p["field"]): p["reason"] for p in info.value.report["invalid"]}
    assert "overlaps line 2" in reasons[(3, "start")]
    assert "no UTC offset" in reasons[(5, "start")]
    assert "recalled" in reasons[(7, "serial")]
    assert count(ctx, Assignment) == 0


def test_an_import_cannot_overlap_or_rewrite_stored_assignments(fleet: Fleet):
    ctx = fleet.ctx
    first = [HEADER, ["CAM-1", "1001", "personal", "2026-01-01T08:00:00Z", "", "", ""]]
    imports.import_assignments(ctx.sessions, fleet.eq, fleet.csv("a.csv", first))
    overlapping = [HEADER, ["CAM-1", "1002", "personal", "2026-02-01T08:00:00Z", "", "", ""]]
    with pytest.raises(FleetImportError) as info:
        imports.import_assignments(ctx.sessions, fleet.eq, fleet.csv("b.csv", overlapping))
    reasons = {(p["line"], p["field"]): p["reason"] for p in info.value.report["invalid"]}
    assert reasons == {
        (2, "start"): "overlaps the stored assignment from 2026-01-01T08:00:00+00:00 of the "
        "same camera"
    }
    rewriting = [
        HEADER,
        ["CAM-1", "1002", "personal", "2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z", "", ""],
    ]
    with pytest.raises(FleetImportError) as info:
        imports.import_assignments(ctx.sessions, fleet.eq, fleet.csv("c.csv", rewriting))
    reasons = {(p["line"], p["field"]): p["reason"] for p in info.value.report["invalid"]}
    assert "to another officer" in reasons[(2, "badge")]
    assert count(ctx, Assignment) == 1


def test_imports_need_the_manage_permission(ctx, dept, tmp_path):
    from bodycam.auth.actor import PermissionDenied

    f = Fleet(ctx, dept, tmp_path)
    with pytest.raises(PermissionDenied):
        imports.import_docks(ctx.sessions, dept.actor("o1"), f.csv("d.csv", DOCKS))
    assert audit_count(ctx, "access:request:denied") == 1
    assert count(ctx, Dock) == 0


def test_a_held_camera_cannot_be_retired_by_an_import(fleet: Fleet):
    from bodycam.fleet import inventory

    inventory.assign_camera(fleet.ctx.sessions, fleet.eq, "CAM-1", "1001")
    rows = [list(r) for r in CAMERAS]
    rows[1][7] = "retired"
    with pytest.raises(FleetImportError) as info:
        imports.import_cameras(fleet.ctx.sessions, fleet.eq, fleet.csv("c.csv", rows))
    assert info.value.report["invalid"] == [
        {"line": 2, "field": "status", "reason": "camera CAM-1 is issued; return it before "
         "retiring it"}
    ]  # fmt: skip
    assert cameras(fleet.ctx)["CAM-1"].status == "in_service"
