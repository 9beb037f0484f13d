"""Signing in with TOTP (optional and required), enrolment at /account, the code step,
lockout on the sign-in page, cookie flags, and API tokens made and revoked at /account."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from bodycam.auth import mfa, service
from bodycam.auth.models import WebSession
from bodycam.auth.service import sha256_hex
from bodycam.db import transaction
from bodycam.web.deps import SESSION_COOKIE
from tests.web.conftest import PASSWORD, count_audit
from tests.web.test_pages import hidden, sign_in, text_of, use_session

LOCKED = "Too many failed sign-ins: this user name is locked."


@pytest.fixture
def passwords(ctx, dept) -> None:
    with transaction(ctx.sessions) as s:
        for name in ("o1", "o2", "equipment", "clerk"):
            service.set_password(s, dept.actor("admin"), name, PASSWORD)


@pytest.fixture
def required(ctx):
    ctx.settings = ctx.settings.model_copy(update={"mfa": "required"})
    return ctx


def enrol(ctx, dept, name: str) -> tuple[str, list[str]]:
    actor = dept.actor(name)
    with transaction(ctx.sessions) as s:
        secret = mfa.begin_enrolment(s, actor, "PD").secret
    with transaction(ctx.sessions) as s:
        codes = mfa.confirm_enrolment(s, actor, pyotp.TOTP(secret).at(time.time() - 30))
    return secret, codes


def live_session(ctx, sid: str) -> WebSession | None:
    with ctx.sessions() as s:
        ws = s.get(WebSession, sha256_hex(sid))
        return ws if ws is not None and ws.revoked_at is None else None


# --- optional (development default) ----------------------------------------------------------


def test_optional_a_password_signs_in_and_the_account_page_offers_totp(client, ctx, passwords):
    assert ctx.settings.mfa == "optional"
    resp = sign_in(client, "o1", PASSWORD)
    assert resp.status_code == 303 and resp.headers["location"] == "/recordings"
    page = client.get("/account")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = text_of(page.text)
    assert "You sign in with a password only." in text and "set up an authenticator" in text
    assert 'href="/account/mfa"' in page.text


def test_enrolling_at_the_account_page_then_signing_in_asks_for_the_code(
    client, ctx, dept, passwords
):
    sign_in(client, "o1", PASSWORD)
    form = client.get("/account/mfa")
    assert form.status_code == 200 and "<svg" in form.text
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", form.text).group(1)
    bad = client.post("/account/mfa", data={"code": "12", "csrf": hidden(form.text, "csrf")})
    assert bad.status_code == 422 and "The code is wrong" in text_of(bad.text)
    done = client.post(
        "/account/mfa",
        data={"code": pyotp.TOTP(secret).now(), "csrf": hidden(form.text, "csrf"), "next": "/"},
    )
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    codes = re.findall(r"<code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>", done.text)
    assert len(codes) == 10
    client.cookies.clear()
    step = sign_in(client, "o1", PASSWORD)
    assert step.status_code == 303 and step.headers["location"] == "/login/code?next=%2Frecordings"
    pending = step.cookies[SESSION_COOKIE]
    assert client.get("/recordings").headers["location"].startswith("/login?next=")
    assert client.get("/login").headers["location"] == "/login/code?next=%2F"
    assert client.get("/api/v1/me").status_code == 401  # half signed in is not signed in
    page = client.get(step.headers["location"])
    assert page.status_code == 200 and 'name="code"' in page.text
    csrf = hidden(page.text, "csrf")
    wrong = client.post("/login/code", data={"code": "000000", "csrf": csrf, "next": "/recordings"})
    assert wrong.status_code == 401 and "The code is wrong" in text_of(wrong.text)
    ok = client.post(
        "/login/code",
        data={"code": pyotp.TOTP(secret).at(time.time() + 30), "csrf": csrf, "next": "/recordings"},
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/recordings"
    full = ok.cookies[SESSION_COOKIE]
    assert full != pending and live_session(ctx, pending) is None  # a new id after the code
    assert live_session(ctx, full).factor == "totp"
    assert client.get("/recordings").status_code == 200
    with ctx.sessions() as s:
        rows = s.scalars(select(WebSession).where(WebSession.id_sha256 == sha256_hex(full))).all()
    assert [r.stage for r in rows] == ["full"]
    assert count_audit(ctx, "auth:login:password", actor="o1") == 1
    assert count_audit(ctx, "auth:login:failure", actor="o1") == 1

    # A recovery code signs in once.
    for expect in (303, 401):
        client.cookies.clear()
        sign_in(client, "o1", PASSWORD)
        page = client.get("/login/code")
        resp = client.post(
            "/login/code", data={"code": codes[0], "csrf": hidden(page.text, "csrf"), "next": "/"}
        )
        assert resp.status_code == expect


def test_cancel_ends_a_half_done_sign_in(client, ctx, dept, passwords):
    enrol(ctx, dept, "o2")
    step = sign_in(client, "o2", PASSWORD)
    pending = step.cookies[SESSION_COOKIE]
    page = client.get("/login/code")
    out = client.post("/login/cancel", data={"csrf": hidden(page.text, "csrf")})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert live_session(ctx, pending) is None
    assert client.get("/login/code").headers["location"] == "/login"


# --- required (production default) -----------------------------------------------------------


def test_required_sends_a_footage_role_to_enrol_before_anything_else(
    client, ctx, dept, passwords, required
):
    step = sign_in(client, "o1", PASSWORD)
    assert step.status_code == 303
    assert step.headers["location"] == "/account/mfa?next=%2Frecordings"
    enrol_sid = step.cookies[SESSION_COOKIE]
    for path in ("/recordings", "/account", "/"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert client.get("/login").headers["location"] == "/account/mfa?next=%2F"
    assert client.get("/api/v1/me").status_code == 401
    form = client.get("/account/mfa", params={"next": "/recordings"})
    text = text_of(form.text)
    assert "this agency requires a second factor" in text and "Sign out" not in text
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", form.text).group(1)
    done = client.post(
        "/account/mfa",
        data={
            "code": pyotp.TOTP(secret).now(),
            "csrf": hidden(form.text, "csrf"),
            "next": "/recordings",
        },
    )
    assert done.status_code == 200 and "Your authenticator is set up." in text_of(done.text)
    full = done.cookies[SESSION_COOKIE]
    assert full != enrol_sid and live_session(ctx, enrol_sid) is None
    assert client.get("/recordings").status_code == 200
    assert count_audit(ctx, "auth:mfa:enrol", actor="o1") == 1
    assert count_audit(ctx, "auth:login:success", actor="o1") == 1


def test_required_leaves_roles_without_footage_on_a_password(client, ctx, passwords, required):
    resp = sign_in(client, "equipment", PASSWORD, "/fleet")
    assert resp.status_code == 303 and resp.headers["location"] == "/fleet"
    assert client.get("/account").status_code == 200


def test_required_demotes_an_existing_session_and_refuses_footage_tokens(
    client, ctx, creds, dept, required
):
    use_session(client, creds, "clerk")  # made before MFA was required
    r = client.get("/recordings")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/login").headers["location"].startswith("/account/mfa")
    client.cookies.clear()
    with transaction(ctx.sessions) as s:
        viewer = service.issue_token(s, dept.actor("o1"), "viewer", 30)
        ingest = service.issue_token(s, dept.actor("o1"), "dock", 30, ["evidence:recording:ingest"])
    bearer = lambda t: {"Authorization": f"Bearer {t.secret}"}  # noqa: E731
    assert client.get("/api/v1/me", headers=bearer(viewer)).status_code == 401
    me = client.get("/api/v1/me", headers=bearer(ingest))
    assert me.status_code == 200 and me.json()["permissions"] == ["evidence:recording:ingest"]
    enrol(ctx, dept, "o1")
    assert client.get("/api/v1/me", headers=bearer(viewer)).status_code == 200


# --- lockout on the page ---------------------------------------------------------------------


def test_the_page_says_locked_the_same_way_for_real_and_made_up_names(client, ctx, passwords):
    answers = {}
    for name in ("o1", "ghost"):
        codes = [sign_in(client, name, "not the password at all").status_code for _ in range(5)]
        assert codes == [401] * 4 + [423], name
        again = sign_in(client, name, PASSWORD)
        answers[name] = (again.status_code, text_of(again.text).split(LOCKED)[1][:80])
        assert LOCKED in text_of(again.text)
        assert SESSION_COOKIE not in again.headers.get("set-cookie", "")
    assert answers["o1"] == answers["ghost"]
    assert "or try again in 30 minutes" in answers["o1"][1]


def test_wrong_codes_lock_and_end_the_half_done_sign_in(client, ctx, dept, passwords):
    enrol(ctx, dept, "o2")
    sign_in(client, "o2", PASSWORD)
    pending = client.cookies[SESSION_COOKIE]
    for i in range(5):
        page = client.get("/login/code")
        resp = client.post(
            "/login/code", data={"code": "000000", "csrf": hidden(page.text, "csrf")}
        )
        assert resp.status_code == (423 if i == 4 else 401)
    assert LOCKED in text_of(resp.text) and live_session(ctx, pending) is None
    assert count_audit(ctx, "auth:login:lockout", actor="o2") == 1


# --- cookies and headers ---------------------------------------------------------------------


def test_cookie_flags_follow_the_setting(client, ctx, passwords):
    plain = sign_in(client, "o1", PASSWORD).headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=strict" in plain and "Secure" not in plain
    assert "strict-transport-security" not in client.get("/login").headers
    ctx.settings = ctx.settings.model_copy(update={"cookie_secure": "always"})
    client.cookies.clear()
    secure = sign_in(client, "o1", PASSWORD).headers["set-cookie"]
    assert "Secure" in secure and "HttpOnly" in secure
    assert client.get("/login").headers["strict-transport-security"] == "max-age=31536000"


# --- API tokens at /account ------------------------------------------------------------------


def test_tokens_are_made_with_scopes_used_and_revoked_at_the_account_page(client, ctx, creds, dept):
    csrf = use_session(client, creds, "clerk")
    none = client.post("/account/tokens", data={"name": "x", "days": "30", "csrf": "wrong"})
    assert none.status_code == 400
    too_long = client.post("/account/tokens", data={"name": "x", "days": "999", "csrf": csrf})
    assert too_long.status_code == 422 and "1 to 365 days" in text_of(too_long.text)
    made = client.post(
        "/account/tokens",
        data={
            "name": "search script",
            "days": "30",
            "scope": ["evidence:recording:view_any"],
            "csrf": csrf,
        },
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = re.search(r"<code>(bcm_[^<]+)</code>", made.text).group(1)
    client.cookies.clear()
    api = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=api).json()["permissions"] == [
        "evidence:recording:view_any"
    ]
    assert client.get("/api/v1/recordings", headers=api).status_code == 200
    assert count_audit(ctx, "auth:token:use", actor="clerk") == 2  # one per request
    csrf = use_session(client, creds, "clerk")
    page = client.get("/account")
    [token_id] = re.findall(r'action="/account/tokens/([0-9A-Z]+)/revoke"', page.text)
    other = use_session(client, creds, "o1")  # someone else's token: not found, not revoked
    assert (
        client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": other}).status_code == 404
    )
    csrf = use_session(client, creds, "clerk")
    gone = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf})
    assert gone.status_code == 303 and gone.headers["location"] == "/account?done=revoked"
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=api).status_code == 401
    assert count_audit(ctx, "auth:token:revoke", actor="clerk") == 1
