"""The purge: real blobs destroyed after the recovery window, certificates that verify."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.evidence.service import NotFound, ingest_file, view
from bodycam.redaction import projects
from bodycam.retention import service
from bodycam.retention.models import DestructionCertificate
from bodycam.retention.purge import purge_due, verify_certificate
from bodycam.verify import verify_all

SCHEDULE = '[categories."Uncategorized"]\nretain = "30 days"\n'


@pytest.fixture
def due_recordings(ctx, dept, vault, clips):
    """Two real recordings, recorded long ago, one with a redacted copy; schedule in force."""
    clerk = dept.actor("clerk")
    a = ingest_file(vault, clerk, clips(60), officer_badge="1001").id
    b = ingest_file(vault, clerk, clips(61), officer_badge="1001", cases=["26-100"]).id
    copy = projects.bulk(vault, clerk, a, audio="remove").copy
    with transaction(ctx.sessions) as s:
        for rec in s.scalars(select(Recording)):
            rec.recorded_start -= timedelta(days=400)
            rec.recorded_end -= timedelta(days=400)
    service.import_schedule(ctx.sessions, dept.actor("admin"), SCHEDULE)
    return a, b, copy


def test_purge_destroys_original_and_derivatives_with_a_certificate(
    ctx, dept, vault, due_recordings
):
    a, _, copy = due_recordings
    clerk = dept.actor("clerk")
    with ctx.sessions() as s:
        sha_a = s.get(Recording, a).sha256
    hold = service.place_hold(
        ctx.sessions, clerk, case="26-100", reason_type="litigation", reason="claim"
    )
    approved = service.approve_deletions(ctx.sessions, clerk)
    assert [i.recording_id for i in approved] == [a]  # b is held

    assert purge_due(ctx).purged == []  # still inside the recovery window
    assert ctx.store.exists(sha_a)
    later = approved[0].purge_after + timedelta(seconds=1)
    report = purge_due(ctx, now=later)
    assert report.purged == [a] and report.blobs_deleted == 2
    assert not ctx.store.exists(sha_a) and not ctx.store.exists(copy.sha256)
    with pytest.raises(NotFound):
        view(vault, clerk, a)

    with ctx.sessions() as s:
        cert = s.scalars(select(DestructionCertificate)).one()
        purge_audit = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "retention:recording:purge")
        ).one()
    statement = verify_certificate(cert, ctx.signer.public_key)
    assert statement["original_sha256"] == sha_a
    assert statement["derivative_sha256"] == [copy.sha256]
    assert statement["approved_by"] == "clerk" and statement["rule"] == "Uncategorized: 30 days"
    assert purge_audit.object_id == a and purge_audit.actor == "clerk"
    report = verify_all(ctx, dept.actor("auditor"))
    assert report.ok, report.problems
    assert report.certificates == 1 and report.recordings == 1

    # The held recording is kept; after the release it follows its schedule.
    assert purge_due(ctx, now=later + timedelta(days=30)).purged == []
    service.release_hold(ctx.sessions, clerk, hold.id, "settled")
    assert purge_due(ctx, now=later + timedelta(days=30)).purged == []  # not approved yet


def test_a_forged_certificate_fails_verify(ctx, dept, due_recordings):
    a, _, _ = due_recordings
    clerk = dept.actor("clerk")
    item = service.approve_deletions(ctx.sessions, clerk, [a])[0]
    purge_due(ctx, now=item.purge_after + timedelta(seconds=1))
    with transaction(ctx.sessions) as s:
        cert = s.scalars(select(DestructionCertificate)).one()
        forged = json.loads(cert.body) | {"approved_by": "admin"}
        cert.body = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    report = verify_all(ctx, dept.actor("auditor"))
    assert any("does not verify" in p for p in report.problems)
    with transaction(ctx.sessions) as s:
        s.query(DestructionCertificate).delete()
    report = verify_all(ctx, dept.actor("auditor"))
    assert any("has no destruction certificate" in p for p in report.problems)


def test_a_crash_after_commit_leaves_bytes_that_the_next_run_destroys(ctx, dept, due_recordings):
    a, _, _ = due_recordings
    item = service.approve_deletions(ctx.sessions, dept.actor("clerk"), [a])[0]
    when = item.purge_after + timedelta(seconds=1)
    with ctx.sessions() as s:
        sha = s.get(Recording, a).sha256
    # As if the process died after its transaction: the row is purged, the blob remains.
    from bodycam.retention import purge as purge_module

    purge_module._purge_one(ctx, item.id, when)
    assert ctx.store.exists(sha)
    assert purge_due(ctx, now=when).blobs_deleted == 2
    assert not ctx.store.exists(sha)
