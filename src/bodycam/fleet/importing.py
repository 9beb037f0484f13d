"""The frame of every inventory import: read, check every row, then store all or nothing.

`run_import` checks the permission, reads the CSV (`bodycam.fleet.csvtable`), and in
one transaction lets the kind's ``apply`` step check every row against the file and
the database; only when no row has a problem does that step write, and the import is
recorded (a ``fleet_imports`` row, one ``fleet:inventory:import`` audit record).
Otherwise `FleetImportError` carries the report and the transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.fleet.common import FleetImportError, History
from bodycam.fleet.csvtable import Problem, Table, read_table
from bodycam.fleet.models import FleetImport
from bodycam.ids import new_id
from bodycam.storage.interface import file_sha256

__all__ = ["ImportOutcome", "ImportRun", "cell_text", "first_seen", "in_chunks", "run_import"]

CHUNK = 500
LIMITS = {
    "serial": 64,
    "model": 100,
    "hardware_revision": 40,
    "battery_lot": 64,
    "firmware": 40,
    "dock": 64,
    "precinct": 100,
}
"""The longest value each column's field holds."""


@dataclass
class ImportOutcome:
    """What an import stored, and its report (the JSON ``--json`` prints)."""

    import_id: str | None
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportRun:
    """One import's rows, its history writer, problems, warnings and counts."""

    kind: str
    log: History
    table: Table
    problems: list[Problem]
    warnings: list[str]
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def actor(self) -> Actor:
        """Who imports."""
        return self.log.actor

    def report(self, sha256: str) -> dict[str, Any]:
        """The validation report: rows, valid, invalid (line, field, reason), counts."""
        shape = {p.line for p in self.table.problems}
        bad = {p.line for p in self.problems} - shape
        return {
            "kind": self.kind,
            "file": self.table.file,
            "sha256": sha256,
            "columns": list(self.table.columns),
            "rows": len(self.table.rows) + len(shape),
            "valid": len(self.table.rows) - len(bad),
            "invalid": [p.to_dict() for p in sorted(self.problems, key=lambda p: p.line)],
            "warnings": list(self.warnings),
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def in_chunks(s: Session, column: Any, values: list[str], entity: Any) -> list[Any]:
    """Rows of ``entity`` whose ``column`` is one of ``values`` (queried 500 at a time)."""
    found: list[Any] = []
    for start in range(0, len(values), CHUNK):
        found.extend(s.scalars(select(entity).where(column.in_(values[start : start + CHUNK]))))
    return found


def cell_text(v: dict[str, str], name: str, line: int, problems: list[Problem]) -> str | None:
    """A cell's text, None when blank; a problem when longer than its field holds."""
    value = v.get(name, "")
    if not value:
        return None
    limit = LIMITS.get(name)
    if limit is not None and len(value) > limit:
        problems.append(Problem(line, name, f"is {len(value)} characters; at most {limit}"))
        return None
    return value


def first_seen(
    seen: dict[str, int], key: str, line: int, name: str, problems: list[Problem]
) -> bool:
    """Remember ``key`` at ``line``; a problem (and False) if an earlier line had it."""
    if key in seen:
        problems.append(Problem(line, name, f"{key} repeats line {seen[key]}"))
        return False
    seen[key] = line
    return True


def run_import(
    factory: sessionmaker[Session],
    actor: Actor,
    kind: str,
    path: Path,
    columns: dict[str, tuple[str, ...]],
    required: set[str],
    apply: Callable[[Session, ImportRun], None],
) -> ImportOutcome:
    """Import ``path`` as ``kind`` (see the module); `FleetImportError` refuses it whole."""
    require(factory, actor, Permission.FLEET_MANAGE, f"import {kind} into the fleet inventory")
    table = read_table(path, columns, required)
    digest = file_sha256(path)
    try:
        return _import_once(factory, actor, kind, path, table, digest, apply)
    except IntegrityError:
        # Only a concurrent import (or edit) of the same cameras, docks or assignments
        # gets here: the check saw one state, the insert met another.
        raise FleetImportError(
            f"{path.name}: the inventory changed while it was being imported (another "
            "import or edit at the same time); nothing was imported. Import it again."
        ) from None


def _import_once(
    factory: sessionmaker[Session],
    actor: Actor,
    kind: str,
    path: Path,
    table: Table,
    digest: str,
    apply: Callable[[Session, ImportRun], None],
) -> ImportOutcome:
    with transaction(factory) as s:
        batch = FleetImport(id=new_id(), kind=kind, file_name=path.name[:255], sha256=digest)
        batch.imported_by = actor.user_id
        log = History(s, actor, f"import:{batch.id}")
        run = ImportRun(kind, log, table, list(table.problems), list(table.warnings))
        # ``apply`` checks every row first and writes only when none has a problem.
        apply(s, run)
        report = run.report(digest)
        if run.problems:
            n = len({p.line for p in run.problems})
            raise FleetImportError(
                f"{path.name}: {n} invalid row(s); nothing was imported. Fix them and "
                "import the file again.",
                report | {"imported": False, "import": None},
            )
        report |= {"imported": True, "import": batch.id}
        batch.report = report
        s.add(batch)
        s.flush()
        counts = ("kind", "file", "sha256", "rows", "created", "updated", "unchanged")
        record(
            s,
            actor,
            AuditAction.FLEET_IMPORT,
            "fleet_import",
            batch.id,
            {k: report[k] for k in counts},
        )
        return ImportOutcome(batch.id, report)
