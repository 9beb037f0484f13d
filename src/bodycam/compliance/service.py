"""Importing dispatch (CAD) exports into the vault: all or nothing, idempotent, audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, record_denial
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.compliance.cad import CadImport, parse_cad
from bodycam.compliance.mapping import CadFormatError, CadMapping
from bodycam.compliance.models import CadImportBatch, DispatchAssignment, DispatchEvent
from bodycam.compliance.records import CadEvent
from bodycam.db import transaction
from bodycam.storage.interface import file_sha256

_EVENT_FIELDS = (
    "call_type",
    "initial_call_type",
    "priority",
    "self_initiated",
    "precinct",
    "sector",
    "beat",
    "location",
    "created_at",
    "dispatched_at",
    "arrived_at",
    "cleared_at",
    "disposition",
)
_TIME_FIELDS = ("dispatched_at", "arrived_at", "cleared_at")


class CadImportError(Exception):
    """An import that cannot be done; ``report`` holds the validation report if any."""

    def __init__(self, message: str, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class ImportOutcome:
    """What an import stored, and its validation report (the JSON the CLI prints)."""

    batch_id: str | None
    report: dict[str, Any] = field(default_factory=dict)


def _clip(value: Any, size: int) -> Any:
    return value[:size] if isinstance(value, str) else value


def _same(row: DispatchEvent, ev: CadEvent) -> bool:
    return all(getattr(row, f) == getattr(ev, f) for f in _EVENT_FIELDS)


def import_cad(
    factory: sessionmaker[Session],
    actor: Actor,
    path: Path,
    mapping: CadMapping,
    *,
    accept_invalid: bool = False,
) -> ImportOutcome:
    """Parse ``path`` and store its events and assignments in one transaction.

    Refused, with nothing stored, when the file fits no mapping, or when any row is
    invalid unless ``accept_invalid`` (then the valid rows are stored and the invalid
    ones reported). Re-importing the same events changes nothing; a later export of the
    same events updates them. ``matched`` counts assignments whose badge is an officer's.
    """
    try:
        actor.require(Permission.COMPLIANCE_IMPORT, "import dispatch data")
    except PermissionDenied as exc:
        record_denial(factory, actor, "import dispatch data")
        exc.audited = True
        raise
    try:
        parsed: CadImport = parse_cad(path, mapping)
    except CadFormatError as exc:
        raise CadImportError(str(exc)) from None
    except OSError as exc:
        raise CadImportError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    report = parsed.to_json()
    if report["invalid"] and not accept_invalid:
        raise CadImportError(
            f"{path.name}: {parsed.report.invalid_rows} invalid row(s); nothing was "
            "imported. Fix them, or import the valid rows with --accept-invalid.",
            report | {"matched": 0, "unmatched": 0, "imported": False},
        )
    digest = file_sha256(path)
    with transaction(factory) as s:
        officers = {
            badge: uid
            for badge, uid in s.execute(select(User.badge, User.id).where(User.badge.is_not(None)))
        }
        batch = CadImportBatch(
            file_name=path.name[:255],
            sha256=digest,
            mapping=mapping.name,
            rows=int(report["rows"]),
            report={},
            imported_by=actor.user_id,
        )
        s.add(batch)
        s.flush()
        created = updated = unchanged = 0
        existing = (
            {
                row.event_id: row
                for row in s.scalars(
                    select(DispatchEvent).where(
                        DispatchEvent.event_id.in_([e.event_id for e in parsed.events])
                    )
                )
            }
            if parsed.events
            else {}
        )
        for ev in parsed.events:
            row = existing.get(ev.event_id)
            if row is None:
                s.add(
                    DispatchEvent(
                        event_id=ev.event_id[:64],
                        batch_id=batch.id,
                        **{f: _clip(getattr(ev, f), 200) for f in _EVENT_FIELDS},
                    )
                )
                created += 1
            elif _same(row, ev):
                unchanged += 1
            else:
                for f in _EVENT_FIELDS:
                    setattr(row, f, _clip(getattr(ev, f), 200))
                row.batch_id = batch.id
                updated += 1
        s.flush()
        have = (
            {
                (a.event_id, a.badge): a
                for a in s.scalars(
                    select(DispatchAssignment).where(
                        DispatchAssignment.event_id.in_({a.event_id for a in parsed.assignments})
                    )
                )
            }
            if parsed.assignments
            else {}
        )
        matched = unmatched = 0
        unknown: dict[str, int] = {}
        for a in parsed.assignments:
            officer = officers.get(a.badge)
            if officer is None:
                unmatched += 1
                unknown[a.badge] = unknown.get(a.badge, 0) + 1
            else:
                matched += 1
            row_a = have.get((a.event_id, a.badge))
            if row_a is None:
                row_a = DispatchAssignment(
                    event_id=a.event_id,
                    badge=a.badge[:64],
                    officer_id=officer,
                    **{f: getattr(a, f) for f in _TIME_FIELDS},
                )
                s.add(row_a)
                have[(a.event_id, a.badge)] = row_a
            else:
                row_a.officer_id = officer
                for f in _TIME_FIELDS:
                    setattr(row_a, f, getattr(a, f))
        report |= {
            "matched": matched,
            "unmatched": unmatched,
            "unmatched_badges": dict(sorted(unknown.items())[:50]),
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "imported": True,
            "batch": batch.id,
        }
        from bodycam.compliance.matching_service import queue_rematch

        rematch = queue_rematch(s, actor, batch.id)  # jobs: sent once this commits
        if rematch is not None:
            report["matching_job"] = rematch
        batch.report = report
        record(
            s,
            actor,
            AuditAction.COMPLIANCE_CAD_IMPORT,
            "cad_import",
            batch.id,
            {
                "file": path.name,
                "sha256": digest,
                "mapping": mapping.name,
                "rows": report["rows"],
                "events": len(parsed.events),
                "created": created,
                "updated": updated,
                "invalid": len(report["invalid"]),
            },
        )
        return ImportOutcome(batch.id, report)
