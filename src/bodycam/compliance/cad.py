"""Parse a dispatch (CAD) export into events and officer assignments, with a report.

`parse_cad` reads a CSV export row by row (raw rows are never kept: memory grows with
the parsed events and assignments only) through a `CadMapping`, and returns a
`CadImport`: the events, the assignments, and a validation report in the shape the
commercial systems send (rows, valid, invalid with line, field and reason). It writes
nothing; the persistence layer stores a `CadImport` all-or-nothing and adds the
``matched`` and ``unmatched`` counts to the report. An exception (`CadFormatError` for
a file no mapping can read, `OSError`) leaves no result at all.

The rules, so that a supervisor can see why a row counted or not:

* Line numbers are those of the file, 1-based, the header being line 1; a row whose
  quoted text spans several lines is numbered by its first line. Blank lines are not
  rows.
* A row is **invalid**, and contributes nothing, when its event id is blank, it has a
  different number of fields from the header, a time is not blank but fits none of the
  mapping's formats, a local time does not exist or is ambiguous under the mapping's
  DST policy (see `bodycam.compliance.times`), its self-initiated value is unknown and
  the mapping says ``other = "invalid"``, it carries no created, dispatched or arrived
  time at all, or a cleared time is earlier than a start time on the same row (a window
  that ends before it begins cannot be judged). Every problem of the row is listed.
* Times **out of order** that can happen in real dispatching are kept and **flagged**
  (report ``flags``): dispatched before created, arrived before created, and arrived
  before dispatched unless the event is self-initiated, where the unit is on scene
  before anyone dispatches it (New Orleans' published data does this on most on-view
  items). Blank times are kept blank; an event time the export leaves blank or does not
  carry is taken from the event's assignments (earliest dispatch, earliest arrival,
  latest clearance), and the report counts the times still blank.
* **Void and test** events (the mapping's ``[drop]`` dispositions and call types, exact
  and case-insensitive) are dropped before their other fields are read, so a voided
  test call with no times is dropped, not invalid. Once an event is dropped, its later
  rows are dropped too.
* **Duplicates**: a row whose event fields and assignment repeat an earlier row's
  exactly is skipped (``identical``). A row whose event id was seen with other values
  is a ``conflict``: the first row wins, because file order is the only neutral rule
  (exports are not ordered by update time, and a corrected export is re-imported as a
  whole); the conflicting fields are listed; values the first row left blank are
  filled from the later row, and its assignment is kept. A row that only fills blanks
  is ``merged``. Several rows of one event that differ only in their assignment (one
  row per unit) are the normal shape of such exports and are not reported.
* **On-view** (self-initiated) events follow the mapping's ``[self_initiated]`` rule:
  a column value where it decides, else times equal within a tolerance (e.g. queued ==
  arrived); ``self_initiated_source`` says which (``column`` or ``rule``).
* Exports without officer assignments import as events only; ``has_assignments`` is
  false and the matcher relies on event-number tags or units.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from bodycam.compliance.columns import FieldError, bind_column, bind_time, header_index
from bodycam.compliance.csvfile import FileShape, sniff
from bodycam.compliance.mapping import (
    CadFormatError,
    CadMapping,
    load_presets,
)
from bodycam.compliance.records import (
    CadAssignment,
    CadEvent,
    CadImport,
    CadReport,
    Duplicate,
    Problem,
)

__all__ = [
    "CadAssignment",
    "CadEvent",
    "CadFormatError",
    "CadImport",
    "CadReport",
    "Duplicate",
    "Problem",
    "check_columns",
    "choose_mapping",
    "detect_preset",
    "parse_cad",
    "read_columns",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(bytes_read, bytes_total)`` while a file is parsed."""

_PROGRESS_EVERY: Final = 10_000
_EVENT_TIMES: Final = ("created_at", "dispatched_at", "arrived_at", "cleared_at")
_START_TIMES: Final = ("created_at", "dispatched_at", "arrived_at")
_TEXTS: Final = (
    "call_type",
    "initial_call_type",
    "priority",
    "precinct",
    "sector",
    "beat",
    "location",
    "disposition",
)
_INTERNED: Final = frozenset(_TEXTS) - {"location"}
_COMPARED: Final = (*_TEXTS, *_EVENT_TIMES, "self_initiated")


def read_columns(path: str | Path) -> list[str]:
    """The header of a CAD export (encoding and delimiter detected)."""
    return list(sniff(path).header)


def check_columns(columns: Sequence[str], mapping: CadMapping, *, source: str = "file") -> None:
    """Raise `CadFormatError` naming the required columns `columns` lacks, if any."""
    missing = mapping.missing_columns(columns)
    if missing:
        raise CadFormatError(
            f"{source} does not fit the {mapping.name!r} mapping: "
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )


