"""The purge: destroy approved recordings after their recovery window, with a certificate.

For each deletion approved at least :data:`~bodycam.retention.service.RECOVERY_WINDOW`
ago whose recording is still due and not held, one transaction marks the recording
purged, writes a signed destruction certificate and its audit record; only then are the
bytes destroyed: the original, every redacted copy, and the face thumbnails and the
transcript of its redaction projects. Committing first means a crash can leave bytes
behind (the next purge finishes the job; ``verify`` notes them as unreferenced), never a
recording whose bytes are gone without a certificate.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.service import AuditSigner, record
from bodycam.auth.models import User
from bodycam.auth.service import actor_for
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import Category, Recording
from bodycam.ids import as_utc, rfc3339, utcnow
from bodycam.redaction.models import RedactedCopy, RedactionProject, RedactionTrack
from bodycam.retention.models import DeletionItem, DestructionCertificate, QueueStatus
from bodycam.retention.service import _active_holds, refresh_queue
from bodycam.storage import BlobNotFound

CERTIFICATE_CONTEXT = b"bodycam destruction certificate\n"
"""Signed before the certificate's body, so the signature cannot be reused elsewhere."""


@dataclass(frozen=True)
class PurgeReport:
    """What one purge run destroyed."""

    purged: list[str]  # recording ids
    certificates: list[str]
    blobs_deleted: int


def _sign(signer: AuditSigner, body: bytes) -> str:
    return base64.b64encode(signer.private_key.sign(CERTIFICATE_CONTEXT + body)).decode()


def verify_certificate(
    cert: DestructionCertificate, public_key: Ed25519PublicKey
) -> dict[str, Any]:
    """The certificate's statement when its signature holds; raise ValueError otherwise."""
    try:
        public_key.verify(
            base64.b64decode(cert.signature), CERTIFICATE_CONTEXT + cert.body.encode()
        )
    except (InvalidSignature, ValueError):
        raise ValueError(
            f"Destruction certificate {cert.id} does not verify: its text or signature was "
            "changed, or another key signed it."
        ) from None
    statement: dict[str, Any] = json.loads(cert.body)
    return statement


def _blobs_of(s: Session, rec: Recording) -> list[str]:
    copies = s.scalars(select(RedactedCopy.sha256).where(RedactedCopy.recording_id == rec.id))
    return [rec.sha256, *sorted(set(copies))]


def _still_referenced(s: Session, sha: str) -> bool:
    """Whether a recording or copy not purged still names this blob."""
    rec = s.scalars(
        select(Recording.id).where(Recording.sha256 == sha, Recording.purged_at.is_(None))
    ).first()
    if rec is not None:
        return True
    copy = s.scalars(
        select(RedactedCopy.id)
        .join(Recording, Recording.id == RedactedCopy.recording_id)
        .where(RedactedCopy.sha256 == sha, Recording.purged_at.is_(None))
    ).first()
    return copy is not None


def purge_due(ctx: Context, *, now: datetime | None = None) -> PurgeReport:
    """Purge every approved deletion whose recovery window has passed."""
    now = now or utcnow()
    refresh_queue(ctx.sessions, now)  # cancels anything held or no longer due
    with ctx.sessions() as s:
        ids = list(
            s.scalars(
                select(DeletionItem.id).where(
                    DeletionItem.status == QueueStatus.RECOVERABLE.value,
                    DeletionItem.purge_after <= now,
                )
            )
        )
    purged, certs, doomed = [], [], set()
    for item_id in ids:
        done = _purge_one(ctx, item_id, now)
        if done is not None:
            rid, cert_id, blobs = done
            purged.append(rid)
            certs.append(cert_id)
            doomed.update(blobs)
    doomed |= _leftover_blobs(ctx)
    deleted = 0
    for sha in sorted(doomed):
        with ctx.sessions() as s:
            if _still_referenced(s, sha):
                continue
        for store in (ctx.store, ctx.archive):
            try:
                if store is not None and store.exists(sha):
                    store.delete(sha)
                    deleted += 1
            except BlobNotFound:  # deleted meanwhile by another purge
                pass
    return PurgeReport(purged, certs, deleted)


def _leftover_blobs(ctx: Context) -> set[str]:
    """Blobs of purged recordings a crashed purge may have left in the store."""
    with ctx.sessions() as s:
        rows = s.scalars(select(Recording).where(Recording.purged_at.is_not(None)))
        stores = [st for st in (ctx.store, ctx.archive) if st is not None]
        return {
            sha for rec in rows for sha in _blobs_of(s, rec) if any(st.exists(sha) for st in stores)
        }


def _purge_one(ctx: Context, item_id: str, now: datetime) -> tuple[str, str, list[str]] | None:
    with transaction(ctx.sessions) as s:
        item = s.get(DeletionItem, item_id)
        if item is None or item.status != QueueStatus.RECOVERABLE.value:
            return None
        rec = s.get(Recording, item.recording_id)
        assert rec is not None
        if (
            rec.purged_at is not None
            or _active_holds(s, rec)
            or rec.retain_until is None
            or as_utc(rec.retain_until) > now
        ):
            return None
        approver = s.get(User, item.approved_by) if item.approved_by else None
        if approver is None:
            return None
        category = s.get(Category, rec.category_id)
        blobs = _blobs_of(s, rec)
        statement = {
            "statement": "The recording and every derivative named here were destroyed.",
            "recording_id": rec.id,
            "original_sha256": rec.sha256,
            "original_size": rec.size_bytes,
            "derivative_sha256": blobs[1:],
            "recorded_start": rfc3339(rec.recorded_start),
            "category": category.name if category else None,
            "rule": item.basis,
            "due_at": rfc3339(item.due_at),
            "approved_by": approver.username,
            "approved_at": rfc3339(item.approved_at) if item.approved_at else None,
            "destroyed_at": rfc3339(now),
            "signer": ctx.signer.key_name,
        }
        body = canonical_bytes(statement)
        cert = DestructionCertificate(
            recording_id=rec.id,
            body=body.decode(),
            signature=_sign(ctx.signer, body),
            key_name=ctx.signer.key_name,
        )
        s.add(cert)
        s.flush()
        rec.purged_at = now
        item.status = QueueStatus.PURGED.value
        item.closed_reason = f"purged; certificate {cert.id}"
        projects = select(RedactionProject.id).where(RedactionProject.recording_id == rec.id)
        s.execute(delete(RedactionTrack).where(RedactionTrack.project_id.in_(projects)))
        for proj in s.scalars(
            select(RedactionProject).where(RedactionProject.recording_id == rec.id)
        ):
            proj.transcript = ""
        s.flush()
        actor = actor_for(approver, "job")
        record(
            s,
            actor,
            AuditAction.RETENTION_PURGE,
            "recording",
            rec.id,
            {
                "certificate": cert.id,
                "sha256": rec.sha256,
                "derivatives": blobs[1:],
                "rule": item.basis,
            },
        )
        return rec.id, cert.id, blobs


def certificates(ctx: Context) -> list[DestructionCertificate]:
    """Every destruction certificate, oldest first."""
    with ctx.sessions() as s:
        rows = list(
            s.scalars(select(DestructionCertificate).order_by(DestructionCertificate.created_at))
        )
        s.expunge_all()
    return rows
