"""Storage tiers: untouched originals move to an archive store and come back unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.evidence.service import EvidenceError, Vault, ingest_file, open_stream
from bodycam.retention import tiers
from bodycam.retention.service import RetentionError
from bodycam.verify import verify_all


@pytest.fixture
def tiered(settings, ctx, dept, tmp_path):
    """``ctx`` with an archive store in a second folder."""
    archived = settings.model_copy(update={"archive_storage_url": f"file://{tmp_path / 'cold'}"})
    both = Context.from_settings(archived)
    yield both
    both.close()


def _viewed_at(ctx, dept, recording_id: str, when) -> None:
    """An audit record of a view at ``when`` (records carry their own time)."""
    clerk = dept.users["clerk"]
    with transaction(ctx.sessions) as s:
        s.add(
            AuditRecord.new(
                actor_id=clerk.id,
                actor="clerk",
                role="records_clerk",
                via="web",
                ip="",
                action="evidence:recording:view",
                object_type="recording",
                object_id=recording_id,
                at=when,
            )
        )


def test_untouched_originals_move_to_the_archive_and_back(tiered, dept, clips):
    ctx = tiered
    vault = Vault.from_context(ctx)
    clerk, admin = dept.actor("clerk"), dept.actor("admin")
    old = ingest_file(vault, clerk, clips(71), officer_badge="1001").id
    recent = ingest_file(vault, clerk, clips(72), officer_badge="1001").id
    now = tiers.utcnow() + timedelta(days=200)
    _viewed_at(ctx, dept, recent, now - timedelta(days=3))
    assert tiers.untouched(ctx, 180, now=now) == [old]
    assert tiers.untouched(ctx, 180) == []  # everything was ingested just now

    moved = tiers.archive(ctx, clerk, [old])
    assert moved == [old]
    with ctx.sessions() as s:
        rec = s.get(Recording, old)
        assert rec.tier == "archive"
        sha = rec.sha256
    assert not ctx.store.exists(sha) and ctx.archive is not None and ctx.archive.exists(sha)
    with pytest.raises(EvidenceError, match="archive tier; restore it first"):
        open_stream(vault, clerk, old, None)
    report = verify_all(ctx, dept.actor("auditor"))
    assert report.ok, report.problems
    usage = {u.tier: u for u in tiers.usage(ctx, clerk)}
    assert usage["archive"].recordings == 1 and usage["hot"].recordings == 1

    back = tiers.restore(ctx, clerk, old)
    assert back.sha256 == sha and ctx.store.rehash(sha) == sha
    assert not ctx.archive.exists(sha)
    _, _, chunks = open_stream(vault, clerk, old, None)
    assert sum(len(c) for c in chunks) == back.size_bytes
    with ctx.sessions() as s:
        moves = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "retention:recording:tier")
        ).all()
        assert [m.details["to"] for m in moves] == ["archive", "hot"]
    with pytest.raises(PermissionDenied):
        tiers.archive(ctx, dept.actor("o1"), [recent])
    with pytest.raises(RetentionError, match="not in the archive tier"):
        tiers.restore(ctx, clerk, recent)
    assert tiers.archive(ctx, admin, [recent]) == [recent]  # administrators run tiering too


def test_without_an_archive_store_the_tier_is_refused(ctx, dept, clips):
    vault = Vault.from_context(ctx)
    rid = ingest_file(vault, dept.actor("clerk"), clips(73), officer_badge="1001").id
    with pytest.raises(RetentionError, match="BODYCAM_ARCHIVE_STORAGE_URL"):
        tiers.archive(ctx, dept.actor("clerk"), [rid])
