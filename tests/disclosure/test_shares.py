"""External shares: link and code, the recipient's session, audited views, streams and
downloads, the watermark in real decoded pixels (made by the ``share.watermark`` job, run
here through the job runner), lockout, revocation, expiry, refusals. Both engines."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.auth.service import actor_for, update_user
from bodycam.db import transaction
from bodycam.disclosure import share_access, shares
from bodycam.disclosure.share_models import Share, ShareItem, ShareSession, ShareState
from bodycam.disclosure.shares import (
    MAX_WRONG_CODES,
    NotReady,
    SessionRequired,
    ShareError,
    ShareNotFound,
    ShareRefused,
    Sharing,
    WrongCode,
)
from bodycam.disclosure.watermark import BAND_FRACTION, MIN_BAND
from bodycam.evidence import service as ev
from bodycam.ids import utcnow
from bodycam.jobs.models import Job
from bodycam.redaction.models import CopyStatus, RedactedCopy, RedactionProject
from bodycam.redaction.plan import RedactionPlan

RECIPIENT = {
    "recipient_name": "Jane Prosecutor",
    "recipient_email": "jane@da.example.org",
    "recipient_role": "prosecutor",
    "recipient_org": "County DA",
}


@pytest.fixture
def sharing(ctx) -> Sharing:
    """Shares of the test deployment (its folder is where the watermark jobs write)."""
    return Sharing.from_context(ctx)


def run_watermarks(ctx) -> list[Job]:
    """Run every queued ``share.watermark`` job now, as a runner would; their end states."""
    import bodycam.disclosure.jobs  # noqa: F401  (registers the handlers)
    from bodycam.jobs.runner import run_job

    with ctx.sessions() as s:
        ids = s.scalars(
            select(Job.id)
            .where(Job.kind == "share.watermark", Job.status == "queued")
            .order_by(Job.created_at, Job.id)
        ).all()
    return [run_job(ctx, job_id) for job_id in ids]


@pytest.fixture
def rec(vault, dept, clips) -> str:
    """o1's recording (clip 61), in a normal category."""
    return ev.ingest_file(
        vault, dept.actor("clerk"), clips(61), officer_badge="1001", category="Traffic Stop"
    ).id


def _copy(ctx, dept, recording_id: str, path: Path, status: CopyStatus) -> str:
    """A redacted copy of ``recording_id`` whose bytes are ``path`` (stored as a blob)."""
    info = ctx.store.put_file(path)
    clerk = dept.users["clerk"].id
    with transaction(ctx.sessions) as s:
        from bodycam.evidence.models import Recording

        src = s.get(Recording, recording_id)
        plan = RedactionPlan().to_json()
        project = RedactionProject(
            recording_id=recording_id,
            source_sha256=src.sha256,
            created_by=clerk,
            status="review",
            plan=plan,
        )
        s.add(project)
        s.flush()
        copy = RedactedCopy(
            project_id=project.id,
            recording_id=recording_id,
            source_sha256=src.sha256,
            sha256=info.sha256,
            size_bytes=info.size,
            plan=plan,
            plan_hash="0" * 64,
            engine="test",
            detector="test",
            qc_threshold=0.5,
            status=status.value,
            created_by=clerk,
        )
        s.add(copy)
        s.flush()
        return copy.id


def audits(ctx, action: str, **where: str) -> list[AuditRecord]:
    with ctx.sessions() as s:
        stmt = select(AuditRecord).where(AuditRecord.action == action)
        for col, value in where.items():
            stmt = stmt.where(getattr(AuditRecord, col) == value)
        return list(s.scalars(stmt.order_by(AuditRecord.pk)))


def opened(sharing, issued) -> str:
    """A share session's secret, from the right code."""
    return share_access.exchange_code(sharing, issued.token, issued.code, ip="203.0.113.9").secret


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]


# --- making a share ------------------------------------------------------------------------


