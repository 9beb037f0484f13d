"""The signed-in user's own account: the TOTP code step of signing in, TOTP enrolment with
recovery codes, and API tokens (create with scopes and expiry, list, revoke).

Pages that show a secret once (recovery codes, a new token) are answered with
``Cache-Control: no-store`` so no browser or proxy keeps them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth import login as login_steps
from bodycam.auth import mfa
from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor
from bodycam.auth.models import ApiToken, User, WebSession
from bodycam.auth.service import AuthError, actor_for
from bodycam.db import transaction
from bodycam.web.deps import (
    SESSION_COOKIE,
    CtxDep,
    LoginRequired,
    PageActor,
    PartialSession,
    client_ip,
    login_policy,
    partial_session,
    set_session_cookie,
)
from bodycam.web.pages import (
    _check_csrf,
    _login_page,
    locked_message,
    render,
    safe_next,
)

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


def _no_store(resp: Response) -> Response:
    resp.headers.update(NO_STORE)
    return resp


# --- the code step of signing in ---------------------------------------------------------------


def _code_page(
    request: Request, partial: PartialSession, next: str, status: int, error: str | None
) -> Response:
    request.state.csrf = partial.session.csrf_token
    return _no_store(
        render(request, "login_code.html", None, status, next=safe_next(next), error=error)
    )


@router.get("/login/code", response_class=HTMLResponse)
def login_code_form(request: Request, ctx: CtxDep, next: str = "/") -> Response:
    """Ask a user whose password was right for their TOTP code (or a recovery code)."""
    partial = partial_session(request, ctx, ("mfa",))
    if partial is None:
        return RedirectResponse("/login", status_code=303)
    return _code_page(request, partial, next, 200, None)


@router.post("/login/code", response_class=HTMLResponse)
def login_code(
    request: Request,
    ctx: CtxDep,
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the code: a full session with a new id on success; wrong codes count towards the
    lockout, and a locked name ends the half-done sign-in."""
    partial = partial_session(request, ctx, ("mfa",))
    if partial is None:
        return RedirectResponse("/login", status_code=303)
    request.state.csrf = partial.session.csrf_token
    if not _check_csrf(request, csrf):
        return _code_page(request, partial, next, 400, "The form expired; type the code again.")
    ip = client_ip(request)
    with transaction(ctx.sessions) as s:
        user = s.get(User, partial.user.id)
        ws = s.get(WebSession, partial.session.id_sha256)
        if user is None or ws is None:
            return RedirectResponse("/login", status_code=303)
        result = login_steps.code_step(s, user, code, "web", ip, login_policy(ctx.settings))
        sid = None
        if result.outcome is login_steps.Outcome.OK:
            sid = auth_service.step_up_session(s, ws, user, ip, factor=result.factor)[0]
        elif result.outcome is login_steps.Outcome.LOCKED:
            auth_service.end_session(s, partial.sid)
    if result.outcome is login_steps.Outcome.LOCKED:
        page = _login_page(request, 423, next, locked_message(ctx.settings.login_lockout_minutes))
        page.delete_cookie(SESSION_COOKIE, path="/")
        return page
    if sid is None:
        return _code_page(request, partial, next, 401, "The code is wrong; type the code again.")
    resp = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(resp, request, ctx.settings, sid)
    return resp


@router.post("/login/cancel")
def login_cancel(request: Request, ctx: CtxDep, csrf: Annotated[str, Form()] = "") -> Response:
    """Give up a half-done sign-in (code or enrolment step): its session ends."""
    partial = partial_session(request, ctx, ("mfa", "enrol"))
    if partial is not None and partial.session.stage != "full":
        request.state.csrf = partial.session.csrf_token
        if _check_csrf(request, csrf):
            with transaction(ctx.sessions) as s:
                auth_service.end_session(s, partial.sid)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


# --- TOTP enrolment ---------------------------------------------------------------------------


def _enrolling(request: Request, ctx: CtxDep) -> tuple[Actor, PartialSession]:
    """The caller of an enrolment page: a full session, or one sent here to enrol first."""
    partial = partial_session(request, ctx, ("full", "enrol"))
    if partial is None:
        raise LoginRequired()
    request.state.csrf = partial.session.csrf_token
    return actor_for(partial.user, "web", client_ip(request)), partial


def _mfa_page(
    request: Request,
    ctx: CtxDep,
    actor: Actor,
    partial: PartialSession,
    next: str,
    status: int = 200,
    error: str | None = None,
) -> Response:
    enrolling = partial.session.stage == "enrol"
    with transaction(ctx.sessions) as s:
        st = mfa.status(s, actor.user_id)
        enrolment = None if st.enrolled else mfa.begin_enrolment(s, actor, ctx.settings.agency_name)
    return _no_store(
        render(
            request,
            "account_mfa.html",
            None if enrolling else actor,
            status,
            status_=st,
            enrolment=enrolment,
            qr=enrolment.qr_svg() if enrolment else "",
            enrolling=enrolling,
            next=safe_next(next),
            error=error,
        )
    )


@router.get("/account/mfa", response_class=HTMLResponse)
def mfa_form(request: Request, ctx: CtxDep, next: str = "/") -> Response:
    """Enrol a TOTP authenticator: a QR code made here and the secret as text."""
    actor, partial = _enrolling(request, ctx)
    return _mfa_page(request, ctx, actor, partial, next)