def choose_mapping(
    path: str | Path, presets: Iterable[CadMapping] | Mapping[str, CadMapping]
) -> CadMapping:
    """The mapping whose required columns the file all has (the most specific wins).

    `presets` is a list of mappings or a dict of them by name. `CadFormatError` if none
    fits, naming each mapping's missing columns, closest first, or if two fit equally.
    """
    path = Path(path)
    header = sniff(path).header
    if isinstance(presets, Mapping):
        presets = presets.values()
    fits: list[tuple[int, CadMapping]] = []
    misses: list[tuple[int, str]] = []
    for mapping in presets:
        missing = mapping.missing_columns(header)
        if missing:
            misses.append((len(missing), f"{mapping.name!r} lacks {', '.join(missing)}"))
        else:
            fits.append((len(mapping.required_columns()), mapping))
    if not fits:
        detail = "; ".join(text for _, text in sorted(misses, key=lambda m: m[0]))
        raise CadFormatError(f"{path.name} fits no CAD mapping: {detail}")
    fits.sort(key=lambda f: -f[0])
    if len(fits) > 1 and fits[0][0] == fits[1][0]:
        names = ", ".join(repr(m.name) for n, m in fits if n == fits[0][0])
        raise CadFormatError(f"{path.name} fits several CAD mappings equally ({names})")
    return fits[0][1]


def detect_preset(path: str | Path) -> CadMapping:
    """The shipped preset that fits the file (see `choose_mapping`)."""
    return choose_mapping(path, load_presets())


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%SZ")


