"""CAD parsing rules: encodings, delimiters, line numbers, duplicates, errors, memory."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from bodycam.compliance.cad import (
    CadFormatError,
    check_columns,
    choose_mapping,
    detect_preset,
    parse_cad,
    read_columns,
)
from bodycam.compliance.mapping import load_mapping, load_preset, load_presets, parse_mapping
from tests.compliance.csvs import GENERIC_HEADER, NOLA_HEADER, utc, write_csv
from tests.compliance.test_presets import nola


def nola_file(tmp_path: Path, rows: list[dict[str, object]], **kw: str) -> Path:
    return write_csv(tmp_path / "nola.csv", NOLA_HEADER, rows, **kw)


ONE = nola(
    "J0000115",
    "10/01/2015 12:00:50 AM",
    "10/01/2015 12:02:50 AM",
    "10/01/2015 12:10:34 AM",
    "10/01/2015 12:23:24 AM",
    BLOCK_ADDRESS="Café Du Monde",
)


@pytest.mark.parametrize(
    ("encoding", "expected", "warned"),
    [
        ("utf-8", "utf-8", False),
        ("utf-8-sig", "utf-8-sig", False),
        ("cp1252", "cp1252", True),
        ("utf-16", "utf-16", False),
    ],
)
def test_encodings(tmp_path: Path, encoding: str, expected: str, warned: bool) -> None:
    path = nola_file(tmp_path, [ONE], encoding=encoding)
    assert read_columns(path)[0] == "NOPD_Item"  # no byte-order mark left in the name
    result = parse_cad(path, load_preset("new_orleans"))
    assert result.encoding == expected
    (event,) = result.events
    assert event.location == "Café Du Monde"
    warnings = result.to_json()["warnings"]
    assert bool(warnings) is warned
    if warned:
        assert warnings[0].startswith("nola.csv is not valid UTF-8 (first at byte")
        assert "line 2); read it as Windows-1252" in warnings[0]


def test_late_non_utf8_byte_is_found_before_parsing(tmp_path: Path) -> None:
    rows = [nola(f"J{i:07d}", "10/01/2015 12:00:50 AM", "", "", "") for i in range(3000)]
    rows.append(nola("J9999999", "10/01/2015 12:00:50 AM", "", "", "", BLOCK_ADDRESS="Bayou Ñ"))
    path = nola_file(tmp_path, rows, encoding="cp1252")
    result = parse_cad(path, load_preset("new_orleans"))
    assert result.encoding == "cp1252" and result.events[-1].location == "Bayou Ñ"
    assert "line 3002" in result.report.warnings[0]


def test_neither_utf8_nor_cp1252(tmp_path: Path) -> None:
    path = nola_file(tmp_path, [ONE])
    path.write_bytes(path.read_bytes() + b"J2,\x81\x8d\r\n")
    with pytest.raises(CadFormatError, match="neither UTF-8 nor Windows-1252"):
        parse_cad(path, load_preset("new_orleans"))


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), (";", "semicolon"), ("|", "pipe")])
def test_delimiters(tmp_path: Path, delimiter: str, name: str) -> None:
    row = dict(ONE, TypeText="DISTURBANCE, OTHER; LOUD | MUSIC")
    path = nola_file(tmp_path, [row], delimiter=delimiter)
    result = parse_cad(path, detect_preset(path))
    assert result.delimiter == name
    assert result.events[0].call_type == "DISTURBANCE, OTHER; LOUD | MUSIC"


def test_line_numbers_follow_the_file(tmp_path: Path) -> None:
    """Quoted text over two lines, and blank lines, shift the numbers as in an editor."""
    rows = [
        dict(ONE, NOPD_Item="A1", BLOCK_ADDRESS="Corner of\nBourbon St"),  # lines 2-3
        dict(ONE, NOPD_Item="A2", TimeCreate="yesterday"),  # line 4
    ]
    path = nola_file(tmp_path, rows)
    path.write_bytes(path.read_bytes() + b"\r\n" + path.read_bytes().splitlines(True)[-1])
    result = parse_cad(path, load_preset("new_orleans"))  # line 5 blank, line 6 = line 4
    assert [(p.line, p.field) for p in result.report.invalid] == [
        (4, "created_at"),
        (6, "created_at"),
    ]
    assert result.events[0].location == "Corner of\nBourbon St"
    assert result.report.rows == 3


def test_ragged_rows(tmp_path: Path) -> None:
    path = nola_file(tmp_path, [ONE])
    text = path.read_text(encoding="utf-8")
    short = "J2,21,COMPLAINT OTHER\r\n"
    trailing = text.splitlines()[1].replace("J0000115", "J3") + ",,\r\n"
    path.write_text(text + short + trailing, encoding="utf-8")
    result = parse_cad(path, load_preset("new_orleans"))
    assert [(p.line, p.field, p.reason) for p in result.report.invalid] == [
        (3, "row", "has 3 fields; the header has 21")
    ]
    assert [e.event_id for e in result.events] == ["J0000115", "J3"]  # blank extras are fine


def test_merged_and_conflicting_rows(tmp_path: Path) -> None:
    rows = [
        nola("B1", "10/01/2015 12:00:50 AM", "10/01/2015 12:02:50 AM", "", ""),
        # the same item later: arrival and closing filled in (merged)
        nola(
            "B1",
            "10/01/2015 12:00:50 AM",
            "10/01/2015 12:02:50 AM",
            "10/01/2015 12:10:34 AM",
            "10/01/2015 12:23:24 AM",
        ),
        # then re-classified and re-closed (conflict: line 2 wins)
        nola(
            "B1",
            "10/01/2015 12:00:50 AM",
            "10/01/2015 12:02:50 AM",
            "10/01/2015 12:10:34 AM",
            "10/01/2015 01:00:00 AM",
            TypeText="THEFT",
        ),
        # a void row for an item already kept does not drop it: a conflict
        nola(
            "B1",
            "10/01/2015 12:00:50 AM",
            "10/01/2015 12:02:50 AM",
            "10/01/2015 12:10:34 AM",
            "10/01/2015 12:23:24 AM",
            Disposition="VOI",
        ),
    ]
    result = parse_cad(nola_file(tmp_path, rows), load_preset("new_orleans"))
    (event,) = result.events
    assert event.arrived_at == utc(2015, 10, 1, 5, 10, 34)
    assert event.cleared_at == utc(2015, 10, 1, 5, 23, 24) and event.call_type == "COMPLAINT OTHER"
    assert event.disposition == "NAT" and event.line == 2
    duplicates = result.to_json()["duplicates"]
    assert [(d["line"], d["kind"], d["fields"]) for d in duplicates] == [
        (3, "merged", []),
        (4, "conflict", ["call_type", "cleared_at"]),
        (5, "conflict", ["disposition"]),
    ]
    assert duplicates[0]["resolution"] == (
        "blanks of line 2 filled from here; filled: arrived_at, cleared_at"
    )
    assert result.report.valid == 4 and result.report.dropped_rows == 0


def test_header_problems(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\r\n\r\n")
    with pytest.raises(CadFormatError, match=r"empty\.csv is empty: it has no header row"):
        parse_cad(empty, load_preset("nypd"))
    header_only = write_csv(tmp_path / "header.csv", NOLA_HEADER, [])
    result = parse_cad(header_only, load_preset("new_orleans"))
    assert (result.report.rows, result.events, result.assignments) == (0, (), ())
    twice = write_csv(tmp_path / "twice.csv", [*NOLA_HEADER, "timecreate"], [])
    with pytest.raises(CadFormatError, match=r"'TimeCreate' appears 2 times .*columns 10, 22"):
        parse_cad(twice, load_preset("new_orleans"))


def test_csv_that_cannot_be_read(tmp_path: Path) -> None:
    path = nola_file(tmp_path, [ONE, dict(ONE, NOPD_Item="J2", Location="x" * 200_000)])
    with pytest.raises(CadFormatError, match=r"nola.csv: line 3 is not valid CSV \(field larger"):
        parse_cad(path, load_preset("new_orleans"))


def test_a_file_that_fits_no_preset(tmp_path: Path) -> None:
    """A complaints table (as published by agencies) is not a CAD export."""
    header = ["Incident_Occurred_Date", "Incident_Location", "Allegation", "Incident_ID"]
    path = write_csv(tmp_path / "COMPLAINTS.csv", header, [["2018-01-27 12:00:00", "x", "y", "1"]])
    with pytest.raises(CadFormatError) as caught:
        detect_preset(path)
    message = str(caught.value)
    assert message.startswith("COMPLAINTS.csv fits no CAD mapping: 'generic' lacks 'event_id', ")
    assert "'nypd' lacks 'CAD_EVNT_ID' (or 'cad_evnt_id'), 'TYP_DESC'" in message
    assert "'seattle' lacks 'CAD Event Number'" in message
    with pytest.raises(CadFormatError, match=r"does not fit the 'nypd' mapping: missing columns"):
        check_columns(read_columns(path), load_preset("nypd"))


def test_two_equal_fits_are_refused(tmp_path: Path) -> None:
    path = nola_file(tmp_path, [ONE])
    nola_twice = [load_preset("new_orleans"), load_preset("new_orleans")]
    with pytest.raises(CadFormatError, match="fits several CAD mappings equally"):
        choose_mapping(path, nola_twice)
    assert choose_mapping(path, load_presets()).name == "new_orleans"
    assert choose_mapping(path, {m.name: m for m in load_presets()}).name == "new_orleans"


SPRINGFIELD = """
# A county agency's own export: semicolon-separated, date and time in separate columns,
# a unit and an officer ID per row.
name = "springfield"
title = "Springfield County Sheriff CAD export"
timezone = "America/Denver"
ambiguous = "later"
nonexistent = "shift"
time_formats = ["%Y-%m-%d %H:%M:%S"]
blank_values = ["", "NULL", "N/A"]

