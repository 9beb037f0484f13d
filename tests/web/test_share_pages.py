"""External share pages: the clerk makes a share in the browser, the recipient opens it with
the code, waits while the ``share.watermark`` job makes the watermarked copy (the page
says how far it is; a play before answers 503), plays it (ranged), is refused a download
it was not given; lockout, revocation and expiry answer 403 with a plain page, every
attempt audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.disclosure import shares
from bodycam.disclosure.share_models import Share
from bodycam.evidence.service import Vault
from bodycam.ids import utcnow
from bodycam.web.share_pages import SHARE_COOKIE
from tests.disclosure.test_shares import run_watermarks
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session

PEOPLE = {"recipient": "Dana Defender", "email": "dana@pd.example.org", "role": "defense"}


def _make(client, creds, recording_id: str, **extra: str):
    """The clerk shares ``recording_id`` through the form; the answering page."""
    csrf = use_session(client, creds, "clerk")
    form = {"csrf": csrf, "recordings": recording_id, "org": "Public Defender", **PEOPLE, **extra}
    return client.post("/shares", data=form)


def _link_and_code(page: str) -> tuple[str, str]:
    link = re.search(r"<dt>Link</dt><dd><code>http://testserver(/s/[^<]+)</code>", page)
    code = re.search(r"<dt>Code</dt><dd><code>([0-9-]+)</code>", page)
    assert link and code, page
    return link.group(1), code.group(1)


def _open(client, path: str, code: str):
    client.cookies.clear()
    return client.post(path, data={"code": code})


@pytest.fixture
def rec(ingest):
    return ingest(91, "1001", category="Traffic Stop", title="o1 stop")


def test_a_share_made_in_the_browser_is_opened_with_its_code(client, ctx, creds, rec):
    use_session(client, creds, "clerk")
    form = client.get("/shares/new", params={"recording": rec.id})
    assert form.status_code == 200 and rec.id in form.text and 'name="download"' in form.text
    made = _make(client, creds, rec.id, case="26-7")
    assert made.status_code == 200 and made.headers["cache-control"] == "private, no-store"
    assert "shown only on this page" in made.text
    path, code = _link_and_code(made.text)
    token = path.rsplit("/", 1)[1]

    client.cookies.clear()
    asked = client.get(path)
    assert asked.status_code == 200 and 'name="code"' in asked.text
    assert "This link was sent to Dana Defender" in text_of(asked.text)
    assert "Sign out" not in asked.text and "/recordings" not in asked.text  # no staff pages

    wrong = _open(client, path, "111-111-111")
    assert wrong.status_code == 401 and "4 more wrong code(s)" in text_of(wrong.text)
    assert SHARE_COOKIE not in wrong.headers.get("set-cookie", "")

    ok = _open(client, path, code)
    assert ok.status_code == 303 and ok.headers["location"] == path
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith(f"{SHARE_COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and f"Path={path}" in cookie

    page = client.get(path)
    assert page.status_code == 200, page.text
    assert "Footage shared with Dana Defender" in page.text and "Case</dt><dd>26-7" in page.text
    assert (
        'Preparing, <span class="pct">0</span>%' in page.text
        and "/static/share-progress.js" in page.text
    )
    assert f'data-src="{path}/items/1/video"' in page.text and f' src="{path}' not in page.text
    assert "/download" not in page.text and "view only" in page.text
    assert count_audit(ctx, "disclosure:recipient:view", actor="Dana Defender") == 1
    early = client.get(f"{path}/items/1/video", headers={"Range": "bytes=0-99"})
    assert early.status_code == 503 and early.headers["retry-after"] == "3"
    assert "Item 1 is being prepared (0% done)" in text_of(early.text)
    progress = client.get(f"{path}/progress")
    assert progress.status_code == 200 and progress.headers["cache-control"] == "private, no-store"
    assert progress.json() == {
        "items": [{"position": 1, "ready": False, "percent": 0, "problem": None}]
    }
    assert [j.status for j in run_watermarks(ctx)] == ["done"]  # queued when it was made
    assert client.get(f"{path}/progress").json()["items"][0]["ready"] is True
    page = client.get(path)
    assert f'src="{path}/items/1/video"' in page.text and "share-progress.js" not in page.text
    assert count_audit(ctx, "disclosure:recipient:view", actor="Dana Defender") == 2

    video = client.get(f"{path}/items/1/video", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206, video.text
    assert video.headers["content-type"] == "video/mp4" and len(video.content) == 100
    assert video.headers["content-range"].startswith("bytes 0-99/")
    assert video.headers["accept-ranges"] == "bytes"
    whole = client.get(f"{path}/items/1/video")
    assert whole.status_code == 200 and whole.content[:100] == video.content
    assert whole.content != rec.path.read_bytes()  # the watermarked copy, not the original
    assert count_audit(ctx, "disclosure:recipient:stream", object_id=rec.id) == 2

    refused = client.get(f"{path}/items/1/download")
    assert refused.status_code == 403 and "for viewing only" in refused.text
    with ctx.sessions() as s:
        (rec_audit,) = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "disclosure:recipient:refused")
        ).all()
    assert rec_audit.details["reason"] == "download not allowed"
    assert client.get(f"{path}/items/2/video").status_code == 404

    closed = client.post(f"{path}/close")
    assert closed.status_code == 303
    client.cookies.clear()
    assert 'name="code"' in client.get(path).text  # the session ended: the code again
    assert len(token) >= 43


def test_downloads_when_allowed_are_watermarked_files(client, ctx, creds, rec):
    path, code = _link_and_code(_make(client, creds, rec.id, download="1").text)
    _open(client, path, code)
    run_watermarks(ctx)
    page = client.get(path)
    assert f'href="{path}/items/1/download"' in page.text
    got = client.get(f"{path}/items/1/download")
    assert got.status_code == 200 and "attachment;" in got.headers["content-disposition"]
    assert got.content != rec.path.read_bytes()
    assert count_audit(ctx, "disclosure:recipient:download", object_id=rec.id) == 1


def test_the_clerk_revokes_and_the_link_answers_403(client, ctx, creds, rec):
    path, code = _link_and_code(_make(client, creds, rec.id).text)
    _open(client, path, code)
    run_watermarks(ctx)
    assert client.get(f"{path}/items/1/video").status_code == 200
    recipient_jar = dict(client.cookies)
    with ctx.sessions() as s:
        share_id = s.scalars(select(Share.id)).one()

    auditor_csrf = use_session(client, creds, "auditor")
    assert client.get(f"/shares/{share_id}").status_code == 200  # auditors read
    denied = client.post(f"/shares/{share_id}/revoke", data={"csrf": auditor_csrf, "reason": "x"})
    assert denied.status_code == 403

    csrf = use_session(client, creds, "clerk")
    detail = client.get(f"/shares/{share_id}")
    assert "opened" in detail.text and "streamed" in detail.text and "Revoke now" in detail.text
    done = client.post(f"/shares/{share_id}/revoke", data={"csrf": csrf, "reason": "plea"})
    assert (
        done.status_code == 303 and done.headers["location"] == f"/shares/{share_id}?done=revoked"
    )
    after = client.get(done.headers["location"])
    assert "revoked" in after.text and "Revoke now" not in after.text

    client.cookies.clear()
    gone = client.get(path)
    assert gone.status_code == 403 and "This link was revoked" in gone.text
    assert "Sign out" not in gone.text
    client.cookies.update(recipient_jar)
    assert client.get(f"{path}/items/1/video").status_code == 403
    assert client.get(f"{path}/progress").status_code == 403
    assert count_audit(ctx, "disclosure:recipient:refused", object_id=share_id) == 3


def test_an_expired_link_answers_403_and_is_audited(client, ctx, dept, rec):
    sharing = shares.Sharing(Vault(ctx.sessions, ctx.store), ctx.settings.resolved_home / "s")
    issued = shares.create_share(
        sharing,
        dept.actor("clerk"),
        recordings=[rec.id],
        recipient_name="Dana Defender",
        recipient_email="dana@pd.example.org",
        recipient_role="defense",
        days=5,
        now=utcnow() - timedelta(days=6),
    )
    resp = client.get(issued.path)
    assert resp.status_code == 403 and "This link has expired." in resp.text
    code = client.post(issued.path, data={"code": issued.code})
    assert code.status_code == 403
    assert count_audit(ctx, "disclosure:recipient:refused", object_id=issued.view.id) == 2
    assert client.get("/s/no-such-link").status_code == 404


def test_five_wrong_codes_lock_and_a_new_code_unlocks(client, ctx, creds, rec):
    path, code = _link_and_code(_make(client, creds, rec.id).text)
    answers = [_open(client, path, "000-000-000").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 403]
    locked = _open(client, path, code)
    assert locked.status_code == 403 and "locked after too many wrong codes" in locked.text
    with ctx.sessions() as s:
        share_id = s.scalars(select(Share.id)).one()
    csrf = use_session(client, creds, "clerk")
    assert "locked" in client.get("/shares", params={"state": "locked"}).text
    fresh = client.post(f"/shares/{share_id}/code", data={"csrf": csrf})
    assert fresh.status_code == 200
    new = re.search(r"<dt>Code</dt><dd><code>([0-9-]+)</code>", fresh.text)
    assert new
    assert _open(client, path, new.group(1)).status_code == 303
    assert count_audit(ctx, "disclosure:recipient:code_failure", object_id=share_id) == 5


def test_only_records_clerks_make_shares(client, ctx, creds, rec):
    for name in ("o1", "sgt_a", "auditor", "admin", "external"):
        csrf = use_session(client, creds, name)
        assert client.get("/shares/new").status_code == 403
        form = {"csrf": csrf, "recordings": rec.id, **PEOPLE}
        assert client.post("/shares", data=form).status_code == 403
    for name, status in (("auditor", 200), ("clerk", 200), ("o1", 403), ("admin", 403)):
        use_session(client, creds, name)
        assert client.get("/shares").status_code == status
    client.cookies.clear()
    assert client.get("/shares").status_code == 303  # to the sign-in page
    bad = _make(client, creds, rec.id, role="judge")
    assert bad.status_code == 422 and "Unknown recipient role" in text_of(bad.text)
    stale = client.post("/shares", data={"csrf": "forged", "recordings": rec.id, **PEOPLE})
    assert stale.status_code == 422 and "The form expired" in stale.text
    with ctx.sessions() as s:
        assert s.scalars(select(Share)).all() == []