def test_a_share_keeps_only_hashes_and_is_audited_on_each_recording(ctx, dept, sharing, rec):
    clerk = dept.actor("clerk")
    issued = shares.create_share(
        sharing, clerk, recordings=[rec], case_number="26-100", **RECIPIENT
    )
    assert issued.path == f"/s/{issued.token}" and len(issued.token) >= 43
    assert len(issued.code) == 11 and issued.code.replace("-", "").isdigit()
    view = issued.view
    assert view.state is ShareState.ACTIVE and not view.share.allow_download
    assert view.share.expires_at - view.share.created_at == timedelta(days=30)
    (item,) = view.items
    assert item.position == 1 and item.recording_id == rec and item.kind == "original"
    with ctx.sessions() as s:
        row = s.get(Share, view.id)
        assert row.token_sha256 == hashlib.sha256(issued.token.encode()).hexdigest()
        assert row.code_hash.startswith("$argon2id$") and issued.code not in row.code_hash
        stored = json.dumps([str(getattr(row, c.name)) for c in Share.__table__.columns])
    assert issued.token not in stored and issued.code not in stored
    (made,) = audits(ctx, "disclosure:share:create", object_id=rec)
    assert made.actor == "clerk" and made.object_type == "recording"
    assert made.details["share"] == view.id and made.details["recipient"] == "Jane Prosecutor"
    assert made.details["recipient_role"] == "prosecutor" and made.details["case"] == "26-100"
    assert [a.kind for a in view.history] == ["created"]


def test_input_is_checked_and_nothing_is_half_made(ctx, dept, sharing, rec):
    clerk = dept.actor("clerk")
    bad = [
        ({"recordings": [rec], **RECIPIENT, "recipient_role": "judge"}, "Unknown recipient role"),
        ({"recordings": [rec], **RECIPIENT, "recipient_email": "jane"}, "is not an email"),
        ({"recordings": [rec], **RECIPIENT, "recipient_name": " "}, "recipient's name"),
        ({"recordings": [rec], **RECIPIENT, "days": 91}, "1 to 90 days"),
        ({**RECIPIENT}, "Name at least one recording"),
        ({"recordings": [rec, "NOPE"], **RECIPIENT}, "no recording NOPE that you may see"),
    ]
    for kw, message in bad:
        with pytest.raises(ShareError, match=message):
            shares.create_share(sharing, clerk, **kw)
    with ctx.sessions() as s:
        assert s.scalars(select(Share)).all() == []
    assert audits(ctx, "disclosure:share:create") == []


def test_copies_must_be_approved(ctx, dept, sharing, rec, clips):
    clerk = dept.actor("clerk")
    clean = _copy(ctx, dept, rec, clips(62), CopyStatus.CLEAN)
    with pytest.raises(ShareError, match=f"copy {clean} is not approved for release"):
        shares.create_share(sharing, clerk, copies=[clean], **RECIPIENT)
    approved = _copy(ctx, dept, rec, clips(63), CopyStatus.APPROVED)
    issued = shares.create_share(sharing, clerk, copies=[approved], recordings=[rec], **RECIPIENT)
    kinds = [(i.kind, i.copy_id) for i in issued.view.items]
    assert kinds == [("original", None), ("redacted copy", approved)]
    with ctx.sessions() as s:
        copy_sha = s.get(RedactedCopy, approved).sha256
    assert issued.view.items[1].sha256 == copy_sha  # the copy's bytes are shared, not the original


# --- the recipient -------------------------------------------------------------------------


