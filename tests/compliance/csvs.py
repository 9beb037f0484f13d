"""Write small CAD exports in a preset's real format for the tests (nothing committed)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bodycam.compliance.mapping import GENERIC_COLUMNS

NYPD_HEADER = [
    "CAD_EVNT_ID",
    "CREATE_DATE",
    "INCIDENT_DATE",
    "INCIDENT_TIME",
    "NYPD_PCT_CD",
    "BORO_NM",
    "PATRL_BORO_NM",
    "GEO_CD_X",
    "GEO_CD_Y",
    "RADIO_CODE",
    "TYP_DESC",
    "CIP_JOBS",
    "ADD_TS",
    "DISP_TS",
    "ARRIVD_TS",
    "CLOSNG_TS",
    "Latitude",
    "Longitude",
]

SEATTLE_HEADER = [
    "CAD Event Number",
    "Event Clearance Description",
    "Call Type",
    "Priority",
    "Initial Call Type",
    "Final Call Type",
    "Original Time Queued",
    "Arrived Time",
    "Precinct",
    "Sector",
    "Beat",
]

SEATTLE_2024_HEADER = [
    "CAD Event Number",
    "CAD Event Clearance Description",
    "Call Type",
    "Priority",
    "Initial Call Type",
    "Final Call Type",
    "CAD Event Original Time Queued",
    "CAD Event Arrived Time",
    "Dispatch Precinct",
    "Dispatch Sector",
    "Dispatch Beat",
    "Dispatch Address",
    "Call Sign Dispatch ID",
    "Call Sign Dispatch Time",
    "Call Sign at Scene Time",
    "Call Sign In-Service Time",
]

NOLA_HEADER = [
    "NOPD_Item",
    "Type_",
    "TypeText",
    "Priority",
    "InitialType",
    "InitialTypeText",
    "InitialPriority",
    "MapX",
    "MapY",
    "TimeCreate",
    "TimeDispatch",
    "TimeArrive",
    "TimeClosed",
    "Disposition",
    "DispositionText",
    "SelfInitiated",
    "Beat",
    "BLOCK_ADDRESS",
    "Zip",
    "PoliceDistrict",
    "Location",
]

GENERIC_HEADER = list(GENERIC_COLUMNS)


def utc(*parts: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[object] | dict[str, object]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """Write a CSV as an export tool would (CRLF lines, minimal quoting); dict rows by name."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        if isinstance(row, dict):
            unknown = set(row) - set(header)
            assert not unknown, unknown
            writer.writerow(["" if row.get(h) is None else row.get(h) for h in header])
        else:
            writer.writerow(row)
    path.write_bytes(out.getvalue().encode(encoding))
    return path
