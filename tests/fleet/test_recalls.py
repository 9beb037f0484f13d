"""A battery-lot recall end to end, a firmware rollout, and their refusals."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.db import transaction
from bodycam.evidence.models import UNCATEGORIZED, Category, Recording
from bodycam.fleet import events, imports, inventory, recalls
from bodycam.fleet.common import FleetError
from bodycam.fleet.recall_uploads import recalled_uploads
from bodycam.ids import utcnow
from tests.fleet.conftest import CAMERAS, Fleet


def _recording(fleet: Fleet, name: str, serial: str) -> str:
    """A recording row of ``serial``, ingested now."""
    sha = hashlib.sha256(name.encode()).hexdigest()
    with transaction(fleet.ctx.sessions) as s:
        cat = s.scalars(select(Category.id).where(Category.name == UNCATEGORIZED)).one()
        o1 = fleet.dept.users["o1"]
        s.add(
            Recording(
                sha256=sha, size_bytes=1, original_filename=f"{name}.mp4", officer_id=o1.id,
                camera_serial=serial, category_id=cat,
                recorded_start=datetime(2026, 3, 1, tzinfo=UTC),
                recorded_end=datetime(2026, 3, 1, 0, 10, tzinfo=UTC), ingested_by=o1.id,
                container="mp4", video_codec="h264", duration_s=600.0, width=64, height=64,
                fps=30.0, has_audio=False, frame_count=1,
            )
        )  # fmt: skip
    return sha


def _upload(fleet: Fleet, serial: str, when: datetime, sha: str | None = None) -> dict:
    item = {"camera": serial, "event": "upload", "at": when.isoformat()}
    if sha:
        item["sha256"] = sha
    return events.ingest_events(fleet.ctx.sessions, fleet.eq, [item]).report


def status_of(fleet: Fleet, serial: str) -> str:
    return inventory.camera_detail(fleet.ctx.sessions, fleet.eq, serial).camera.status


def test_battery_lot_recall_end_to_end(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    inventory.update_camera(ctx.sessions, eq, "CAM-4", {"battery_lot": "LOT-A"})
    inventory.assign_camera(ctx.sessions, eq, "CAM-1", "1001")
    inventory.assign_camera(ctx.sessions, eq, "CAM-4", "2001", kind="pool")
    before = _recording(fleet, "before", "CAM-1")  # ingested before the recall: fine

    view = recalls.create_recall(ctx.sessions, eq, battery_lot="LOT-A", reason="battery swelling")
    assert view.kind == "recall" and view.counts["outstanding"] == 3
    assert [(i.serial, i.holder, i.camera_status) for i in view.items] == [
        ("CAM-1", "officer 1001 (o1)", "recalled"),
        ("CAM-2", "dock N-01 (North)", "recalled"),
        ("CAM-4", "officer 2001 (o3), from pool S-01", "recalled"),
    ]
    assert status_of(fleet, "CAM-3") == "spare"  # LOT-B: untouched
    with ctx.sessions() as s:
        rec = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "fleet:recall:create")
        ).one()
    assert rec.details["serials"] == ["CAM-1", "CAM-2", "CAM-4"]
    assert rec.details["reason"] == "battery swelling"

    # A recalled camera cannot be issued; a re-import does not undo the recall.
    with pytest.raises(FleetError, match="recalled; it cannot be issued"):
        inventory.assign_camera(ctx.sessions, eq, "CAM-2", "1002")
    again = imports.import_cameras(ctx.sessions, eq, fleet.folder / "cameras.csv").report
    assert any("CAM-1 is recalled" in w for w in again["warnings"])
    assert status_of(fleet, "CAM-1") == "recalled"

    # Uploads after the recall are flagged: a dock's upload event and an ingest.
    report = _upload(fleet, "CAM-1", utcnow())
    assert report["warnings"] and "CAM-1 is under recall" in report["warnings"][0]
    after = _recording(fleet, "after", "CAM-1")
    _upload(fleet, "CAM-2", utcnow())

    # Replaced, returned, cleared.
    item = recalls.resolve_recall(
        ctx.sessions, eq, view.id, "CAM-1", "replaced", replacement="CAM-3", note="swap at desk"
    )
    assert (item.status, item.replacement, item.holder) == (
        "replaced",
        "CAM-3",
        "dock N-01 (North)",
    )
    cam3 = inventory.camera_detail(ctx.sessions, eq, "CAM-3").camera
    assert (str(cam3.holder), cam3.status) == ("officer 1001 (o1)", "in_service")
    item = recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-4", "returned")
    assert (item.status, item.holder, item.camera_status) == (
        "returned",
        "dock S-01 (South)",
        "recalled",
    )

    progress = recalls.show_campaign(ctx.sessions, eq, view.id)
    assert progress.counts == {"outstanding": 1, "returned": 1, "replaced": 1, "cleared": 0}
    assert progress.total == 3 and progress.done == 2
    assert progress.share("outstanding") == pytest.approx(1 / 3)
    assert [(i.serial, i.holder) for i in progress.items] == [("CAM-2", "dock N-01 (North)")]
    flagged = sorted((u.serial, u.source, u.sha256 is not None) for u in progress.uploads)
    assert flagged == [
        ("CAM-1", "event", False),
        ("CAM-1", "ingest", True),
        ("CAM-2", "event", False),
    ]
    assert {u.sha256 for u in progress.uploads if u.source == "ingest"} == {after}
    assert before not in {u.sha256 for u in progress.uploads}

    item = recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-2", "cleared", note="tested OK")
    assert (item.status, item.camera_status) == ("cleared", "spare")  # back to its status
    _upload(fleet, "CAM-2", utcnow() + timedelta(minutes=3))  # cleared: no longer flagged
    final = recalls.show_campaign(ctx.sessions, eq, view.id, everything=True)
    assert final.counts == {"outstanding": 0, "returned": 1, "replaced": 1, "cleared": 1}
    assert final.done == 3 and len(final.items) == 3
    assert len(recalled_uploads(ctx.sessions, eq)) == 3
    assert len(recalled_uploads(ctx.sessions, eq, view.id)) == 3
    listed = recalls.list_campaigns(ctx.sessions, eq, "recall")
    assert [(c.id, c.total, c.done) for c in listed] == [(view.id, 3, 3)]
    with ctx.sessions() as s:
        resolved = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "fleet:recall:resolve")
        ).all()
    assert sorted(r.details["outcome"] for r in resolved) == ["cleared", "replaced", "returned"]


def test_a_dock_reported_upload_of_an_ingested_recording_is_one_flag(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    view = recalls.create_recall(ctx.sessions, eq, model="BX-1", reason="overheating")
    sha = _recording(fleet, "r", "CAM-4")
    _upload(fleet, "CAM-4", utcnow(), sha=sha)
    flags = recalls.show_campaign(ctx.sessions, eq, view.id).uploads
    assert [(f.serial, f.source, f.sha256, f.recording_id is not None) for f in flags] == [
        ("CAM-4", "event", sha, True)
    ]


def test_recall_refusals(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    with pytest.raises(FleetError, match="exactly one"):
        recalls.create_recall(ctx.sessions, eq, battery_lot="LOT-A", model="AX-3", reason="x")
    with pytest.raises(FleetError, match="No camera"):
        recalls.create_recall(ctx.sessions, eq, firmware="9.9", reason="x")
    with pytest.raises(FleetError, match="reason"):
        recalls.create_recall(ctx.sessions, eq, firmware="1.0", reason=" ")
    view = recalls.create_recall(ctx.sessions, eq, firmware="1.1", reason="bricks")  # CAM-3
    with pytest.raises(FleetError, match="not part of recall"):
        recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-1", "returned")
    with pytest.raises(FleetError, match="exactly when replaced"):
        recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-3", "replaced")
    with pytest.raises(FleetError, match="must be one of"):
        recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-3", "lost")
    with pytest.raises(FleetError, match="cannot replace itself"):
        recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-3", "replaced", replacement="CAM-3")
    recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-3", "returned")
    with pytest.raises(FleetError, match="already returned"):
        recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-3", "cleared")
    with pytest.raises(FleetError, match="no recall"):
        recalls.show_campaign(ctx.sessions, eq, "NOPE", kind="recall")
    from bodycam.auth.actor import PermissionDenied

    for name in ("auditor", "admin", "o1"):
        with pytest.raises(PermissionDenied):
            recalls.create_recall(ctx.sessions, fleet.dept.actor(name), model="AX-3", reason="x")
    assert recalls.show_campaign(ctx.sessions, fleet.dept.actor("auditor"), view.id).total == 1


def test_firmware_rollout_is_tracked_to_each_camera(fleet: Fleet):
    ctx, eq = fleet.ctx, fleet.eq
    inventory.assign_camera(ctx.sessions, eq, "CAM-2", "1002")
    view = recalls.create_rollout(ctx.sessions, eq, "2.0", model="AX-3", reason="fixes GPS drift")
    assert view.counts == {"pending": 3, "updated": 0}
    assert [(i.serial, i.holder) for i in view.items] == [
        ("CAM-1", "dock N-01 (North)"),
        ("CAM-2", "officer 1002 (o2)"),
        ("CAM-3", "dock S-01 (South)"),
    ]
    assert status_of(fleet, "CAM-1") == "spare"  # a rollout changes no status
    # The camera reports the version in a device event ...
    events.ingest_events(
        ctx.sessions,
        eq,
        [{"camera": "CAM-1", "event": "dock", "at": "2026-03-02T00:00:00Z", "firmware": "2.0"}],
    )
    # ... the unit records it by hand ...
    inventory.update_camera(ctx.sessions, eq, "CAM-2", {"firmware": "2.0"})
    progress = recalls.show_campaign(ctx.sessions, eq, view.id, kind="rollout")
    assert progress.counts == {"pending": 1, "updated": 2}
    assert [i.serial for i in progress.items] == ["CAM-3"]
    # ... or an inventory import says so.
    rows = [list(r) for r in CAMERAS]
    for row in rows[1:4]:  # the AX-3 cameras, as the unit's spreadsheet now has them
        row[4] = "2.0"
    imports.import_cameras(ctx.sessions, eq, fleet.csv("c.csv", rows))
    done = recalls.show_campaign(ctx.sessions, eq, view.id, everything=True)
    assert done.counts == {"pending": 0, "updated": 3} and done.done == 3
    assert all("firmware 2.0 seen" in i.note for i in done.items)
    assert [c.id for c in recalls.list_campaigns(ctx.sessions, eq, "rollout")] == [view.id]
    with pytest.raises(FleetError, match="No camera"):
        recalls.create_rollout(ctx.sessions, eq, "2.0", model="AX-3", reason="again")


# --- the warning recorded at ingest when a camera still outstanding uploads ------------------


def _warnings(fleet: Fleet) -> list[tuple[str, str, str]]:
    from bodycam.fleet.recall_warnings import list_warnings

    return [(w.serial, w.recording_id, w.via) for w in list_warnings(fleet.ctx.sessions, fleet.eq)]


def _tus_upload(client, creds, path, badge: str, who: str, camera: str) -> str:
    """Upload ``path`` through the tus API in two PATCHes; the recording id acknowledged."""
    import base64

    def b64(v: str) -> str:
        return base64.b64encode(v.encode()).decode()

    data = path.read_bytes()
    tus = {"Tus-Resumable": "1.0.0", **creds.token(who)}
    meta = f"filename {b64(path.name)},officer {b64(badge)},camera {b64(camera)}"
    made = client.post(
        "/api/v1/uploads", headers=tus | {"Upload-Length": str(len(data)), "Upload-Metadata": meta}
    )
    assert made.status_code == 201, made.text
    half = len(data) // 2
    resp = None
    for offset, piece in ((0, data[:half]), (half, data[half:])):
        resp = client.patch(
            made.headers["Location"],
            content=piece,
            headers=tus
            | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
        )
        assert resp.status_code == 204, resp.text
    assert resp is not None
    return resp.headers["Bodycam-Recording-Id"]


def test_a_recalled_camera_uploading_again_is_warned_on_every_path(
    fleet: Fleet, clips, client, creds, vault
):
    from typer.testing import CliRunner

    from bodycam.cli import app as cli_app
    from bodycam.config import get_settings
    from bodycam.evidence import service as ev

    ctx, eq = fleet.ctx, fleet.eq
    o1 = fleet.dept.actor("o1")
    before = ev.ingest_file(vault, o1, clips(301), officer_badge="1001", camera_serial="CAM-1")
    view = recalls.create_recall(ctx.sessions, eq, battery_lot="LOT-A", reason="swelling")
    assert _warnings(fleet) == []  # uploaded before the recall: no warning
    again = ev.ingest_file(vault, o1, clips(301), officer_badge="1001", camera_serial="CAM-1")
    assert again.duplicate and _warnings(fleet) == []  # the same bytes again: not a new upload

    # Ingest (the CLI's path), a tus upload (the dock agent's path): one warning each.
    env = {
        "BODYCAM_HOME": str(ctx.settings.resolved_home),
        "BODYCAM_DATABASE_URL": ctx.settings.resolved_database_url,
        "BODYCAM_STORAGE_URL": ctx.settings.resolved_storage_url,
    }

    def bodycam(*args: str, user: str) -> Any:
        get_settings.cache_clear()  # the CLI reads the settings from this environment
        try:
            return CliRunner().invoke(cli_app, list(args), env=env | {"BODYCAM_USER": user})
        finally:
            get_settings.cache_clear()

    args = ["ingest", str(clips(302)), "--officer", "1001", "--camera", "CAM-1", "--json"]
    result = bodycam(*args, user="o1")
    assert result.exit_code == 0, result.output
    by_cli = json.loads(result.stdout.splitlines()[-1])["id"]
    by_tus = _tus_upload(client, creds, clips(303), "1001", "o1", "CAM-2")
    not_recalled = ev.ingest_file(
        vault, o1, clips(304), officer_badge="1001", camera_serial="CAM-3"
    )
    assert not not_recalled.duplicate
    assert _warnings(fleet) == [("CAM-1", by_cli, "cli"), ("CAM-2", by_tus, "api")]
    audits = [a for a in _audit(fleet, "fleet:recall:upload_warning") if a.object_id == view.id]
    assert sorted((a.details["serial"], a.details["recording"], a.actor) for a in audits) == [
        ("CAM-1", by_cli, "o1"),
        ("CAM-2", by_tus, "o1"),
    ]
    assert before.id not in {a.details["recording"] for a in audits}

    # Shown with the recall (service, CLI) and on the camera's and the recall's pages.
    shown = recalls.show_campaign(ctx.sessions, eq, view.id)
    assert [(w.serial, w.recording_id) for w in shown.warnings] == [
        ("CAM-1", by_cli),
        ("CAM-2", by_tus),
    ]
    assert shown.as_dict()["upload_warnings"][0]["via"] == "cli"
    cli = bodycam("fleet", "recall", "show", view.id, user="equipment")
    assert cli.exit_code == 0, cli.output
    assert "2 recording(s) uploaded by cameras still outstanding" in cli.output
    assert "CAM-2" in cli.output
    as_json = json.loads(
        bodycam("fleet", "recall", "show", view.id, "--json", user="auditor").stdout
    )
    assert [w["recording"] for w in as_json["upload_warnings"]] == [by_cli, by_tus]
    page = client.get(f"/fleet/recalls/{view.id}", headers=creds.cookie("equipment"))
    assert "Warnings: uploads by cameras still outstanding (2)" in page.text
    assert by_cli in page.text and by_tus in page.text
    cam = client.get("/fleet/cameras/CAM-2", headers=creds.cookie("equipment"))
    assert "Recall warnings (1)" in cam.text and by_tus in cam.text
    quiet = client.get("/fleet/cameras/CAM-3", headers=creds.cookie("equipment"))
    assert "Recall warnings" not in quiet.text

    # Resolved cameras are no longer warned about.
    recalls.resolve_recall(ctx.sessions, eq, view.id, "CAM-1", "cleared")
    ev.ingest_file(vault, o1, clips(305), officer_badge="1001", camera_serial="CAM-1")
    assert len(_warnings(fleet)) == 2


def test_the_ingest_never_fails_because_of_the_recall_check(fleet: Fleet, clips, vault):
    from sqlalchemy import func, text

    from bodycam.evidence import service as ev

    ctx, eq = fleet.ctx, fleet.eq
    recalls.create_recall(ctx.sessions, eq, battery_lot="LOT-A", reason="swelling")
    o1 = fleet.dept.actor("o1")
    # Take the warnings table away: the check fails for real, the ingest must not.
    with ctx.engine.begin() as c:
        c.execute(text("ALTER TABLE fleet_recall_warnings RENAME TO fleet_recall_warnings_off"))
    try:
        done = ev.ingest_file(vault, o1, clips(306), officer_badge="1001", camera_serial="CAM-1")
    finally:
        with ctx.engine.begin() as c:
            c.execute(text("ALTER TABLE fleet_recall_warnings_off RENAME TO fleet_recall_warnings"))
    with ctx.sessions() as s:
        assert s.get(Recording, done.id) is not None
        assert s.scalar(select(func.count()).select_from(Recording)) == 1
    assert _warnings(fleet) == []
    assert _audit(fleet, "fleet:recall:upload_warning") == []
    # An unknown serial is no reason to fail either.
    ev.ingest_file(vault, o1, clips(307), officer_badge="1001", camera_serial="NOT-IN-FLEET")
    assert _warnings(fleet) == []


def _audit(fleet: Fleet, action: str) -> list[AuditRecord]:
    with fleet.ctx.sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action)))