def test_the_code_opens_a_session_and_every_view_and_stream_is_audited(ctx, dept, sharing, rec):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    token = issued.token
    info = share_access.check_link(sharing, token)
    assert info.recipient_name == "Jane Prosecutor"
    with pytest.raises(SessionRequired):
        share_access.recipient_view(sharing, token, None)
    with pytest.raises(SessionRequired):
        share_access.recipient_view(sharing, token, "forged")
    secret = opened(sharing, issued)
    with ctx.sessions() as s:
        (sess,) = s.scalars(select(ShareSession)).all()
        assert sess.id_sha256 == hashlib.sha256(secret.encode()).hexdigest()  # only its hash
        assert sess.expires_at - sess.created_at == timedelta(hours=2)

    page = share_access.recipient_view(sharing, token, secret, ip="203.0.113.9")
    assert [i.position for i in page.items] == [1] and page.preparing  # nothing rendered yet
    assert page.items[0].percent == 0 and not page.allow_download
    with pytest.raises(NotReady, match="Item 1 is being prepared"):  # never in the request
        share_access.open_item(sharing, token, secret, 1, "bytes=0-99", ip="203.0.113.9")
    assert audits(ctx, "disclosure:recipient:stream") == []
    (job,) = run_watermarks(ctx)
    assert job.status == "done" and job.result["position"] == 1 and job.done == job.total > 0

    stream = share_access.open_item(sharing, token, secret, 1, "bytes=0-99", ip="203.0.113.9")
    assert stream.range is not None and stream.length == 100
    first = b"".join(stream.chunks())
    assert len(first) == 100
    whole = b"".join(share_access.open_item(sharing, token, secret, 1).chunks())
    assert whole[:100] == first and hashlib.sha256(whole).hexdigest() == stream.sha256
    assert stream.sha256 != issued.view.items[0].sha256  # never the vault's bytes

    (op,) = audits(ctx, "disclosure:recipient:open", object_id=issued.view.id)
    assert op.actor == "Jane Prosecutor" and op.role == "external" and op.via == "share"
    assert op.ip == "203.0.113.9" and op.details["email"] == "jane@da.example.org"
    (viewed,) = audits(ctx, "disclosure:recipient:view", object_id=issued.view.id)
    assert viewed.details["items"] == [rec]
    streamed = audits(ctx, "disclosure:recipient:stream", object_id=rec)
    assert len(streamed) == 2 and streamed[0].object_type == "recording"
    assert streamed[0].details["share"] == issued.view.id
    assert streamed[0].details["recipient"] == "Jane Prosecutor"
    assert (streamed[0].details["range_start"], streamed[0].details["range_end"]) == (0, 100)
    assert streamed[0].details["watermark_sha256"] == stream.sha256

    shown = shares.get_share(sharing, dept.actor("auditor"), issued.view.id)
    assert [a.kind for a in shown.history] == [
        "created",
        "opened",
        "viewed",
        "streamed",
        "streamed",
    ]
    assert shown.history[3].position == 1 and shown.history[3].detail == "bytes 0-99"
    assert shown.items[0].watermark_sha256 == stream.sha256
    again = share_access.recipient_view(sharing, token, secret)
    assert not again.preparing and again.items[0].ready


def test_the_watermark_is_in_the_pixels_and_the_rest_matches(ctx, dept, sharing, rec, clips):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    secret = opened(sharing, issued)
    run_watermarks(ctx)
    out = sharing.folder.parent / "served.mp4"
    out.write_bytes(b"".join(share_access.open_item(sharing, issued.token, secret, 1).chunks()))
    source, marked = frames(clips(61)), frames(out)
    assert len(marked) == len(source) > 0
    height = source[0].shape[0]
    band = max(MIN_BAND, round(height * BAND_FRACTION))
    top = height - band
    for a, b in zip(source, marked, strict=True):
        assert a.shape == b.shape
        rest = np.abs(a[:top] - b[:top]).mean()
        inside = np.abs(a[top:] - b[top:]).mean()
        assert rest < 4.0, rest  # the picture above the band: only re-encoding noise
        assert inside > 40.0, inside  # the band: darkened, with text on it
        assert b[top:].max() > 180  # the text is drawn in near-white
        assert np.median(b[top:]) < 0.6 * np.median(a[top:])  # mostly a dark band
    with av.open(str(out)) as c:
        assert c.metadata.get("comment", "").startswith("watermarked by bodycam-watermark")