@router.post("/account/mfa", response_class=HTMLResponse)
def mfa_confirm(
    request: Request,
    ctx: CtxDep,
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Confirm the authenticator with its first code; the recovery codes are shown once. A user
    who was sent here to enrol is then signed in (a new session id)."""
    actor, partial = _enrolling(request, ctx)
    if not _check_csrf(request, csrf):
        return _mfa_page(request, ctx, actor, partial, next, 400, "The form expired; try again.")
    ip = client_ip(request)
    sid = None
    try:
        with transaction(ctx.sessions) as s:
            codes = mfa.confirm_enrolment(s, actor, code)
            if partial.session.stage == "enrol":
                ws = s.get(WebSession, partial.session.id_sha256)
                user = s.get(User, actor.user_id)
                if ws is None or user is None:
                    raise AuthError("The sign-in ended; sign in again.")
                sid, csrf_new = auth_service.step_up_session(s, ws, user, ip, factor="enrolment")
                record(
                    s, actor, AuditAction.LOGIN_SUCCESS, "user", actor.user_id, {"factor": "totp"}
                )
                request.state.csrf = csrf_new
    except AuthError as exc:
        return _mfa_page(request, ctx, actor, partial, next, 422, str(exc))
    resp = render(
        request, "account_codes.html", actor, codes=codes, next=safe_next(next), enrolled=True
    )
    if sid is not None:
        set_session_cookie(resp, request, ctx.settings, sid)
    return _no_store(resp)


@router.post("/account/mfa/recovery-codes", response_class=HTMLResponse)
def recovery_codes(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Replace one's recovery codes with ten new ones (needs a current TOTP code)."""
    if not _check_csrf(request, csrf):
        return _account_page(request, ctx, actor, 400, error="The form expired; try again.")
    try:
        with transaction(ctx.sessions) as s:
            codes = mfa.new_recovery_codes(s, actor, code)
    except AuthError as exc:
        return _account_page(request, ctx, actor, 422, error=str(exc))
    return _no_store(
        render(request, "account_codes.html", actor, codes=codes, next="/account", enrolled=False)
    )


# --- the account page and API tokens ----------------------------------------------------------


def _account_page(
    request: Request,
    ctx: CtxDep,
    actor: Actor,
    status: int = 200,
    *,
    error: str | None = None,
    done: str = "",
) -> Response:
    with ctx.sessions() as s:
        st = mfa.status(s, actor.user_id)
        tokens = auth_service.list_tokens(s, actor)
        sessions = list(
            s.scalars(
                select(WebSession)
                .where(
                    WebSession.user_id == actor.user_id,
                    WebSession.revoked_at.is_(None),
                    WebSession.stage == "full",
                )
                .order_by(WebSession.created_at.desc())
                .limit(20)
            )
        )
    return _no_store(
        render(
            request,
            "account.html",
            actor,
            status,
            mfa_status=st,
            mfa_needed=mfa.role_needs_mfa(actor.role),
            mfa_policy=ctx.settings.mfa,
            tokens=tokens,
            web_sessions=sessions,
            scopes=sorted(p.value for p in actor.permissions),
            max_days=ctx.settings.token_max_days,
            idle=ctx.settings.session_idle_minutes,
            absolute=ctx.settings.session_absolute_hours,
            error=error,
            done=done,
        )
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, ctx: CtxDep, actor: PageActor, done: str = "") -> Response:
    """One's own account: second factor, recovery codes, API tokens, open sessions."""
    return _account_page(request, ctx, actor, done=done)


@router.post("/account/tokens", response_class=HTMLResponse)
def token_create(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    name: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "90",
    scope: Annotated[list[str] | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Issue an API token of one's own, with the scopes ticked and an expiry; the secret is
    shown once."""
    if not _check_csrf(request, csrf):
        return _account_page(request, ctx, actor, 400, error="The form expired; try again.")
    try:
        n_days = int(days)
    except ValueError:
        return _account_page(request, ctx, actor, 422, error=f"{days!r} is not a number of days.")
    try:
        with transaction(ctx.sessions) as s:
            issued = auth_service.issue_token(
                s, actor, name, n_days, scope or None, max_days=ctx.settings.token_max_days
            )
    except AuthError as exc:
        return _account_page(request, ctx, actor, 422, error=str(exc))
    return _no_store(render(request, "account_token.html", actor, issued=issued, token_name=name))


@router.post("/account/tokens/{token_id}/revoke")
def token_revoke(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    token_id: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Revoke one of one's own API tokens."""
    if not _check_csrf(request, csrf):
        return _account_page(request, ctx, actor, 400, error="The form expired; try again.")
    with ctx.sessions() as s:
        tok = s.get(ApiToken, token_id)
        if tok is None or tok.user_id != actor.user_id:  # others' tokens: not found here
            return _account_page(request, ctx, actor, 404, error="There is no such token of yours.")
    try:
        with transaction(ctx.sessions) as s:
            auth_service.revoke_token(s, actor, token_id)
    except AuthError as exc:
        return _account_page(request, ctx, actor, 422, error=str(exc))
    return RedirectResponse(f"/account?{urlencode({'done': 'revoked'})}", status_code=303)