[fields]
event_id = "Incident No"
call_type = "Nature"
initial_call_type = "Nature (initial)"
priority = "Prio"
precinct = { column = ["District", "Zone"] }
location = "Address"
disposition = "Disposition"
created_at = { columns = ["Date", "Time Received"], formats = ["%m/%d/%Y %H:%M:%S"] }

[self_initiated]
column = "Source"
true_values = ["SELF", "OFFICER"]
false_values = ["PHONE", "911"]
other = "false"

[drop]
dispositions = ["CANCELLED-TEST"]

[assignment]
badge = { columns = ["Unit", "Officer ID"], separator = "/" }
dispatched_at = "Disp Date Time"
arrived_at = "On Scene"
cleared_at = "Clear"
"""

SPRINGFIELD_HEADER = [
    "Incident No",
    "Nature",
    "Nature (initial)",
    "Prio",
    "Source",
    "Zone",
    "Address",
    "Date",
    "Time Received",
    "Unit",
    "Officer ID",
    "Disp Date Time",
    "On Scene",
    "Clear",
    "Disposition",
]


def test_custom_mapping(tmp_path: Path) -> None:
    mapping_path = tmp_path / "springfield.toml"
    mapping_path.write_text(SPRINGFIELD, encoding="utf-8")
    mapping = load_mapping(mapping_path)
    rows = [
        # 2024-11-03 fall back in Denver; "later" reads the repeated hour as MST
        [
            "24-118812",
            "DOMESTIC",
            "DISTURBANCE",
            "1",
            "911",
            "D2",
            "400 MAIN ST",
            "11/03/2024",
            "01:30:00",
            "2A12",
            "8831",
            "2024-11-03 01:31:00",
            "2024-11-03 01:45:00",
            "2024-11-03 02:30:00",
            "ARREST",
        ],
        [
            "24-118812",
            "DOMESTIC",
            "DISTURBANCE",
            "1",
            "911",
            "D2",
            "400 MAIN ST",
            "11/03/2024",
            "01:30:00",
            "2A14",
            "9120",
            "2024-11-03 01:33:00",
            "2024-11-03 01:50:00",
            "2024-11-03 02:10:00",
            "ARREST",
        ],
        # 2024-03-10 02:30 never happened; "shift" reads it as 03:30 MDT
        [
            "24-031001",
            "TRAFFIC STOP",
            "TRAFFIC STOP",
            "3",
            "SELF",
            "D1",
            "I-25 MM 210",
            "03/10/2024",
            "02:30:00",
            "1B03",
            "7702",
            "N/A",
            "2024-03-10 02:30:00",
            "2024-03-10 04:00:00",
            "CITATION",
        ],
        [
            "24-031002",
            "WELFARE CHECK",
            "WELFARE CHECK",
            "2",
            "RADIO",
            "D1",
            "N/A",
            "03/11/2024",
            "10:00:00",
            "",
            "",
            "",
            "",
            "",
            "UTL",
        ],
        [
            "24-031003",
            "TEST",
            "TEST",
            "9",
            "PHONE",
            "D1",
            "",
            "03/11/2024",
            "11:00:00",
            "",
            "",
            "",
            "",
            "",
            "CANCELLED-TEST",
        ],
    ]
    path = write_csv(tmp_path / "cad_export.txt", SPRINGFIELD_HEADER, rows, delimiter=";")
    result = parse_cad(path, mapping)
    events = {e.event_id: e for e in result.events}
    domestic = events["24-118812"]
    assert domestic.created_at == utc(2024, 11, 3, 8, 30)
    assert (domestic.precinct, domestic.location, domestic.self_initiated) == (
        "D2",
        "400 MAIN ST",
        False,
    )
    assert domestic.dispatched_at == utc(2024, 11, 3, 8, 31)  # earliest unit
    assert domestic.cleared_at == utc(2024, 11, 3, 9, 30)  # latest unit
    assert [a.badge for a in result.assignments] == ["2A12/8831", "2A14/9120", "1B03/7702"]
    stop = events["24-031001"]
    assert stop.created_at == utc(2024, 3, 10, 9, 30) and stop.self_initiated is True
    assert result.assignments[2].dispatched_at is None  # "N/A" is blank here
    welfare = events["24-031002"]
    assert welfare.self_initiated is False and welfare.location is None  # other = "false"
    report = result.to_json()
    assert (report["rows"], report["valid"], report["events"], report["assignments"]) == (
        5,
        4,
        3,
        3,
    )
    assert report["dropped"]["by_value"] == {"CANCELLED-TEST": 1}
    assert report["delimiter"] == "semicolon" and report["mapping"] == "springfield"


def test_to_json_keys_and_progress(tmp_path: Path) -> None:
    rows = [
        {
            "event_id": f"E{i}",
            "badge": "100",
            "dispatched_at": "2024-01-01T00:00:00Z",
            "arrived_at": "2024-01-01T00:05:00Z",
            "cleared_at": "2024-01-01T00:35:00Z",
        }
        for i in range(20_001)
    ]
    path = write_csv(tmp_path / "export.csv", GENERIC_HEADER, rows)
    calls: list[tuple[int, int]] = []
    result = parse_cad(path, load_preset("generic"), progress=lambda d, t: calls.append((d, t)))
    size = path.stat().st_size
    assert len(calls) == 3 and calls[-1] == (size, size)
    assert calls[0][0] <= calls[1][0] <= size
    report = result.to_json()
    assert list(report)[:5] == ["rows", "valid", "invalid", "events", "assignments"]
    assert "matched" not in report and "unmatched" not in report
    assert (report["rows"], report["events"], report["assignments"]) == (20_001, 20_001, 20_001)
    assert json.loads(json.dumps(report)) == report
    assert result.events[0].to_dict()["arrived_at"] == "2024-01-01T00:05:00+00:00"
    assert result.assignments[0].to_dict() == {
        "event_id": "E0",
        "badge": "100",
        "dispatched_at": "2024-01-01T00:00:00+00:00",
        "arrived_at": "2024-01-01T00:05:00+00:00",
        "cleared_at": "2024-01-01T00:35:00+00:00",
        "line": 2,
    }


def test_raw_rows_are_not_kept(tmp_path: Path) -> None:
    """Memory follows the parsed events, not the file: 4 KB of unused text per row is free."""
    filler = "x" * 4096
    rows = [
        nola(
            f"J{i:07d}",
            "10/01/2015 12:00:50 AM",
            "10/01/2015 12:02:50 AM",
            "10/01/2015 12:10:34 AM",
            "10/01/2015 12:23:24 AM",
            DispositionText=filler,
        )
        for i in range(3000)
    ]
    path = nola_file(tmp_path, rows)
    assert path.stat().st_size > 12_000_000
    mapping = load_preset("new_orleans")
    tracemalloc.start()
    try:
        result = parse_cad(path, mapping)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.events) == 3000
    assert peak < 4_000_000, peak


def test_no_mapping_change_between_parses(tmp_path: Path) -> None:
    """A mapping is reusable: the per-file format order does not leak into the next parse."""
    mapping = parse_mapping(
        'name = "m"\ntimezone = "UTC"\ntime_formats = ["iso", "%m/%d/%Y %H:%M"]\n'
        '[fields]\nevent_id = "id"\ncreated_at = "t"\n'
    )
    first = write_csv(tmp_path / "a.csv", ["id", "t"], [["1", "01/02/2024 10:00"]])
    second = write_csv(tmp_path / "b.csv", ["id", "t"], [["1", "2024-01-02T10:00:00"]])
    assert parse_cad(first, mapping).events[0].created_at == utc(2024, 1, 2, 10)
    assert parse_cad(second, mapping).events[0].created_at == utc(2024, 1, 2, 10)
    assert [f.text for f in mapping.time_formats] == ["iso", "%m/%d/%Y %H:%M"]
