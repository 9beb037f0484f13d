"""Each preset on a small export in its published format, DST changes included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bodycam.compliance.cad import detect_preset, parse_cad
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.records import CadImport, Problem
from tests.compliance.csvs import (
    GENERIC_HEADER,
    NOLA_HEADER,
    NYPD_HEADER,
    SEATTLE_2024_HEADER,
    SEATTLE_HEADER,
    utc,
    write_csv,
)


def nypd(event: str, add: str, disp: str, arr: str, clo: str, **more: object) -> dict[str, object]:
    """One NYPD Calls for Service row as the portal's CSV download writes it."""
    row: dict[str, object] = {
        "CAD_EVNT_ID": event,
        "CREATE_DATE": add[:10],
        "INCIDENT_DATE": add[:10],
        "INCIDENT_TIME": "",
        "NYPD_PCT_CD": "75",
        "BORO_NM": "BROOKLYN",
        "PATRL_BORO_NM": "PATROL BORO BKLYN NORTH",
        "GEO_CD_X": "1016571",
        "GEO_CD_Y": "184302",
        "RADIO_CODE": "52D",
        "TYP_DESC": "DISPUTE: INSIDE",
        "CIP_JOBS": "Non CIP",
        "ADD_TS": add,
        "DISP_TS": disp,
        "ARRIVD_TS": arr,
        "CLOSNG_TS": clo,
        "Latitude": "40.67",
        "Longitude": "-73.88",
    }
    row.update(more)
    return row


def problems(result: CadImport) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in result.report.invalid]


