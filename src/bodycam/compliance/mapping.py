"""CAD column mappings: which source columns feed which of our fields, kept as TOML data.

A mapping names, for each field of a dispatch event (and, where the export has them, of
an officer assignment), the source column or columns and how to read them; the time
zone the source's local times are in and how DST edge cases are resolved; how the
self-initiated (on-view) flag is read or derived; and which dispositions or call types
mark void or test events to drop. ``docs/compliance.md`` documents every key with an
example. Presets for published schemas ship in ``presets/*.toml`` inside this package
and load with `load_preset`; an agency's own export loads with `load_mapping`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal, cast

from bodycam.compliance.times import (
    AMBIGUOUS_POLICIES,
    NONEXISTENT_POLICIES,
    AmbiguousPolicy,
    LocalZone,
    NonexistentPolicy,
    TimeFormat,
)

__all__ = [
    "ASSIGNMENT_FIELDS",
    "DEFAULT_BLANK_VALUES",
    "DEFAULT_TIME_FORMATS",
    "EVENT_FIELDS",
    "TIME_FIELDS",
    "CadFormatError",
    "CadMapping",
    "ColumnSpec",
    "DropRule",
    "MappingError",
    "SelfInitiatedRule",
    "load_mapping",
    "load_preset",
    "load_presets",
    "normalize_column",
    "parse_mapping",
    "preset_names",
]

EVENT_FIELDS: Final = (
    "event_id",
    "call_type",
    "initial_call_type",
    "priority",
    "precinct",
    "sector",
    "beat",
    "location",
    "disposition",
    "created_at",
    "dispatched_at",
    "arrived_at",
    "cleared_at",
)
"""The event fields a mapping's ``[fields]`` table may name (``self_initiated`` has its own)."""

ASSIGNMENT_FIELDS: Final = ("badge", "dispatched_at", "arrived_at", "cleared_at")
"""The officer-assignment fields a mapping's ``[assignment]`` table may name."""

TIME_FIELDS: Final = frozenset({"created_at", "dispatched_at", "arrived_at", "cleared_at"})

