"""Importing dispatch exports into the vault: all or nothing, idempotent, audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.models import CadImportBatch, DispatchAssignment, DispatchEvent
from bodycam.compliance.service import CadImportError, import_cad
from tests.compliance.csvs import GENERIC_HEADER, write_csv


def _rows(badges: list[str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i, badge in enumerate(badges):
        rows.append(
            {
                "event_id": f"E-{100 + i // 2}",
                "call_type": "TRAFFIC STOP",
                "priority": "2",
                "self_initiated": "Y",
                "precinct": "North",
                "location": "100 Main St",
                "disposition": "CITATION",
                "created_at": "2026-03-01T08:00:00Z",
                "badge": badge,
                "dispatched_at": "2026-03-01T08:01:00Z",
                "arrived_at": "2026-03-01T08:05:00Z",
                "cleared_at": "2026-03-01T08:30:00Z",
            }
        )
    return rows


def _count(ctx, model) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_import_matches_badges_and_a_second_import_changes_nothing(ctx, dept, tmp_path):
    admin = dept.actor("admin")
    path = write_csv(tmp_path / "cad.csv", GENERIC_HEADER, _rows(["1001", "1002", "7777", "1001"]))
    generic = load_preset("generic")
    first = import_cad(ctx.sessions, admin, path, generic)
    report = first.report
    assert {"rows", "valid", "invalid", "events", "assignments", "matched", "unmatched"} <= set(
        report
    )
    assert report["events"] == 2 and report["assignments"] == 4
    assert (report["matched"], report["unmatched"]) == (3, 1)
    assert report["unmatched_badges"] == {"7777": 1} and report["created"] == 2
    with ctx.sessions() as s:
        a = s.scalars(select(DispatchAssignment).where(DispatchAssignment.badge == "1001")).first()
        assert a is not None and a.officer_id == dept.users["o1"].id
        assert a.arrived_at.hour == 8 and a.arrived_at.minute == 5
    again = import_cad(ctx.sessions, admin, path, generic).report
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert _count(ctx, DispatchEvent) == 2 and _count(ctx, DispatchAssignment) == 4

    changed = _rows(["1001", "1002", "7777", "1001"])
    for row in changed:
        row["disposition"] = "ARREST"
    path2 = write_csv(tmp_path / "cad2.csv", GENERIC_HEADER, changed)
    assert import_cad(ctx.sessions, admin, path2, generic).report["updated"] == 2
    with ctx.sessions() as s:
        assert set(s.scalars(select(DispatchEvent.disposition))) == {"ARREST"}
        audits = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "compliance:cad:import")
        ).all()
        assert len(audits) == 3 and audits[0].actor == "admin"


def test_invalid_rows_refuse_the_whole_file_unless_accepted(ctx, dept, tmp_path):
    admin = dept.actor("admin")
    rows = _rows(["1001", "1002"])
    rows.append(rows[0] | {"event_id": "E-900", "created_at": "yesterday-ish"})
    path = write_csv(tmp_path / "bad.csv", GENERIC_HEADER, rows)
    with pytest.raises(CadImportError, match="1 invalid row") as err:
        import_cad(ctx.sessions, admin, path, load_preset("generic"))
    assert err.value.report is not None and err.value.report["invalid"][0]["line"] == 4
    assert _count(ctx, DispatchEvent) == 0 and _count(ctx, CadImportBatch) == 0
    done = import_cad(ctx.sessions, admin, path, load_preset("generic"), accept_invalid=True)
    assert done.report["events"] == 1 and _count(ctx, DispatchEvent) == 1


def test_a_wrong_file_and_a_wrong_role_are_refused(ctx, dept, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", ["Incident_ID", "Date", "Allegation"], [])
    with pytest.raises(CadImportError, match="missing"):
        import_cad(ctx.sessions, dept.actor("admin"), path, load_preset("nypd"))
    good = write_csv(tmp_path / "cad.csv", GENERIC_HEADER, _rows(["1001"]))
    for name in ("clerk", "o1", "auditor", "analyst"):
        with pytest.raises(PermissionDenied):
            import_cad(ctx.sessions, dept.actor(name), good, load_preset("generic"))


def test_import_cad_from_the_command_line(home, tmp_path):
    path = write_csv(tmp_path / "cad.csv", GENERIC_HEADER, _rows(["501", "999"]))
    p = home("compliance", "import-cad", str(path), "--json", user="chief")
    report = json.loads(p.stdout)
    assert report["events"] == 1 and (report["matched"], report["unmatched"]) == (1, 1)
    wrong = write_csv(tmp_path / "x.csv", ["a", "b"], [["1", "2"]])
    p = home("compliance", "import-cad", str(wrong), user="chief", check=1)
    assert "fits no CAD mapping" in p.stderr and "lacks" in p.stderr
    assert "Traceback" not in p.stderr
    home("compliance", "import-cad", str(path), user="ofc", check=3)