def test_five_wrong_codes_lock_the_link_until_a_new_code(ctx, dept, sharing, rec):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    token = issued.token
    for n in range(1, MAX_WRONG_CODES):
        with pytest.raises(WrongCode) as wrong:
            share_access.exchange_code(sharing, token, "000-000-000")
        assert wrong.value.left == MAX_WRONG_CODES - n
    with pytest.raises(ShareRefused, match="locked after too many wrong codes"):
        share_access.exchange_code(sharing, token, "000-000-000")
    with pytest.raises(ShareRefused, match="locked"):  # the right code is refused too now
        share_access.exchange_code(sharing, token, issued.code)
    failures = audits(ctx, "disclosure:recipient:code_failure", object_id=issued.view.id)
    assert [f.details["wrong_codes"] for f in failures] == [1, 2, 3, 4, 5]
    assert failures[-1].details["locked"] is True
    refused = audits(ctx, "disclosure:recipient:refused", object_id=issued.view.id)
    assert [r.details["reason"] for r in refused] == ["locked"]
    listed = shares.list_shares(sharing, dept.actor("clerk"), state="locked")
    assert [v.id for v in listed] == [issued.view.id]

    fresh = shares.new_code(sharing, dept.actor("clerk"), issued.view.id)
    assert fresh.code != issued.code
    with pytest.raises(WrongCode):
        share_access.exchange_code(sharing, token, issued.code)  # the old code: wrong now
    secret = share_access.exchange_code(sharing, token, fresh.code.replace("-", " ")).secret
    assert share_access.recipient_view(sharing, token, secret).share_id == issued.view.id
    (code,) = audits(ctx, "disclosure:share:code", object_id=issued.view.id)
    assert code.details["was_locked"] is True


def test_downloads_only_when_allowed(ctx, dept, sharing, rec):
    clerk = dept.actor("clerk")
    view_only = shares.create_share(sharing, clerk, recordings=[rec], **RECIPIENT)
    secret = opened(sharing, view_only)
    with pytest.raises(ShareRefused, match="for viewing only"):
        share_access.open_item(sharing, view_only.token, secret, 1, download=True)
    (refused,) = audits(ctx, "disclosure:recipient:refused", object_id=view_only.view.id)
    assert refused.details["reason"] == "download not allowed"
    assert refused.details["asked"] == "download item 1"
    assert audits(ctx, "disclosure:recipient:download") == []

    both = shares.create_share(sharing, clerk, recordings=[rec], allow_download=True, **RECIPIENT)
    secret = opened(sharing, both)
    run_watermarks(ctx)
    got = share_access.open_item(sharing, both.token, secret, 1, download=True)
    data = b"".join(got.chunks())
    assert got.range is None and len(data) == got.size
    assert got.filename == f"share-{both.view.id}-item-1.mp4"
    (down,) = audits(ctx, "disclosure:recipient:download", object_id=rec)
    assert down.details["share"] == both.view.id
    assert down.details["watermark_sha256"] == hashlib.sha256(data).hexdigest()  # watermarked
    with pytest.raises(ShareNotFound):
        share_access.open_item(sharing, both.token, secret, 2)


def test_a_revoked_link_is_refused_and_the_attempt_audited(ctx, dept, sharing, rec):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    secret = opened(sharing, issued)
    run_watermarks(ctx)
    b"".join(share_access.open_item(sharing, issued.token, secret, 1).chunks())
    cached = sharing.folder / issued.view.id
    assert any(cached.glob("*.mp4"))
    with pytest.raises(ShareError, match="needs a reason"):
        shares.revoke_share(sharing, dept.actor("clerk"), issued.view.id, " ")
    done = shares.revoke_share(sharing, dept.actor("clerk"), issued.view.id, "case dismissed")
    assert done.state is ShareState.REVOKED and not cached.exists()
    (revoked,) = audits(ctx, "disclosure:share:revoke", object_id=rec)
    assert revoked.details["reason"] == "case dismissed"
    with pytest.raises(ShareRefused, match="revoked"):
        share_access.check_link(sharing, issued.token, ip="198.51.100.7")
    with pytest.raises(ShareRefused, match="revoked"):
        share_access.open_item(sharing, issued.token, secret, 1)
    with pytest.raises(ShareRefused, match="revoked"):
        share_access.exchange_code(sharing, issued.token, issued.code)
    refused = audits(ctx, "disclosure:recipient:refused", object_id=issued.view.id)
    assert [r.details["reason"] for r in refused] == ["revoked"] * 3
    assert refused[0].ip == "198.51.100.7" and refused[0].actor == "Jane Prosecutor"
    with pytest.raises(ShareError, match="already revoked"):
        shares.revoke_share(sharing, dept.actor("clerk"), issued.view.id, "again")
    with pytest.raises(ShareNotFound):
        share_access.check_link(sharing, "not-a-link")
    (unknown,) = audits(ctx, "disclosure:recipient:refused", object_id="-")
    assert unknown.details["reason"] == "unknown link"


