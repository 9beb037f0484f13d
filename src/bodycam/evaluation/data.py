"""Outcome data: an agency's outcome exports and the study's roster, read all or nothing.

`read_roster` reads the study's roster (one row per officer or per unit) through a
`RosterMapping`; `read_outcomes` reads an export of incidents (or counts) through an
`OutcomeMapping` into dated outcome records per unit. Every problem is listed as
(line, column, reason): the roster refuses them all, while an outcome file's invalid
rows may be skipped on request (``accept_invalid``), and are then counted. Nothing is
stored in the database. `bodycam.evaluation.counts` turns the records into counts and
rates per unit in windows or periods.

Outcome rows join roster units by name, whitespace collapsed and case folded
(`unit_key`). An incident counts once per unit and outcome, on its earliest date,
however many rows it has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bodycam.compliance.columns import BoundColumn, bind_column
from bodycam.compliance.mapping import ColumnSpec, normalize_column
from bodycam.compliance.times import TimeFormat
from bodycam.evaluation.mapping import OutcomeMapping, RosterMapping, missing_columns, parse_date
from bodycam.evaluation.tables import (
    InputError,
    Problem,
    header_index,
    missing_header,
    open_shape,
    problems_error,
    read_rows,
    repeated_header,
    width_problem,
)

__all__ = [
    "OutcomeData",
    "Record",
    "Roster",
    "RosterUnit",
    "read_outcomes",
    "read_roster",
    "unit_key",
]


def unit_key(name: str) -> str:
    """A unit name as joined: whitespace collapsed, case folded."""
    return normalize_column(name)


@dataclass(frozen=True, slots=True)
class RosterUnit:
    """One roster row: a unit (officer or group) and its part in the study."""

    unit: str
    line: int
    treated: int
    assigned: date | None = None
    block: str | None = None
    cluster: str | None = None
    probability: float | None = None
    weight: float | None = None
    officers: float = 1.0
    active_from: date | None = None
    active_to: date | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    """The roster's units in file order, and which optional fields its file carries."""

    source: str
    units: tuple[RosterUnit, ...]
    fields: frozenset[str]


def _column_name(header: Sequence[str], bound: BoundColumn, fallback: str) -> str:
    if bound.index >= 0:
        return header[bound.index]
    return fallback


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _names(specs: Sequence[ColumnSpec]) -> list[str]:
    """Every column name (alternatives included) that `specs` may read."""
    out: list[str] = []
    for first in specs:
        spec: ColumnSpec | None = first
        while spec is not None:
            out.extend(name for part in spec.parts for name in part)
            spec = spec.fallback
    return out


