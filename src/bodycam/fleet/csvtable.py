"""Reading an inventory CSV: its documented columns, row by row, with line numbers.

The file's encoding, delimiter and header are found as for dispatch exports
(`bodycam.compliance.csvfile.sniff`: UTF-8 with or without BOM, UTF-16, Windows-1252;
comma, tab, semicolon or pipe). Column names are matched without regard to case,
spaces or hyphens (``Battery Lot`` is ``battery_lot``). A file lacking a required column
is refused whole; a column nobody reads is named in a warning. Line numbers are the
file's, the header being line 1; blank lines are not rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bodycam.compliance.csvfile import sniff
from bodycam.compliance.mapping import CadFormatError
from bodycam.compliance.records import Problem
from bodycam.fleet.common import FleetImportError

__all__ = ["Problem", "Table", "normalize", "read_table"]


def normalize(name: str) -> str:
    """A column name as matched: lower case, runs of spaces and hyphens as one ``_``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


@dataclass
class Table:
    """The rows of a CSV file (values trimmed, by canonical column name)."""

    file: str
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_table(path: Path, columns: Mapping[str, tuple[str, ...]], required: set[str]) -> Table:
    """Read ``path``: ``columns`` maps each canonical name to its accepted aliases.

    `FleetImportError` when the file cannot be read, is not CSV, or lacks a column of
    ``required``. A row with another number of fields than the header is a problem of
    that row (field ``row``).
    """
    try:
        shape = sniff(path, whole_file=True)
    except CadFormatError as exc:
        raise FleetImportError(f"{exc}.") from None
    except OSError as exc:
        raise FleetImportError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    by_alias = {normalize(a): name for name, aliases in columns.items() for a in (name, *aliases)}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, raw in enumerate(shape.header):
        name = by_alias.get(normalize(raw))
        if name is None:
            if raw.strip():
                ignored.append(raw.strip())
        elif name in positions:
            raise FleetImportError(
                f"{path.name}: the column {name} appears twice in the header "
                f"(columns {positions[name] + 1} and {i + 1})."
            )
        else:
            positions[name] = i
    missing = [c for c in columns if c in required and c not in positions]
    if missing:
        raise FleetImportError(
            f"{path.name} lacks the required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (see docs/fleet.md)."
        )
    table = Table(path.name, tuple(positions), warnings=list(shape.warnings))
    if ignored:
        table.warnings.append(f"{path.name}: columns not read: {', '.join(ignored)}")
    width = len(shape.header)
    with (
        path.open("rb") as raw_file,
        io.TextIOWrapper(raw_file, shape.encoding, newline="") as text,
    ):
        reader = csv.reader(text, delimiter=shape.delimiter)
        line = 0
        try:
            for header in reader:  # skip to the header (blank lines may precede it)
                line = reader.line_num
                if header and any(v.strip() for v in header):
                    break
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row or not any(v.strip() for v in row):
                    continue
                if len(row) != width and not (
                    len(row) > width and not any(v.strip() for v in row[width:])
                ):
                    table.problems.append(
                        Problem(start, "row", f"has {len(row)} fields; the header has {width}")
                    )
                    continue
                table.rows.append((start, {n: row[i].strip() for n, i in positions.items()}))
        except csv.Error as exc:
            raise FleetImportError(
                f"{path.name}: line {line + 1} is not valid CSV ({exc})."
            ) from None
    return table