def test_an_expired_link_is_refused_and_sessions_end_with_the_share(ctx, dept, sharing, rec):
    start = utcnow() - timedelta(days=10)
    issued = shares.create_share(
        sharing, dept.actor("clerk"), recordings=[rec], days=10, now=start, **RECIPIENT
    )
    secret = share_access.exchange_code(
        sharing, issued.token, issued.code, now=start + timedelta(days=10) - timedelta(hours=1)
    ).secret
    with ctx.sessions() as s:
        (sess,) = s.scalars(select(ShareSession)).all()
        assert sess.expires_at == issued.view.share.expires_at  # capped by the share
    with pytest.raises(ShareRefused, match="expired"):
        share_access.check_link(sharing, issued.token)
    with pytest.raises(ShareRefused, match="expired"):
        share_access.recipient_view(sharing, issued.token, secret)
    refused = audits(ctx, "disclosure:recipient:refused", object_id=issued.view.id)
    assert [r.details["reason"] for r in refused] == ["expired", "expired"]
    assert [v.id for v in shares.list_shares(sharing, dept.actor("clerk"), state="expired")] == [
        issued.view.id
    ]
    assert shares.list_shares(sharing, dept.actor("clerk"), state="active") == []
    with pytest.raises(ShareError, match="is expired"):
        shares.new_code(sharing, dept.actor("clerk"), issued.view.id)


def test_a_session_is_for_its_own_link_only(ctx, dept, sharing, rec):
    clerk = dept.actor("clerk")
    one = shares.create_share(sharing, clerk, recordings=[rec], **RECIPIENT)
    two = shares.create_share(sharing, clerk, recordings=[rec], **RECIPIENT)
    secret = opened(sharing, one)
    with pytest.raises(SessionRequired):
        share_access.recipient_view(sharing, two.token, secret)
    with pytest.raises(SessionRequired):
        share_access.open_item(sharing, two.token, secret, 1)
    share_access.end_session(sharing, one.token, secret)
    with pytest.raises(SessionRequired):
        share_access.recipient_view(sharing, one.token, secret)


def test_disabling_the_creator_revokes_their_shares(ctx, dept, sharing, rec):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    with transaction(ctx.sessions) as s:
        update_user(s, dept.actor("admin"), "clerk", active=False)
    with pytest.raises(ShareRefused, match="revoked"):
        share_access.check_link(sharing, issued.token)
    view = shares.get_share(sharing, dept.actor("auditor"), issued.view.id)
    assert view.state is ShareState.REVOKED
    assert view.share.revoke_reason == "its creator's account was disabled"
    (revoked,) = audits(ctx, "disclosure:share:revoke", object_id=rec)
    assert revoked.actor == "admin"


# --- who may ---------------------------------------------------------------------------------


def test_only_records_clerks_share_and_auditors_read(ctx, dept, sharing, rec, clips, vault):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    for name in ("o1", "sgt_a", "auditor", "external", "admin"):
        actor = dept.actor(name)
        with pytest.raises(PermissionDenied, match="disclosure:share:manage"):
            shares.create_share(sharing, actor, recordings=[rec], **RECIPIENT)
        with pytest.raises(PermissionDenied):
            shares.revoke_share(sharing, actor, issued.view.id, "x")
        with pytest.raises(PermissionDenied):
            shares.new_code(sharing, actor, issued.view.id)
    assert len(audits(ctx, "access:request:denied", actor="auditor")) == 3
    for name in ("o1", "external", "admin"):
        with pytest.raises(PermissionDenied, match="disclosure:share:view"):
            shares.list_shares(sharing, dept.actor(name))
    assert [v.id for v in shares.list_shares(sharing, dept.actor("auditor"))] == [issued.view.id]
    # A records clerk shares only what they may see: not a confidential recording.
    secret_rec = ev.ingest_file(
        vault, dept.actor("clerk"), clips(64), officer_badge="1001", category="Sexual Assault"
    ).id
    with pytest.raises(ShareError, match=f"no recording {secret_rec} that you may see"):
        shares.create_share(sharing, dept.actor("clerk"), recordings=[secret_rec], **RECIPIENT)