def test_nypd(tmp_path: Path) -> None:
    rows = [
        # 2: dispatched job, winter (EST)
        nypd(
            "81000001",
            "01/15/2023 10:00:00 AM",
            "01/15/2023 10:02:00 AM",
            "01/15/2023 10:09:30 AM",
            "01/15/2023 11:00:00 AM",
        ),
        # 3: on-view job, summer (EDT): created, dispatched and arrived at once
        nypd(
            "81000002",
            "07/04/2023 09:15:00 PM",
            "07/04/2023 09:15:00 PM",
            "07/04/2023 09:15:00 PM",
            "07/04/2023 09:40:00 PM",
            TYP_DESC="VISIBILITY PATROL",
        ),
        # 4: ADD_TS blank: INCIDENT_DATE + INCIDENT_TIME instead
        nypd(
            "81000003",
            "",
            "01/16/2023 08:31:00 AM",
            "01/16/2023 08:40:00 AM",
            "01/16/2023 09:00:00 AM",
            INCIDENT_DATE="01/16/2023",
            INCIDENT_TIME="08:30:00",
        ),
        # 5: inside the repeated hour of 2023-11-05 (fall back): 01:40 EDT, then 01:05,
        # 01:20 can only be EST, 02:10 is EST
        nypd(
            "81000004",
            "11/05/2023 01:40:00 AM",
            "11/05/2023 01:05:00 AM",
            "11/05/2023 01:20:00 AM",
            "11/05/2023 02:10:00 AM",
        ),
        # 6: 02:30 on 2023-03-12 never happened in New York
        nypd(
            "81000005",
            "03/12/2023 02:30:00 AM",
            "03/12/2023 03:01:00 AM",
            "03/12/2023 03:10:00 AM",
            "03/12/2023 03:30:00 AM",
        ),
        # 7: no unit arrived; closed
        nypd(
            "81000006",
            "02/01/2023 01:00:00 PM",
            "02/01/2023 01:05:00 PM",
            "",
            "02/01/2023 01:30:00 PM",
        ),
        # 8: identical to line 2
        nypd(
            "81000001",
            "01/15/2023 10:00:00 AM",
            "01/15/2023 10:02:00 AM",
            "01/15/2023 10:09:30 AM",
            "01/15/2023 11:00:00 AM",
        ),
        # 9: same job as line 3, another type: line 3 wins
        nypd(
            "81000002",
            "07/04/2023 09:15:00 PM",
            "07/04/2023 09:15:00 PM",
            "07/04/2023 09:15:00 PM",
            "07/04/2023 09:40:00 PM",
            TYP_DESC="DISORDERLY: GROUP",
        ),
        # 10: closed before the unit arrived
        nypd(
            "81000007",
            "02/02/2023 01:00:00 PM",
            "02/02/2023 01:05:00 PM",
            "02/02/2023 01:30:00 PM",
            "02/02/2023 01:20:00 PM",
        ),
        # 11: not a time
        nypd("81000008", "02/03/2023 01:00:00 PM", "soon", "", ""),
        # 12: no event id
        nypd("", "02/04/2023 01:00:00 PM", "", "", ""),
        # 13: dispatched two minutes before it was created: kept, flagged
        nypd(
            "81000009",
            "02/05/2023 10:00:00 AM",
            "02/05/2023 09:58:00 AM",
            "02/05/2023 10:10:00 AM",
            "02/05/2023 10:30:00 AM",
        ),
    ]
    path = write_csv(tmp_path / "NYPD_Calls_for_Service__Historic_.csv", NYPD_HEADER, rows)
    assert detect_preset(path).name == "nypd"
    result = parse_cad(path, load_preset("nypd"))
    events = {e.event_id: e for e in result.events}

    job = events["81000001"]
    assert (job.created_at, job.dispatched_at, job.arrived_at, job.cleared_at) == (
        utc(2023, 1, 15, 15, 0),
        utc(2023, 1, 15, 15, 2),
        utc(2023, 1, 15, 15, 9, 30),
        utc(2023, 1, 15, 16, 0),
    )
    assert (job.call_type, job.priority, job.precinct) == ("DISPUTE: INSIDE", "Non CIP", "75")
    assert job.location == "40.67,-73.88" and job.self_initiated is False and job.line == 2
    onview = events["81000002"]
    assert onview.created_at == utc(2023, 7, 5, 1, 15)
    assert (onview.self_initiated, onview.self_initiated_source) == (True, "rule")
    assert onview.call_type == "VISIBILITY PATROL"  # line 3 wins over line 9
    assert events["81000003"].created_at == utc(2023, 1, 16, 13, 30)
    fold = events["81000004"]
    assert (fold.created_at, fold.dispatched_at, fold.arrived_at, fold.cleared_at) == (
        utc(2023, 11, 5, 5, 40),
        utc(2023, 11, 5, 6, 5),
        utc(2023, 11, 5, 6, 20),
        utc(2023, 11, 5, 7, 10),
    )
    no_arrival = events["81000006"]
    assert no_arrival.arrived_at is None and no_arrival.self_initiated is None

    assert problems(result) == [
        (6, "created_at"),
        (10, "cleared_at"),
        (11, "dispatched_at"),
        (12, "event_id"),
    ]
    reasons = {p.line: p.reason for p in result.report.invalid}
    assert reasons[6] == (
        "2023-03-12 02:30:00 does not exist in America/New_York (clocks skipped that hour)"
    )
    assert reasons[10] == "cleared 2023-02-02 18:20:00Z before arrived 2023-02-02 18:30:00Z"
    assert reasons[11].startswith("'soon' is not a time in the mapping's formats")
    assert result.report.flags == (
        Problem(
            13,
            "dispatched_at",
            "dispatched 2023-02-05 14:58:00Z before created 2023-02-05 15:00:00Z",
        ),
    )
    report = result.to_json()
    assert (report["rows"], report["valid"], report["events"], report["assignments"]) == (
        12,
        7,
        6,
        0,
    )
    assert report["rows"] == report["valid"] + report["invalid_rows"] + 1  # one skipped
    assert [(d["line"], d["kind"], d["first_line"]) for d in report["duplicates"]] == [
        (8, "identical", 2),
        (9, "conflict", 3),
    ]
    assert report["duplicates"][1]["fields"] == ["call_type"]
    assert report["duplicates"][1]["resolution"].startswith("line 3 wins")
    assert report["on_view"] == 1 and report["self_initiated_unknown"] == 1
    assert report["blank_times"]["arrived_at"] == 1
    assert report["has_assignments"] is False
    json.dumps(report)


def test_nypd_api_spelling(tmp_path: Path) -> None:
    """The portal's API writes lower-case names and ISO times; the preset reads both."""
    header = [h.lower() for h in NYPD_HEADER]
    row = {h.lower(): v for h, v in nypd("81000010", "", "", "", "").items()}
    row.update(
        add_ts="2023-03-12T01:59:00.000",
        disp_ts="2023-03-12T03:00:00.000",
        arrivd_ts="2023-03-12T03:20:00.000",
        closng_ts="2023-03-12T04:00:00.000",
    )
    path = write_csv(tmp_path / "n2zq-pubd.csv", header, [row])
    assert detect_preset(path).name == "nypd"
    (event,) = parse_cad(path, load_preset("nypd")).events
    assert event.created_at == utc(2023, 3, 12, 6, 59)  # EST
    assert event.dispatched_at == utc(2023, 3, 12, 7, 0)  # EDT, one minute later


