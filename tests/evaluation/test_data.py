"""Rosters and outcome exports in, officer-level files and panels out (counts by hand)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bodycam.evaluation.counts import officer_level, panel, parse_window, periods
from bodycam.evaluation.data import read_outcomes, read_roster
from bodycam.evaluation.mapping import (
    load_outcome_mapping,
    load_roster_mapping,
    parse_outcome_mapping,
)
from bodycam.evaluation.tables import InputError
from tests.evaluation.samples import INCIDENTS, LANSING, MAPPING, ROSTER, STL, real_files

PRE = parse_window("2019-01-01..2019-12-31", "--pre")
POST = parse_window("2020-01-01..2020-12-31", "--post")


def files(tmp_path: Path, incidents: str = INCIDENTS, roster: str = ROSTER) -> tuple[Path, Path]:
    (tmp_path / "incidents.csv").write_text(incidents, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    return tmp_path / "incidents.csv", tmp_path / "roster.csv"


def test_outcome_records_incidents_filters_and_flags(tmp_path: Path) -> None:
    incidents, _ = files(tmp_path)
    data = read_outcomes(incidents, parse_outcome_mapping(MAPPING))
    assert (data.rows, data.filtered, data.invalid) == (9, 1, [])
    by = {
        name: sorted((r.unit, r.incident) for r in records)
        for name, records in data.records.items()
    }
    # C1 has two rows (one incident); 'complaint' matches 'Complaint' whatever the case.
    assert by["complaints"] == [
        ("101", "C1"), ("101", "C1"), ("102", "C2"), ("103", "C5"), ("999", "C4"),
    ]  # fmt: skip
    # Only the first C1 row alleges force, as a ';'-separated part.
    assert by["force_complaints"] == [("101", "C1")]
    assert by["use_of_force"] == [("101", "F1"), ("103", "F1"), ("104", "F2")]
    # Injury: Y and yes are yes; N, blank and 0 are no.
    assert by["injured"] == [("101", "F1"), ("103", "F1")]
    assert (data.first, data.last) == (date(2018, 12, 31), date(2020, 8, 1))


def test_officer_level_counts_and_rates_by_hand(tmp_path: Path) -> None:
    incidents, roster_path = files(tmp_path)
    roster = read_roster(roster_path, load_roster_mapping())
    data = read_outcomes(incidents, parse_outcome_mapping(MAPPING))
    table = officer_level(roster, [data], PRE, POST)
    rows = {r[0]: dict(zip(table.columns, r, strict=True)) for r in table.rows}
    assert table.columns[:7] == (
        "unit", "treatment", "block", "officers", "officer_years_pre", "officer_years_post",
        "complaints_pre",
    )  # fmt: skip
    # A full year of one officer: 365 / 365.25 officer-years (2019), 366 / 365.25 (2020).
    pre_years, post_years = 365 / 365.25, 366 / 365.25
    o101 = rows["101"]
    assert (o101["officer_years_pre"], o101["officer_years_post"]) == (pre_years, post_years)
    assert (o101["complaints_pre"], o101["complaints_post"], o101["force_complaints_pre"]) == (
        1,
        0,
        1,
    )
    assert o101["complaints_pre_rate"] == 1000 / pre_years
    assert o101["complaints_change_rate"] == 0 - 1000 / pre_years
    assert (o101["use_of_force_post"], o101["injured_post"]) == (1, 1)
    # 103 joined on duty on 2019-07-01: 184 days of 2019; its 2018 complaint is outside.
    assert rows["103"]["officer_years_pre"] == 184 / 365.25
    assert (rows["103"]["complaints_pre"], rows["103"]["use_of_force_post"]) == (0, 1)
    assert rows["104"]["injured_post"] == 0
    # 105 is a unit of two officers: exposure doubles; its only complaint was void.
    assert rows["105"]["officer_years_post"] == 2 * post_years
    assert rows["105"]["complaints_post"] == 0
    assert any("'999' (1)" in note for note in table.notes)


def test_panel_counts_per_period_and_adoption(tmp_path: Path) -> None:
    incidents, _ = files(tmp_path)
    roster_text = "unit,camera,assigned_on\n101,1,2020-05-15\n102,0,\n103,1,2019-10-01\n104,0,\n"
    _, roster_path = files(tmp_path, roster=roster_text)
    roster = read_roster(roster_path, load_roster_mapping())
    data = read_outcomes(incidents, parse_outcome_mapping(MAPPING))
    window = parse_window("2019-01-01..2020-12-31", "--window")
    table = panel(roster, [data], window, "quarter")
    assert len(table.rows) == 4 * 8
    rows = {(r[0], r[1]): dict(zip(table.columns, r, strict=True)) for r in table.rows}
    first = rows[("101", "2019-01-01")]
    assert (first["adoption"], first["camera"], first["complaints"]) == ("2020-04-01", 0, 1)
    assert first["officer_years"] == 90 / 365.25  # January to March 2019
    assert first["complaints_rate"] == 1000 / (90 / 365.25)
    assert rows[("101", "2020-04-01")]["camera"] == 1
    assert rows[("101", "2020-07-01")]["use_of_force"] == 1
    assert rows[("102", "2019-01-01")]["adoption"] is None


def test_periods_are_calendar_aligned_and_clipped() -> None:
    spans = periods(parse_window("2019-02-10..2019-05-03", "w"), "month")
    assert [(label.isoformat(), str(w)) for label, w in spans] == [
        ("2019-02-01", "2019-02-10..2019-02-28"),
        ("2019-03-01", "2019-03-01..2019-03-31"),
        ("2019-04-01", "2019-04-01..2019-04-30"),
        ("2019-05-01", "2019-05-01..2019-05-03"),
    ]
    weeks = periods(parse_window("2024-01-03..2024-01-09", "w"), "week")
    assert [label.isoformat() for label, _ in weeks] == ["2024-01-01", "2024-01-08"]


@pytest.mark.parametrize(
    ("roster", "message"),
    [
        (
            "unit,active\n101,1\n",
            "roster.csv line 1 (the header) has no column 'camera', which the roster mapping "
            "'roster' needs",
        ),
        (
            "unit,camera\n101,1\n102,2\n103,0\n",
            "roster.csv line 3, column 'camera': '2' is not 0 or 1 (1 = camera, 0 = control).",
        ),
        (
            "unit,camera\n101,1\n 101 ,0\n",
            "roster.csv line 3, column 'unit': unit '101' is listed twice (first on line 2).",
        ),
        (
            "unit,camera,assigned_on\n101,1,2019-13-01\n",
            "roster.csv line 2, column 'assigned_on': '2019-13-01' is not a date",
        ),
        (
            "unit,camera,probability\n101,1,1.0\n102,0,0.5\n103,1,x\n",
            "roster.csv line 2, column 'probability': '1.0' is not strictly between 0 and 1 "
            "(and 1 more problem).",
        ),
        ("unit,camera,officers\n101,1,0\n", "column 'officers': '0' is not strictly above 0"),
        ("unit,camera\n101,1,extra\n", "roster.csv line 2: has 3 fields; the header has 2"),
    ],
)
def test_bad_rosters_name_the_line_and_column(tmp_path: Path, roster: str, message: str) -> None:
    _, path = files(tmp_path, roster=roster)
    with pytest.raises(InputError) as caught:
        read_roster(path, load_roster_mapping())
    assert message in str(caught.value)


def test_bad_outcome_rows_are_refused_or_skipped_and_counted(tmp_path: Path) -> None:
    bad = INCIDENTS + "C6,,01/02/2019,Complaint,,N,\nC7,101,13/45/2019,Complaint,,maybe,\n"
    incidents, roster_path = files(tmp_path, incidents=bad)
    mapping = parse_outcome_mapping(MAPPING)
    with pytest.raises(InputError) as caught:
        read_outcomes(incidents, mapping)
    assert str(caught.value) == (
        "incidents.csv line 11, column 'Badge': the unit is blank (and 2 more problems)."
    )
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (11, "Badge"), (12, "Occurred"), (12, "Injury"),
    ]  # fmt: skip
    data = read_outcomes(incidents, mapping, accept_invalid=True)
    table = officer_level(read_roster(roster_path, load_roster_mapping()), [data], PRE, POST)
    assert any("3 problem(s) in rows that were skipped" in n for n in table.notes)


def test_files_that_do_not_join_or_fit(tmp_path: Path) -> None:
    incidents, roster_path = files(tmp_path, roster="unit,camera\nA-1,1\nA-2,0\n")
    roster = read_roster(roster_path, load_roster_mapping())
    data = read_outcomes(incidents, parse_outcome_mapping(MAPPING))
    with pytest.raises(InputError, match=r"no row of incidents\.csv names a unit of the roster"):
        officer_level(roster, [data], PRE, POST)
    with pytest.raises(InputError, match="must end before the post window"):
        officer_level(roster, [data], POST, PRE)
    no_badge = INCIDENTS.replace("Case,Badge,", "Case,Employee,")
    incidents, _ = files(tmp_path, incidents=no_badge)
    with pytest.raises(
        InputError, match=r"line 1 \(the header\) has no column 'Badge' \(or 'Officer ID'\)"
    ):
        read_outcomes(incidents, parse_outcome_mapping(MAPPING))
    twice = INCIDENTS.replace("Case,Badge,Occurred,Type,", "Case,Badge,Occurred,type,")
    incidents, _ = files(tmp_path, incidents=twice.replace(",Status", ",Status,Type"))
    with pytest.raises(InputError, match="column 'type' appears 2 times"):
        read_outcomes(incidents, parse_outcome_mapping(MAPPING))
    with pytest.raises(InputError, match="is not a window"):
        parse_window("2019-01-01", "--pre")


@real_files
def test_the_st_louis_county_preset_reads_the_real_file() -> None:
    data = read_outcomes(STL, load_outcome_mapping("stlouis_county_use_of_force"))
    assert (data.rows, data.filtered, data.invalid) == (2102, 0, [])
    assert (data.first, data.last) == (date(2016, 10, 24), date(2021, 4, 20))
    assert len(data.names) == 34 and data.unit_rows["north county precinct"] == 636
    incidents = {name: {r.incident for r in records} for name, records in data.records.items()}
    assert len(incidents["use_of_force"]) == 859
    assert len(incidents["serious_injury"]) == 14
    assert len(incidents["firearm"]) == 17
    assert len(incidents["assault_on_officer"]) == 190


@real_files
def test_the_lansing_preset_reads_the_real_file() -> None:
    data = read_outcomes(LANSING, load_outcome_mapping("lansing_complaints"))
    assert (data.rows, data.invalid) == (205, [])
    assert data.names == {"lansing": "Lansing"}
    assert (data.first, data.last) == (date(2018, 1, 27), date(2023, 2, 14))
    incidents = {name: {r.incident for r in records} for name, records in data.records.items()}
    assert {name: len(ids) for name, ids in incidents.items()} == {
        "complaints": 122,
        "investigated_complaints": 39,
        "sustained_complaints": 7,
        "force_complaints": 8,
        "courtesy_complaints": 39,
    }
