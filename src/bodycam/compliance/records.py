"""What a CAD parse produces: events, officer assignments, and the validation report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["CadAssignment", "CadEvent", "CadImport", "CadReport", "Duplicate", "Problem"]


def _jsonable(obj: object, names: Iterable[str]) -> dict[str, Any]:
    """Named attributes of ``obj`` as JSON-ready values (times in ISO 8601)."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name in names
        for value in (getattr(obj, name),)
    }


@dataclass(slots=True)
class CadEvent:
    """One dispatch event as imported; times are aware UTC, None where unknown.

    `line` is the file line of the event's first row. `self_initiated_source` says what
    decided `self_initiated`: the export's column (``column``) or the mapping's time
    rule (``rule``); None when neither could.
    """

    event_id: str
    call_type: str | None = None
    initial_call_type: str | None = None
    priority: str | None = None
    self_initiated: bool | None = None
    precinct: str | None = None
    sector: str | None = None
    beat: str | None = None
    location: str | None = None
    created_at: datetime | None = None
    dispatched_at: datetime | None = None
    arrived_at: datetime | None = None
    cleared_at: datetime | None = None
    disposition: str | None = None
    line: int = 0
    self_initiated_source: Literal["column", "rule"] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (times in ISO 8601 UTC)."""
        return _jsonable(self, self.__slots__)


@dataclass(frozen=True, slots=True)
class CadAssignment:
    """One officer (or unit) on one event; equal when all but the line are equal."""

    event_id: str
    badge: str
    dispatched_at: datetime | None
    arrived_at: datetime | None
    cleared_at: datetime | None
    line: int = field(compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The assignment as a JSON-ready dict (times in ISO 8601 UTC)."""
        return _jsonable(self, self.__slots__)


@dataclass(frozen=True, slots=True)
class Problem:
    """A row problem: its 1-based file line, the field, and the reason in words."""

    line: int
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """``{line, field, reason}``."""
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row that repeats an event: identical (skipped), conflict or merged (see module)."""

    line: int
    first_line: int
    event_id: str
    kind: Literal["identical", "conflict", "merged"]
    fields: tuple[str, ...] = ()
    filled: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The duplicate as a JSON-ready dict, with the resolution in words."""
        if self.kind == "identical":
            resolution = f"skipped: repeats line {self.first_line}"
        elif self.kind == "conflict":
            resolution = (
                f"line {self.first_line} wins: the first row of an event is kept and later "
                f"differing values are ignored; ignored here: {', '.join(self.fields)}"
            )
        else:
            resolution = f"blanks of line {self.first_line} filled from here"
        if self.filled:
            resolution += f"; filled: {', '.join(self.filled)}"
        return {
            "line": self.line,
            "first_line": self.first_line,
            "event_id": self.event_id,
            "kind": self.kind,
            "fields": list(self.fields),
            "resolution": resolution,
        }


@dataclass(frozen=True, slots=True)
class CadReport:
    """The validation report of one parse (``matched``/``unmatched`` come later)."""

    rows: int
    valid: int
    invalid: tuple[Problem, ...]
    flags: tuple[Problem, ...]
    duplicates: tuple[Duplicate, ...]
    dropped_events: int
    dropped_rows: int
    dropped_by: dict[str, int]
    on_view: int
    self_initiated_unknown: int
    blank_times: dict[str, int]
    warnings: tuple[str, ...]
    has_assignments: bool

    @property
    def invalid_rows(self) -> int:
        """How many rows had at least one problem."""
        return len({p.line for p in self.invalid})

    @property
    def skipped_rows(self) -> int:
        """How many rows were identical duplicates (skipped)."""
        return sum(1 for d in self.duplicates if d.kind == "identical")


@dataclass(frozen=True, slots=True)
class CadImport:
    """A parsed CAD export: events, officer assignments and the validation report."""

    path: str
    mapping: str
    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    events: tuple[CadEvent, ...]
    assignments: tuple[CadAssignment, ...]
    report: CadReport

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict with the keys of ``import-cad --json``.

        ``rows``, ``valid``, ``invalid`` (a list of {line, field, reason}), ``events``
        and ``assignments`` (counts) are the issue's; the persistence layer adds
        ``matched`` and ``unmatched``. The other keys say more: invalid_rows, flags,
        duplicates, dropped, on_view, self_initiated_unknown, blank_times, warnings,
        has_assignments, and the file's mapping, encoding and delimiter.
        """
        r = self.report
        return {
            "rows": r.rows,
            "valid": r.valid,
            "invalid": [p.to_dict() for p in r.invalid],
            "events": len(self.events),
            "assignments": len(self.assignments),
            "invalid_rows": r.invalid_rows,
            "flags": [p.to_dict() for p in r.flags],
            "duplicates": [d.to_dict() for d in r.duplicates],
            "dropped": {
                "events": r.dropped_events,
                "rows": r.dropped_rows,
                "by_value": dict(r.dropped_by),
            },
            "on_view": r.on_view,
            "self_initiated_unknown": r.self_initiated_unknown,
            "blank_times": dict(r.blank_times),
            "has_assignments": r.has_assignments,
            "warnings": list(r.warnings),
            "file": self.path,
            "mapping": self.mapping,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }
