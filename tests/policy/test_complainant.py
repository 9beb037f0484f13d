"""Complainant viewing: supervised, time-limited, watermarked, audited; refused when the
policy says never. Both engines."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.disclosure import share_access
from bodycam.disclosure.share_models import Share
from bodycam.disclosure.shares import ShareRefused, Sharing
from bodycam.evidence import service as ev
from bodycam.ids import utcnow
from bodycam.policy.complainant import arrange_session, end_session, list_sessions
from bodycam.policy.document import PolicyError

WHO = {
    "complaint_number": "IA-2026-031",
    "complainant_name": "Pat Complainant",
    "complainant_email": "pat@example.org",
    "supervisor": "sgt_a",
}


@pytest.fixture
def sharing(ctx) -> Sharing:
    return Sharing.from_context(ctx)


@pytest.fixture
def rec(vault, dept, clips, scheduled) -> str:
    return ev.ingest_file(vault, dept.actor("clerk"), clips(91), officer_badge="1001").id


def test_a_session_is_a_watermarked_share_that_ends_with_the_session(
    ctx, dept, apply, sharing, rec, clips
):
    apply(session_minutes="30")
    now = utcnow()
    done = arrange_session(sharing, dept.actor("clerk"), recordings=[rec], now=now, **WHO)
    v = done.session
    assert (v.supervisor, v.arranged_by, v.policy_version) == ("sgt_a", "clerk", 1)
    assert v.ends_at == now + timedelta(minutes=30) and v.state(now) == "open"
    with ctx.sessions() as s:
        share = s.get(Share, v.share_id)
        assert share.recipient_role == "complainant" and not share.allow_download
        assert share.recipient_name == "Pat Complainant" and share.expires_at == v.ends_at
        arranged = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "policy:complainant:arrange")
        ).one()
    assert arranged.details["supervisor"] == "sgt_a" and arranged.details["items"] == [rec]
    # The supervisor opens it with the code; what plays is watermarked (the band is dark).
    secret = share_access.exchange_code(sharing, done.token, done.code, now=now).secret
    from tests.disclosure.test_shares import frames, run_watermarks

    run_watermarks(ctx)
    out = sharing.folder.parent / "complainant.mp4"
    stream = share_access.open_item(sharing, done.token, secret, 1, now=now)
    out.write_bytes(b"".join(stream.chunks()))
    source, marked = frames(clips(91)), frames(out)
    assert len(marked) == len(source) > 0
    bottom = source[0].shape[0] - 8
    assert np.abs(source[0][bottom:] - marked[0][bottom:]).mean() > 40.0
    # Past its minutes the link is refused.
    with pytest.raises(ShareRefused):
        share_access.check_link(sharing, done.token, now=v.ends_at + timedelta(seconds=1))
    assert list_sessions(sharing, dept.actor("clerk"))[0].state(v.ends_at) == "expired"


def test_ending_early_revokes_the_share(ctx, dept, apply, sharing, rec):
    apply()
    done = arrange_session(sharing, dept.actor("clerk"), recordings=[rec], **WHO)
    ended = end_session(sharing, dept.actor("clerk"), done.session.id, "complainant left")
    assert ended.state(utcnow()) == "ended" and ended.end_reason == "complainant left"
    with pytest.raises(ShareRefused):
        share_access.check_link(sharing, done.token)
    with pytest.raises(PolicyError, match="is over already"):
        end_session(sharing, dept.actor("clerk"), done.session.id, "again")


def test_the_policy_decides_whether_and_how_long(ctx, dept, apply, sharing, rec):
    clerk = dept.actor("clerk")
    with pytest.raises(PolicyError, match="no camera policy is in force"):
        arrange_session(sharing, clerk, recordings=[rec], **WHO)
    apply(version='"v1"', viewing='"never"')
    with pytest.raises(PolicyError, match="does not let complainants view footage"):
        arrange_session(sharing, clerk, recordings=[rec], **WHO)
    apply(version='"v2"', effective_from="2026-01-02", redacted_only="true")
    with pytest.raises(PolicyError, match="approved redacted copies only"):
        arrange_session(sharing, clerk, recordings=[rec], **WHO)
    apply(version='"v3"', effective_from="2026-01-03", session_minutes="20")
    with pytest.raises(PolicyError, match="5 to 20 minutes"):
        arrange_session(sharing, clerk, recordings=[rec], minutes=45, **WHO)
    with pytest.raises(PolicyError, match="'o1' is not an active supervisor"):
        arrange_session(sharing, clerk, recordings=[rec], **(WHO | {"supervisor": "o1"}))
    with pytest.raises(PermissionDenied):
        arrange_session(sharing, dept.actor("sgt_a"), recordings=[rec], **WHO)
    with ctx.sessions() as s:
        assert s.scalars(select(Share)).first() is None  # nothing was shared