DEFAULT_TIME_FORMATS: Final = ("iso", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S")
DEFAULT_BLANK_VALUES: Final = ("", "NULL")
_PRESET_NAME = re.compile(r"[a-z0-9_]+")

SelfInitiatedOther = Literal["false", "derive", "invalid"]
_OTHER_CHOICES: Final = ("false", "derive", "invalid")


GENERIC_COLUMNS: Final = (
    "event_id",
    "call_type",
    "priority",
    "self_initiated",
    "precinct",
    "location",
    "disposition",
    "created_at",
    "badge",
    "dispatched_at",
    "arrived_at",
    "cleared_at",
)
"""The columns of the ``generic`` preset, in the order bodycam writes them."""


class MappingError(ValueError):
    """A mapping that is not valid TOML or not a valid mapping; the message says where."""


class CadFormatError(ValueError):
    """A CAD file that no mapping (or not the given one) can read; the message says why."""


def normalize_column(name: str) -> str:
    """A column name as matched: whitespace collapsed, case folded (``Arrived  time``)."""
    return " ".join(name.split()).casefold()


def _variants(values: Sequence[str]) -> frozenset[str]:
    """Each value stripped, as written and in upper, lower and title case."""
    out: set[str] = set()
    for value in values:
        value = value.strip()
        out.update((value, value.upper(), value.lower(), value.title()))
    return frozenset(out)


@dataclass(frozen=True, slots=True, eq=False)
class ColumnSpec:
    """Where one field comes from: one column, or several joined, each with alternatives.

    `parts` holds one tuple of alternative names per joined column; the first alternative
    present in the file's header is used (published schemas renamed columns over the
    years). Names match whatever their case and spacing (`normalize_column`); the index
    passed to `bind` and `missing` is keyed by normalized names. When `fallback` is set
    it is read wherever this one is blank or absent.
    """

    field: str
    parts: tuple[tuple[str, ...], ...]
    separator: str = " "
    required: bool = True
    formats: tuple[TimeFormat, ...] = ()
    blank_values: frozenset[str] = frozenset()
    fallback: ColumnSpec | None = None

    def describe(self) -> str:
        """The columns in words: ``'A' (or 'B') + 'C'``."""
        return " + ".join(
            repr(part[0]) + "".join(f" (or {name!r})" for name in part[1:]) for part in self.parts
        )

    def bind(self, index: Mapping[str, int]) -> tuple[int, ...] | None:
        """The header positions of this spec's columns, or None if a part is absent."""
        found: list[int] = []
        for part in self.parts:
            keys = (normalize_column(name) for name in part)
            position = next((index[key] for key in keys if key in index), None)
            if position is None:
                return None
            found.append(position)
        return tuple(found)

    def missing(self, index: Mapping[str, int]) -> list[str]:
        """The parts a file lacks (empty when this spec or its fallback binds)."""
        if self.bind(index) is not None:
            return []
        if self.fallback is not None and not self.fallback.missing(index):
            return []
        return [
            repr(part[0]) + "".join(f" (or {name!r})" for name in part[1:])
            for part in self.parts
            if not any(normalize_column(name) in index for name in part)
        ]


@dataclass(frozen=True, slots=True, eq=False)
class SelfInitiatedRule:
    """How an event is known to be self-initiated (on-view) rather than dispatched.

    Precedence: a value of `column` listed in `true_values` or `false_values` decides.
    A blank value, or no column, or another value when `other` is ``derive``, leaves it
    to the time rule: with `same_time` = (a, b), the event is on-view when both times
    are known and differ by at most `tolerance_seconds` (a unit that is on scene the
    moment the event is created found it itself), dispatched when both are known and
    differ by more, and unknown otherwise. `other` = ``false`` reads any other value as
    dispatched; ``invalid`` reports the row invalid.
    """

    column: ColumnSpec | None = None
    true_values: frozenset[str] = frozenset()
    false_values: frozenset[str] = frozenset()
    other: SelfInitiatedOther = "derive"
    same_time: tuple[str, str] | None = None
    tolerance_seconds: float = 0.0

    def read(self, value: str) -> bool | None:
        """True/False from a non-blank column value, None to derive; ValueError if invalid."""
        key = value.upper()
        if key in self.true_values:
            return True
        if key in self.false_values:
            return False
        if self.other == "false":
            return False
        if self.other == "derive":
            return None
        raise ValueError(f"{value!r} is not a known self-initiated value")


@dataclass(frozen=True, slots=True)
class DropRule:
    """Void and test events to drop: exact dispositions or call types (case-insensitive)."""

    dispositions: frozenset[str] = frozenset()
    call_types: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, eq=False)
class CadMapping:
    """A complete mapping: fields, time zone and DST policy, on-view rule, drop rule."""

    name: str
    title: str
    origin: str
    zone: LocalZone
    time_formats: tuple[TimeFormat, ...]
    blank_values: frozenset[str]
    sentinel_before_year: int
    fields: dict[str, ColumnSpec]
    self_initiated: SelfInitiatedRule
    drop: DropRule
    assignment: dict[str, ColumnSpec] = field(default_factory=dict)
    source: str = ""

    @property
    def timezone(self) -> str:
        """The IANA name of the zone the source's local times are in."""
        return self.zone.name

    def specs(self) -> list[ColumnSpec]:
        """Every column spec this mapping reads: events, self-initiated, assignments."""
        out = list(self.fields.values())
        if self.self_initiated.column is not None:
            out.append(self.self_initiated.column)
        out.extend(self.assignment.values())
        return out

    def required_columns(self) -> list[str]:
        """The required columns in words, e.g. ``'CAD_EVNT_ID'``, ``'A' (or 'B')``."""
        return [spec.describe() for spec in self.specs() if spec.required]

    def missing_columns(self, header: Sequence[str]) -> list[str]:
        """The required columns `header` lacks, in words (empty when the file fits)."""
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            index.setdefault(normalize_column(name), i)
        missing: list[str] = []
        for spec in self.specs():
            if spec.required:
                missing.extend(m for m in spec.missing(index) if m not in missing)
        return missing


def _fail(origin: str, where: str, problem: str) -> MappingError:
    place = f"{origin}: {where}" if where else origin
    return MappingError(f"mapping {place}: {problem}")


