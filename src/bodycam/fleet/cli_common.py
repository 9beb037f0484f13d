"""What the fleet commands share: running a service call, times, and table/csv/json output."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from rich.table import Table

from bodycam.cli_support import EXIT_ERROR, err, fail, guarded, out
from bodycam.fleet.common import FleetError, FleetImportError

T = TypeVar("T")
FORMATS = ("table", "csv", "json")


def run(fn: Callable[[], T]) -> T:
    """Run a service call: domain errors become one sentence and exit status 1."""
    try:
        return guarded(fn)
    except FleetError as exc:
        fail(str(exc))


def run_import(fn: Callable[[], T], as_json: bool, show: Callable[[dict[str, Any]], None]) -> T:
    """Run an import; a refused one prints its report (text or JSON), then fails."""
    try:
        return guarded(fn)
    except FleetImportError as exc:
        if exc.report is not None:
            if as_json:
                print(json.dumps(exc.report))
            else:
                show(exc.report)
        fail(str(exc), EXIT_ERROR)
    except FleetError as exc:
        fail(str(exc))


def problems(report: dict[str, Any]) -> None:
    """Print a report's problems (the first 20) and warnings to stderr."""
    for p in report.get("invalid", [])[:20]:
        err.print(f"line {p['line']}: {p['field']}: {p['reason']}", markup=False)
    if len(report.get("invalid", [])) > 20:
        err.print(f"... and {len(report['invalid']) - 20} more (see --json).", markup=False)
    for w in report.get("warnings", []):
        err.print(f"warning: {w}", markup=False)


def check_format(fmt: str) -> None:
    """Exit with a sentence unless ``fmt`` is table, csv or json."""
    if fmt not in FORMATS:
        fail(f"--format must be table, csv or json, not {fmt!r}.")


def when(value: str | None, name: str, tz: str) -> datetime | None:
    """An option's ISO date or time; without an offset it is in the agency's time zone."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"--{name} {value!r} is not an ISO date or time (e.g. 2026-03-01 or 2026-03-01T08:00)."
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


def cell(value: Any) -> str:
    """A value as a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return str(value.get("text", json.dumps(value)))
    return str(value)


def emit(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str]) -> None:
    """Print ``rows`` as a table, CSV (a header row) or one JSON list."""
    if fmt == "json":
        print(json.dumps(list(rows)))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([cell(r.get(c)) for c in columns])
        print(buf.getvalue(), end="")
        return
    table = Table()
    for c in columns:  # fold long values rather than cut them: a serial must stay whole
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(cell(r.get(c)) for c in columns))
    out.print(table)


def pct(value: float | None) -> str:
    """A share as a percentage, ``-`` when there is none."""
    return "-" if value is None else f"{value:.0%}"