class _Parser:
    """The state of one parse: `row` takes each data row, `finish` completes the events."""

    def __init__(self, path: Path, mapping: CadMapping, shape: FileShape) -> None:
        self.path, self.mapping, self.shape = path, mapping, shape
        index = header_index(shape, mapping, path.name)
        check_columns(shape.header, mapping, source=path.name)
        bound = {
            n: bind_column(s, index) for n, s in mapping.fields.items() if n not in _EVENT_TIMES
        }
        event_id = bound.pop("event_id")
        assert event_id is not None
        self.event_id = event_id
        self.texts = [(n, c, n in _INTERNED) for n, c in bound.items() if c is not None]
        self.disposition = bound.get("disposition")
        self.call_types = [c for n in ("call_type", "initial_call_type") if (c := bound.get(n))]
        self.times = [
            t
            for n in _EVENT_TIMES
            if n in mapping.fields and (t := bind_time(n, mapping.fields[n], index, mapping))
        ]
        rule = mapping.self_initiated
        self.rule = rule
        self.self_column = bind_column(rule.column, index) if rule.column is not None else None
        badge_spec = mapping.assignment.get("badge")
        self.badge = bind_column(badge_spec, index) if badge_spec is not None else None
        self.unit_times = (
            [
                t
                for n in ("dispatched_at", "arrived_at", "cleared_at")
                if n in mapping.assignment
                and (t := bind_time(n, mapping.assignment[n], index, mapping))
            ]
            if self.badge is not None
            else []
        )
        self.width = len(shape.header)
        self.events: dict[str, CadEvent] = {}
        self.assignments: dict[CadAssignment, CadAssignment] = {}
        self.invalid: list[Problem] = []
        self.flags: list[Problem] = []
        self.duplicates: list[Duplicate] = []
        self.dropped: dict[str, str] = {}
        self.dropped_rows = 0
        self.rows = 0
        self.valid = 0

    def _dropped_by(self, row: list[str]) -> str | None:
        drop = self.mapping.drop
        if self.disposition is not None and drop.dispositions:
            value = self.disposition.text(row)
            if value is not None and value.upper() in drop.dispositions:
                return value.upper()
        if drop.call_types:
            for column in self.call_types:
                value = column.text(row)
                if value is not None and value.upper() in drop.call_types:
                    return value.upper()
        return None

    def row(self, row: list[str], line: int) -> None:
        self.rows += 1
        if len(row) != self.width and not (
            len(row) > self.width and not any(v.strip() for v in row[self.width :])
        ):
            self.invalid.append(
                Problem(line, "row", f"has {len(row)} fields; the header has {self.width}")
            )
            return
        event_id = self.event_id.text(row)
        if event_id is None:
            self.invalid.append(Problem(line, "event_id", "is blank"))
            return
        if event_id in self.dropped:
            self.dropped_rows += 1
            return
        if event_id not in self.events and (value := self._dropped_by(row)) is not None:
            self.dropped[event_id] = value
            self.dropped_rows += 1
            return

        problems: list[Problem] = []
        event = CadEvent(event_id, line=line)
        for name, column, intern in self.texts:
            value = column.text(row)
            if value is not None and intern:
                value = sys.intern(value)
            setattr(event, name, value)
        after: datetime | None = None
        for time in self.times:
            try:
                value_t = time.parse(row, after)
            except FieldError as exc:
                problems.append(Problem(line, time.name, str(exc)))
                continue
            setattr(event, time.name, value_t)
            if value_t is not None:
                after = value_t
        if self.self_column is not None:
            text = self.self_column.text(row)
            if text is not None:
                try:
                    event.self_initiated = self.rule.read(text)
                except ValueError as exc:
                    problems.append(Problem(line, "self_initiated", str(exc)))
                if event.self_initiated is not None:
                    event.self_initiated_source = "column"

        assignment = None
        if self.badge is not None and (badge := self.badge.text(row)) is not None:
            unit: dict[str, datetime | None] = {}
            after = event.created_at
            for time in self.unit_times:
                try:
                    unit[time.name] = value_t = time.parse(row, after)
                except FieldError as exc:
                    problems.append(Problem(line, f"assignment.{time.name}", str(exc)))
                    continue
                if value_t is not None:
                    after = value_t
            assignment = CadAssignment(
                event_id,
                sys.intern(badge),
                unit.get("dispatched_at"),
                unit.get("arrived_at"),
                unit.get("cleared_at"),
                line,
            )
            problems.extend(_window_problems(line, "assignment.", unit))

        if event.cleared_at is not None:
            problems.extend(
                _window_problems(
                    line,
                    "",
                    {
                        "created_at": event.created_at,
                        "dispatched_at": event.dispatched_at,
                        "arrived_at": event.arrived_at,
                        "cleared_at": event.cleared_at,
                    },
                )
            )
        unit_started = assignment is not None and (
            assignment.dispatched_at is not None or assignment.arrived_at is not None
        )
        if (
            not problems
            and not unit_started
            and event_id not in self.events
            and all(getattr(event, n) is None for n in _START_TIMES)
        ):
            problems.append(
                Problem(
                    line, "created_at", "no time: created, dispatched and arrived are all blank"
                )
            )
        if problems:
            self.invalid.extend(problems)
            return
        self._keep(event, assignment, line)

    def _keep(self, event: CadEvent, assignment: CadAssignment | None, line: int) -> None:
        first = self.events.get(event.event_id)
        new_assignment = assignment is not None and assignment not in self.assignments
        if new_assignment:
            assert assignment is not None
            self.assignments[assignment] = assignment
        if first is None:
            self.events[event.event_id] = event
            self.valid += 1
            return
        differ: list[str] = []
        filled: list[str] = []
        for name in _COMPARED:
            old, new = getattr(first, name), getattr(event, name)
            if new is None or old == new:
                continue
            if old is None:
                setattr(first, name, new)
                if name == "self_initiated":
                    first.self_initiated_source = event.self_initiated_source
                filled.append(name)
            else:
                differ.append(name)
        if differ:
            self.duplicates.append(
                Duplicate(
                    line, first.line, event.event_id, "conflict", tuple(differ), tuple(filled)
                )
            )
        elif filled:
            self.duplicates.append(
                Duplicate(line, first.line, event.event_id, "merged", (), tuple(filled))
            )
        elif not new_assignment:
            earlier = self.assignments[assignment].line if assignment is not None else first.line
            self.duplicates.append(Duplicate(line, earlier, event.event_id, "identical"))
            return
        self.valid += 1

    def finish(self) -> tuple[tuple[CadEvent, ...], CadReport]:
        spans: dict[str, list[datetime | None]] = {}
        for unit in self.assignments:
            span = spans.setdefault(unit.event_id, [None, None, None])
            for i, (value, pick) in enumerate(
                ((unit.dispatched_at, min), (unit.arrived_at, min), (unit.cleared_at, max))
            ):
                if value is not None:
                    current = span[i]
                    span[i] = value if current is None else pick(current, value)
        rule = self.rule
        on_view = unknown = 0
        blank = dict.fromkeys(_EVENT_TIMES, 0)
        for event in self.events.values():
            derived = spans.get(event.event_id)
            if derived is not None:
                for name, value in zip(
                    ("dispatched_at", "arrived_at", "cleared_at"), derived, strict=True
                ):
                    if getattr(event, name) is None and value is not None:
                        setattr(event, name, value)
            if event.self_initiated is None and rule.same_time is not None:
                one, two = getattr(event, rule.same_time[0]), getattr(event, rule.same_time[1])
                if one is not None and two is not None:
                    gap = abs((two - one).total_seconds())
                    event.self_initiated = gap <= rule.tolerance_seconds
                    event.self_initiated_source = "rule"
            if event.self_initiated:
                on_view += 1
            elif event.self_initiated is None:
                unknown += 1
            for name in _EVENT_TIMES:
                if getattr(event, name) is None:
                    blank[name] += 1
            self.flags.extend(_order_flags(event))
        for unit in self.assignments:
            d, a = unit.dispatched_at, unit.arrived_at
            if d and a and a < d and self.events[unit.event_id].self_initiated is not True:
                self.flags.append(
                    Problem(
                        unit.line,
                        "assignment.arrived_at",
                        f"arrived {_fmt(a)} before dispatched {_fmt(d)}",
                    )
                )
        self.flags.sort(key=lambda p: p.line)
        by: dict[str, int] = {}
        for reason in self.dropped.values():
            by[reason] = by.get(reason, 0) + 1
        report = CadReport(
            rows=self.rows,
            valid=self.valid,
            invalid=tuple(self.invalid),
            flags=tuple(self.flags),
            duplicates=tuple(self.duplicates),
            dropped_events=len(self.dropped),
            dropped_rows=self.dropped_rows,
            dropped_by=dict(sorted(by.items())),
            on_view=on_view,
            self_initiated_unknown=unknown,
            blank_times=blank,
            warnings=self.shape.warnings,
            has_assignments=self.badge is not None,
        )
        return tuple(self.events.values()), report


