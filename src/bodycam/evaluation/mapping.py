"""Outcome and roster column mappings for program evaluation, kept as TOML data.

An **outcome mapping** says how to read one agency export of incidents (or of counts
per officer): which column names the officer or unit, which the date, which (if any)
the incident number that several rows of one incident share, which rows every outcome
keeps (``[filter]``), and one ``[[outcome]]`` table per outcome: its name, the rows it
counts (``where`` / ``exclude`` on column values), or a yes/no column (``flag``), or a
column of counts (``count``). A **roster mapping** says how to read the study's roster:
the unit, its treatment (camera 0/1), and optionally its assignment date, block,
cluster, assignment probability or weight, head count (``officers``) and active dates.

Column specs are those of the CAD mappings (`bodycam.compliance.mapping`): a name, a
list of alternative names, or a table with ``column``/``columns``, ``required``,
``formats`` and ``blank_values``; names match whatever their case and spacing. Presets
ship in ``presets/*.toml`` (their ``kind`` says outcomes or roster) and load by name;
``docs/evaluation.md`` documents every key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

# The CAD mappings' table reader and column specs are reused as they are: one syntax
# for every column mapping a records unit writes.
from bodycam.compliance.mapping import (
    ColumnSpec,
    MappingError,
    _column_spec,
    _fail,
    _Reader,
    _variants,
    normalize_column,
)
from bodycam.compliance.times import TimeFormat

__all__ = [
    "DEFAULT_BLANK_VALUES",
    "DEFAULT_DATE_FORMATS",
    "ROSTER_FIELDS",
    "Condition",
    "Flag",
    "MappingError",
    "OutcomeMapping",
    "OutcomeSpec",
    "RosterMapping",
    "load_outcome_mapping",
    "load_roster_mapping",
    "missing_columns",
    "parse_date",
    "parse_outcome_mapping",
    "parse_roster_mapping",
    "preset_names",
]

Kind = Literal["outcomes", "roster"]

DEFAULT_DATE_FORMATS: Final = (
    "iso",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
)
DEFAULT_BLANK_VALUES: Final = ("", "NULL", "NA", "N/A")
ROSTER_FIELDS: Final = (
    "unit",
    "treatment",
    "assigned",
    "block",
    "cluster",
    "probability",
    "weight",
    "officers",
    "active_from",
    "active_to",
)
"""The roster fields a roster mapping's ``[columns]`` table may name."""
_ROSTER_DATES: Final = frozenset({"assigned", "active_from", "active_to"})
_OUTCOME_COLUMNS: Final = ("unit", "date", "incident")
_TOP_KEYS: Final = ("kind", "name", "title", "source", "date_formats", "blank_values")
_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")
_TRUE: Final = ("1", "yes", "y", "true", "t")
_FALSE: Final = ("0", "no", "n", "false", "f")


def _key(text: str) -> str:
    """A value as compared by filters and flags: whitespace collapsed, case folded."""
    return normalize_column(text)


def parse_date(text: str, formats: Sequence[TimeFormat]) -> date | None:
    """The calendar date `text` spells in one of `formats` (time of day ignored), or None."""
    for fmt in formats:
        moment = fmt.parse(text)
        if moment is not None:
            return moment.date()
    return None


@dataclass(frozen=True, slots=True)
class Condition:
    """Rows whose `column` holds one of `values` (or, with `exclude`, none of them).

    Values compare with whitespace collapsed and case folded. With a `separator` a cell
    may hold several values (``Arrest; Courtesy``) and matches when any part does. A
    blank cell holds no value.
    """

    column: ColumnSpec
    values: frozenset[str]
    separator: str | None = None
    exclude: bool = False

    def holds(self, text: str | None) -> bool:
        """Whether a row whose cell reads `text` (None if blank) passes this condition."""
        if text is None:
            found = False
        elif self.separator is None:
            found = _key(text) in self.values
        else:
            found = any(_key(part) in self.values for part in text.split(self.separator))
        return found != self.exclude


@dataclass(frozen=True, slots=True)
class Flag:
    """A yes/no column: listed values decide, else any number other than 0 is yes."""

    column: ColumnSpec
    true_values: frozenset[str]
    false_values: frozenset[str]

    def read(self, text: str | None) -> bool:
        """True or False (blank is no); `ValueError` names a value that is neither."""
        if text is None:
            return False
        key = _key(text)
        if key in self.true_values:
            return True
        if key in self.false_values:
            return False
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"{text!r} is neither yes nor no (nor a number)")
        return number != 0


@dataclass(frozen=True, slots=True, eq=False)
class OutcomeSpec:
    """One outcome: the rows it counts, or a yes/no column, or a column of counts."""

    name: str
    title: str
    conditions: tuple[Condition, ...] = ()
    flag: Flag | None = None
    count: ColumnSpec | None = None


@dataclass(frozen=True, slots=True, eq=False)
class OutcomeMapping:
    """How to read an outcome export: unit, date, incident id, filters, outcomes.

    `unit_value` / `date_value` stand for every row when the export has no such column
    (an agency-wide complaint file whose rows name no officer, or one file of totals).
    """

    name: str
    title: str
    source: str
    origin: str
    date_formats: tuple[TimeFormat, ...]
    blank_values: frozenset[str]
    unit_column: ColumnSpec | None
    unit_value: str | None
    date_column: ColumnSpec | None
    date_value: date | None
    incident_column: ColumnSpec | None
    conditions: tuple[Condition, ...]
    outcomes: tuple[OutcomeSpec, ...]

    def specs(self) -> list[ColumnSpec]:
        """Every column spec this mapping reads."""
        columns = (self.unit_column, self.date_column, self.incident_column)
        out = [s for s in columns if s is not None]
        out.extend(c.column for c in self.conditions)
        for outcome in self.outcomes:
            out.extend(c.column for c in outcome.conditions)
            if outcome.flag is not None:
                out.append(outcome.flag.column)
            if outcome.count is not None:
                out.append(outcome.count)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class RosterMapping:
    """How to read a roster: the column of each roster field, treated/control values."""

    name: str
    title: str
    source: str
    origin: str
    date_formats: tuple[TimeFormat, ...]
    blank_values: frozenset[str]
    fields: dict[str, ColumnSpec]
    treated_values: frozenset[str]
    control_values: frozenset[str]

    def specs(self) -> list[ColumnSpec]:
        """Every column spec this mapping reads."""
        return list(self.fields.values())


def missing_columns(specs: Sequence[ColumnSpec], header: Sequence[str]) -> list[str]:
    """The required columns of `specs` that `header` lacks, in words."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(normalize_column(name), i)
    missing: list[str] = []
    for spec in specs:
        if spec.required:
            missing.extend(m for m in spec.missing(index) if m not in missing)
    return missing


def _top(origin: str, text: str, kind: Kind, extra: Sequence[str]) -> tuple[_Reader, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(origin, "", f"is not valid TOML ({exc})") from None
    top = _Reader(origin, "", data, (*_TOP_KEYS, *extra))
    found = top.text("kind", kind)
    if found != kind:
        raise top.fail("kind", f"is {found!r}; a {kind} mapping is needed here")
    return top, data


def _date_formats(top: _Reader) -> tuple[TimeFormat, ...]:
    texts = top.texts("date_formats", DEFAULT_DATE_FORMATS)
    if not texts:
        raise top.fail("date_formats", "must name at least one format")
    try:
        return tuple(TimeFormat(t) for t in texts)
    except ValueError as exc:
        raise top.fail("date_formats", str(exc)) from None


def _name(reader: _Reader, key: str) -> str:
    name = reader.text(key)
    if not _NAME.fullmatch(name):
        raise reader.fail(key, f"{name!r} must be lower case letters, digits and _")
    return name


def _values(reader: _Reader, key: str, raw: Any) -> tuple[frozenset[str], str | None]:
    """A filter's values: a string, a list, or a table ``{values = [...], separator}``."""
    separator = None
    if isinstance(raw, dict):
        inner = _Reader(reader.origin, f"{reader.where}.{key}", raw, ("values", "separator"))
        raw = inner.table.get("values")
        if raw is None:
            raise inner.fail("values", "is missing")
        separator = inner.text("separator", ";")
        if not separator:
            raise inner.fail("separator", "must not be empty")
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise reader.fail(key, "must be a value, a non-empty list of values, or a table")
    return frozenset(_key(v) for v in values), separator


