"""Request-scoped dependencies: the context, and the acting user from a cookie or token."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bodycam.auth.actor import Actor
from bodycam.auth.service import actor_for, resume_session, user_for_token
from bodycam.context import Context
from bodycam.db import transaction

SESSION_COOKIE = "bodycam_session"


class LoginRequired(Exception):
    """A page needs a signed-in user (redirects to /login)."""


def get_ctx(request: Request) -> Context:
    """The app's context."""
    ctx: Context = request.app.state.ctx
    return ctx


CtxDep = Annotated[Context, Depends(get_ctx)]


def client_ip(request: Request) -> str:
    """The client's address (uvicorn applies X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else ""


def resolve_actor(request: Request, ctx: Context) -> tuple[Actor, str | None] | None:
    ip = client_ip(request)
    auth = request.headers.get("authorization", "")
    with transaction(ctx.sessions) as s:
        if auth.lower().startswith("bearer "):
            user = user_for_token(s, auth[7:].strip())
            return (actor_for(user, "api", ip), None) if user else None
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            st = ctx.settings
            found = resume_session(
                s,
                sid,
                timedelta(minutes=st.session_idle_minutes),
                timedelta(hours=st.session_absolute_hours),
            )
            if found:
                user, ws = found
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