def _window_problems(line: int, prefix: str, times: dict[str, datetime | None]) -> list[Problem]:
    """A cleared time earlier than a start time of the same row makes the row invalid."""
    cleared = times.get("cleared_at")
    if cleared is None:
        return []
    for name in _START_TIMES:
        start = times.get(name)
        if start is not None and cleared < start:
            label = name.removesuffix("_at")
            return [
                Problem(
                    line,
                    f"{prefix}cleared_at",
                    f"cleared {_fmt(cleared)} before {label} {_fmt(start)}",
                )
            ]
    return []


def _order_flags(event: CadEvent) -> list[Problem]:
    flags = []
    c, d, a, x = event.created_at, event.dispatched_at, event.arrived_at, event.cleared_at
    if c is not None and d is not None and d < c:
        flags.append(
            Problem(event.line, "dispatched_at", f"dispatched {_fmt(d)} before created {_fmt(c)}")
        )
    if c is not None and a is not None and a < c:
        flags.append(
            Problem(event.line, "arrived_at", f"arrived {_fmt(a)} before created {_fmt(c)}")
        )
    if d is not None and a is not None and a < d and event.self_initiated is not True:
        flags.append(
            Problem(event.line, "arrived_at", f"arrived {_fmt(a)} before dispatched {_fmt(d)}")
        )
    starts = [t for t in (c, d, a) if t is not None]
    if x is not None and starts and x < max(starts):
        flags.append(
            Problem(
                event.line,
                "cleared_at",
                f"cleared {_fmt(x)} before the event's last start {_fmt(max(starts))} "
                "(times taken from several rows)",
            )
        )
    return flags


def parse_cad(
    path: str | Path, mapping: CadMapping, *, progress: Progress | None = None
) -> CadImport:
    """Parse a CAD export with `mapping` (see the module docstring for every rule).

    `CadFormatError` when the file lacks a required column, is not text, or is not CSV;
    the message names the file, the columns or the line. `progress`, if given, is called
    with (bytes read, bytes in the file) every 10,000 rows and once at the end.
    """
    path = Path(path)
    shape = sniff(path, whole_file=True)
    parser = _Parser(path, mapping, shape)
    total = path.stat().st_size
    with path.open("rb") as raw, io.TextIOWrapper(raw, shape.encoding, newline="") as text:
        reader = csv.reader(text, delimiter=shape.delimiter)
        line = 0
        try:
            for header in reader:  # skip to the header (blank lines may precede it)
                line = reader.line_num
                if header and any(v.strip() for v in header):
                    break
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                parser.row(row, start)
                if progress is not None and parser.rows % _PROGRESS_EVERY == 0:
                    progress(text.buffer.tell(), total)
        except csv.Error as exc:
            raise CadFormatError(f"{path.name}: line {line + 1} is not valid CSV ({exc})") from None
    events, report = parser.finish()
    if progress is not None:
        progress(total, total)
    return CadImport(
        path=path.name,
        mapping=mapping.name,
        encoding=shape.encoding,
        delimiter=shape.delimiter_name,
        columns=shape.header,
        events=events,
        assignments=tuple(parser.assignments),
        report=report,
    )