def seattle(event: str, source: str, queued: str, arrived: str, **more: str) -> dict[str, object]:
    """One row of Seattle's Call Data in its original schema."""
    row: dict[str, object] = {
        "CAD Event Number": event,
        "Event Clearance Description": "REPORT WRITTEN (NO ARREST)",
        "Call Type": source,
        "Priority": "2",
        "Initial Call Type": "SUSPICIOUS PERSON, VEHICLE OR INCIDENT",
        "Final Call Type": "--SUSPICIOUS CIRCUM. - SUSPICIOUS PERSON",
        "Original Time Queued": queued,
        "Arrived Time": arrived,
        "Precinct": "WEST",
        "Sector": "KING",
        "Beat": "K2",
    }
    row.update(more)
    return row


def test_seattle(tmp_path: Path) -> None:
    rows = [
        seattle("2019000181371", "911", "05/17/2019 11:04:31 PM", "May 17 2019 11:13:41:000PM"),
        seattle("2019000181372", "ONVIEW", "05/17/2019 11:20:00 PM", "May 17 2019 11:20:00:000PM"),
        # neither an on-view nor a call-in source: the time rule decides
        seattle(
            "2019000181373",
            "SCHEDULED EVENT (RECURRING)",
            "05/18/2019 08:00:00 AM",
            "May 18 2019 08:00:00:000AM",
        ),
        # no unit arrived: Seattle wrote 1900-01-01
        seattle(
            "2019000181374",
            "TELEPHONE OTHER, NOT 911",
            "05/18/2019 09:00:00 AM",
            "Jan  1 1900 12:00:00:000AM",
            Sector="-",
            Beat="-",
        ),
        # 2019-11-03 fall back: queued at the first 01:50 (PDT), arrived at the second 01:10
        seattle("2019000401001", "911", "11/03/2019 01:50:00 AM", "Nov  3 2019 01:10:00:000AM"),
        # 2019-03-10 spring forward: 02:15 never happened in Seattle
        seattle("2019000081001", "911", "03/10/2019 02:15:00 AM", "Mar 10 2019 03:20:00:000AM"),
        seattle(
            "2019000181375",
            "911",
            "05/18/2019 10:00:00 AM",
            "",
            **{"Event Clearance Description": "VOID"},
        ),
    ]
    path = write_csv(tmp_path / "Call_Data.csv", SEATTLE_HEADER, rows)
    assert detect_preset(path).name == "seattle"
    result = parse_cad(path, load_preset("seattle"))
    events = {e.event_id: e for e in result.events}
    first = events["2019000181371"]
    assert (first.created_at, first.arrived_at) == (
        utc(2019, 5, 18, 6, 4, 31),
        utc(2019, 5, 18, 6, 13, 41),
    )
    assert (first.self_initiated, first.self_initiated_source) == (False, "column")
    assert first.initial_call_type == "SUSPICIOUS PERSON, VEHICLE OR INCIDENT"
    assert first.disposition == "REPORT WRITTEN (NO ARREST)"
    assert (first.precinct, first.sector, first.beat) == ("WEST", "KING", "K2")
    assert (
        events["2019000181372"].self_initiated,
        events["2019000181372"].self_initiated_source,
    ) == (True, "column")
    assert events["2019000181373"].self_initiated_source == "rule"
    assert events["2019000181373"].self_initiated is True
    blank = events["2019000181374"]
    assert blank.arrived_at is None and blank.sector is None and blank.self_initiated is False
    fold = events["2019000401001"]
    assert (fold.created_at, fold.arrived_at) == (utc(2019, 11, 3, 8, 50), utc(2019, 11, 3, 9, 10))
    assert problems(result) == [(7, "created_at")]
    report = result.to_json()
    assert report["dropped"] == {"events": 1, "rows": 1, "by_value": {"VOID": 1}}
    assert (report["rows"], report["valid"], report["events"]) == (7, 5, 5)
    assert report["on_view"] == 2


