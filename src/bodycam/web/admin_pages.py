"""Administration pages: users (list, create, change role, disable or enable) and the
system health page.

Every check and audit record is in ``bodycam.auth.service`` and
``bodycam.system_health``; these handlers parse forms, check the CSRF token and lay out
tables. Reading the user list needs ``auth:user:view``; changing users
``auth:user:manage``; the health page ``system:health:view``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from bodycam.audit.service import require
from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor
from bodycam.auth.models import Squad
from bodycam.auth.permissions import ROLE_DESCRIPTIONS, Permission, Role
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.system_health import system_health
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, has_page, paginate, render

router = APIRouter(prefix="/admin", include_in_schema=False)

PER_PAGE = 50
DONE = {
    "created": "The user is created. They sign in with the password given (or one set later).",
    "role": "The role is changed; it applies from the user's next page.",
    "disabled": "The account is disabled: its sessions and API tokens no longer work.",
    "enabled": "The account is enabled again.",
}


def _users_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    role: str = "",
    q: str = "",
    state: str = "",
    page: int = 1,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    require(ctx.sessions, actor, Permission.USER_VIEW, "list users")
    with ctx.sessions() as s:
        users = auth_service.list_users(s, actor)
        squads = {sq.id: sq.name for sq in s.scalars(select(Squad))}
        s.expunge_all()
    counts: dict[str, int] = {r.value: 0 for r in Role}
    for u in users:
        counts[u.role] = counts.get(u.role, 0) + 1
    needle = q.strip().lower()
    shown = [
        u
        for u in users
        if (not role or u.role == role)
        and (not state or (state == "active") == u.active)
        and (
            not needle
            or needle in u.username.lower()
            or needle in (u.display_name or "").lower()
            or needle == (u.badge or "").lower()
        )
    ]
    filters = {"role": role, "q": q.strip(), "state": state}
    return render(
        request,
        "admin_users.html",
        actor,
        status,
        pager=paginate(shown, page, PER_PAGE),
        total_users=len(users),
        disabled=sum(1 for u in users if not u.active),
        counts=counts,
        squads=squads,
        roles=[(r.value, ROLE_DESCRIPTIONS[r]) for r in Role],
        filters=filters,
        qs=urlencode({k: v for k, v in filters.items() if v}),
        error=error,
        done=DONE.get(done or ""),
        form=form or {},
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    role: str = "",
    q: str = "",
    state: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
    done: str | None = None,
) -> HTMLResponse:
    """Every user with role, squad, badge and status; filtered and paged."""
    return _users_page(request, ctx, actor, role=role, q=q, state=state, page=page, done=done)


def _act(
    request: Request,
    ctx: Context,
    actor: Actor,
    csrf: str,
    action: Callable[[], object],
    done: str,
    form: dict[str, str] | None = None,
) -> Response:
    """Check the token, act in one transaction, on to the list; or the list with why not."""
    require(ctx.sessions, actor, Permission.USER_MANAGE, "change users")
    try:
        if not _check_csrf(request, csrf):
            raise auth_service.AuthError(FORM_EXPIRED)
        action()
    except auth_service.AuthError as exc:
        return _users_page(request, ctx, actor, status=422, error=str(exc), form=form)
    return RedirectResponse(f"/admin/users?done={done}", status_code=303)


@router.post("/users", response_model=None)
def create_user(  # the form's empty default, not a password  # nosec B107
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    badge: Annotated[str, Form()] = "",
    squad: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Create a user (``auth:user:manage``)."""
    form = {"username": username, "role": role, "display_name": display_name}
    form |= {"badge": badge, "squad": squad}

    def create() -> None:
        if not username.strip():
            raise auth_service.AuthError("Give the new user a user name.")
        if not role:
            raise auth_service.AuthError(f"Choose a role for {username.strip()}.")
        with transaction(ctx.sessions) as s:
            auth_service.create_user(
                s,
                actor,
                username.strip(),
                role,
                password=password or None,
                badge=badge.strip() or None,
                squad=squad.strip() or None,
                display_name=display_name.strip(),
            )

    return _act(request, ctx, actor, csrf, create, "created", form)


@router.post("/users/{username}/role", response_model=None)
def change_role(
    request: Request,
    username: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    role: Annotated[str, Form()] = "",
) -> Response:
    """Give a user another role (``auth:user:manage``)."""

    def change() -> None:
        if not role:
            raise auth_service.AuthError(f"Choose the new role of {username}.")
        with transaction(ctx.sessions) as s:
            auth_service.update_user(s, actor, username, role=role)

    return _act(request, ctx, actor, csrf, change, "role")


@router.post("/users/{username}/active", response_model=None)
def set_active(
    request: Request,
    username: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    active: Annotated[str, Form()] = "",
) -> Response:
    """Disable (``active=0``) or enable (``active=1``) an account (``auth:user:manage``);
    disabling ends its sessions and tokens at once."""

    def change() -> None:
        if active not in ("0", "1"):
            raise auth_service.AuthError(f"Say whether to disable or enable {username}.")
        with transaction(ctx.sessions) as s:
            auth_service.update_user(s, actor, username, active=active == "1")

    return _act(request, ctx, actor, csrf, change, "enabled" if active == "1" else "disabled")


@router.get("/health", response_class=HTMLResponse)
def health_page(request: Request, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """Audit sealing and verification, the scrub, jobs by state, storage by tier, and the
    database engine with its migration revision."""
    health = system_health(ctx, actor)
    return render(
        request,
        "admin_health.html",
        actor,
        h=health,
        jobs_page="/jobs" if has_page(request.app, "/jobs") else None,
    )
