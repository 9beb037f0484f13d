"""CSV files in and out: rows with their line numbers, typed columns, errors as sentences.

Files are read as the CAD importer reads them (`bodycam.compliance.csvfile.sniff`:
UTF-8, UTF-16 or Windows-1252; comma, tab, semicolon or pipe). Line numbers are the
file's, 1-based, the header being line 1; blank lines are not rows. Every problem is a
`Problem` (line, column, reason); `InputError` carries them all and reads as one
sentence naming the file, the first problem's line and column, and how many more.
Files are written whole or not at all (a temporary file renamed into place).
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from bodycam.compliance.csvfile import FileShape, sniff
from bodycam.compliance.mapping import CadFormatError, normalize_column
from bodycam.compliance.records import Problem

__all__ = [
    "Column",
    "InputError",
    "Problem",
    "read_columns",
    "read_rows",
    "render",
    "write_csv",
]

Kind = Literal["number", "positive", "binary", "label", "optional"]
"""How `read_columns` reads a column: any finite number, a number above 0, 0 or 1, a
non-blank label, or a label that may be blank."""

_SHOWN: Final = 20


class InputError(ValueError):
    """Bad input, as one sentence naming the file, line and column; `problems` has all."""

    def __init__(self, message: str, problems: Sequence[Problem] = (), source: str = "") -> None:
        super().__init__(message)
        self.problems = tuple(problems)
        self.source = source


def render(source: str, problem: Problem) -> str:
    """``FILE line N, column 'C': reason`` (``line N`` alone for a whole-row problem)."""
    where = f"{source} line {problem.line}"
    if problem.field and problem.field != "row":
        where += f", column {problem.field!r}"
    return f"{where}: {problem.reason}"


def problems_error(source: str, problems: Sequence[Problem]) -> InputError:
    """One `InputError` for a file's problems: the first in words, and the count of others."""
    more = len(problems) - 1
    tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
    return InputError(f"{render(source, problems[0])}{tail}.", problems, source)


def shown(source: str, problems: Sequence[Problem]) -> list[str]:
    """The first problems, each in words, for a report (at most 20, then a count)."""
    lines = [render(source, p) for p in problems[:_SHOWN]]
    if len(problems) > _SHOWN:
        lines.append(f"... and {len(problems) - _SHOWN} more")
    return lines


def open_shape(path: Path) -> FileShape:
    """The file's encoding, delimiter and header; `InputError` if it cannot be read."""
    if not path.is_file():
        raise InputError(f"{path} is not a file.")
    try:
        return sniff(path, whole_file=True)
    except CadFormatError as exc:
        raise InputError(f"{exc}.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or exc}).") from None


def read_rows(path: Path, shape: FileShape) -> Iterator[tuple[int, list[str]]]:
    """Each data row with its first line number; short or long rows are reported.

    A row with a different number of fields from the header raises nothing here: the
    caller gets it and reports it (`width_problem`).
    """
    with path.open("rb") as raw, io.TextIOWrapper(raw, shape.encoding, newline="") as text:
        reader = csv.reader(text, delimiter=shape.delimiter)
        line = 0
        try:
            for header in reader:
                line = reader.line_num
                if header and any(v.strip() for v in header):
                    break
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                yield start, row
        except csv.Error as exc:
            raise InputError(f"{path.name} line {line + 1} is not valid CSV ({exc}).") from None


def width_problem(row: list[str], width: int, line: int) -> Problem | None:
    """A problem when a row's field count differs from the header's (trailing blanks ok)."""
    if len(row) == width or (len(row) > width and not any(v.strip() for v in row[width:])):
        return None
    return Problem(line, "row", f"has {len(row)} fields; the header has {width}")


def header_index(shape: FileShape) -> dict[str, int]:
    """Normalized column name to its first position."""
    index: dict[str, int] = {}
    for i, name in enumerate(shape.header):
        index.setdefault(normalize_column(name), i)
    return index


