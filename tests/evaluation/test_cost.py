"""The cost model: storage, redaction and hardware arithmetic by hand, the sensitivity range,
config and flag errors as sentences, the CLI end to end, and the actuals of a small vault."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bodycam.auth.actor import PermissionDenied
from bodycam.cli import app
from bodycam.evaluation.cost import (
    ASSUMPTIONS,
    DEFAULT_MIX,
    CostError,
    Inputs,
    MixEntry,
    held_tb_months,
    load_inputs,
    project,
    retention_months,
    tb_per_hour,
)
from bodycam.evaluation.cost_actuals import active_hours, cost_actuals, inputs_from_actuals

DEFAULTS = {a.key: a.default for a in ASSUMPTIONS}


def inputs(cameras: int = 10, years: int = 2, mix=None, **values: float | bool) -> Inputs:
    """Defaults with `values` given as key=value (dots as double underscores)."""
    given = {k.replace("__", "."): v for k, v in values.items()}
    return Inputs(cameras, years, DEFAULTS | given, tuple(mix or DEFAULT_MIX))


def test_hours_and_bitrate_to_terabytes_by_hand() -> None:
    # 8 Mbit/s = 1 MB/s; an hour is 3,600 MB = 0.0036 TB (decimal).
    assert tb_per_hour(8) == pytest.approx(0.0036)
    assert retention_months("3 years") == 36
    assert retention_months("365 days") == pytest.approx(365 * 12 / 365.25)
    assert retention_months("until deleted") == math.inf


def test_storage_held_in_year_k_by_hand() -> None:
    # 10 officers x 10 h x 0.0036 TB = 0.36 TB a month, all kept 12 months, never archived.
    p = project(
        inputs(
            mix=[MixEntry("All", 1.0, "12 months")],
            storage__bitrate_mbps=8.0,
            storage__archive_after_days=100_000,
            storage__hot_per_tb_month=20.0,
        )
    )
    y1, y2 = p.years
    assert y1.recorded_tb == pytest.approx(12 * 0.36)
    # Month k (0-based) of year 1 holds k + 1 months of footage: 1 + ... + 12 = 78.
    assert y1.storage == pytest.approx(78 * 0.36 * 20)
    # From month 12 on, 12 months are held every month: 144 TB-months in year 2.
    assert y2.storage == pytest.approx(144 * 0.36 * 20)
    assert y2.held_tb_hot == pytest.approx(12 * 0.36) and y2.held_tb_archive == 0


def test_archive_tier_and_periods_by_hand() -> None:
    # 1 TB a month kept 6 months; hot for 3, then archived: ages 0-2 hot, 3-5 archive.
    held = held_tb_months(1.0, [MixEntry("A", 1.0, "6 months")], 12, 3.0, 1.0)
    assert [h for h, _ in held] == [1, 2, 3, *[3] * 9]
    assert [a for _, a in held] == [0, 0, 0, 1, 2, 3, *[3] * 6]
    # Half kept 6 months, half forever: the forever half keeps growing.
    mix = [MixEntry("A", 0.5, "6 months"), MixEntry("B", 0.5, "until deleted")]
    held = held_tb_months(2.0, mix, 24, 1000.0, 1.0)
    assert held[23][0] == pytest.approx(6 + 24)  # 6 months of A + 24 of B, 1 TB each
    # Half the aged footage stays hot when archive_share is 0.5.
    held = held_tb_months(1.0, [MixEntry("A", 1.0, "6 months")], 12, 3.0, 0.5)
    assert held[11] == (pytest.approx(4.5), pytest.approx(1.5))
    # A 45-day period ends mid-month: its last month holds a fraction.
    months = retention_months("45 days")
    held = held_tb_months(1.0, [MixEntry("A", 1.0, "45 days")], 3, 1000.0, 1.0)
    assert held[2][0] == pytest.approx(months)


def test_redaction_hardware_staff_and_totals_by_hand() -> None:
    p = project(inputs(years=4))
    y1, y2, _, y4 = p.years
    # 10 officers x 10 h x 12 = 1,200 h; 5% requested = 60 h; 1 review hour each at $45.
    assert y1.video_hours == 1200 and y1.redaction_hours == pytest.approx(60)
    assert y1.redaction == pytest.approx(2700)
    assert p.redaction_manual[0] == pytest.approx(60 * 3 * 45)
    # 10 cameras at $700 and 2 docks (8 cameras each) at $1,500; 5% replaced in between;
    # the fleet again in year 4 (every 3 years).
    assert y1.hardware == pytest.approx(7000 + 3000)
    assert y2.hardware == pytest.approx(10 * 0.05 * 700)
    assert y4.hardware == pytest.approx(7000)
    assert y1.licences == 10 * 240 and y1.staff == pytest.approx(0.05 * 110_000)
    for y in p.years:
        parts = y.hardware + y.licences + y.storage + y.redaction + y.staff
        assert y.total == pytest.approx(parts)
    assert [y.cumulative for y in p.years] == pytest.approx(
        [sum(y.total for y in p.years[: i + 1]) for i in range(4)]
    )
    grown = project(inputs(years=2, program__price_growth_per_year=0.1))
    assert grown.years[1].licences == pytest.approx(2400 * 1.1)
    assert project(inputs(staff__ftes=3.0)).years[0].staff == 330_000


@pytest.mark.parametrize("cameras", [1, 20, 400, 24_000])
def test_sensitivity_bounds_are_ordered(cameras: int) -> None:
    p = project(inputs(cameras=cameras, years=6))
    for base, low, high in zip(p.years, p.low, p.high, strict=True):
        assert low <= base.total <= high
    assert low < high
    for row in p.tornado:
        assert row.low <= p.total <= row.high
    assert [t.swing for t in p.tornado] == sorted((t.swing for t in p.tornado), reverse=True)
    # No spread: the range collapses onto the projection.
    spreads = ("video_hours", "redaction_share", "review_hours", "bitrate", "storage_price")
    flat = project(inputs(**{f"sensitivity__{s}": 0.0 for s in spreads}))
    assert flat.low == flat.high == tuple(y.total for y in flat.years) and flat.tornado == ()


def test_config_file_and_set_override_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "schedule.toml").write_text(
        '[categories."Uncategorized"]\nretain = "90 days"\n'
        '[categories."Arrest"]\nretain = "5 years"\n'
    )
    config = tmp_path / "city.toml"
    config.write_text(
        """
