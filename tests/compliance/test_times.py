"""Timestamp formats and local time to UTC across DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bodycam.compliance.times import LocalTimeError, LocalZone, TimeFormat
from tests.compliance.csvs import utc


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("%m/%d/%Y %I:%M:%S %p", "05/17/2019 11:04:31 PM", datetime(2019, 5, 17, 23, 4, 31)),
        ("%m/%d/%Y %I:%M:%S %p", "01/01/2023 12:00:27 AM", datetime(2023, 1, 1, 0, 0, 27)),
        ("%m/%d/%Y %I:%M:%S %p", "01/01/2023 12:00:27 pm", datetime(2023, 1, 1, 12, 0, 27)),
        ("%b %d %Y %I:%M:%S:%f%p", "May 17 2019 11:13:41:000PM", datetime(2019, 5, 17, 23, 13, 41)),
        ("%b %d %Y %I:%M:%S:%f%p", "Jan  1 1900 12:00:00:000AM", datetime(1900, 1, 1)),
        ("%Y %b %d %I:%M:%S %p", "2025 Jan 01 12:00:00 AM", datetime(2025, 1, 1)),
        ("%d.%m.%y %H:%M", "31.12.99 23:59", datetime(1999, 12, 31, 23, 59)),
        ("%Y-%m-%dT%H:%M:%S.%f", "2015-10-01T00:00:50.5", datetime(2015, 10, 1, 0, 0, 50, 500000)),
        ("%m/%d/%Y", "3/4/2024", datetime(2024, 3, 4)),
        ("iso", "2015-10-01T00:00:50.000", datetime(2015, 10, 1, 0, 0, 50)),
        (
            "iso",
            "2024-03-10T02:30:00-05:00",
            datetime(2024, 3, 10, 2, 30, tzinfo=timezone(-timedelta(hours=5))),
        ),
        ("%Y-%m-%d %H:%M:%S%z", "2024-03-10 07:30:00Z", utc(2024, 3, 10, 7, 30)),
    ],
)
def test_formats_parse(fmt: str, text: str, expected: datetime) -> None:
    assert TimeFormat(fmt).parse(text) == expected


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("%m/%d/%Y %I:%M:%S %p", "02/30/2019 11:04:31 PM"),  # no such day
        ("%m/%d/%Y %I:%M:%S %p", "13/17/2019 11:04:31 PM"),  # no such month
        ("%m/%d/%Y %I:%M:%S %p", "05/17/2019 13:04:31 PM"),  # 12-hour clock past 12
        ("%m/%d/%Y %I:%M:%S %p", "2019-05-17 23:04:31"),
        ("%b %d %Y %H:%M", "Foo 17 2019 10:00"),
        ("iso", "yesterday"),
    ],
)
def test_formats_refuse(fmt: str, text: str) -> None:
    assert TimeFormat(fmt).parse(text) is None


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("%m/%d/%Y %Q", "uses %Q"),
        ("%H:%M", "needs a year and a month"),
        ("%Y-%m %H", "needs a day"),
        ("%m/%d/%Y %I:%M", "without %p"),
        ("%Y-%m-%d %", "lone '%'"),
    ],
)
def test_bad_formats_are_named(fmt: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimeFormat(fmt)


def test_new_york_across_both_changes() -> None:
    zone = LocalZone("America/New_York")
    assert zone.to_utc(datetime(2023, 1, 15, 10, 0)) == utc(2023, 1, 15, 15, 0)  # EST
    assert zone.to_utc(datetime(2023, 7, 4, 21, 15)) == utc(2023, 7, 5, 1, 15)  # EDT
    # Spring forward, 2024-03-10: 01:59:59 EST, then 03:00 EDT; 02:30 never happened.
    assert zone.to_utc(datetime(2024, 3, 10, 1, 59, 59)) == utc(2024, 3, 10, 6, 59, 59)
    assert zone.to_utc(datetime(2024, 3, 10, 3, 0)) == utc(2024, 3, 10, 7, 0)
    with pytest.raises(LocalTimeError, match="does not exist in America/New_York"):
        zone.to_utc(datetime(2024, 3, 10, 2, 30))
    # Fall back, 2023-11-05: 01:30 happened at 05:30Z (EDT) and again at 06:30Z (EST).
    assert zone.to_utc(datetime(2023, 11, 5, 1, 30)) == utc(2023, 11, 5, 5, 30)
    assert zone.to_utc(datetime(2023, 11, 5, 2, 0)) == utc(2023, 11, 5, 7, 0)


def test_ambiguous_times_follow_the_row_order() -> None:
    zone = LocalZone("America/Los_Angeles")  # fell back on 2019-11-03
    created = zone.to_utc(datetime(2019, 11, 3, 1, 50))
    assert created == utc(2019, 11, 3, 8, 50)  # the first 01:50, daylight time
    # Arrived "01:10" after a 01:50 creation can only be the second 01:10 (standard time).
    assert zone.to_utc(datetime(2019, 11, 3, 1, 10), created) == utc(2019, 11, 3, 9, 10)
    # Both readings after the previous time: the policy (earlier) decides.
    early = zone.to_utc(datetime(2019, 11, 3, 1, 5))
    assert zone.to_utc(datetime(2019, 11, 3, 1, 20), early) == utc(2019, 11, 3, 8, 20)


def test_ambiguous_and_nonexistent_policies() -> None:
    later = LocalZone("America/Chicago", ambiguous="later", nonexistent="shift")
    assert later.to_utc(datetime(2015, 11, 1, 1, 30)) == utc(2015, 11, 1, 7, 30)  # CST
    # 02:15 was skipped on 2016-03-13; "shift" reads it with the CST offset (03:15 CDT).
    assert later.to_utc(datetime(2016, 3, 13, 2, 15)) == utc(2016, 3, 13, 8, 15)
    strict = LocalZone("America/Chicago", ambiguous="invalid")
    with pytest.raises(LocalTimeError, match="happened twice in America/Chicago"):
        strict.to_utc(datetime(2015, 11, 1, 1, 30))
    assert strict.to_utc(datetime(2015, 11, 1, 0, 59)) == utc(2015, 11, 1, 5, 59)


def test_aware_times_keep_their_offset() -> None:
    zone = LocalZone("UTC")
    aware = datetime(2024, 3, 10, 2, 30, tzinfo=timezone(-timedelta(hours=5)))
    assert zone.to_utc(aware) == utc(2024, 3, 10, 7, 30)


def test_unknown_zone_and_policy() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        LocalZone("Mars/Olympus")
    with pytest.raises(ValueError, match="ambiguous must be one of"):
        LocalZone("UTC", ambiguous="first")  # type: ignore[arg-type]