def read_roster(path: Path, mapping: RosterMapping) -> Roster:
    """The roster in `path`; `InputError` lists every problem (line, column, reason).

    A row is a problem when its unit is blank or repeats an earlier row's, its
    treatment is not one of the mapping's treated or control values (0 or 1), a date
    does not read, a probability is not strictly between 0 and 1, a weight or head
    count is not above 0, active_to is before active_from, or a mapped block or
    cluster is blank.
    """
    source = path.name
    shape = open_shape(path)
    absent = missing_columns(mapping.specs(), shape.header)
    if absent:
        raise missing_header(source, shape, absent, f"the roster mapping {mapping.name!r}")
    repeated_header(source, shape, _names(mapping.specs()))
    index = header_index(shape)
    bound = {
        name: b
        for name, spec in mapping.fields.items()
        if (b := bind_column(spec, index)) is not None
    }
    if "probability" in bound and "weight" in bound:
        raise InputError(
            f"{source} has both a probability and a weight column; the mapping must read one."
        )
    names = {name: _column_name(shape.header, b, name) for name, b in bound.items()}
    problems: list[Problem] = []
    units: list[RosterUnit] = []
    seen: dict[str, int] = {}
    width = len(shape.header)
    formats = mapping.date_formats
    for line, row in read_rows(path, shape):
        bad = width_problem(row, width, line)
        if bad is not None:
            problems.append(bad)
            continue
        found: list[Problem] = []

        def fail(name: str, reason: str, found: list[Problem] = found, line: int = line) -> None:
            found.append(Problem(line, names[name], reason))

        unit = bound["unit"].text(row)
        if unit is None:
            fail("unit", "the unit is blank")
        elif (key := unit_key(unit)) in seen:
            fail("unit", f"unit {unit!r} is listed twice (first on line {seen[key]})")
        else:
            seen[key] = line
        treated = 0
        raw = bound["treatment"].text(row)
        if raw is not None and normalize_column(raw) in mapping.treated_values:
            treated = 1
        elif raw is None or normalize_column(raw) not in mapping.control_values:
            fail("treatment", f"{raw or ''!r} is not 0 or 1 (1 = camera, 0 = control)")
        dates: dict[str, date | None] = {}
        for name in ("assigned", "active_from", "active_to"):
            dates[name] = None
            text = bound[name].text(row) if name in bound else None
            if text is not None:
                dates[name] = parse_date(text, _formats(mapping.fields[name].formats, formats))
                if dates[name] is None:
                    fail(name, f"{text!r} is not a date in the mapping's date formats")
        if (
            dates["active_from"]
            and dates["active_to"]
            and dates["active_to"] < dates["active_from"]
        ):
            fail("active_to", "the unit leaves before it starts (active_to < active_from)")
        labels: dict[str, str | None] = {}
        for name in ("block", "cluster"):
            labels[name] = bound[name].text(row) if name in bound else None
            if name in bound and labels[name] is None:
                fail(name, f"the {name} is blank")
        numbers: dict[str, float | None] = {}
        for name, low, high in (
            ("probability", 0.0, 1.0),
            ("weight", 0.0, None),
            ("officers", 0.0, None),
        ):
            numbers[name] = None
            if name not in bound:
                continue
            text = bound[name].text(row)
            value = _number(text) if text is not None else None
            if text is None:
                fail(name, f"the {name} is blank")
            elif value is None:
                fail(name, f"{text!r} is not a number")
            elif value <= low or (high is not None and value >= high):
                span = f"between {low:g} and {high:g}" if high is not None else f"above {low:g}"
                fail(name, f"{text!r} is not strictly {span}")
            else:
                numbers[name] = value
        if found:
            problems.extend(found)
            continue
        assert unit is not None
        units.append(
            RosterUnit(
                unit=unit,
                line=line,
                treated=treated,
                assigned=dates["assigned"],
                block=labels["block"],
                cluster=labels["cluster"],
                probability=numbers["probability"],
                weight=numbers["weight"],
                officers=numbers["officers"] or 1.0,
                active_from=dates["active_from"],
                active_to=dates["active_to"],
            )
        )
    if problems:
        raise problems_error(source, problems)
    if not units:
        raise InputError(f"{source} has a header but no units.")
    return Roster(source, tuple(units), frozenset(bound))


def _formats(
    own: tuple[TimeFormat, ...], default: tuple[TimeFormat, ...]
) -> tuple[TimeFormat, ...]:
    return own or default


@dataclass(frozen=True, slots=True)
class Record:
    """One outcome event: unit key, date, incident id (or None), amount (1 or a count)."""

    unit: str
    day: date
    incident: str | None
    amount: float


@dataclass(slots=True)
class OutcomeData:
    """What an outcome export holds, read through one mapping."""

    source: str
    mapping: str
    outcomes: tuple[str, ...]
    records: dict[str, list[Record]]
    names: dict[str, str]
    unit_rows: Counter[str] = field(default_factory=Counter)
    rows: int = 0
    filtered: int = 0
    invalid: list[Problem] = field(default_factory=list)
    first: date | None = None
    last: date | None = None


