"""Fleet fixtures: CSV and dock-log writers, and a small fleet for the test department."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bodycam.auth.actor import Actor
from bodycam.context import Context
from bodycam.fleet import imports
from tests.conftest import Dept
from tests.web.conftest import app, client, creds  # noqa: F401 - the API's fixtures

DOCKS = [
    ["dock", "precinct", "ports", "location"],
    ["N-01", "North", "8", "North station, room 12"],
    ["S-01", "South", "8", "South station"],
]
CAMERAS = [
    ["serial", "model", "hardware_revision", "battery_lot", "firmware", "purchase_date",
     "warranty_end", "status", "dock"],
    ["CAM-1", "AX-3", "B", "LOT-A", "1.0", "2025-01-10", "2028-01-10", "spare", "N-01"],
    ["CAM-2", "AX-3", "B", "LOT-A", "1.0", "2025-01-10", "2028-01-10", "spare", "N-01"],
    ["CAM-3", "AX-3", "C", "LOT-B", "1.1", "2025-06-01", "2028-06-01", "spare", "S-01"],
    ["CAM-4", "BX-1", "A", "LOT-B", "1.0", "2025-06-01", "", "spare", "S-01"],
]  # fmt: skip


def write_csv(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """Write ``rows`` (the header first) as a CSV file."""
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def write_log(path: Path, events: Iterable[dict[str, Any] | str]) -> Path:
    """Write a dock log: one JSON object (or a raw line) per line."""
    lines = [e if isinstance(e, str) else json.dumps(e) for e in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Fleet:
    """The test department's fleet: docks N-01 and S-01, cameras CAM-1 to CAM-4."""

    ctx: Context
    dept: Dept
    folder: Path

    @property
    def eq(self) -> Actor:
        """The equipment unit's actor."""
        return self.dept.actor("equipment")

    def csv(self, name: str, rows: Sequence[Sequence[Any]]) -> Path:
        return write_csv(self.folder / name, rows)

    def log(self, name: str, events: Iterable[dict[str, Any] | str]) -> Path:
        return write_log(self.folder / name, events)


@pytest.fixture
def fleet(ctx: Context, dept: Dept, tmp_path: Path) -> Fleet:
    """Docks and cameras imported by the equipment unit."""
    f = Fleet(ctx, dept, tmp_path)
    imports.import_docks(ctx.sessions, f.eq, f.csv("docks.csv", DOCKS))
    imports.import_cameras(ctx.sessions, f.eq, f.csv("cameras.csv", CAMERAS))
    return f
