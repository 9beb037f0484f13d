"""Column mappings as TOML: the shipped presets, custom mappings, and the errors."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from bodycam.compliance.mapping import (
    MappingError,
    load_mapping,
    load_preset,
    load_presets,
    parse_mapping,
    preset_names,
)

ROOT = Path(__file__).resolve().parents[2]


def test_presets_load_from_the_package() -> None:
    folder = resources.files("bodycam.compliance").joinpath("presets")
    shipped = sorted(e.name for e in folder.iterdir() if e.name.endswith(".toml"))
    assert shipped == ["generic.toml", "new_orleans.toml", "nypd.toml", "seattle.toml"]
    assert preset_names() == ["generic", "new_orleans", "nypd", "seattle"]
    zones = {m.name: m.timezone for m in load_presets()}
    assert zones == {
        "generic": "UTC",
        "new_orleans": "America/Chicago",
        "nypd": "America/New_York",
        "seattle": "America/Los_Angeles",
    }


def test_package_data_ships_the_presets() -> None:
    """pyproject's package-data globs cover every preset, so a built wheel carries them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["bodycam"]
    for name in preset_names():
        relative = f"compliance/presets/{name}.toml"
        assert any(fnmatch.fnmatch(relative, g) for g in globs), relative


def test_preset_columns_are_the_published_names() -> None:
    nypd = load_preset("nypd")
    assert "'CAD_EVNT_ID' (or 'cad_evnt_id')" in nypd.required_columns()
    assert not nypd.assignment
    seattle = load_preset("seattle")
    assert "'Original Time Queued' (or 'CAD Event Original Time Queued')" in (
        seattle.required_columns()
    )
    assert seattle.self_initiated.true_values == {"ONVIEW", "PROACTIVE (OFFICER INITIATED)"}
    nola = load_preset("new_orleans")
    assert nola.drop.dispositions >= {"VOI", "VOID"}
    assert "'TimeArrive' (or 'TimeArrival')" in nola.required_columns()
    generic = load_preset("generic")
    assert generic.required_columns() == [
        "'event_id'",
        "'badge'",
        "'dispatched_at'",
        "'arrived_at'",
        "'cleared_at'",
    ]


def test_unknown_preset() -> None:
    with pytest.raises(MappingError, match=r"no CAD preset named 'boston'.*nypd"):
        load_preset("boston")
    with pytest.raises(MappingError, match="no CAD preset named"):
        load_preset("../nypd")


MINIMAL = """
name = "mini"
timezone = "America/Denver"
[fields]
event_id = "Incident"
created_at = "Opened"
"""


def test_minimal_mapping_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.name == "mini" and mapping.title == "mini"
    assert mapping.zone.ambiguous == "earlier" and mapping.zone.nonexistent == "invalid"
    assert [f.text for f in mapping.time_formats] == [
        "iso",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %H:%M:%S",
    ]
    assert mapping.sentinel_before_year == 1971
    assert mapping.missing_columns(["incident", " OPENED "]) == []  # case and spacing
    assert mapping.missing_columns(["Incident"]) == ["'Opened'"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('colour = "red"', "unknown key 'colour'"),
        ('timezone2 = "UTC"', "unknown key 'timezone2'"),
        ('ambiguous = "first"', "ambiguous: must be one of earlier, later, invalid"),
        ('time_formats = ["%Q"]', "time_formats: time format '%Q' uses %Q"),
        ("sentinel_before_year = -1", "must be a number of zero or more"),
        ("[drop]\nstatuses = []", "drop: unknown key 'statuses'"),
        ('[self_initiated]\nsame_time = ["created_at"]', "same_time: must name two"),
        ('[self_initiated]\nother = "maybe"', "other: must be one of false, derive, invalid"),
        (
            '[self_initiated]\ncolumn = "S"\ntrue_values = ["Y"]\nfalse_values = ["y"]',
            "shares values with true_values",
        ),
        ('[assignment]\narrived_at = "A"', "assignment.badge: is missing"),
    ],
)
def test_mapping_errors_say_where(extra: str, message: str) -> None:
    if extra.startswith("["):  # a table goes after [fields], a top-level key before it
        text = f"{MINIMAL}\n{extra}\n"
    else:
        text = MINIMAL.replace("[fields]", f"{extra}\n[fields]")
    with pytest.raises(MappingError, match=message):
        parse_mapping(text, origin="agency.toml")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ('created_at = "Opened"', "fields.event_id: is missing"),
        ('event_id = { column = "I", required = false }\ncreated_at = "O"', "must be required"),
        ('event_id = "I"\ncall_type = "T"', "no time field is mapped"),
        ('event_id = "I"\ncreated_at = { column = "O", columns = ["A"] }', "exactly one of"),
        ('event_id = "I"\ncreated_at = { colum = "O" }', "unknown key 'colum'"),
        ('event_id = { column = "I", formats = ["iso"] }\ncreated_at = "O"', "only time fields"),
        ('event_id = "I"\ncreated_at = { columns = [] }', "must be a non-empty list"),
        ('event_id = "I"\nbadge = "B"\ncreated_at = "O"', "unknown key 'badge'"),
        ('event_id = 7\ncreated_at = "O"', "must be a table"),
    ],
)
def test_field_errors_say_where(fields: str, message: str) -> None:
    text = f'name = "x"\ntimezone = "UTC"\n[fields]\n{fields}\n'
    with pytest.raises(MappingError, match=message):
        parse_mapping(text, origin="agency.toml")


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot be read"):
        load_mapping(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"mapping .*bad.toml: is not valid TOML"):
        load_mapping(bad)
    zone = tmp_path / "zone.toml"
    zone.write_text(MINIMAL.replace("America/Denver", "Mars/Olympus"), encoding="utf-8")
    with pytest.raises(MappingError, match="timezone: unknown time zone 'Mars/Olympus'"):
        load_mapping(zone)


def test_the_documented_example_is_a_valid_mapping() -> None:
    text = (ROOT / "docs" / "compliance.md").read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    mapping = parse_mapping(example, origin="docs/compliance.md")
    assert mapping.name == "springfield"
    assert set(mapping.fields) == {
        "event_id", "call_type", "initial_call_type", "priority", "precinct", "sector", "beat",
        "location", "disposition", "created_at", "dispatched_at", "arrived_at", "cleared_at",
    }  # fmt: skip
    assert set(mapping.assignment) == {"badge", "dispatched_at", "arrived_at", "cleared_at"}