def test_purged_recordings_are_no_longer_served(ctx, dept, sharing, rec):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    secret = opened(sharing, issued)
    with transaction(ctx.sessions) as s:
        from bodycam.evidence.models import Recording

        s.get(Recording, rec).purged_at = utcnow()
    with pytest.raises(ShareError, match="no longer available"):
        share_access.open_item(sharing, issued.token, secret, 1)
    with ctx.sessions() as s:
        assert s.scalars(select(ShareItem.watermark_sha256)).all() == [None]


# --- the command line --------------------------------------------------------------------


def test_share_commands_end_to_end(home, ctx, clips):
    from bodycam.auth.models import User

    with ctx.sessions() as s:
        clerk = actor_for(s.scalars(select(User).where(User.username == "clerk")).one(), "test")
    rid = ev.ingest_file(
        ev.Vault(ctx.sessions, ctx.store), clerk, clips(65), officer_badge="501"
    ).id
    made = home(
        "share", "create", "--recording", rid, "--recipient", "Dan Defender", "--org", "PD Office",
        "--email", "dan@pd.example.org", "--role", "defense", "--days", "7", "--allow-download",
        "--case", "26-555", "--base-url", "https://bwc.example.org/",
        user="clerk",
    )  # fmt: skip
    lines = made.stdout.splitlines()
    assert (
        lines[0].startswith("Share ") and "defense" in lines[0] and "view and download" in lines[0]
    )
    link = next(x for x in lines if x.startswith("Link: "))[6:]
    code = next(x for x in lines if x.startswith("Code: "))[6:]
    assert link.startswith("https://bwc.example.org/s/") and len(code) == 11
    share_id = lines[0].split()[1]

    sharing = Sharing(ev.Vault(ctx.sessions, ctx.store), ctx.settings.resolved_home / "shares")
    token = link.rsplit("/", 1)[1]
    secret = share_access.exchange_code(sharing, token, code).secret
    assert [j.status for j in run_watermarks(ctx)] == ["done"]  # queued by the command
    b"".join(share_access.open_item(sharing, token, secret, 1, "bytes=0-9").chunks())

    listed = [
        json.loads(x) for x in home("share", "list", "--json", user="aud").stdout.splitlines()
    ]
    assert [(x["id"], x["state"], x["counts"]["streamed"]) for x in listed] == [
        (share_id, "active", 1)
    ]
    shown = home("share", "show", share_id, user="aud").stdout
    assert "Dan Defender, PD Office <dan@pd.example.org> (defense)" in shown
    assert "opened" in shown and "streamed item 1" in shown and "case: 26-555" in shown
    denied = home("share", "revoke", share_id, "--reason", "x", user="aud", check=3)
    assert "disclosure:share:manage" in denied.stderr
    new = home("share", "new-code", share_id, user="clerk").stdout
    assert "New code for share" in new
    home("share", "revoke", share_id, "--reason", "plea entered", user="clerk")
    assert '"state": "revoked"' in home("share", "show", share_id, "--json", user="clerk").stdout
    again = home("share", "revoke", share_id, "--reason", "again", user="clerk", check=1)
    assert "already revoked" in again.stderr and "Traceback" not in again.stderr