def _conditions(reader: _Reader, blanks: frozenset[str]) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for key, exclude in (("where", False), ("exclude", True)):
        raw = reader.table.get(key)
        if raw is None:
            continue
        if not isinstance(raw, dict) or not raw:
            raise reader.fail(key, "must be a table of column = values")
        table = _Reader(reader.origin, f"{reader.where}.{key}".lstrip("."), raw, list(raw))
        for column, values in table.table.items():
            spec = ColumnSpec(field=column, parts=((column,),), blank_values=blanks)
            found, separator = _values(table, column, values)
            out.append(Condition(spec, found, separator, exclude))
    return tuple(out)


def _flag(origin: str, where: str, raw: Any, blanks: frozenset[str]) -> Flag:
    if isinstance(raw, str | list):
        raw = {"column": raw}
    reader = _Reader(origin, where, raw, ("column", "true_values", "false_values"))
    spec = _column_spec(
        origin, where, "flag", {"column": reader.table.get("column")}, is_time=False, blanks=blanks
    )
    true_values = frozenset(_key(v) for v in reader.texts("true_values", _TRUE))
    false_values = frozenset(_key(v) for v in reader.texts("false_values", _FALSE))
    if true_values & false_values:
        raise reader.fail("false_values", "shares values with true_values")
    return Flag(spec, true_values, false_values)


def _outcome(origin: str, where: str, raw: Any, blanks: frozenset[str]) -> OutcomeSpec:
    reader = _Reader(origin, where, raw, ("name", "title", "where", "exclude", "flag", "count"))
    name = _name(reader, "name")
    flag = count = None
    if "flag" in reader.table and "count" in reader.table:
        raise reader.fail("count", "give flag (a yes/no column) or count, not both")
    if "flag" in reader.table:
        flag = _flag(origin, f"{where}.flag", reader.table["flag"], blanks)
    if "count" in reader.table:
        count = _column_spec(
            origin, f"{where}.count", "count", reader.table["count"], is_time=False, blanks=blanks
        )
    return OutcomeSpec(
        name=name,
        title=reader.text("title", name),
        conditions=_conditions(reader, blanks),
        flag=flag,
        count=count,
    )


def _column_or_value(
    origin: str,
    where: str,
    name: str,
    raw: Any,
    blanks: frozenset[str],
    formats: tuple[TimeFormat, ...],
) -> tuple[ColumnSpec | None, str | None]:
    """A column spec, or a constant given as ``{ value = "..." }``."""
    if isinstance(raw, dict) and "value" in raw:
        reader = _Reader(origin, where, raw, ("value",))
        value = reader.text("value").strip()
        if not value:
            raise reader.fail("value", "must not be blank")
        if name == "date" and parse_date(value, formats) is None:
            raise reader.fail("value", f"{value!r} is not a date in the mapping's date_formats")
        return None, value
    is_time = name == "date"
    spec = _column_spec(origin, where, name, raw, is_time=is_time, blanks=blanks)
    if not spec.required:
        raise _fail(origin, where, f"{name} must be required (or a constant value)")
    return spec, None


def parse_outcome_mapping(text: str, origin: str = "<mapping>") -> OutcomeMapping:
    """An outcome mapping from TOML text; `MappingError` names the file, key and problem."""
    top, data = _top(origin, text, "outcomes", ("columns", "filter", "outcome"))
    name = _name(top, "name")
    formats = _date_formats(top)
    blanks = _variants(top.texts("blank_values", DEFAULT_BLANK_VALUES))
    columns = _Reader(origin, "columns", data.get("columns"), _OUTCOME_COLUMNS)
    for required in ("unit", "date"):
        if required not in columns.table:
            raise columns.fail(required, "is missing (a column, or { value = ... } for every row)")
    unit, unit_value = _column_or_value(
        origin, "columns.unit", "unit", columns.table["unit"], blanks, formats
    )
    date_spec, date_text = _column_or_value(
        origin, "columns.date", "date", columns.table["date"], blanks, formats
    )
    incident = None
    if "incident" in columns.table:
        incident = _column_spec(
            origin, "columns.incident", "incident", columns.table["incident"], is_time=False,
            blanks=blanks,
        )  # fmt: skip
    conditions: tuple[Condition, ...] = ()
    if "filter" in data:
        conditions = _conditions(
            _Reader(origin, "filter", data["filter"], ("where", "exclude")), blanks
        )
    raw_outcomes = data.get("outcome")
    if not isinstance(raw_outcomes, list) or not raw_outcomes:
        raise top.fail("outcome", "is missing: add at least one [[outcome]] table")
    outcomes = tuple(
        _outcome(origin, f"outcome[{i}]", raw, blanks) for i, raw in enumerate(raw_outcomes, 1)
    )
    seen: set[str] = set()
    for i, outcome in enumerate(outcomes, 1):
        if outcome.name in seen:
            raise _fail(origin, f"outcome[{i}].name", f"{outcome.name!r} is used twice")
        seen.add(outcome.name)
        if outcome.count is not None and incident is not None:
            raise _fail(
                origin,
                f"outcome[{i}].count",
                "a count column cannot be combined with columns.incident "
                "(an incident is counted once; its rows' counts cannot be added)",
            )
    return OutcomeMapping(
        name=name,
        title=top.text("title", name),
        source=top.text("source", ""),
        origin=origin,
        date_formats=formats,
        blank_values=blanks,
        unit_column=unit,
        unit_value=unit_value,
        date_column=date_spec,
        date_value=parse_date(date_text, formats) if date_text is not None else None,
        incident_column=incident,
        conditions=conditions,
        outcomes=outcomes,
    )