def test_seattle_2024_schema_with_call_signs(tmp_path: Path) -> None:
    """The republished schema: renamed columns and one row per responding call sign."""

    def row(sign: str, dispatched: str, at_scene: str, cleared: str) -> dict[str, object]:
        return {
            "CAD Event Number": "2024000123456",
            "CAD Event Clearance Description": "CHRONIC COMPLAINT",
            "Call Type": "911",
            "Priority": "1",
            "Initial Call Type": "ASLT - IP/JO - WITH OR W/O WPNS",
            "Final Call Type": "--ASSAULTS - OTHER",
            "CAD Event Original Time Queued": "03/10/2024 01:55:00 AM",
            "CAD Event Arrived Time": "03/10/2024 03:04:00 AM",
            "Dispatch Precinct": "EAST",
            "Dispatch Sector": "CHARLIE",
            "Dispatch Beat": "C1",
            "Dispatch Address": "12XX BLOCK OF E PINE ST",
            "Call Sign Dispatch ID": sign,
            "Call Sign Dispatch Time": dispatched,
            "Call Sign at Scene Time": at_scene,
            "Call Sign In-Service Time": cleared,
        }

    rows = [
        row(
            "2024000123456E2",
            "03/10/2024 01:58:00 AM",
            "03/10/2024 03:04:00 AM",
            "03/10/2024 04:00:00 AM",
        ),
        row(
            "2024000123456E3",
            "03/10/2024 03:01:00 AM",
            "03/10/2024 03:09:00 AM",
            "03/10/2024 03:30:00 AM",
        ),
        row(
            "2024000123456E3",
            "03/10/2024 03:01:00 AM",
            "03/10/2024 03:09:00 AM",
            "03/10/2024 03:30:00 AM",
        ),
    ]
    path = write_csv(tmp_path / "Call_Data_2024.csv", SEATTLE_2024_HEADER, rows)
    assert detect_preset(path).name == "seattle"
    result = parse_cad(path, load_preset("seattle"))
    (event,) = result.events
    assert event.created_at == utc(2024, 3, 10, 9, 55)  # PST
    assert event.arrived_at == utc(2024, 3, 10, 10, 4)  # PDT: the clocks jumped at 02:00
    assert event.cleared_at == utc(2024, 3, 10, 11, 0)  # latest call sign in service
    assert event.dispatched_at == utc(2024, 3, 10, 9, 58)  # earliest call sign dispatched
    assert event.location == "12XX BLOCK OF E PINE ST" and event.precinct == "EAST"
    assert [(a.badge, a.line) for a in result.assignments] == [
        ("2024000123456E2", 2),
        ("2024000123456E3", 3),
    ]
    assert result.assignments[1].arrived_at == utc(2024, 3, 10, 10, 9)
    report = result.to_json()
    assert [(d["line"], d["kind"], d["first_line"]) for d in report["duplicates"]] == [
        (4, "identical", 3)
    ]
    assert (report["rows"], report["valid"], report["assignments"]) == (3, 2, 2)
    assert report["has_assignments"] is True


def nola(item: str, create: str, dispatch: str, arrive: str, closed: str, **more: str) -> dict:
    """One row of a New Orleans Calls for Service data set (CSV download)."""
    row: dict[str, object] = {
        "NOPD_Item": item,
        "Type_": "21",
        "TypeText": "COMPLAINT OTHER",
        "Priority": "1H",
        "InitialType": "21",
        "InitialTypeText": "COMPLAINT OTHER",
        "InitialPriority": "1H",
        "MapX": "3661552",
        "MapY": "532096",
        "TimeCreate": create,
        "TimeDispatch": dispatch,
        "TimeArrive": arrive,
        "TimeClosed": closed,
        "Disposition": "NAT",
        "DispositionText": "Necessary Action Taken",
        "SelfInitiated": "N",
        "Beat": "2U04",
        "BLOCK_ADDRESS": "019XX General Ogden St",
        "Zip": "70118",
        "PoliceDistrict": "2",
        "Location": "POINT (-90.1208 29.9578)",
    }
    row.update(more)
    return row


