"""Server-rendered pages: login, recordings list and search, detail, edit, audit trail."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.audit.trail import recording_trail
from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence import service
from bodycam.evidence.access import has_any_view
from bodycam.evidence.service import EvidenceError, NotFound, SearchQuery, Vault
from bodycam.web.deps import SESSION_COOKIE, CtxDep, PageActor, client_ip

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(
    directory=str(__import__("pathlib").Path(__file__).parent / "templates")
)


def _local(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


def render(
    request: Request, name: str, actor: Actor | None, status: int = 200, **data: Any
) -> HTMLResponse:
    """Render a template with the common page context."""
    ctx = request.app.state.ctx
    tz = ctx.settings.timezone
    return templates.TemplateResponse(
        request,
        name,
        {
            "actor": actor,
            "agency": ctx.settings.agency_name,
            "tz": tz,
            "local": lambda v: _local(v, tz),
            "csrf": getattr(request.state, "csrf", None),
            "P": Permission,
            **data,
        },
        status_code=status,
    )


def _login_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.ctx.settings.resolved_secret_key(), "login")


def _check_csrf(request: Request, token: str) -> bool:
    expected = getattr(request.state, "csrf", None) or ""
    return bool(expected) and hmac.compare_digest(expected, token)


FORM_EXPIRED = "The form expired; reload the page and try again."
"""What a form with a missing or stale CSRF token is answered."""


def form_action(
    request: Request,
    csrf: str,
    action: Callable[[], object],
    *,
    refused: type[Exception],
    show: Callable[[str], Response],
    done: str,
) -> Response:
    """Check the form's token, act, and go on to ``done`` (303); or ``show`` the sentence
    saying why not: the expired form, or the ``refused`` error the action raised."""
    if not _check_csrf(request, csrf):
        return show(FORM_EXPIRED)
    try:
        action()
    except refused as exc:
        return show(str(exc))
    return RedirectResponse(done, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in page."""
    token = _login_serializer(request).dumps("login")
    return render(request, "login.html", None, login_token=token, next=next, error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    ctx: CtxDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    login_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password, start a new session (new id) and go on."""
    try:
        _login_serializer(request).loads(login_token, max_age=3600)
    except BadSignature:
        return render(
            request,
            "login.html",
            None,
            400,
            login_token=_login_serializer(request).dumps("login"),
            next=next,
            error="The form expired; please sign in again.",
        )
    with transaction(ctx.sessions) as s:
        user = auth_service.authenticate_password(s, username, password, "web", client_ip(request))
        sid = auth_service.start_session(s, user, client_ip(request))[0] if user else None
    if sid is None:
        token = _login_serializer(request).dumps("login")
        return render(
            request,
            "login.html",
            None,
            401,
            login_token=token,
            next=next,
            error="The user name or password is wrong.",
        )
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        sid,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return resp


@router.post("/logout")
def logout(
    request: Request, ctx: CtxDep, actor: PageActor, csrf: Annotated[str, Form()] = ""
) -> Response:
    """End the session."""
    if _check_csrf(request, csrf):
        with transaction(ctx.sessions) as s:
            auth_service.end_session(s, request.cookies.get(SESSION_COOKIE, ""))
            record(s, actor, AuditAction.LOGOUT, "user", actor.user_id)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/", response_model=None)
def home(request: Request, actor: PageActor) -> Response:
    """Each role's landing page: footage roles go to recordings, others see what they may do."""
    if has_any_view(actor):
        return RedirectResponse("/recordings", status_code=303)
    return render(
        request, "home.html", actor, permissions=sorted(p.value for p in actor.permissions)
    )


def _when(value: str | None, tz: str, *, whole_day: bool = False) -> datetime | None:
    """A form date (or date and time) in the agency's time zone; ``whole_day``: a bare date
    means the end of that day (the search's "to" includes its day)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EvidenceError(f"{value!r} is not a date (use YYYY-MM-DD).") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    if whole_day and len(value.strip()) == 10:
        when += timedelta(days=1)
    return when


@router.get("/recordings", response_class=HTMLResponse)
def recordings(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    officer: str | None = None,
    start_from: Annotated[str | None, Query(alias="from")] = None,
    start_to: Annotated[str | None, Query(alias="to")] = None,
    category: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """Search the recordings the user may see."""
    form = {
        "officer": officer or "",
        "from": start_from or "",
        "to": start_to or "",
        "category": category or "",
        "tag": tag or "",
        "q": q or "",
    }
    error = None
    try:
        tz = ctx.settings.timezone
        query = SearchQuery(
            officer or None,
            _when(start_from, tz),
            _when(start_to, tz, whole_day=True),
            category or None,
            tag or None,
            q or None,
            None,
            page,
            25,
        )
        res = service.search(Vault.from_context(ctx), actor, query)
    except EvidenceError as exc:
        error, res = str(exc), None
    with ctx.sessions() as s:
        cats = [c.name for c in service.list_categories(s)]
    qs = urlencode({k: v for k, v in form.items() if v})
    return render(
        request, "recordings.html", actor, res=res, form=form, categories=cats, error=error, qs=qs
    )


@router.get("/recordings/{recording_id}", response_class=HTMLResponse)
def recording_detail(
    request: Request, recording_id: str, ctx: CtxDep, actor: PageActor, saved: str | None = None
) -> HTMLResponse:
    """A recording: player, metadata, edit form and history."""
    v = service.view(Vault.from_context(ctx), actor, recording_id)
    with ctx.sessions() as s:
        cats = [c.name for c in service.list_categories(s)]
    return render(request, "recording.html", actor, v=v, categories=cats, saved=saved, error=None)


@router.post("/recordings/{recording_id}/edit", response_class=HTMLResponse)
def recording_edit(
    request: Request,
    recording_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    title: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    cases: Annotated[str, Form()] = "",
) -> Response:
    """Save metadata changes from the detail page."""
    if not _check_csrf(request, csrf):
        raise EvidenceError(FORM_EXPIRED)
    changes = {
        "title": title,
        "notes": notes,
        "category": category,
        "tags": [t for t in tags.split(",")],
        "cases": [c for c in cases.split(",")],
    }
    try:
        service.edit(Vault.from_context(ctx), actor, recording_id, changes)
    except NotFound:
        raise  # refused (and audited once) by the service: no second look at the recording
    except EvidenceError as exc:
        v = service.view(Vault.from_context(ctx), actor, recording_id)
        with ctx.sessions() as s:
            cats = [c.name for c in service.list_categories(s)]
        return render(
            request, "recording.html", actor, 422, v=v, categories=cats, saved=None, error=str(exc)
        )
    return RedirectResponse(f"/recordings/{recording_id}?saved=1", status_code=303)


@router.get("/recordings/{recording_id}/audit", response_class=HTMLResponse)
def recording_audit(
    request: Request, recording_id: str, ctx: CtxDep, actor: PageActor
) -> HTMLResponse:
    """A recording's audit trail (auditors)."""
    trail = recording_trail(ctx.sessions, actor, recording_id)
    return render(request, "audit.html", actor, trail=trail, recording_id=recording_id)