def parse_roster_mapping(text: str, origin: str = "<mapping>") -> RosterMapping:
    """A roster mapping from TOML text; `MappingError` names the file, key and problem."""
    top, data = _top(origin, text, "roster", ("columns", "treated_values", "control_values"))
    name = _name(top, "name")
    blanks = _variants(top.texts("blank_values", DEFAULT_BLANK_VALUES))
    columns = _Reader(origin, "columns", data.get("columns"), ROSTER_FIELDS)
    fields = {
        key: _column_spec(
            origin, f"columns.{key}", key, raw, is_time=key in _ROSTER_DATES, blanks=blanks
        )
        for key, raw in columns.table.items()
    }
    for required in ("unit", "treatment"):
        if required not in fields:
            raise columns.fail(required, "is missing: every roster names the unit and treatment")
        if not fields[required].required:
            raise columns.fail(required, "must be required")
    both = "probability" in fields and "weight" in fields
    if both and fields["probability"].required and fields["weight"].required:
        raise columns.fail("weight", "give probability or weight, not both")
    treated = frozenset(_key(v) for v in top.texts("treated_values", ("1",)))
    control = frozenset(_key(v) for v in top.texts("control_values", ("0",)))
    if not treated or not control or treated & control:
        raise top.fail("control_values", "must be non-empty and share nothing with treated_values")
    return RosterMapping(
        name=name,
        title=top.text("title", name),
        source=top.text("source", ""),
        origin=origin,
        date_formats=_date_formats(top),
        blank_values=blanks,
        fields=fields,
        treated_values=treated,
        control_values=control,
    )


def _presets() -> Any:
    return resources.files(__package__ or "bodycam.evaluation").joinpath("presets")


def _preset_kind(text: str) -> str:
    try:
        return str(tomllib.loads(text).get("kind", "outcomes"))
    except tomllib.TOMLDecodeError:
        return ""


def preset_names(kind: Kind) -> list[str]:
    """The names of the shipped presets of one kind, sorted."""
    names = []
    for entry in _presets().iterdir():
        stem = entry.name.removesuffix(".toml")
        if (
            entry.name.endswith(".toml")
            and _NAME.fullmatch(stem)
            and _preset_kind(entry.read_text(encoding="utf-8")) == kind
        ):
            names.append(stem)
    return sorted(names)


def _read(name_or_path: str | Path, kind: Kind) -> tuple[str, str]:
    """(text, origin) of a mapping file, or of the shipped preset of that name."""
    path = Path(name_or_path)
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"mapping {path}: cannot be read ({exc})") from None
    name = str(name_or_path)
    known = preset_names(kind)
    if name not in known:
        raise MappingError(
            f"there is no {kind} mapping file or preset named {name!r} "
            f"(presets: {', '.join(known)})"
        )
    return _presets().joinpath(f"{name}.toml").read_text(encoding="utf-8"), f"preset {name}"


def load_outcome_mapping(name_or_path: str | Path) -> OutcomeMapping:
    """An outcome mapping from a TOML file, or the shipped preset of that name."""
    text, origin = _read(name_or_path, "outcomes")
    return parse_outcome_mapping(text, origin)


def load_roster_mapping(name_or_path: str | Path = "roster") -> RosterMapping:
    """A roster mapping from a TOML file, or the shipped preset (default ``roster``)."""
    text, origin = _read(name_or_path, "roster")
    return parse_roster_mapping(text, origin)