def test_new_orleans(tmp_path: Path) -> None:
    rows = [
        nola(
            "J0000115",
            "10/01/2015 12:00:50 AM",
            "10/01/2015 12:02:50 AM",
            "10/01/2015 12:10:34 AM",
            "10/01/2015 12:23:24 AM",
        ),
        # on-view: no dispatch at all
        nola(
            "J0000315",
            "10/01/2015 12:02:23 AM",
            "",
            "10/01/2015 12:02:23 AM",
            "10/01/2015 12:04:21 AM",
            SelfInitiated="Y",
        ),
        # on-view logged as arrived at creation, dispatched a minute later: not flagged
        nola(
            "J0000515",
            "10/01/2015 12:06:36 AM",
            "10/01/2015 12:07:32 AM",
            "10/01/2015 12:06:36 AM",
            "10/01/2015 01:59:37 AM",
            SelfInitiated="",
        ),
        # a dispatched call whose unit "arrived" before dispatch: flagged
        nola(
            "J0000615",
            "10/01/2015 12:10:00 AM",
            "10/01/2015 12:20:00 AM",
            "10/01/2015 12:15:00 AM",
            "10/01/2015 12:40:00 AM",
        ),
        # 2015-11-01 fall back in Chicago; the repeated hour, read as CDT then CST
        nola(
            "J0100115",
            "11/01/2015 01:30:00 AM",
            "11/01/2015 01:35:00 AM",
            "11/01/2015 01:10:00 AM",
            "11/01/2015 02:05:00 AM",
        ),
        # 2016-03-13 02:15 never happened in Chicago
        nola("J0200116", "03/13/2016 02:15:00 AM", "", "", "", SelfInitiated="N"),
        # void item, and a second row of it
        nola(
            "J0300115",
            "10/02/2015 09:00:00 AM",
            "",
            "",
            "",
            Disposition="VOI",
            DispositionText="VOID",
        ),
        nola(
            "J0300115",
            "10/02/2015 09:00:00 AM",
            "",
            "",
            "10/02/2015 09:01:00 AM",
            Disposition="NAT",
        ),
        # not Y or N
        nola("J0400115", "10/03/2015 09:00:00 AM", "", "", "", SelfInitiated="X"),
        # a test call, with no times at all: dropped, not invalid
        nola("J0500115", "", "", "", "", TypeText="TEST", InitialTypeText="TEST"),
        # summer (CDT) and winter (CST), with BLOCK_ADDRESS blank: Location instead
        nola("J0600116", "07/04/2016 10:00:00 PM", "", "", "", BLOCK_ADDRESS=""),
        nola("J0700116", "01/15/2016 10:00:00 AM", "", "", ""),
    ]
    path = write_csv(tmp_path / "Calls_for_Service_2015.csv", NOLA_HEADER, rows)
    assert detect_preset(path).name == "new_orleans"
    result = parse_cad(path, load_preset("new_orleans"))
    events = {e.event_id: e for e in result.events}
    first = events["J0000115"]
    assert first.created_at == utc(2015, 10, 1, 5, 0, 50)
    assert (first.call_type, first.priority, first.precinct, first.beat, first.disposition) == (
        "COMPLAINT OTHER",
        "1H",
        "2",
        "2U04",
        "NAT",
    )
    assert first.location == "019XX General Ogden St"
    assert (events["J0000315"].self_initiated, events["J0000315"].dispatched_at) == (True, None)
    assert (events["J0000515"].self_initiated, events["J0000515"].self_initiated_source) == (
        True,
        "rule",
    )
    fold = events["J0100115"]
    assert (fold.created_at, fold.dispatched_at, fold.arrived_at, fold.cleared_at) == (
        utc(2015, 11, 1, 6, 30),
        utc(2015, 11, 1, 6, 35),
        utc(2015, 11, 1, 7, 10),
        utc(2015, 11, 1, 8, 5),
    )
    assert events["J0600116"].created_at == utc(2016, 7, 5, 3, 0)
    assert events["J0600116"].location == "POINT (-90.1208 29.9578)"
    assert events["J0700116"].created_at == utc(2016, 1, 15, 16, 0)
    assert problems(result) == [(7, "created_at"), (10, "self_initiated")]
    assert [(f.line, f.field) for f in result.report.flags] == [(5, "arrived_at")]
    assert result.report.flags[0].reason.startswith(
        "arrived 2015-10-01 05:15:00Z before dispatched"
    )
    report = result.to_json()
    assert report["dropped"] == {"events": 2, "rows": 3, "by_value": {"TEST": 1, "VOI": 1}}
    assert (report["rows"], report["valid"], report["invalid_rows"]) == (12, 7, 2)
    assert report["rows"] == report["valid"] + report["invalid_rows"] + report["dropped"]["rows"]


