"""The retention schedule as data: periods, TOML, refusals naming what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bodycam.retention.schedule import Period, Schedule, ScheduleError

GOOD = """
[categories."Uncategorized"]
retain = "180 days"

[categories."Traffic Stop"]
retain = "3 years"

[categories."Domestic Violence"]
retain = "18 months"
access_class = "restricted"

[categories."Homicide"]
retain = "until deleted"
"""


def test_periods_count_calendar_months_and_years():
    jan31 = datetime(2024, 1, 31, 12, tzinfo=UTC)
    assert Period.parse("1 month").due(jan31) == datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert Period.parse("1 year").due(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(
        2025, 2, 28, tzinfo=UTC
    )
    assert Period.parse("90 days").due(jan31) == datetime(2024, 4, 30, 12, tzinfo=UTC)
    assert Period.parse("until deleted").due(jan31) is None
    assert Period.parse("2 Years").text() == "2 years"
    assert Period.parse("18 months").text() == "18 months"
    assert Period.parse("until deleted").longer_than(Period.parse("99 years"))
    assert Period.parse("13 months").longer_than(Period.parse("1 year"))
    assert not Period.parse("365 days").longer_than(Period.parse("1 year"))


def test_a_schedule_round_trips_through_its_canonical_toml():
    schedule = Schedule.from_toml(GOOD)
    assert schedule.rules["Domestic Violence"].access_class == "restricted"
    again = Schedule.from_toml(schedule.to_toml())
    assert again == schedule and again.to_toml() == schedule.to_toml()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "not valid TOML"),
        (
            '[categories."Traffic Stop"]\nretain = "3 years"\n',
            "must give a period for 'Uncategorized'",
        ),
        ('[categories."Uncategorized"]\nretain = "soon"\n', 'categories."Uncategorized".retain'),
        ('[categories."Uncategorized"]\nretain = "0 days"\n', "the day they are recorded"),
        ('[categories."Uncategorized"]\nkeep = "1 year"\n', "unknown key(s) keep"),
        ('[categories."Uncategorized"]\nretain = 3\n', "must be text"),
        (
            '[categories."X"]\nretain = "1 year"\naccess_class = "secret"\n'
            '[categories."Uncategorized"]\nretain = "1 year"\n',
            "'secret' is not one of",
        ),
        ("[other]\n", "Unknown top-level key"),
    ],
)
def test_bad_schedules_are_refused_with_the_place_named(text, message):
    with pytest.raises(ScheduleError) as err:
        Schedule.from_toml(text)
    assert message in str(err.value)
