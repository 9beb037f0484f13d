"""A mapping's column specs bound to one file's header, reading values from its rows.

`bind_column` and `bind_time` turn a `ColumnSpec` into a reader for one file: the
alternative names resolved to positions, a fallback bound the same way. Text values are
trimmed and blank values become None; time values go through the mapping's formats and
time zone (`bodycam.compliance.times`), and a bad one raises `FieldError`, which makes
its row invalid.
"""

from __future__ import annotations

from datetime import datetime

from bodycam.compliance.csvfile import FileShape
from bodycam.compliance.mapping import CadFormatError, CadMapping, ColumnSpec, normalize_column
from bodycam.compliance.times import LocalTimeError

__all__ = ["BoundColumn", "BoundTime", "FieldError", "bind_column", "bind_time", "header_index"]


class FieldError(ValueError):
    """A field value that makes its row invalid."""


class BoundColumn:
    """A `ColumnSpec` bound to a header: reads its text from a row, or None if blank."""

    __slots__ = ("blanks", "fallback", "index", "indexes", "separator")

    def __init__(
        self, spec: ColumnSpec, positions: tuple[int, ...], fallback: BoundColumn | None
    ) -> None:
        self.index = positions[0] if len(positions) == 1 else -1
        self.indexes = positions
        self.separator = spec.separator
        self.blanks = spec.blank_values
        self.fallback = fallback

    def text(self, row: list[str]) -> str | None:
        """The trimmed value (parts joined), the fallback's if blank, None if still blank."""
        if self.index >= 0:
            value = row[self.index].strip()
            if value in self.blanks:
                value = ""
        else:
            parts = [row[i].strip() for i in self.indexes]
            value = "" if any(p in self.blanks for p in parts) else self.separator.join(parts)
        if value:
            return value
        return self.fallback.text(row) if self.fallback is not None else None


class BoundTime:
    """A time `ColumnSpec` bound to a header: text to aware UTC (see `times`)."""

    __slots__ = ("column", "fallback", "formats", "mapping", "name")

    def __init__(
        self,
        name: str,
        spec: ColumnSpec,
        positions: tuple[int, ...],
        fallback: BoundTime | None,
        mapping: CadMapping,
    ) -> None:
        self.name = name
        self.mapping = mapping
        self.formats = list(spec.formats or mapping.time_formats)
        self.column = BoundColumn(spec, positions, None)
        self.fallback = fallback

    def parse(self, row: list[str], after: datetime | None) -> datetime | None:
        """Aware UTC, or None if blank; `FieldError` names a bad value or local time."""
        text = self.column.text(row)
        if text is None:
            return self.fallback.parse(row, after) if self.fallback is not None else None
        formats = self.formats
        for i, fmt in enumerate(formats):
            local = fmt.parse(text)
            if local is not None:
                if i:  # the format that matched goes first for the next rows
                    formats.insert(0, formats.pop(i))
                break
        else:
            shown = ", ".join(repr(f.text) for f in formats)
            raise FieldError(f"{text!r} is not a time in the mapping's formats ({shown})")
        if local.year < self.mapping.sentinel_before_year:
            return None  # CAD "never" dates such as 1900-01-01
        try:
            utc = self.mapping.zone.to_utc(local, after)
        except LocalTimeError as exc:
            raise FieldError(str(exc)) from None
        return after if utc == after else utc  # on-view rows repeat one time: share it


def bind_column(spec: ColumnSpec, index: dict[str, int]) -> BoundColumn | None:
    """`spec` (or its fallback) bound to a normalized header index; None if absent."""
    fallback = bind_column(spec.fallback, index) if spec.fallback is not None else None
    positions = spec.bind(index)
    if positions is None:
        return fallback
    return BoundColumn(spec, positions, fallback)


def bind_time(
    name: str, spec: ColumnSpec, index: dict[str, int], m: CadMapping
) -> BoundTime | None:
    """The time field `name` bound like `bind_column`, reading `m`'s formats and zone."""
    fallback = bind_time(name, spec.fallback, index, m) if spec.fallback is not None else None
    positions = spec.bind(index)
    if positions is None:
        return fallback
    return BoundTime(name, spec, positions, fallback, m)


def header_index(shape: FileShape, mapping: CadMapping, name: str) -> dict[str, int]:
    """Normalized column name to position; `CadFormatError` if a read column repeats."""
    index: dict[str, int] = {}
    seen: dict[str, list[int]] = {}
    for i, column in enumerate(shape.header):
        key = normalize_column(column)
        index.setdefault(key, i)
        seen.setdefault(key, []).append(i + 1)
    used = {normalize_column(n) for spec in mapping.specs() for p in spec.parts for n in p}
    for key, positions in seen.items():
        if len(positions) > 1 and key in used:
            raise CadFormatError(
                f"{name}: column {shape.header[positions[0] - 1]!r} appears "
                f"{len(positions)} times in the header (columns "
                f"{', '.join(map(str, positions))}); the mapping cannot tell which to read"
            )
    return index
