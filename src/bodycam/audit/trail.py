"""Per-recording audit trails: who did what, when, from where, under which checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.models import AuditCheckpoint, AuditRecord
from bodycam.audit.service import record, record_denial
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import Permission
from bodycam.db import transaction


@dataclass(frozen=True)
class TrailEntry:
    """One line of an audit trail."""

    id: str
    seq: int | None
    at: datetime
    actor: str
    role: str
    via: str
    ip: str
    action: str
    details: dict[str, Any]
    leaf_hash: str | None
    checkpoint_size: int | None
    checkpoint_root: str | None


@dataclass(frozen=True)
class Trail:
    """The audit trail of one object, oldest first."""

    object_type: str
    object_id: str
    entries: list[TrailEntry]


def _entries(session: Session, object_type: str, object_id: str) -> list[TrailEntry]:
    # Each sealed entry is shown under the first checkpoint that covers it: the smallest
    # tree size above its position, found per row by a primary-key range read, so the
    # cost does not grow with the number of checkpoints (one per sealing round).
    def covering(column: Any) -> Any:
        return (
            select(column)
            .where(AuditCheckpoint.tree_size > AuditRecord.seq)
            .order_by(AuditCheckpoint.tree_size)
            .limit(1)
            .correlate(AuditRecord)
            .scalar_subquery()
        )

    rows = session.execute(
        select(
            AuditRecord, covering(AuditCheckpoint.tree_size), covering(AuditCheckpoint.root_hash)
        )
        .where(
            # Refused attempts on the object are recorded as requests naming it.
            AuditRecord.object_type.in_([object_type, "request"]),
            AuditRecord.object_id == object_id,
        )
        .order_by(AuditRecord.at, AuditRecord.id)
    )
    entries = []
    for r, size, root_hash in rows:
        root = bytes(root_hash).hex() if root_hash is not None and r.seq is not None else None
        size = size if r.seq is not None else None
        entries.append(
            TrailEntry(
                r.id,
                r.seq,
                r.at,
                r.actor,
                r.role,
                r.via,
                r.ip,
                r.action,
                r.details,
                bytes(r.leaf_hash).hex() if r.leaf_hash else None,
                size,
                root,
            )
        )
    return entries


def recording_trail(
    factory: sessionmaker[Session],
    actor: Actor,
    recording_id: str,
    *,
    export_format: str | None = None,
) -> Trail:
    """The audit trail of a recording (auditors); reading or exporting it is itself audited."""
    perm = Permission.AUDIT_EXPORT if export_format else Permission.AUDIT_VIEW
    try:
        actor.require(perm, "export audit trails" if export_format else "read audit trails")
    except PermissionDenied as exc:
        record_denial(factory, actor, f"audit trail of {recording_id}", recording_id)
        exc.audited = True
        raise
    with transaction(factory) as s:
        entries = _entries(s, "recording", recording_id)
        if not entries:
            raise LookupError(f"There is no audit trail for recording {recording_id}.")
        action = AuditAction.AUDIT_EXPORT if export_format else AuditAction.AUDIT_TRAIL_VIEW
        record(
            s,
            actor,
            action,
            "recording",
            recording_id,
            {"format": export_format or "view", "entries": len(entries)},
        )
    return Trail("recording", recording_id, entries)
