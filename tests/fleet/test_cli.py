"""``bodycam fleet`` end to end through the command line (real subprocesses)."""

from __future__ import annotations

import json

from tests.fleet.conftest import CAMERAS, DOCKS, write_csv, write_log


def test_fleet_commands_end_to_end(home, tmp_path):
    home("users", "add", "eqp", "--role", "equipment", user="chief")
    docks = write_csv(tmp_path / "docks.csv", DOCKS)
    cams = write_csv(tmp_path / "cameras.csv", CAMERAS)
    header = ["serial", "badge", "kind", "start", "end", "dock", "note"]
    assigned = write_csv(
        tmp_path / "assignments.csv",
        [header, ["CAM-1", "501", "personal", "2026-03-01T08:00:00Z", "", "", ""]],
    )
    home("fleet", "import", "docks", str(docks), user="eqp")
    report = json.loads(home("fleet", "import", "cameras", str(cams), "--json", user="eqp").stdout)
    assert (report["created"], report["imported"]) == (4, True)
    again = json.loads(home("fleet", "import", "cameras", str(cams), "--json", user="eqp").stdout)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    p = home("fleet", "import", "assignments", str(assigned), user="eqp")
    assert "1 new" in p.stdout

    bad = write_csv(
        tmp_path / "bad.csv", [CAMERAS[0], ["CAM-9", "AX-3", "", "", "", "soon", "", "", ""]]
    )
    p = home("fleet", "import", "cameras", str(bad), user="eqp", check=1)
    assert "line 2: purchase_date: 'soon' is not a date (YYYY-MM-DD)" in p.stderr
    assert "nothing was imported" in p.stderr
    p = home("fleet", "import", "cameras", str(bad), "--json", user="eqp", check=1)
    assert json.loads(p.stdout)["invalid"][0]["line"] == 2

    listed = json.loads(home("fleet", "camera", "list", "--format", "json", user="eqp").stdout)
    assert [c["holder"]["text"] for c in listed][:2] == ["officer 501 (ofc)", "dock N-01 (North)"]
    home(
        "fleet",
        "camera",
        "issue",
        "CAM-2",
        "--officer",
        "501",
        "--at",
        "2026-03-01T09:00Z",
        user="eqp",
    )
    p = home("fleet", "camera", "return", "CAM-2", "--at", "2026-03-02T09:00:00+00:00", user="eqp")
    assert "CAM-2 returned by officer 501 (ofc) at 2026-03-02T09:00:00+00:00." in p.stdout

    log = write_log(
        tmp_path / "dock.jsonl",
        [
            {"camera": "CAM-1", "event": "undock", "at": "2026-03-03T08:00:00Z", "battery": 99},
            {"camera": "CAM-1", "event": "power_on", "at": "2026-03-03T08:00:00Z"},
            {"camera": "CAM-1", "event": "power_off", "at": "2026-03-03T14:00:00Z"},
            {"camera": "CAM-1", "event": "dock", "at": "2026-03-03T16:00:00Z", "dock": "N-01",
             "battery": 12},
        ],
    )  # fmt: skip
    ingested = json.loads(home("fleet", "events", "import", str(log), "--json", user="eqp").stdout)
    assert (ingested["stored"], ingested["duplicates"]) == (4, 0)
    p = home("fleet", "events", "import", str(log), user="eqp")
    assert "0 new, 4 already held" in p.stdout

    p = home(
        "fleet",
        "report",
        "not-docked",
        "--days",
        "2",
        "--at",
        "2026-03-10",
        "--format",
        "csv",
        user="eqp",
    )
    lines = p.stdout.splitlines()
    assert lines[0] == "serial,model,status,holder,last_dock,dock,days_since"
    assert lines[1] == "CAM-2,AX-3,in_service,dock N-01 (North),,,"  # never docked: first
    assert lines[2].startswith(
        "CAM-1,AX-3,in_service,officer 501 (ofc),2026-03-03T16:00:00+00:00,N-01,6."
    )
    cycling = json.loads(
        home(
            "fleet", "report", "power-cycling", "--from", "2026-03-03T00:00Z",
            "--to", "2026-03-04T00:00Z", "--format", "json", user="eqp",
        ).stdout
    )  # fmt: skip
    assert cycling == [
        {"serial": "CAM-1", "model": "AX-3", "off_dock_h": 8.0, "powered_on_h": 6.0,
         "rate": 0.75, "power_cycles": 1}
    ]  # fmt: skip
    battery = json.loads(
        home(
            "fleet", "report", "battery", "--from", "2026-03-01T00:00Z",
            "--to", "2026-03-05T00:00Z", "--format", "json", user="eqp",
        ).stdout
    )  # fmt: skip
    assert [(b["battery_lot"], b["shifts"], b["ending_below"]) for b in battery] == [
        ("LOT-A", 1, 1),
        ("LOT-B", 0, 0),
    ]
    late = json.loads(
        home("fleet", "report", "late-uploads", "--format", "json", user="eqp").stdout
    )
    assert late["uploads"] == 0

    created = json.loads(
        home(
            "fleet", "recall", "create", "--battery-lot", "LOT-A", "--reason", "swelling",
            "--json", user="eqp",
        ).stdout
    )  # fmt: skip
    assert [(c["serial"], c["holder"]) for c in created["cameras"]] == [
        ("CAM-1", "officer 501 (ofc)"),
        ("CAM-2", "dock N-01 (North)"),
    ]
    recall = json.loads(home("fleet", "recall", "list", "--json", user="eqp").stdout)[0]
    assert (recall["total"], recall["done"]) == (2, 0)
    p = home(
        "fleet", "recall", "resolve", recall["id"], "CAM-2", "--outcome", "returned", user="eqp"
    )
    assert "CAM-2: returned" in p.stdout
    shown = json.loads(home("fleet", "recall", "show", recall["id"], "--json", user="aud").stdout)
    assert shown["counts"] == {"outstanding": 1, "returned": 1, "replaced": 0, "cleared": 0}
    assert [c["serial"] for c in shown["cameras"]] == ["CAM-1"]
    p = home("fleet", "recall", "show", recall["id"], user="eqp")
    assert "2 camera(s): 1 outstanding (50%), 1 returned (50%)" in p.stdout
    flagged = write_log(
        tmp_path / "after.jsonl",
        [{"camera": "CAM-1", "event": "upload", "at": "2099-01-01T00:00:00Z"}],
    )
    p = home("fleet", "events", "import", str(flagged), user="eqp")
    assert "warning: line 1: camera CAM-1 is under recall" in p.stderr
    p = home("fleet", "report", "recalled-uploads", "--format", "csv", user="eqp")
    assert p.stdout.splitlines()[1].startswith(f"{recall['id']},CAM-1,event,2099-01-01")

    rollout = json.loads(
        home(
            "fleet",
            "rollout",
            "create",
            "--firmware",
            "2.0",
            "--reason",
            "fix",
            "--json",
            user="eqp",
        ).stdout
    )
    assert rollout["counts"] == {"pending": 4, "updated": 0}
    home("fleet", "camera", "set", "CAM-3", "--firmware", "2.0", user="eqp")
    p = home("fleet", "rollout", "show", rollout["id"], user="eqp")
    assert "4 camera(s): 3 pending (75%), 1 updated (25%)" in p.stdout
    assert len(json.loads(home("fleet", "rollout", "list", "--json", user="eqp").stdout)) == 1
    assert "N-01" in home("fleet", "dock", "list", user="eqp").stdout

    p = home("fleet", "camera", "show", "NOPE", user="eqp", check=1)
    assert p.stderr.strip() == "There is no camera with serial NOPE."
    p = home("fleet", "camera", "list", user="ofc", check=3)
    assert "fleet:inventory:view" in p.stderr
    p = home("fleet", "report", "battery", "--format", "xml", user="eqp", check=1)
    assert "--format must be table, csv or json" in p.stderr
