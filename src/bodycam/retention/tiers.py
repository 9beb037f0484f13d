"""Storage tiers: originals nobody has touched for a while move to a cheaper archive store.

"Touched" means ingested, viewed, played or downloaded: the audit log says when. A move
copies the blob into the archive store (which checks its SHA-256 as it writes), records
the new tier and its audit record in one transaction, and only then removes the hot
copy; a crash in between leaves two copies, never none. A restore is the same in
reverse and brings back the same bytes (same hash). Archived originals cannot be played
until restored; ``verify`` re-hashes them in the archive store.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from bodycam.audit.actions import AuditAction
from bodycam.audit.models import AuditRecord
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.ids import utcnow
from bodycam.redaction.models import RedactedCopy
from bodycam.retention.service import RetentionError
from bodycam.storage import BlobNotFound, BlobStore
from bodycam.storage.interface import local_path

HOT, ARCHIVE = "hot", "archive"
_READS = (
    AuditAction.RECORDING_INGEST.value,
    AuditAction.RECORDING_VIEW.value,
    AuditAction.RECORDING_STREAM.value,
    AuditAction.RECORDING_DOWNLOAD.value,
)


@dataclass(frozen=True)
class TierUsage:
    """Recordings and bytes held in one tier."""

    tier: str
    recordings: int
    bytes: int


def _archive_store(ctx: Context) -> BlobStore:
    if ctx.archive is None:
        raise RetentionError(
            "No archive tier is configured: set BODYCAM_ARCHIVE_STORAGE_URL "
            "(file:///path or s3://bucket?...)."
        )
    return ctx.archive


def _copy(source: BlobStore, dest: BlobStore, sha: str) -> None:
    """Copy a blob between stores (a local file when it is one); the destination checks it."""
    if dest.exists(sha):
        return
    with local_path(source, sha) as path:
        dest.put_file(path, expected_sha256=sha)


def untouched(ctx: Context, days: int, now: datetime | None = None) -> list[str]:
    """Hot, unpurged recordings with no ingest, view, play or download for ``days``."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    recent = (
        select(AuditRecord.object_id)
        .where(
            and_(
                AuditRecord.object_type == "recording",
                AuditRecord.action.in_(_READS),
                AuditRecord.at > cutoff,
            )
        )
        .distinct()
    )
    with ctx.sessions() as s:
        return list(
            s.scalars(
                select(Recording.id)
                .where(Recording.tier == HOT, Recording.purged_at.is_(None))
                .where(Recording.ingested_at <= cutoff)
                .where(Recording.id.not_in(recent))
                .order_by(Recording.id)
            )
        )


def archive(
    ctx: Context, actor: Actor, recording_ids: list[str] | None = None, *, days: int | None = None
) -> list[str]:
    """Move originals to the archive tier: those named, or all untouched for ``days``."""
    require(ctx.sessions, actor, Permission.RETENTION_TIER, "move recordings between storage tiers")
    store = _archive_store(ctx)
    ids = (
        recording_ids
        if recording_ids is not None
        else untouched(ctx, days if days is not None else ctx.settings.archive_after_days)
    )
    moved = []
    for rid in ids:
        with ctx.sessions() as s:
            rec = s.get(Recording, rid)
            if rec is None or rec.purged_at is not None:
                raise RetentionError(f"There is no recording {rid} to archive.")
            if rec.tier == ARCHIVE:
                continue
            sha = rec.sha256
        _copy(ctx.store, store, sha)
        if store.rehash(sha) != sha:  # belt and braces: the archive must hold the same bytes
            raise RetentionError(f"The archive copy of {rid} does not match {sha}; kept hot.")
        with transaction(ctx.sessions) as s:
            rec = s.get(Recording, rid)
            assert rec is not None
            rec.tier = ARCHIVE
            record(
                s,
                actor,
                AuditAction.RETENTION_TIER_MOVE,
                "recording",
                rid,
                {"sha256": sha, "to": ARCHIVE},
            )
        _drop_if_unused(ctx, ctx.store, sha, HOT)
        moved.append(rid)
    return moved


def restore(ctx: Context, actor: Actor, recording_id: str) -> Recording:
    """Bring an archived original back to the hot tier (same bytes, same hash)."""
    require(ctx.sessions, actor, Permission.RETENTION_TIER, "move recordings between storage tiers")
    store = _archive_store(ctx)
    with ctx.sessions() as s:
        rec = s.get(Recording, recording_id)
        if rec is None or rec.purged_at is not None:
            raise RetentionError(f"There is no recording {recording_id} to restore.")
        if rec.tier == HOT:
            raise RetentionError(f"Recording {recording_id} is not in the archive tier.")
        sha = rec.sha256
    _copy(store, ctx.store, sha)
    with transaction(ctx.sessions) as s:
        rec = s.get(Recording, recording_id)
        assert rec is not None
        rec.tier = HOT
        record(
            s,
            actor,
            AuditAction.RETENTION_TIER_MOVE,
            "recording",
            recording_id,
            {"sha256": sha, "to": HOT},
        )
        s.flush()
        s.expunge(rec)
    _drop_if_unused(ctx, store, sha, ARCHIVE)
    return rec


def _drop_if_unused(ctx: Context, store: BlobStore, sha: str, tier: str) -> None:
    """Remove a blob from a tier's store once no held recording there names it."""
    with ctx.sessions() as s:
        used = s.scalars(
            select(Recording.id).where(
                Recording.sha256 == sha, Recording.tier == tier, Recording.purged_at.is_(None)
            )
        ).first()
        if tier == HOT and used is None:
            used = s.scalars(select(RedactedCopy.id).where(RedactedCopy.sha256 == sha)).first()
    if used is None:
        with contextlib.suppress(BlobNotFound):
            store.delete(sha)


def usage(ctx: Context, actor: Actor) -> list[TierUsage]:
    """Recordings and bytes per tier (originals; redacted copies count as hot)."""
    require(ctx.sessions, actor, Permission.RETENTION_VIEW, "see storage per tier")
    with ctx.sessions() as s:
        rows = dict(
            (tier, (n, b))
            for tier, n, b in s.execute(
                select(
                    Recording.tier, func.count(), func.coalesce(func.sum(Recording.size_bytes), 0)
                )
                .where(Recording.purged_at.is_(None))
                .group_by(Recording.tier)
            )
        )
        copies = s.execute(
            select(func.count(), func.coalesce(func.sum(RedactedCopy.size_bytes), 0))
            .join(Recording, Recording.id == RedactedCopy.recording_id)
            .where(Recording.purged_at.is_(None))
        ).one()
    hot_n, hot_b = rows.get(HOT, (0, 0))
    arc_n, arc_b = rows.get(ARCHIVE, (0, 0))
    return [
        TierUsage(HOT, int(hot_n), int(hot_b) + int(copies[1])),
        TierUsage(ARCHIVE, int(arc_n), int(arc_b)),
    ]
