"""Compliance metrics: rates by group and period, categorization, late uploads, trends.

One small department (two squads, three officers) with eight dispatch events and six
recordings, built through the real import, ingest and matching services, in the
agency's time zone (America/New_York) across the February/March month boundary
(an event at 22:00 local on 28 February is 03:00 UTC on 1 March) and the spring
DST change (8 March 2026).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest
from typer.testing import CliRunner

from bodycam.auth.actor import PermissionDenied
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.matching_service import run_matching
from bodycam.compliance.report import (
    Rate,
    as_csv,
    as_json,
    compliance_report,
    describe_trend,
    trend,
)
from bodycam.compliance.rules import Rules
from bodycam.compliance.service import import_cad
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.evidence.service import ingest_file
from tests.compliance.csvs import GENERIC_HEADER, write_csv

NY = "America/New_York"
NYZ = ZoneInfo(NY)

RULES = """
[[policy]]
version = "2026"
effective_from = 2020-01-01
exclude_dispositions = ["CANCELLED"]
start_grace_minutes = 2
end_grace_minutes = 2
gap_grace_minutes = 1

[categories]
"DISTURBANCE" = "Domestic Violence"
"""


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# event, badge, created (UTC), call type, precinct, disposition
EVENTS = [
    ("E1", "1001", "2026-02-10T15:00", "TRAFFIC STOP", "North", "CITATION"),
    ("E2", "1002", "2026-02-12T15:00", "DISTURBANCE", "North", "REPORT"),
    ("E3", "1001", "2026-03-01T03:00", "DISTURBANCE", "North", "REPORT"),  # 28 Feb, 22:00 EST
    ("E4", "1001", "2026-03-09T04:30", "TRAFFIC STOP", "North", "CITATION"),  # 9 Mar 00:30 EDT
    ("E5", "1002", "2026-03-10T15:00", "TRAFFIC STOP", "North", "CITATION"),
    ("E6", "2001", "2026-03-11T15:00", "DISTURBANCE", "South", "REPORT"),
    ("E7", "2001", "2026-03-12T15:00", "DISTURBANCE", "South", "CANCELLED"),  # exempt
    ("E8", "2001", "2026-03-13T15:00", "DISTURBANCE", "South", "REPORT"),  # not recorded
]

# recording, badge, start (UTC), minutes, category, hours from its end to its upload
RECORDINGS = [
    ("R1", "1001", "2026-02-10T14:59", 32, "Traffic Stop", 2.0),  # E1, recorded
    ("R2", "1001", "2026-03-01T02:59", 32, None, 13.0),  # E3, late upload (28 Feb local)
    ("R3", "1001", "2026-03-09T04:29", 32, "Traffic Stop", 1.0),  # E4 (9 Mar local, EDT)
    ("R4", "1002", "2026-03-10T15:05", 26, None, 30.0),  # E5, late start and late upload
    ("R5", "2001", "2026-03-11T14:59", 32, "Traffic Stop", 0.5),  # E6, recorded
    ("R6", "1002", "2026-03-20T12:00", 10, None, 3.0),  # no event
]


@pytest.fixture
def department(ctx, dept, vault, clips, tmp_path) -> dict[str, str]:
    """The events, recordings and verdicts above; returns recording ids by name."""
    admin = dept.actor("admin")
    ids = {}
    for n, (name, badge, start, minutes, category, delay_h) in enumerate(RECORDINGS):
        rid = ingest_file(
            vault, dept.actor("clerk"), clips(140 + n), officer_badge=badge, category=category
        ).id
        begin = _utc(start)
        with transaction(ctx.sessions) as s:
            rec = s.get(Recording, rid)
            rec.recorded_start = begin
            rec.recorded_end = begin + timedelta(minutes=minutes)
            rec.ingested_at = rec.recorded_end + timedelta(hours=delay_h)
        ids[name] = rid
    rows = []
    for event, badge, created, call_type, precinct, disposition in EVENTS:
        t = _utc(created)
        stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(
            {
                "event_id": event,
                "call_type": call_type,
                "priority": "2",
                "self_initiated": "Y",
                "precinct": precinct,
                "location": "x",
                "disposition": disposition,
                "created_at": stamp,
                "badge": badge,
                "dispatched_at": stamp,
                "arrived_at": stamp,
                "cleared_at": (t + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    import_cad(
        ctx.sessions,
        admin,
        write_csv(tmp_path / "cad.csv", GENERIC_HEADER, rows),
        load_preset("generic"),
    )
    counts = run_matching(ctx.sessions, admin, Rules.from_toml(RULES))
    assert counts == {"recorded": 4, "late_start": 1, "not_recorded": 2, "exempt": 1}
    return ids


def _counts(r: Rate) -> tuple[object, ...]:
    return (
        r.required,
        r.activated,
        r.full,
        r.exempt,
        r.recordings,
        r.categorized,
        r.uploads_late,
        r.median_upload_delay_h,
    )


def test_squads_by_month_in_the_agency_time_zone(ctx, dept, department):
    rates = compliance_report(
        ctx.sessions, dept.actor("analyst"), by="squad", period="month", tz=NY
    )
    got = {(r.group, r.period): _counts(r) for r in rates}
    assert got == {
        # E1, E2, E3 (28 Feb local); R1, R2 (R2 uncategorized, uploaded 13 h after its end)
        ("North-A", "2026-02"): (3, 2, 2, 0, 2, 1, 1, 7.5),
        # E4, E5 (late start); R3, R4 (30 h), R6 (no event)
        ("North-A", "2026-03"): (2, 2, 1, 0, 3, 1, 1, 3.0),
        ("South-B", "2026-03"): (2, 1, 1, 1, 1, 1, 0, 0.5),
    }
    north_feb = rates[0]
    assert (north_feb.activation_rate, north_feb.categorization_rate) == (0.6667, 0.5)
    low, high = proportion_confint(2, 3, alpha=0.05, method="wilson")
    assert (north_feb.activation_low, north_feb.activation_high) == (
        round(low, 4),
        round(high, 4),
    )
    low, high = proportion_confint(1, 2, alpha=0.05, method="wilson")
    assert (north_feb.late_upload_rate, north_feb.late_upload_low, north_feb.late_upload_high) == (
        0.5,
        round(low, 4),
        round(high, 4),
    )
    # In UTC, E3 and R2 (03:00 and 02:59 UTC on 1 March) fall in March instead.
    utc = {
        (r.group, r.period): (r.required, r.recordings)
        for r in compliance_report(ctx.sessions, dept.actor("analyst"), by="squad", period="month")
    }
    assert utc[("North-A", "2026-02")] == (2, 1) and utc[("North-A", "2026-03")] == (3, 4)


def test_department_totals_and_the_shift_grace(ctx, dept, department):
    analyst = dept.actor("analyst")
    [total] = compliance_report(ctx.sessions, analyst, by="all", tz=NY)
    assert total.group == "all" and total.period is None
    # 7 required (E7 exempt), 5 activated, 4 in full; R1, R3, R5 categorized (R2's
    # Domestic Violence was added by the matcher, for retention: not a categorization);
    # R2 and R4 uploaded more than 12 h after their end; delays 0.5 1 2 3 13 30 h.
    assert _counts(total) == (7, 5, 4, 1, 6, 3, 2, 2.5)
    assert (total.activation_rate, total.categorization_rate, total.late_upload_rate) == (
        0.7143,
        0.5,
        0.3333,
    )
    [strict] = compliance_report(
        ctx.sessions, analyst, by="all", tz=NY, shift_grace=timedelta(hours=1.5)
    )
    assert strict.uploads_late == 4  # 2, 3, 13 and 30 hours
    with pytest.raises(PermissionDenied):
        compliance_report(ctx.sessions, dept.actor("clerk"), by="all")


def test_precincts_and_call_types_count_the_recordings_matched_to_their_events(
    ctx, dept, department
):
    analyst = dept.actor("analyst")
    precinct = {
        r.group: _counts(r) for r in compliance_report(ctx.sessions, analyst, by="precinct")
    }
    assert precinct == {
        "North": (5, 4, 3, 0, 4, 2, 2, 7.5),  # R1..R4; R6 matched no event
        "South": (2, 1, 1, 1, 1, 1, 0, 0.5),  # R5
    }
    calls = {r.group: _counts(r) for r in compliance_report(ctx.sessions, analyst, by="call-type")}
    assert calls == {
        "DISTURBANCE": (4, 2, 2, 1, 2, 1, 1, 6.75),  # R2, R5
        "TRAFFIC STOP": (3, 3, 2, 0, 3, 2, 1, 2.0),  # R1, R3, R4
    }
    officers = {r.group: _counts(r) for r in compliance_report(ctx.sessions, analyst, by="officer")}
    assert officers["1002 o2"] == (2, 1, 0, 0, 2, 0, 1, 16.5)  # E2, E5; R4, R6


def test_days_follow_local_midnight_across_the_dst_change(ctx, dept, department):
    start = datetime(2026, 3, 8, tzinfo=NYZ)
    end = datetime(2026, 3, 11, tzinfo=NYZ)
    rates = compliance_report(
        ctx.sessions, dept.actor("analyst"), by="all", period="day", start=start, end=end, tz=NY
    )
    # E4 and R3 at 04:30 and 04:29 UTC on 9 March: 00:30 EDT on the 9th (23:30 at EST's
    # offset, so a fixed offset would put them on the 8th); E5 and R4 on the 10th.
    assert [(r.period, r.required, r.recordings) for r in rates] == [
        ("2026-03-09", 1, 1),
        ("2026-03-10", 1, 1),
    ]
    weeks = compliance_report(ctx.sessions, dept.actor("analyst"), by="all", period="week", tz=NY)
    assert [(r.period, r.required, r.recordings) for r in weeks] == [
        ("2026-02-09", 2, 1),  # E1, E2; R1
        ("2026-02-23", 1, 1),  # E3, R2 (Saturday 28 Feb)
        ("2026-03-09", 4, 3),  # E4, E5, E6, E8 (E7 exempt); R3, R4, R5
        ("2026-03-16", 0, 1),  # R6
    ]


def test_trend_of_a_squad_and_the_honest_statement(ctx, dept, department):
    analyst = dept.actor("analyst")
    points = trend(
        ctx.sessions,
        analyst,
        by="squad",
        group="North-A",
        period="month",
        start=datetime(2026, 1, 1, tzinfo=NYZ),
        end=datetime(2026, 4, 1, tzinfo=NYZ),
        tz=NY,
    )
    assert [p.period for p in points] == ["2026-01", "2026-02", "2026-03"]
    assert points[0].start == datetime(2026, 1, 1, tzinfo=NYZ)
    assert points[0].start.utcoffset() == timedelta(hours=-5)
    assert points[2].end == datetime(2026, 4, 1, tzinfo=NYZ)
    assert points[2].end.utcoffset() == timedelta(hours=-4)
    assert (points[0].rate.required, points[0].rate.activation_rate) == (0, None)
    assert [(p.rate.activated, p.rate.required) for p in points] == [(0, 0), (2, 3), (2, 2)]
    change = describe_trend(points)
    assert change is not None
    assert (change.first, change.last, change.change) == ("2026-02", "2026-03", 0.3333)
    _, p = proportions_ztest([2, 2], [2, 3])
    assert change.p_value == round(float(p), 4) and change.intervals_overlap
    assert change.sentence.startswith(
        "Activation rate went from 67% (2 of 3) in 2026-02 to 100% (2 of 2) in 2026-03, "
        "+33 points; the 95% intervals overlap"
    )
    assert "this may be chance" in change.sentence
    late = describe_trend(points, "late_upload")
    assert late is not None and (late.first_count, late.first_total) == (1, 2)
    assert (late.last_count, late.last_total) == (1, 3)
    # An officer by badge; the whole department without a group; weeks filled in.
    mine = trend(ctx.sessions, analyst, by="officer", group="1002", period="month", tz=NY)
    assert [(p.period, p.rate.required, p.rate.recordings) for p in mine] == [
        ("2026-02", 1, 0),
        ("2026-03", 1, 2),
    ]
    weeks = trend(ctx.sessions, analyst, by="all", period="week", tz=NY)
    assert [p.period for p in weeks][:3] == ["2026-02-09", "2026-02-16", "2026-02-23"]
    assert len(weeks) == 6 and weeks[1].rate.required == 0
    assert describe_trend(weeks[:1]) is None
    with pytest.raises(ValueError, match="Name the squad"):
        trend(ctx.sessions, analyst, by="squad", period="month", tz=NY)


def test_csv_and_json_keep_the_old_keys_and_add_the_new(ctx, dept, department):
    analyst = dept.actor("analyst")
    plain = compliance_report(ctx.sessions, analyst, by="squad", tz=NY)
    header = as_csv(plain).splitlines()[0].split(",")
    old = ["group", "required", "activated", "full", "exempt", "unknown", "activation_rate"]
    assert header[: len(old)] == old and "period" not in header
    new = [
        "recordings",
        "categorized",
        "categorization_rate",
        "categorization_low",
        "categorization_high",
        "uploads_late",
        "late_upload_rate",
        "late_upload_low",
        "late_upload_high",
        "median_upload_delay_h",
    ]
    assert set(new) <= set(header)
    monthly = compliance_report(ctx.sessions, analyst, by="squad", period="month", tz=NY)
    lines = list(csv.DictReader(io.StringIO(as_csv(monthly))))
    assert list(lines[0])[:3] == ["group", "period", "required"]
    assert (lines[0]["group"], lines[0]["period"], lines[0]["uploads_late"]) == (
        "North-A",
        "2026-02",
        "1",
    )
    rows = json.loads(as_json(monthly))
    assert len(rows) == 3 and rows[0]["period"] == "2026-02" and rows[0]["recordings"] == 2
    assert "period" not in json.loads(as_json(plain))[0]
    assert as_csv([], with_period=True).strip().split(",")[:2] == ["group", "period"]


@pytest.fixture
def cli(ctx, settings, monkeypatch):
    """Run ``bodycam`` in this process (CliRunner) on the test deployment."""
    from bodycam import cli_support
    from bodycam.cli import app
    from bodycam.config import get_settings

    monkeypatch.setenv("BODYCAM_HOME", str(settings.resolved_home))
    monkeypatch.setenv("BODYCAM_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("BODYCAM_STORAGE_URL", settings.resolved_storage_url)
    monkeypatch.setenv("BODYCAM_TIMEZONE", NY)
    monkeypatch.delenv("BODYCAM_USER", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        cli_support.state["as"] = None
        return runner.invoke(app, ["--as", "analyst", *args])

    yield run
    get_settings.cache_clear()
    cli_support.state["as"] = None


def test_the_report_command_end_to_end(cli, department):
    result = cli(
        "compliance", "report", "--by", "squad", "--period", "month", "--from", "2026-02-01",
        "--to", "2026-04-01", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["group"], r["period"], r["required"], r["recordings"]) for r in rows] == [
        ("North-A", "2026-02", 3, 2),
        ("North-A", "2026-03", 2, 3),
        ("South-B", "2026-03", 2, 1),
    ]
    assert rows[0]["activation_rate"] == 0.6667 and rows[0]["median_upload_delay_h"] == 7.5
    # --from is local midnight: 1 March 00:00 EST leaves out E3 and R2 (28 Feb, 22:00).
    result = cli("compliance", "report", "--by", "all", "--from", "2026-03-01", "--format", "csv")
    assert result.exit_code == 0, result.output
    [line] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (line["group"], line["required"], line["recordings"]) == ("all", "4", "4")
    table = cli("compliance", "report", "--by", "squad", "--period", "month")
    assert table.exit_code == 0, table.output
    assert "North-A" in table.stdout and "2026-02" in table.stdout
    assert "North-A: Activation rate went from 67% (2 of 3) in 2026-02" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "beat"], "--by must be one of officer, squad, precinct, call-type, all"),
        (["--period", "year"], "--period must be one of day, week, month, not 'year'"),
        (["--from", "2026-04-01", "--to", "2026-03-01"], "--from 2026-04-01 is not before"),
        (["--from", "March"], "--from 'March' is not an ISO date"),
        (["--format", "xml"], "--format must be table, csv or json"),
        (["--shift-grace", "-1"], "--shift-grace must be between 0 and 336 hours"),
    ],
)
def test_bad_report_options_exit_1_with_a_sentence(cli, args, message):
    result = cli("compliance", "report", *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
