"""Outcome and roster mappings: the shipped presets, custom TOML, and the errors."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from bodycam.evaluation.mapping import (
    MappingError,
    load_outcome_mapping,
    load_roster_mapping,
    parse_outcome_mapping,
    parse_roster_mapping,
    preset_names,
)

ROOT = Path(__file__).resolve().parents[2]


def test_presets_by_kind() -> None:
    assert preset_names("outcomes") == ["lansing_complaints", "stlouis_county_use_of_force"]
    assert preset_names("roster") == ["roster"]
    stl = load_outcome_mapping("stlouis_county_use_of_force")
    assert stl.unit_column is not None and stl.unit_column.describe() == "'OfficerAssignment'"
    assert stl.incident_column is not None and stl.incident_column.describe() == "'BPSno'"
    assert [o.name for o in stl.outcomes][:2] == ["use_of_force", "citizen_injury"]
    lansing = load_outcome_mapping("lansing_complaints")
    assert lansing.unit_column is None and lansing.unit_value == "Lansing"
    roster = load_roster_mapping()
    assert set(roster.fields) >= {"unit", "treatment", "assigned", "block", "officers"}
    assert roster.fields["block"].required is False


def test_package_data_ships_the_presets() -> None:
    """pyproject's package-data globs cover every preset, so a built wheel carries them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["bodycam"]
    for name in [*preset_names("outcomes"), *preset_names("roster")]:
        relative = f"evaluation/presets/{name}.toml"
        assert any(fnmatch.fnmatch(relative, g) for g in globs), relative


def test_a_custom_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "agency.toml"
    path.write_text(
        """
        kind = "outcomes"
        name = "agency"
        date_formats = ["%m/%d/%Y"]
        [columns]
        unit = ["Badge", "Officer ID"]
        date = "Occurred"
        [[outcome]]
        name = "stops"
        count = "Stops"
        """,
        encoding="utf-8",
    )
    mapping = load_outcome_mapping(path)
    assert mapping.name == "agency" and mapping.outcomes[0].count is not None
    assert mapping.unit_column is not None
    assert mapping.unit_column.describe() == "'Badge' (or 'Officer ID')"


BASE = """
kind = "outcomes"
name = "x"
[columns]
unit = "Badge"
date = "Date"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE, "outcome: is missing"),
        (BASE + '[[outcome]]\nname = "Bad Name"\n', "lower case letters"),
        (BASE + '[[outcome]]\nname = "a"\n[[outcome]]\nname = "a"\n', "'a' is used twice"),
        (BASE + '[[outcome]]\nname = "a"\nwhere = "Type"\n', "table of column = values"),
        (BASE + '[[outcome]]\nname = "a"\ncolour = 1\n', "unknown key 'colour'"),
        (
            BASE.replace('date = "Date"', 'date = "Date"\nincident = "Case"')
            + '[[outcome]]\nname = "a"\ncount = "N"\n',
            "cannot be combined with columns.incident",
        ),
        (BASE.replace('unit = "Badge"\n', "") + '[[outcome]]\nname = "a"\n', "unit: is missing"),
        (BASE.replace('"outcomes"', '"roster"') + '[[outcome]]\nname = "a"\n', "kind: is 'roster'"),
        ("kind = [", "is not valid TOML"),
    ],
)
def test_bad_outcome_mappings_name_the_key(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message) as caught:
        parse_outcome_mapping(text, "agency.toml")
    assert str(caught.value).startswith("mapping agency.toml")


def test_bad_roster_mappings_and_unknown_presets() -> None:
    with pytest.raises(MappingError, match="treatment: is missing"):
        parse_roster_mapping('kind = "roster"\nname = "r"\n[columns]\nunit = "id"\n')
    with pytest.raises(MappingError, match="share nothing"):
        parse_roster_mapping(
            'kind = "roster"\nname = "r"\ntreated_values = ["Y"]\ncontrol_values = ["y"]\n'
            '[columns]\nunit = "id"\ntreatment = "cam"\n'
        )
    with pytest.raises(MappingError, match="no outcomes mapping file or preset named 'nypd'"):
        load_outcome_mapping("nypd")
    with pytest.raises(MappingError, match="cannot be read"):
        load_outcome_mapping("missing/agency.toml")