class _Reader:
    """Typed access to one TOML table, naming the file and table in every error."""

    def __init__(self, origin: str, where: str, table: Any, allowed: Sequence[str]) -> None:
        if not isinstance(table, dict):
            raise _fail(origin, where, "must be a table")
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise _fail(
                origin,
                where,
                f"unknown key {', '.join(map(repr, unknown))} (known: {', '.join(allowed)})",
            )
        self.origin, self.where, self.table = origin, where, cast(dict[str, Any], table)

    def fail(self, key: str, problem: str) -> MappingError:
        return _fail(self.origin, f"{self.where}.{key}" if self.where else key, problem)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, "must be a string" if key in self.table else "is missing")
        return value

    def texts(self, key: str, default: Sequence[str] = ()) -> list[str]:
        value = self.table.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a string or a list of strings")
        return list(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(key, "must be a number of zero or more")
        return float(value)

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value


_SPEC_KEYS: Final = ("column", "columns", "separator", "required", "formats", "blank_values")


def _column_spec(
    origin: str, where: str, name: str, raw: Any, *, is_time: bool, blanks: frozenset[str]
) -> ColumnSpec:
    if isinstance(raw, str | list):
        raw = {"column": raw}
    keys = (*_SPEC_KEYS, "fallback")
    reader = _Reader(origin, where, raw, keys)
    table = reader.table
    if ("column" in table) == ("columns" in table):
        raise reader.fail("column", "give exactly one of column (one column) or columns (joined)")
    parts: list[tuple[str, ...]]
    if "column" in table:
        parts = [tuple(reader.texts("column"))]
    else:
        columns = table["columns"]
        if not isinstance(columns, list) or not columns:
            raise reader.fail("columns", "must be a non-empty list")
        parts = []
        for item in columns:
            alternatives = [item] if isinstance(item, str) else item
            if not isinstance(alternatives, list) or not all(
                isinstance(a, str) for a in alternatives
            ):
                raise reader.fail("columns", "each item must be a name or a list of names")
            parts.append(tuple(alternatives))
    if any(not part or any(not n.strip() for n in part) for part in parts):
        raise reader.fail("column", "names must not be empty")
    formats: tuple[TimeFormat, ...] = ()
    if "formats" in table:
        if not is_time:
            raise reader.fail("formats", f"only time fields take formats; {name} is text")
        formats = _formats(reader, "formats")
    fallback = None
    if "fallback" in table:
        fallback = _column_spec(
            origin, f"{where}.fallback", name, table["fallback"], is_time=is_time, blanks=blanks
        )
    return ColumnSpec(
        field=name,
        parts=tuple(parts),
        separator=reader.text("separator", " "),
        required=reader.flag("required", True),
        formats=formats,
        blank_values=blanks | _variants(reader.texts("blank_values")),
        fallback=fallback,
    )


def _formats(reader: _Reader, key: str) -> tuple[TimeFormat, ...]:
    texts = reader.texts(key)
    if not texts:
        raise reader.fail(key, "must name at least one format")
    try:
        return tuple(TimeFormat(t) for t in texts)
    except ValueError as exc:
        raise reader.fail(key, str(exc)) from None


def parse_mapping(text: str, origin: str = "<mapping>") -> CadMapping:
    """A mapping from TOML text; `MappingError` names the file, key and problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(origin, "", f"is not valid TOML ({exc})") from None
    top = _Reader(
        origin,
        "",
        data,
        (
            "name",
            "title",
            "source",
            "timezone",
            "ambiguous",
            "nonexistent",
            "time_formats",
            "blank_values",
            "sentinel_before_year",
            "fields",
            "self_initiated",
            "drop",
            "assignment",
        ),
    )
    name = top.text("name")
    try:
        zone = LocalZone(
            top.text("timezone"),
            cast(AmbiguousPolicy, top.choice("ambiguous", "earlier", AMBIGUOUS_POLICIES)),
            cast(NonexistentPolicy, top.choice("nonexistent", "invalid", NONEXISTENT_POLICIES)),
        )
    except ValueError as exc:
        raise top.fail("timezone", str(exc)) from None
    time_formats = (
        _formats(top, "time_formats")
        if "time_formats" in top.table
        else tuple(TimeFormat(t) for t in DEFAULT_TIME_FORMATS)
    )
    blanks = _variants(top.texts("blank_values", DEFAULT_BLANK_VALUES))
    sentinel = top.number("sentinel_before_year", 1971)

    fields_table = _Reader(origin, "fields", data.get("fields"), EVENT_FIELDS)
    fields = {
        key: _column_spec(
            origin, f"fields.{key}", key, raw, is_time=key in TIME_FIELDS, blanks=blanks
        )
        for key, raw in fields_table.table.items()
    }
    if "event_id" not in fields:
        raise fields_table.fail("event_id", "is missing: every event needs its CAD event number")
    if not fields["event_id"].required:
        raise fields_table.fail("event_id", "must be required")

    assignment: dict[str, ColumnSpec] = {}
    if "assignment" in data:
        table = _Reader(origin, "assignment", data["assignment"], ASSIGNMENT_FIELDS)
        assignment = {
            key: _column_spec(
                origin, f"assignment.{key}", key, raw, is_time=key in TIME_FIELDS, blanks=blanks
            )
            for key, raw in table.table.items()
        }
        if "badge" not in assignment:
            raise table.fail("badge", "is missing: an assignment names the officer or unit")
    if not (TIME_FIELDS & (fields.keys() | assignment.keys())):
        raise fields_table.fail("created_at", "no time field is mapped; at least one is needed")

    return CadMapping(
        name=name,
        title=top.text("title", name),
        source=top.text("source", ""),
        origin=origin,
        zone=zone,
        time_formats=time_formats,
        blank_values=blanks,
        sentinel_before_year=int(sentinel),
        fields=fields,
        self_initiated=_self_initiated(origin, data.get("self_initiated", {}), blanks),
        drop=_drop(origin, data.get("drop", {})),
        assignment=assignment,
    )


def _self_initiated(origin: str, raw: Any, blanks: frozenset[str]) -> SelfInitiatedRule:
    keys = (*_SPEC_KEYS, "true_values", "false_values", "other", "same_time", "tolerance_seconds")
    reader = _Reader(origin, "self_initiated", raw, keys)
    table = reader.table
    column = None
    if "column" in table or "columns" in table:
        spec_raw = {k: v for k, v in table.items() if k in _SPEC_KEYS}
        column = _column_spec(
            origin, "self_initiated", "self_initiated", spec_raw, is_time=False, blanks=blanks
        )
    same_time = None
    if "same_time" in table:
        pair = reader.texts("same_time")
        if len(pair) != 2 or not set(pair) <= TIME_FIELDS or pair[0] == pair[1]:
            raise reader.fail(
                "same_time", f"must name two different time fields ({', '.join(TIME_FIELDS)})"
            )
        same_time = (pair[0], pair[1])
    true_values = frozenset(v.strip().upper() for v in reader.texts("true_values"))
    false_values = frozenset(v.strip().upper() for v in reader.texts("false_values"))
    if true_values & false_values:
        raise reader.fail("false_values", "shares values with true_values")
    return SelfInitiatedRule(
        column=column,
        true_values=true_values,
        false_values=false_values,
        other=cast(SelfInitiatedOther, reader.choice("other", "derive", _OTHER_CHOICES)),
        same_time=same_time,
        tolerance_seconds=reader.number("tolerance_seconds", 0.0),
    )


def _drop(origin: str, raw: Any) -> DropRule:
    reader = _Reader(origin, "drop", raw, ("dispositions", "call_types"))
    return DropRule(
        dispositions=frozenset(v.strip().upper() for v in reader.texts("dispositions")),
        call_types=frozenset(v.strip().upper() for v in reader.texts("call_types")),
    )


def load_mapping(path: str | Path) -> CadMapping:
    """The mapping in a TOML file; `MappingError` if it cannot be read or is not valid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping {path}: cannot be read ({exc})") from None
    return parse_mapping(text, origin=str(path))


def preset_names() -> list[str]:
    """The names of the presets shipped in the package, sorted."""
    folder = resources.files(__package__ or "bodycam.compliance").joinpath("presets")
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml") and _PRESET_NAME.fullmatch(entry.name[:-5])
    )


def load_preset(name: str) -> CadMapping:
    """The shipped preset `name` (``nypd``, ``seattle``, ...); `MappingError` if unknown."""
    if not _PRESET_NAME.fullmatch(name) or name not in preset_names():
        known = ", ".join(preset_names())
        raise MappingError(f"no CAD preset named {name!r} (known: {known})")
    folder = resources.files(__package__ or "bodycam.compliance").joinpath("presets")
    text = folder.joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return parse_mapping(text, origin=f"preset {name}")


def load_presets() -> list[CadMapping]:
    """Every shipped preset, in name order."""
    return [load_preset(name) for name in preset_names()]