def repeated_header(source: str, shape: FileShape, names: Sequence[str]) -> None:
    """`InputError` when a column that is read appears twice in the header."""
    wanted = {normalize_column(n) for n in names}
    seen: dict[str, list[int]] = {}
    for i, column in enumerate(shape.header, 1):
        seen.setdefault(normalize_column(column), []).append(i)
    for key, positions in seen.items():
        if len(positions) > 1 and key in wanted:
            raise InputError(
                f"{source} line 1 (the header): column {shape.header[positions[0] - 1]!r} "
                f"appears {len(positions)} times (columns {', '.join(map(str, positions))}); "
                "rename one so that it is clear which to read."
            )


def missing_header(source: str, shape: FileShape, names: Sequence[str], why: str) -> InputError:
    """The error for a header that lacks `names` (line 1 is the header)."""
    plural = "s" if len(names) > 1 else ""
    columns = ", ".join(shape.header[:12]) + (", ..." if len(shape.header) > 12 else "")
    return InputError(
        f"{source} line 1 (the header) has no column{plural} {', '.join(names)}, which "
        f"{why} needs (its columns: {columns})."
    )


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an analysis file: its values and the line of each row."""

    name: str
    lines: npt.NDArray[np.int64]
    numbers: npt.NDArray[np.float64] | None
    labels: tuple[str, ...] | None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_columns(path: Path, wanted: dict[str, Kind]) -> dict[str, Column]:
    """The `wanted` columns of an analysis file (one row per unit), typed, all or nothing.

    `InputError` names the file, line and column of a missing column, a blank value (a
    label may be blank only as ``optional``), a value that is not a finite number, a
    weight that is not above 0, or a treatment that is not 0 or 1.
    """
    source = path.name
    shape = open_shape(path)
    index = header_index(shape)
    absent = [repr(name) for name in wanted if normalize_column(name) not in index]
    if absent:
        raise missing_header(source, shape, absent, "the command")
    repeated_header(source, shape, list(wanted))
    positions = {name: index[normalize_column(name)] for name in wanted}
    headers = {name: shape.header[positions[name]] for name in wanted}
    texts: dict[str, list[str]] = {name: [] for name in wanted}
    lines: list[int] = []
    problems: list[Problem] = []
    width = len(shape.header)
    for line, row in read_rows(path, shape):
        bad = width_problem(row, width, line)
        if bad is not None:
            problems.append(bad)
            continue
        lines.append(line)
        for name, kind in wanted.items():
            text = row[positions[name]].strip()
            texts[name].append(text)
            reason = _check(text, kind)
            if reason is not None:
                problems.append(Problem(line, headers[name], reason))
    if problems:
        raise problems_error(source, problems)
    if not lines:
        raise InputError(f"{source} has a header but no rows.")
    out: dict[str, Column] = {}
    line_array = np.asarray(lines, dtype=np.int64)
    for name, kind in wanted.items():
        if kind in ("label", "optional"):
            out[name] = Column(headers[name], line_array, None, tuple(texts[name]))
        else:
            values = np.asarray([float(t) for t in texts[name]], dtype=np.float64)
            out[name] = Column(headers[name], line_array, values, None)
    return out


def _check(text: str, kind: Kind) -> str | None:
    if kind == "optional":
        return None
    if not text:
        return "the value is blank; every row needs one (fill it in, or leave the row out)"
    if kind == "label":
        return None
    value = _number(text)
    if kind == "binary" and (value is None or value not in (0.0, 1.0)):
        return f"{text!r} is not 0 or 1 (1 = treatment, 0 = control)"
    if value is None:
        return f"{text!r} is not a number"
    if kind == "positive" and value <= 0:
        return f"{text!r} is not above 0"
    return None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Write a CSV file whole or not at all; `InputError` if `path` exists already."""
    if path.exists():
        raise InputError(f"{path} already exists; choose a new file name.")
    folder = path.parent if str(path.parent) else Path()
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{path} cannot be written ({exc.strerror or exc}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([_cell(v) for v in row] for row in rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
