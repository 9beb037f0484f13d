"""Server-rendered pages: login, recordings list and search, detail, edit, audit trail."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import pass_context

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.audit.trail import recording_trail
from bodycam.auth import login as login_steps
from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence import service
from bodycam.evidence.service import EvidenceError, NotFound, SearchQuery, Vault
from bodycam.web import menu
from bodycam.web.deps import (
    SESSION_COOKIE,
    CtxDep,
    PageActor,
    client_ip,
    login_policy,
    partial_session,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(
    directory=str(__import__("pathlib").Path(__file__).parent / "templates")
)
T = TypeVar("T")


def _local(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


@pass_context
def _local_filter(context: Any, value: datetime | None) -> str:
    """``{{ when | local }}``: a time in the agency's time zone (as ``local(when)``)."""
    return _local(value, context.get("tz") or "UTC")


@pass_context
def _local_date_filter(context: Any, value: datetime | None) -> str:
    """``{{ when | local_date }}``: the day (YYYY-MM-DD) in the agency's time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(context.get("tz") or "UTC")).date().isoformat()


templates.env.filters["local"] = _local_filter
templates.env.filters["local_date"] = _local_date_filter
templates.env.globals |= {
    "menu_for": menu.menu_for,
    "account_for": menu.account_for,
    "footer_links": menu.footer_links,
}


@dataclass
class Pager(Generic[T]):
    """One page of a list that a service returns whole."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def paginate(items: Sequence[T], page: int, per_page: int = 50) -> Pager[T]:
    """Page ``page`` (from 1; past the end: the last) of ``items``."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    return Pager(list(items[(page - 1) * per_page : page * per_page]), len(items), page, per_page)


def has_page(app: Any, path: str) -> bool:
    """Whether ``app`` serves GET ``path`` (pages other work adds may not be there yet)."""
    found: set[str] | None = getattr(app.state, "page_paths", None)
    if found is None:
        from fastapi.routing import iter_route_contexts

        found = {
            str(rc.path)
            for rc in iter_route_contexts(app.routes)
            if "GET" in (getattr(rc.original_route, "methods", None) or ())
        }
        app.state.page_paths = found
    return path in found


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


def safe_next(target: str) -> str:
    """``target`` when it is a page of this site, else ``/`` (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


LOCKED_MESSAGE = (
    "Too many failed sign-ins: this user name is locked. An administrator can unlock it"
)
"""What a locked user name is answered (the same for names that are no user)."""


def locked_message(minutes: int) -> str:
    """The sentence for a locked user name under a lockout of ``minutes`` (0: admin only)."""
    if minutes:
        return f"{LOCKED_MESSAGE}, or try again in {minutes} minutes."
    return f"{LOCKED_MESSAGE}."


def _login_page(request: Request, status: int, next: str, error: str | None) -> HTMLResponse:
    token = _login_serializer(request).dumps("login")
    return render(request, "login.html", None, status, login_token=token, next=next, error=error)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: CtxDep, next: str = "/") -> Response:
    """The sign-in page; a sign-in half done goes on to its code or to TOTP enrolment."""
    partial = partial_session(request, ctx, ("mfa", "enrol"))
    if partial is not None:
        step = "/login/code" if partial.session.stage == "mfa" else "/account/mfa"
        return RedirectResponse(f"{step}?{urlencode({'next': safe_next(next)})}", 303)
    return _login_page(request, 200, next, None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    ctx: CtxDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    login_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password (lockout applies), start a new session (new id) and go on: to the
    page asked for, to the code step, or to TOTP enrolment."""
    try:
        _login_serializer(request).loads(login_token, max_age=3600)
    except BadSignature:
        return _login_page(request, 400, next, "The form expired; please sign in again.")
    ip = client_ip(request)
    with transaction(ctx.sessions) as s:
        result = login_steps.password_step(
            s, username, password, "web", ip, login_policy(ctx.settings)
        )
        sid = None
        if result.user is not None:
            sid = auth_service.start_session(s, result.user, ip, stage=result.next.value)[0]
    if result.outcome is login_steps.Outcome.LOCKED:
        message = locked_message(ctx.settings.login_lockout_minutes)
        return _login_page(request, 423, next, message)
    if sid is None:
        return _login_page(request, 401, next, "The user name or password is wrong.")
    target = safe_next(next)
    if result.next is login_steps.Next.MFA:
        target = f"/login/code?{urlencode({'next': target})}"
    elif result.next is login_steps.Next.ENROL:
        target = f"/account/mfa?{urlencode({'next': target})}"
    resp = RedirectResponse(target, status_code=303)
    set_session_cookie(resp, request, ctx.settings, sid)
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
def home(request: Request, ctx: CtxDep, actor: PageActor) -> Response:
    """Each role's home: its own figures (read through the services, so only what the
    role may see) and the links to its work."""
    from bodycam.web.homes import home_data

    part, data = home_data(ctx, actor, request.app)
    return render(request, "home.html", actor, part=part, d=data)


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
    from bodycam.evidence.jobs import poster_data_uri  # jobs: the poster-frame job's JPEG

    return render(
        request,
        "recording.html",
        actor,
        v=v,
        categories=cats,
        saved=saved,
        error=None,
        poster=poster_data_uri(ctx.store, v.recording.sha256),
    )


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
    request: Request, recording_id: str, ctx: CtxDep, actor: PageActor, page: int = 1
) -> HTMLResponse:
    """A recording's audit trail (auditors), 100 records a page, oldest first."""
    trail = recording_trail(ctx.sessions, actor, recording_id)
    shown = paginate(trail.entries, page, per_page=100)
    return render(request, "audit.html", actor, trail=trail, shown=shown, recording_id=recording_id)
