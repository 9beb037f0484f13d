"""Server-rendered pages: sign-in, sessions, search, the player, edits, audit trail, headers."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bodycam.auth.models import WebSession
from bodycam.auth.service import set_password, sha256_hex
from bodycam.db import transaction
from bodycam.evidence.models import Category, Recording
from bodycam.web.deps import SESSION_COOKIE
from tests.web.conftest import PASSWORD, count_audit

FORM_EXPIRED = "The form expired; reload the page and try again."


def hidden(page: str, name: str) -> str:
    """The value of the hidden input ``name`` of a page."""
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no hidden input {name}"
    return html.unescape(m.group(1))


def text_of(page: str) -> str:
    """The page's visible text, tags dropped and entities decoded (for sentences)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def o1_password(ctx, dept) -> str:
    with transaction(ctx.sessions) as s:
        set_password(s, dept.actor("admin"), "o1", PASSWORD)
    return PASSWORD


def sign_in(client: TestClient, username: str, password: str, next_: str = "/recordings"):
    form = client.get("/login", params={"next": next_})
    assert form.status_code == 200
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_token": hidden(form.text, "login_token"),
            "next": hidden(form.text, "next"),
        },
    )


def use_session(client: TestClient, creds, name: str) -> str:
    """Put ``name``'s session cookie in the client's jar; return its csrf token."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, creds.session(name)[0])
    return creds.csrf(name)


# --- sign-in and sessions --------------------------------------------------------------------


def test_login_page_renders(client):
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/login">' in page.text
    assert 'type="password"' in page.text and hidden(page.text, "login_token")
    assert "Sign out" not in page.text


def test_wrong_password_is_refused_and_audited(client, ctx, o1_password):
    for user, reason in (
        ("o1", "bad password"),
        ("nobody", "unknown user"),
        ("o2", "bad password"),
    ):
        before = count_audit(ctx, "auth:login:failure", actor=user)
        resp = sign_in(client, user, "not the password at all")
        assert resp.status_code == 401
        assert "The user name or password is wrong." in resp.text
        assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")
        assert count_audit(ctx, "auth:login:failure", actor=user) == before + 1  # committed
    with ctx.sessions() as s:
        assert s.scalars(select(WebSession)).all() == []
    stale = client.post(
        "/login",
        data={"username": "o1", "password": o1_password, "login_token": "forged", "next": "/"},
    )
    assert stale.status_code == 400 and "The form expired; please sign in again." in stale.text


def test_right_password_starts_a_fresh_session_each_time(client, ctx, o1_password):
    sids = []
    for _ in range(2):
        resp = sign_in(client, "o1", o1_password)
        assert resp.status_code == 303 and resp.headers["location"] == "/recordings"
        cookie = resp.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        sids.append(resp.cookies[SESSION_COOKIE])
    assert sids[0] != sids[1]
    assert count_audit(ctx, "auth:login:success", actor="o1") == 2
    with ctx.sessions() as s:
        stored = set(s.scalars(select(WebSession.id_sha256)))
    assert stored == {sha256_hex(sid) for sid in sids}  # only hashes are stored
    assert client.get("/recordings").status_code == 200  # the jar holds the newest cookie


def test_login_goes_back_only_to_a_local_page(client, o1_password):
    assert sign_in(client, "o1", o1_password, "/recordings?q=dui").headers["location"] == (
        "/recordings?q=dui"
    )
    for asked in (
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/%2F/evil.example",
    ):
        where = sign_in(client, "o1", o1_password, asked).headers["location"]
        # A browser resolves it on this origin: one leading slash, no backslash or control.
        assert where.startswith("/") and not where.startswith("//"), asked
        assert "\\" not in where and all(ord(ch) > 32 for ch in where), asked


def test_logout_revokes_the_session(client, ctx, o1_password):
    assert sign_in(client, "o1", o1_password).status_code == 303
    old = client.cookies[SESSION_COOKIE]
    page = client.get("/recordings")
    csrf = hidden(page.text, "csrf")
    # Without the form's token nothing is revoked (no cross-site sign-out).
    client.post("/logout", data={"csrf": "wrong"})
    client.cookies.set(SESSION_COOKIE, old)
    assert client.get("/recordings").status_code == 200
    out = client.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
    assert count_audit(ctx, "auth:login:logout", actor="o1") == 1
    client.cookies.set(SESSION_COOKIE, old)  # a copy of the old cookie no longer works
    again = client.get("/recordings")
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    api = client.get("/api/v1/recordings")
    assert api.status_code == 401


def test_pages_need_a_session(client, ingest):
    rec = ingest(60, "1001")
    for path in ("/", "/recordings", f"/recordings/{rec.id}", f"/recordings/{rec.id}/audit"):
        resp = client.get(path)
        assert resp.status_code == 303, path
        assert resp.headers["location"] == f"/login?next={path}"
    edit = client.post(f"/recordings/{rec.id}/edit", data={"csrf": "x", "title": "Hacked"})
    assert edit.status_code == 303 and edit.headers["location"].startswith("/login")
    client.cookies.set(SESSION_COOKIE, "not-a-session")
    assert client.get("/recordings").status_code == 303


def test_sign_in_returns_to_the_page_asked_for(client, o1_password):
    asked = client.get("/recordings", params={"q": "a&b", "tag": "dui"})
    assert asked.headers["location"] == "/login?next=/recordings%3Fq%3Da%2526b%26tag%3Ddui"
    form = client.get(asked.headers["location"])
    assert hidden(form.text, "next") == "/recordings?q=a%26b&tag=dui"
    resp = sign_in(client, "o1", o1_password, hidden(form.text, "next"))
    assert resp.headers["location"] == "/recordings?q=a%26b&tag=dui"


# --- recordings -------------------------------------------------------------------------------


def test_list_and_search_in_the_agency_time_zone(client, creds, ingest):
    at = datetime(2026, 3, 3, 21, 0, tzinfo=UTC)  # 16:00 EST on March 3rd
    a = ingest(61, "1001", title="Stop on Main", recorded_start=at)
    b = ingest(
        62,
        "1001",
        title="Noise complaint",
        tags=["noise"],
        recorded_start=datetime(2026, 3, 4, 3, 0, tzinfo=UTC),
    )  # 22:00 EST, March 3rd
    c = ingest(
        63,
        "1001",
        title="Crash on Elm",
        category="Traffic Stop",
        recorded_start=datetime(2026, 7, 4, 16, 0, tzinfo=UTC),
    )  # 12:00 EDT
    use_session(client, creds, "clerk")
    page = client.get("/recordings")
    assert page.status_code == 200
    for title in ("Stop on Main", "Noise complaint", "Crash on Elm"):
        assert title in page.text
    assert "3 recordings" in page.text
    assert "2026-03-03 16:00:00 EST" in page.text and "2026-07-04 12:00:00 EDT" in page.text
    assert f'href="/recordings/{a.id}"' in page.text

    def titles(**params) -> set[str]:
        resp = client.get("/recordings", params=params)
        assert resp.status_code == 200
        return {t for t in ("Stop on Main", "Noise complaint", "Crash on Elm") if t in resp.text}

    assert titles(q="main") == {"Stop on Main"}
    assert titles(tag="noise") == {"Noise complaint"}
    assert titles(category="Traffic Stop") == {"Crash on Elm"}
    assert titles(officer="1002") == set()
    # Dates are the agency's calendar days, and "to" includes its day.
    assert titles(**{"from": "2026-03-03", "to": "2026-03-03"}) == {
        "Stop on Main",
        "Noise complaint",
    }
    assert titles(**{"from": "2026-03-04"}) == {"Crash on Elm"}
    bad = client.get("/recordings", params={"from": "March"})
    assert bad.status_code == 200 and "&#39;March&#39; is not a date (use YYYY-MM-DD)." in bad.text
    assert b.id and c.id

    # The officer sees only their own; another officer sees none of them.
    use_session(client, creds, "o2")
    assert "No recordings match." in client.get("/recordings").text


def test_pagination_links_keep_the_search(client, ctx, creds, dept):
    with transaction(ctx.sessions) as s:
        cat = s.scalars(select(Category)).first()
        for i in range(27):
            s.add(
                Recording(
                    sha256=f"{i:064x}",
                    size_bytes=1,
                    original_filename=f"f{i}.mp4",
                    officer_id=dept.users["o1"].id,
                    category_id=cat.id,
                    title=f"Shift #5 & more {i}",
                    recorded_start=datetime(2026, 3, 1, tzinfo=UTC),
                    recorded_end=datetime(2026, 3, 1, 0, 1, tzinfo=UTC),
                    ingested_by=dept.users["clerk"].id,
                    container="mp4",
                    video_codec="h264",
                    duration_s=60.0,
                    width=160,
                    height=96,
                    fps=10.0,
                    has_audio=False,
                    frame_count=600,
                )
            )
    use_session(client, creds, "clerk")
    first = client.get("/recordings", params={"q": "#5 & more"})
    assert "27 recordings" in first.text and "page 1 of 2" in first.text
    link = re.search(r'href="(/recordings\?[^"]*page=2)"', first.text)
    assert link, "no link to the next page"
    second = client.get(html.unescape(link.group(1)))
    assert "27 recordings" in second.text and "page 2 of 2" in second.text


def test_recording_page_plays_the_content_url(client, ctx, creds, ingest):
    rec = ingest(
        64, "1001", title="Stop on Main", recorded_start=datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    )
    use_session(client, creds, "o1")
    page = client.get(f"/recordings/{rec.id}")
    assert page.status_code == 200
    video = re.search(r"<video[^>]*>", page.text)
    assert video and f'src="/api/v1/recordings/{rec.id}/content"' in video.group(0)
    assert "2026-01-05 09:00:00 EST" in page.text
    assert rec.sha256 in page.text
    assert "Edit metadata" not in page.text and "Download original" not in page.text
    assert "Audit trail" not in page.text
    assert count_audit(ctx, "evidence:recording:view", object_id=rec.id, via="web") == 1
    # The player's request carries only the cookie, as a browser's would.
    played = client.get(f"/api/v1/recordings/{rec.id}/content", headers={"Range": "bytes=0-9"})
    assert played.status_code == 206 and played.content == rec.path.read_bytes()[:10]


def test_edit_form_changes_the_title_and_keeps_history(client, ctx, creds, ingest):
    rec = ingest(65, "1002", title="Old title")
    use_session(client, creds, "sgt_a")
    page = client.get(f"/recordings/{rec.id}")
    assert "Edit metadata" in page.text
    form = {
        "csrf": hidden(page.text, "csrf"),
        "title": "New title",
        "category": "Traffic Stop",
        "tags": "dui, arrest",
        "cases": "",
        "notes": "Seen by the sergeant.",
    }
    resp = client.post(f"/recordings/{rec.id}/edit", data=form)
    assert resp.status_code == 303 and resp.headers["location"] == f"/recordings/{rec.id}?saved=1"
    after = client.get(resp.headers["location"])
    assert "<h1>New title</h1>" in after.text and "Changes saved" in after.text
    history = after.text.split("<h2>History</h2>")[1]
    assert re.search(r"<td>title</td><td>Old title</td><td>New title</td>", history)
    assert re.search(r"<td>category</td><td>Uncategorized</td><td>Traffic Stop</td>", history)
    assert count_audit(ctx, "evidence:recording:edit", object_id=rec.id, via="web") == 3

    bad = client.post(f"/recordings/{rec.id}/edit", data=form | {"title": "  "})
    assert bad.status_code == 422 and "The title cannot be empty." in bad.text

    # A sergeant of another squad: refused as not found, and audited exactly once.
    csrf_b = use_session(client, creds, "sgt_b")
    refused = client.post(f"/recordings/{rec.id}/edit", data=form | {"csrf": csrf_b})
    assert refused.status_code == 404
    assert count_audit(ctx, "access:request:denied", actor="sgt_b", object_id=rec.id) == 1


def test_edit_without_the_csrf_token_changes_nothing(client, ctx, creds, ingest):
    rec = ingest(66, "1002", title="Old title")
    use_session(client, creds, "sgt_a")
    for form, sentence in [
        ({"title": "Forged"}, "Invalid request: csrf: Field required."),
        ({"title": "Forged", "csrf": "wrong"}, FORM_EXPIRED),
        ({"title": "Forged", "csrf": ""}, "Invalid request: csrf: Field required."),
    ]:
        resp = client.post(f"/recordings/{rec.id}/edit", data=form)
        assert resp.status_code == 422
        assert resp.headers["content-type"].startswith("text/html")
        assert sentence in text_of(resp.text)
    with ctx.sessions() as s:
        assert s.get(Recording, rec.id).title == "Old title"
    assert count_audit(ctx, "evidence:recording:edit") == 0
    # Another user's csrf token does not work either.
    other = creds.csrf("clerk")
    resp = client.post(f"/recordings/{rec.id}/edit", data={"title": "Forged", "csrf": other})
    assert resp.status_code == 422


def test_audit_trail_page_for_auditors_only(client, ctx, creds, ingest):
    rec = ingest(67, "1001")
    use_session(client, creds, "auditor")
    page = client.get(f"/recordings/{rec.id}/audit")
    assert page.status_code == 200
    assert "evidence:recording:ingest" in page.text and "clerk (records_clerk)" in page.text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T", page.text)
    detail = client.get(f"/recordings/{rec.id}")
    assert f'href="/recordings/{rec.id}/audit"' in detail.text

    use_session(client, creds, "clerk")
    refused = client.get(f"/recordings/{rec.id}/audit")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert (
        "User clerk (records_clerk) may not read audit trails: the role lacks the permission "
        "audit:log:view." in text_of(refused.text)
    )
    assert "Traceback" not in refused.text
    assert count_audit(ctx, "access:request:denied", actor="clerk", object_id=rec.id) == 1


def test_errors_are_pages_with_sentences(client, creds):
    use_session(client, creds, "clerk")
    missing = client.get("/recordings/01NOSUCHRECORDING000000000")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "There is no recording 01NOSUCHRECORDING000000000 that you may see." in missing.text
    unknown = client.get("/no/such/page")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    use_session(client, creds, "equipment")
    denied = client.get("/recordings")
    assert denied.status_code == 403
    assert "User equipment (equipment) may not view recordings." in denied.text


def test_security_headers_on_pages_api_and_errors(client, creds):
    use_session(client, creds, "clerk")
    for resp in (
        client.get("/login"),
        client.get("/recordings"),
        client.get("/api/v1/health"),
        client.get("/recordings/nope"),
        client.get("/static/style.css"),
    ):
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["x-content-type-options"] == "nosniff"
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["referrer-policy"] == "no-referrer"


def test_a_long_audit_trail_is_paginated(client, ctx, creds, ingest):
    rec = ingest(68, "1001")
    use_session(client, creds, "auditor")
    for _ in range(105):  # each view is one more record in the recording's trail
        assert client.get(f"/recordings/{rec.id}").status_code == 200
    first = client.get(f"/recordings/{rec.id}/audit")
    rows = first.text.count("<tr><td>")
    assert rows == 100 and "page 1 of 2" in first.text
    assert f'href="/recordings/{rec.id}/audit?page=2"' in first.text
    second = client.get(f"/recordings/{rec.id}/audit?page=2")
    assert "page 2 of 2" in second.text and 6 <= second.text.count("<tr><td>") < 100
