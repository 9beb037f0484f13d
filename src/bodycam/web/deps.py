"""Request-scoped dependencies: the context, and the acting user from a cookie or token."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from bodycam.auth import mfa
from bodycam.auth.actor import Actor
from bodycam.auth.login import LoginPolicy
from bodycam.auth.models import User, WebSession
from bodycam.auth.service import actor_for, actor_for_token, resume_session
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction

SESSION_COOKIE = "bodycam_session"


class LoginRequired(Exception):
    """A page needs a signed-in user (redirects to /login, which sends a user who still
    has to give a code or enrol in TOTP on to that step)."""


def get_ctx(request: Request) -> Context:
    """The app's context."""
    ctx: Context = request.app.state.ctx
    return ctx


CtxDep = Annotated[Context, Depends(get_ctx)]


def client_ip(request: Request) -> str:
    """The client's address (uvicorn applies X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else ""


def login_policy(settings: Settings) -> LoginPolicy:
    """The deployment's sign-in rules."""
    return LoginPolicy.from_settings(settings)


def _timeouts(settings: Settings) -> tuple[timedelta, timedelta]:
    return (
        timedelta(minutes=settings.session_idle_minutes),
        timedelta(hours=settings.session_absolute_hours),
    )


def resolve_actor(request: Request, ctx: Context) -> tuple[Actor, str | None] | None:
    """The caller from a bearer token (audited, one record per request) or a full web session.

    Under ``mfa = required``, a session or token whose permissions reach footage is refused
    while its user has no TOTP authenticator: the user is sent to enrol first.
    """
    ip = client_ip(request)
    auth = request.headers.get("authorization", "")
    st = ctx.settings
    with transaction(ctx.sessions) as s:
        if auth.lower().startswith("bearer "):
            actor = actor_for_token(
                s, auth[7:].strip(), "api", ip, f"{request.method} {request.url.path}"
            )
            if actor is None:
                return None
            if (
                st.mfa == "required"
                and mfa.permissions_need_mfa(actor.permissions)
                and not mfa.is_enrolled(s, actor.user_id)
            ):
                return None
            return actor, None
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            found = resume_session(s, sid, *_timeouts(st))
            if found:
                user, ws = found
                if mfa.must_enrol(s, user, st.mfa):
                    ws.stage = "enrol"  # e.g. MFA became required, or was reset
                    return None
                return actor_for(user, "web", ip), ws.csrf_token
    return None


def api_actor(request: Request, ctx: CtxDep) -> Actor:
    """The API caller (bearer token, or a page session with a CSRF header for writes)."""
    found = resolve_actor(request, ctx)
    if found is None:
        raise HTTPException(
            401, "Sign in or send a valid API token.", headers={"WWW-Authenticate": "Bearer"}
        )
    actor, csrf = found
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    sent = request.headers.get("x-csrf-token", "")
    if csrf is not None and unsafe and not hmac.compare_digest(sent, csrf):
        raise HTTPException(403, "Missing or wrong X-CSRF-Token header for a session request.")
    return actor


def page_actor(request: Request, ctx: CtxDep) -> Actor:
    """The signed-in page user; redirects to the login page when there is none."""
    found = resolve_actor(request, ctx)
    if found is None:
        raise LoginRequired()
    request.state.csrf = found[1]
    return found[0]


ApiActor = Annotated[Actor, Depends(api_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]


@dataclass(frozen=True)
class PartialSession:
    """A web session that has not finished signing in (or any live session, for the account
    pages that an enrolling user may use): its user, its row and its cookie value."""

    user: User
    session: WebSession
    sid: str


def partial_session(
    request: Request, ctx: Context, stages: tuple[str, ...]
) -> PartialSession | None:
    """The caller's live session in one of ``stages`` (timeouts applied), or None."""
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    with transaction(ctx.sessions) as s:
        found = resume_session(s, sid, *_timeouts(ctx.settings), stages=stages)
        if found is None:
            return None
        user, ws = found
        if ws.stage == "full" and mfa.must_enrol(s, user, ctx.settings.mfa):
            ws.stage = "enrol"
        return PartialSession(user, ws, sid)


def set_session_cookie(response: Response, request: Request, settings: Settings, sid: str) -> None:
    """Set the session cookie: HttpOnly, SameSite=Strict, Secure over https (or always)."""
    secure = settings.cookie_secure == "always" or (
        settings.cookie_secure == "auto" and request.url.scheme == "https"
    )
    response.set_cookie(
        SESSION_COOKIE, sid, httponly=True, samesite="strict", secure=secure, path="/"
    )