def test_each_item_is_watermarked_by_a_job_queued_with_the_share(ctx, dept, sharing, rec):
    import time

    from bodycam.disclosure import watermark_cache
    from bodycam.jobs.runner import InProcessRunner

    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    with ctx.sessions() as s:
        (job,) = s.scalars(select(Job).where(Job.kind == "share.watermark")).all()
    assert job.key == f"share.watermark:{issued.view.id}:1" and job.status == "queued"
    assert job.params == {"share_id": issued.view.id, "position": 1}
    assert job.created_by == dept.users["clerk"].id
    secret = opened(sharing, issued)
    assert share_access.recipient_view(sharing, issued.token, secret).preparing
    # The in-process runner of `bodycam serve` takes it (the web process renders nothing).
    runner = InProcessRunner(ctx, poll_s=0.05)
    runner.start()
    sha = issued.view.items[0].sha256
    try:
        deadline = time.monotonic() + 60
        while watermark_cache.ready(sharing.folder, issued.view.id, 1, sha) is None:
            assert time.monotonic() < deadline, "the watermark job did not finish"
            time.sleep(0.05)
    finally:
        runner.stop()
    later = share_access.recipient_view(sharing, issued.token, secret)
    assert not later.preparing and later.items[0].ready
    stream = share_access.open_item(sharing, issued.token, secret, 1, "bytes=0-0")
    made = watermark_cache.ready(sharing.folder, issued.view.id, 1, sha)
    assert b"".join(stream.chunks()) and stream.sha256 == made.sha256
    with ctx.sessions() as s:
        assert s.scalars(select(ShareItem.watermark_sha256)).all() == [made.sha256]

    # A copy swept away (or made on another host) is queued again by the next view.
    watermark_cache.discard(sharing.folder, issued.view.id)
    again = share_access.recipient_view(sharing, issued.token, secret)
    assert again.preparing and again.items[0].percent == 0
    share_access.recipient_view(sharing, issued.token, secret)  # one job at a time per item
    (second,) = run_watermarks(ctx)
    assert second.key.startswith(f"share.watermark:{issued.view.id}:1:")
    # A new render of the same item (x264's threads make the bytes differ, not the picture).
    remade = watermark_cache.ready(sharing.folder, issued.view.id, 1, sha)
    assert remade is not None and second.result["sha256"] == remade.sha256
    progress = share_access.recipient_progress(sharing, issued.token, secret)
    assert [(p.ready, p.percent, p.problem) for p in progress] == [(True, None, None)]


def test_a_copy_that_cannot_be_watermarked_says_so(ctx, dept, sharing, rec, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    copy = _copy(ctx, dept, rec, broken, CopyStatus.APPROVED)
    issued = shares.create_share(sharing, dept.actor("clerk"), copies=[copy], **RECIPIENT)
    secret = opened(sharing, issued)
    (job,) = run_watermarks(ctx)
    assert job.status == "quarantined" and "Item 1 cannot be prepared" in job.error
    page = share_access.recipient_view(sharing, issued.token, secret)
    assert not page.preparing and not page.items[0].ready
    assert page.items[0].problem and "cannot be prepared" in page.items[0].problem
    with pytest.raises(ShareError, match="cannot be prepared"):
        share_access.open_item(sharing, issued.token, secret, 1)
    assert run_watermarks(ctx) == []  # not queued again by the view: a person must look


def test_a_share_revoked_before_its_job_ran_gets_nothing_rendered(ctx, dept, sharing, rec):
    issued = shares.create_share(sharing, dept.actor("clerk"), recordings=[rec], **RECIPIENT)
    shares.revoke_share(sharing, dept.actor("clerk"), issued.view.id, "sent to the wrong DA")
    (job,) = run_watermarks(ctx)
    assert job.status == "done" and job.result["skipped"] == "revoked"
    assert not (sharing.folder / issued.view.id).exists()


def test_a_complainant_is_never_shared_with_directly(ctx, dept, sharing, rec):
    """Only a supervised session (bodycam.policy.complainant) shares with a complainant."""
    clerk = dept.actor("clerk")
    who = RECIPIENT | {"recipient_role": "complainant"}
    with pytest.raises(ShareError, match="supervised viewing session"):
        shares.create_share(sharing, clerk, recordings=[rec], **who)
    with pytest.raises(ShareError, match="with the complainant only"):
        shares.create_share(sharing, clerk, recordings=[rec], complainant_session=True, **RECIPIENT)
    assert "complainant" not in shares.DIRECT_ROLES
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Share)) == 0