def read_outcomes(
    path: Path, mapping: OutcomeMapping, *, accept_invalid: bool = False
) -> OutcomeData:
    """The outcome records of an export; `InputError` on invalid rows unless accepted.

    A row is invalid when its field count differs from the header's, its unit or date
    (or incident id, when mapped) is blank, its date reads in none of the mapping's
    formats, a flag is neither yes nor no, or a count is not a number of 0 or more.
    Rows the mapping's ``[filter]`` leaves out are counted, not read further.
    """
    source = path.name
    shape = open_shape(path)
    absent = missing_columns(mapping.specs(), shape.header)
    if absent:
        raise missing_header(source, shape, absent, f"the outcome mapping {mapping.name!r}")
    repeated_header(source, shape, _names(mapping.specs()))
    index = header_index(shape)
    header = shape.header

    def bound_of(spec: ColumnSpec) -> BoundColumn:
        b = bind_column(spec, index)
        assert b is not None
        return b

    unit = bound_of(mapping.unit_column) if mapping.unit_column is not None else None
    day = bound_of(mapping.date_column) if mapping.date_column is not None else None
    incident = bound_of(mapping.incident_column) if mapping.incident_column is not None else None
    date_formats = list(
        (mapping.date_column.formats if mapping.date_column is not None else ())
        or mapping.date_formats
    )
    filters = [(c, bound_of(c.column)) for c in mapping.conditions]
    outcomes = [
        (
            o,
            [(c, bound_of(c.column)) for c in o.conditions],
            bound_of(o.flag.column) if o.flag is not None else None,
            bound_of(o.count) if o.count is not None else None,
        )
        for o in mapping.outcomes
    ]
    data = OutcomeData(
        source=source,
        mapping=mapping.name,
        outcomes=tuple(o.name for o in mapping.outcomes),
        records={o.name: [] for o in mapping.outcomes},
        names={},
    )
    width = len(header)

    def name_of(b: BoundColumn, fallback: str) -> str:
        return _column_name(header, b, fallback)

    for line, row in read_rows(path, shape):
        data.rows += 1
        bad = width_problem(row, width, line)
        if bad is not None:
            data.invalid.append(bad)
            continue
        if not all(c.holds(b.text(row)) for c, b in filters):
            data.filtered += 1
            continue
        problems: list[Problem] = []
        unit_name = mapping.unit_value if unit is None else unit.text(row)
        if unit_name is None:
            problems.append(
                Problem(line, name_of(unit, "unit") if unit else "unit", "the unit is blank")
            )
        when = mapping.date_value
        if day is not None:
            text = day.text(row)
            when = _date(text, date_formats) if text is not None else None
            if when is None:
                reason = (
                    "the date is blank"
                    if text is None
                    else f"{text!r} is not a date in the mapping's formats"
                )
                problems.append(Problem(line, name_of(day, "date"), reason))
        incident_id = None
        if incident is not None:
            incident_id = incident.text(row)
            if incident_id is None:
                problems.append(
                    Problem(line, name_of(incident, "incident"), "the incident id is blank")
                )
        hits: list[tuple[str, float]] = []
        for spec, conditions, flag, count in outcomes:
            if not all(c.holds(b.text(row)) for c, b in conditions):
                continue
            amount = 1.0
            if flag is not None and spec.flag is not None:
                try:
                    if not spec.flag.read(flag.text(row)):
                        continue
                except ValueError as exc:
                    problems.append(Problem(line, name_of(flag, spec.name), str(exc)))
                    continue
            if count is not None:
                text = count.text(row)
                value = _number(text) if text is not None else None
                if value is None or value < 0:
                    reason = (
                        "the count is blank"
                        if text is None
                        else f"{text!r} is not a count (a number of 0 or more)"
                    )
                    problems.append(Problem(line, name_of(count, spec.name), reason))
                    continue
                amount = value
                if amount == 0:
                    continue
            hits.append((spec.name, amount))
        if problems:
            data.invalid.extend(problems)
            continue
        assert unit_name is not None and when is not None
        key = unit_key(unit_name)
        data.names.setdefault(key, unit_name)
        data.unit_rows[key] += 1
        data.first = when if data.first is None else min(data.first, when)
        data.last = when if data.last is None else max(data.last, when)
        for name, amount in hits:
            data.records[name].append(Record(key, when, incident_id, amount))
    if data.invalid and not accept_invalid:
        raise problems_error(source, data.invalid)
    return data


def _date(text: str, formats: list[TimeFormat]) -> date | None:
    for i, fmt in enumerate(formats):
        moment = fmt.parse(text)
        if moment is not None:
            if i:  # the format that matched goes first for the next rows
                formats.insert(0, formats.pop(i))
            return moment.date()
    return None