[program]
cameras = 400
years = 3
[storage]
bitrate_mbps = 4
schedule = "schedule.toml"
[storage.mix]
"Uncategorized" = 0.9
"Arrest" = { share = 0.1 }
[redaction]
assisted = false
"""
    )
    i = load_inputs(config=config, overrides=["hardware.camera_price=1000", "program.years=4"])
    assert (i.cameras, i.years) == (400, 4)
    assert i.values["storage.bitrate_mbps"] == 4.0 and i.values["redaction.assisted"] is False
    assert i.values["hardware.camera_price"] == 1000.0
    assert [(m.category, m.share, m.retain) for m in i.mix] == [
        ("Uncategorized", 0.9, "90 days"), ("Arrest", 0.1, "5 years")]  # fmt: skip
    assert i.sources["storage.bitrate_mbps"] == "config city.toml"
    assert i.sources["hardware.camera_price"] == "--set"
    assert load_inputs(config=config, cameras=12).cameras == 12


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("[storage]\nbitrate = 4\n", [], "city.toml: 'storage.bitrate' is not an input"),
        ("[storage]\nbitrate_mbps = 'fast'\n", [], "storage.bitrate_mbps must be a number"),
        ("[budget]\nx = 1\n", [], "city.toml: unknown section [budget]"),
        ("[redaction]\nshare_requested = 1.5\n", [], "is a share and must be at most 1"),
        ('[storage.mix]\n"A" = 0.5\n', [], "storage.mix.'A': give its period"),
        ('[storage.mix]\n"Uncategorized" = 0.5\n', [], "add up to 0.5, not 1"),
        ('[storage.mix]\n"A" = { share = 1, retain = "soon" }\n', [], "'soon' is not a period"),
        ("[hardware]\ncamera_replacement_years = 2.5\n", [], "must be a whole number"),
        ("x = [", [], "city.toml is not valid TOML"),
        ("", ["storage.bitrate_mbps"], "--set 'storage.bitrate_mbps': write KEY=VALUE"),
        ("", ["staff.cost_per_fte=-5"], "--set: staff.cost_per_fte must be 0 or more"),
        ("", ["program.cameras=0"], "--set: cameras must be from 1 to"),
    ],
)
def test_bad_inputs_are_sentences(tmp_path: Path, text, overrides, message) -> None:
    config = tmp_path / "city.toml"
    config.write_text("[program]\ncameras = 5\nyears = 2\n" + text)
    with pytest.raises(CostError) as caught:
        load_inputs(config=config, overrides=overrides)
    assert message in str(caught.value)


def test_missing_cameras_is_a_sentence() -> None:
    with pytest.raises(CostError, match="Give the number of cameras with --cameras"):
        load_inputs(years=3)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_cli_project_table_csv_json_and_chart(run, tmp_path: Path) -> None:
    chart = tmp_path / "cost.svg"
    code, out, err = run(
        "cost", "project", "--cameras", "400", "--years", "3", "--chart", str(chart)
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("400 cameras over 3 years")
    assert lines[1].split()[:3] == ["year", "hardware", "licences"]
    assert lines[5].startswith("all")
    assert "with automated suggestions" in out
    svg = chart.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Year 3" in svg and "cumulative" in svg
    code, out, err = run("cost", "project", "--cameras", "400", "--years", "3", "--format", "json",
                         "--set", "storage.bitrate_mbps=8")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert len(data["years"]) == 3 and data["inputs"]["values"]["storage.bitrate_mbps"] == 8.0
    first = data["years"][0]
    assert first["total_low"] <= first["total"] <= first["total_high"]
    assert data["total"] == pytest.approx(sum(y["total"] for y in data["years"]))
    code, out, err = run("cost", "project", "--cameras", "20", "--years", "2", "--format", "csv")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.startswith("year,cameras_bought") and header.endswith("total_low,total_high")
    assert len(rows) == 2
    code, out, _ = run("cost", "inputs")
    assert code == 0 and "storage.bitrate_mbps" in out and "Uncategorized" in out


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--years", "3"], "Give the number of cameras with --cameras"),
        (["--cameras", "0", "--years", "3"], "--cameras: cameras must be from 1 to"),
        (["--cameras", "5", "--years", "3", "--set", "storage.speed=1"],
         "--set: 'storage.speed' is not an input of the cost model"),
        (["--cameras", "5", "--years", "3", "--format", "xml"], "--format must be table, csv"),
        (["--cameras", "5", "--years", "3", "--config", "nope.toml"], "nope.toml cannot be read"),
        (["--cameras", "5", "--years", "3", "--chart", "c.pdf"], "must end in .svg or .png"),
        (["--cameras", "5", "--years", "3", "--from", "2026-01-01"], "add --from-actuals"),
    ],
)  # fmt: skip
def test_cli_bad_input_exits_1_with_a_sentence(run, args, sentence) -> None:
    code, out, err = run("cost", "project", *args)
    assert code == 1 and out == ""
    assert sentence in err and "Traceback" not in err


def test_active_time_counts_gaps_up_to_the_idle_limit() -> None:
    t = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    records = [
        ("u1", "r1", t), ("u1", "r1", t + timedelta(minutes=10)),
        ("u1", "r1", t + timedelta(minutes=25)),  # 25 min so far
        ("u1", "r1", t + timedelta(hours=3)),  # idle gap: not counted
        ("u2", "r1", t + timedelta(minutes=5)),  # another person: own sequence
        ("u1", "r2", t + timedelta(minutes=20)),  # another recording: own sequence
    ]  # fmt: skip
    assert active_hours(records) == pytest.approx(25 / 60)


def _small_vault(ctx, dept, vault, clips) -> list[str]:
    """Three recordings (Traffic Stop, Arrest x2 ... ), a schedule, a redaction project."""
    from bodycam.audit.actions import AuditAction
    from bodycam.audit.models import AuditRecord
    from bodycam.db import transaction
    from bodycam.evidence import service as ev
    from bodycam.evidence.models import Recording
    from bodycam.redaction.models import RedactedCopy, RedactionProject
    from bodycam.retention import service as retention

    retention.import_schedule(
        ctx.sessions,
        dept.actor("admin"),
        '[categories."Uncategorized"]\nretain = "180 days"\n'
        '[categories."Traffic Stop"]\nretain = "3 years"\n',
    )
    clerk = dept.actor("clerk")
    ids = [
        ev.ingest_file(vault, clerk, clips(81, 2.0), officer_badge="1001", category="Traffic Stop",
                       camera_serial="CAM-1").id,
        ev.ingest_file(vault, clerk, clips(82), officer_badge="1002", camera_serial="CAM-2").id,
        ev.ingest_file(vault, clerk, clips(83), officer_badge="1002", camera_serial="CAM-2").id,
    ]  # fmt: skip
    start = datetime.now(UTC) - timedelta(minutes=90)
    with transaction(ctx.sessions) as s:
        rec = s.get(Recording, ids[0])
        project_row = RedactionProject(
            recording_id=rec.id, source_sha256=rec.sha256, created_by=clerk.user_id,
            created_at=start, status="review",
        )  # fmt: skip
        s.add(project_row)
        s.flush()
        s.add(
            RedactedCopy(
                project_id=project_row.id, recording_id=rec.id, source_sha256=rec.sha256,
                sha256="0" * 64, size_bytes=1000, plan="{}", plan_hash="0" * 64, engine="t",
                detector="t", qc_threshold=0.5, status="approved", created_by=clerk.user_id,
                approved_by=clerk.user_id, approved_at=start + timedelta(hours=1),
            )
        )  # fmt: skip
        for minutes in (0, 10, 20, 80):  # 20 active minutes, then an idle hour
            s.add(
                AuditRecord.new(
                    actor_id=clerk.user_id, actor="clerk", role="records_clerk", via="cli",
                    ip="", action=AuditAction.REDACTION_EDIT.value, object_type="recording",
                    object_id=rec.id, details={"project": project_row.id},
                    at=start + timedelta(minutes=minutes),
                )
            )  # fmt: skip
    return ids


def test_actuals_of_a_small_vault(ctx, dept, vault, clips) -> None:
    from bodycam.evidence.models import Recording

    ids = _small_vault(ctx, dept, vault, clips)
    with ctx.sessions() as s:
        recs = [s.get(Recording, i) for i in ids]
    a = cost_actuals(ctx.sessions, dept.actor("analyst"))
    assert a.videos == 3 and a.officers == 2 and a.cameras == 2
    assert a.hours == pytest.approx(sum(r.duration_s for r in recs) / 3600)
    assert a.tb == pytest.approx(sum(r.size_bytes for r in recs) / 1e12)
    assert a.days == 1.0 and a.videos_per_day == 3  # a window of less than a day counts as one
    assert a.tb_hot == pytest.approx((sum(r.size_bytes for r in recs) + 1000) / 1e12)
    assert a.tb_archive == 0 and a.tb_redacted == pytest.approx(1000 / 1e12)
    assert [m.videos for m in a.months] == [3]
    assert {(c.category, c.videos, c.retain) for c in a.categories} == {
        ("Traffic Stop", 1, "3 years"), ("Uncategorized", 2, "180 days")}  # fmt: skip
    assert (a.projects, a.approved) == (1, 1)
    assert a.elapsed_hours == (pytest.approx(1.0),)
    assert a.active_hours == pytest.approx(20 / 60)
    assert a.redacted_video_hours == pytest.approx(recs[0].duration_s / 3600)
    values, mix, _ = inputs_from_actuals(a)
    assert values["storage.video_hours_per_officer_per_month"] == pytest.approx(
        a.hours * 365.25 / 12 / 2
    )
    assert values["redaction.hours_per_video_hour_assisted"] == pytest.approx(
        (20 / 60) / (recs[0].duration_s / 3600)
    )
    assert mix is not None and sum(m.share for m in mix) == pytest.approx(1)
    i = load_inputs(years=2, actuals=values, actual_mix=mix, actual_cameras=a.cameras)
    assert i.cameras == 2 and i.sources["storage.bitrate_mbps"] == "actuals"
    assert project(i).years[0].total > 0
    # A window with nothing in it, and one that ends before it starts.
    empty = cost_actuals(ctx.sessions, dept.actor("admin"), datetime(2020, 1, 1).date(),
                         datetime(2020, 1, 31).date())  # fmt: skip
    assert empty.videos == 0 and empty.days == 31 and empty.notes
    with pytest.raises(CostError, match="before"):
        cost_actuals(ctx.sessions, dept.actor("admin"), datetime(2020, 2, 1).date(),
                     datetime(2020, 1, 1).date())  # fmt: skip
    with pytest.raises(CostError, match="No footage was ingested"):
        inputs_from_actuals(empty)
    for who in ("o1", "clerk", "auditor"):
        with pytest.raises(PermissionDenied):
            cost_actuals(ctx.sessions, dept.actor(who))


def test_cli_actuals_and_project_from_actuals(home, clips) -> None:
    home("ingest", str(clips(84)), "--officer", "501", "--json", user="ofc")
    done = home("cost", "actuals", "--format", "json", user="chief")
    data = json.loads(done.stdout)
    assert data["videos"] == 1 and data["officers"] == 1 and data["tiers"]["hot"] > 0
    table = home("cost", "actuals", user="chief").stdout
    assert "videos per day" in table and "TB held now, hot" in table
    done = home("cost", "project", "--from-actuals", "--years", "2", "--format", "json",
                user="chief")  # fmt: skip
    data = json.loads(done.stdout)
    assert data["inputs"]["cameras"] == 1  # the officers seen (no camera serial was given)
    assert data["inputs"]["sources"]["storage.video_hours_per_officer_per_month"] == "actuals"
    denied = home("cost", "actuals", user="ofc", check=3)
    assert "lacks the permission evaluation:cost:view" in denied.stderr
    bad = home("cost", "actuals", "--from", "2026-13-01", user="chief", check=1)
    assert "--from '2026-13-01' is not a date" in bad.stderr