def test_new_orleans_time_arrival_spelling(tmp_path: Path) -> None:
    header = ["TimeArrival" if h == "TimeArrive" else h for h in NOLA_HEADER]
    row = nola("J0000115", "2015-10-01T00:00:50.000", "2015-10-01T00:02:50.000", "", "")
    row["TimeArrival"] = row.pop("TimeArrive")
    row["TimeArrival"] = "2015-10-01T00:10:34.000"
    path = write_csv(tmp_path / "nola.csv", header, [row])
    (event,) = parse_cad(path, detect_preset(path)).events
    assert event.arrived_at == utc(2015, 10, 1, 5, 10, 34)


def test_generic_with_assignments(tmp_path: Path) -> None:
    rows = [
        {
            "event_id": "E1",
            "call_type": "TRAFFIC STOP",
            "self_initiated": "",
            "precinct": "3",
            "created_at": "2024-03-10T06:58:00Z",
            "badge": "4411",
            "dispatched_at": "2024-03-10T06:58:00Z",
            "arrived_at": "2024-03-10T06:58:00Z",
            "cleared_at": "2024-03-10T07:40:00Z",
        },
        {
            "event_id": "E1",
            "call_type": "TRAFFIC STOP",
            "self_initiated": "",
            "precinct": "3",
            "created_at": "2024-03-10T06:58:00Z",
            "badge": "5120",
            "dispatched_at": "2024-03-10T07:01:00Z",
            "arrived_at": "2024-03-10T02:09:00-05:00",
            "cleared_at": "2024-03-10T07:55:00Z",
        },
        # an event row with no officer on it
        {
            "event_id": "E2",
            "call_type": "ALARM",
            "self_initiated": "no",
            "created_at": "2024-03-10T08:00:00",
            "badge": "",
        },
        {
            "event_id": "E3",
            "self_initiated": "perhaps",
            "badge": "4411",
            "dispatched_at": "2024-03-10T09:00:00Z",
        },
        {
            "event_id": "E4",
            "badge": "4411",
            "dispatched_at": "2024-03-10T09:00:00Z",
            "arrived_at": "2024-03-10T09:10:00Z",
            "cleared_at": "2024-03-10T09:05:00Z",
        },
        {
            "event_id": "E5",
            "badge": "7002",
            "dispatched_at": "2024-03-10T10:00:00Z",
            "disposition": "test",
        },
    ]
    path = write_csv(tmp_path / "export.csv", GENERIC_HEADER, rows)
    assert detect_preset(path).name == "generic"
    result = parse_cad(path, load_preset("generic"))
    events = {e.event_id: e for e in result.events}
    stop = events["E1"]
    assert (stop.dispatched_at, stop.arrived_at, stop.cleared_at) == (
        utc(2024, 3, 10, 6, 58),
        utc(2024, 3, 10, 6, 58),
        utc(2024, 3, 10, 7, 55),
    )
    assert (stop.self_initiated, stop.self_initiated_source) == (True, "rule")
    assert [(a.event_id, a.badge, a.arrived_at) for a in result.assignments] == [
        ("E1", "4411", utc(2024, 3, 10, 6, 58)),
        ("E1", "5120", utc(2024, 3, 10, 7, 9)),
    ]
    assert events["E2"].created_at == utc(2024, 3, 10, 8, 0)  # no offset: read as UTC
    assert (events["E2"].self_initiated, events["E2"].self_initiated_source) == (False, "column")
    assert problems(result) == [(5, "self_initiated"), (6, "assignment.cleared_at")]
    report = result.to_json()
    assert report["dropped"]["by_value"] == {"TEST": 1}
    assert (report["rows"], report["valid"], report["events"], report["assignments"]) == (
        6,
        3,
        2,
        2,
    )
    assert report["has_assignments"] is True


@pytest.mark.parametrize("name", ["nypd", "seattle", "new_orleans", "generic"])
def test_each_preset_names_its_missing_columns(tmp_path: Path, name: str) -> None:
    mapping = load_preset(name)
    path = write_csv(tmp_path / "complaints.csv", ["Incident_ID", "Allegation"], [["1", "x"]])
    from bodycam.compliance.cad import CadFormatError

    with pytest.raises(CadFormatError) as caught:
        parse_cad(path, mapping)
    message = str(caught.value)
    assert message.startswith(f"complaints.csv does not fit the {name!r} mapping: missing columns")
    for column in mapping.required_columns():
        assert column in message
