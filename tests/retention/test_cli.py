"""``bodycam retention`` end to end through the CLI: schedule, query holds, cases, dry run."""

from __future__ import annotations

import json


def _lines(p) -> list[dict]:
    return [json.loads(x) for x in p.stdout.splitlines() if x.strip()]


def test_schedule_holds_cases_and_dry_run(home, clips, tmp_path):
    schedule = tmp_path / "schedule.toml"
    schedule.write_text('[categories."Uncategorized"]\nretain = "1 day"\n')
    home("retention", "schedule", "import", str(schedule), "--note", "test", user="chief")
    first = json.loads(
        home("ingest", str(clips(61)), "--officer", "501", "--json", user="ofc").stdout
    )
    second = json.loads(
        home("ingest", str(clips(62)), "--officer", "501", "--json", user="ofc").stdout
    )
    home("recordings", "edit", first["id"], "--case", "24-9", user="clerk")
    # The clips are recorded "now": nothing is due yet, but a query hold still lists.
    p = home(
        "retention", "hold", "add", "--officer", "501", "--from", "2000-01-01",
        "--reason", "Doe v. City", "--type", "litigation", "--json", user="clerk",
    )  # fmt: skip
    hold = json.loads(p.stdout)
    assert hold["kind"] == "query" and hold["source"] == "manual"
    assert hold["query"]["start_from"].startswith("2000-01-01")
    p = home("retention", "hold", "add", "--officer", "999", "--reason", "x", user="clerk", check=1)
    assert "No officer has badge 999." in p.stderr
    p = home("retention", "hold", "add", "--reason", "x", user="clerk", check=1)
    assert "one recording, one case number or one query" in p.stderr

    case = json.loads(
        home("retention", "case", "open", "24-9", "--title", "Theft", "--json", user="clerk").stdout
    )
    assert case["status"] == "open"
    holds = _lines(home("retention", "hold", "list", "--json", user="aud"))
    auto = [h for h in holds if h["source"] == "open_case"]
    assert [h["target"] for h in auto] == ["24-9"]
    p = home("retention", "hold", "release", auto[0]["id"], "--reason", "no", user="clerk", check=1)
    assert "placed automatically" in p.stderr
    p = home("retention", "case", "open", "24-9", user="ofc", check=3)
    assert p.stderr.strip()
    home("retention", "case", "close", "24-9", "--reason", "cleared by arrest", user="clerk")
    assert _lines(home("retention", "case", "list", "--json", user="clerk")) == []
    closed = _lines(home("retention", "case", "list", "--all", "--json", user="clerk"))
    assert closed[0]["status"] == "closed" and closed[0]["close_reason"] == "cleared by arrest"

    dry = json.loads(home("retention", "run", "--json", user="clerk").stdout)
    assert dry == []  # recorded today under a 1-day period: not due yet
    queue = _lines(home("retention", "queue", "--days", "2", "--json", user="clerk"))
    assert {q["recording_id"]: q["status"] for q in queue} == {
        first["id"]: "held",
        second["id"]: "held",
    }
