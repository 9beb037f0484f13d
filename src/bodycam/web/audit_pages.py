"""Audit pages for internal affairs, the inspector general and oversight: a search of the
whole audit log, and the "who viewed what" access report.

Both need ``audit:log:view`` and are themselves audited; the checks and records are in
``bodycam.audit.overview``. These handlers parse the query and lay out tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from bodycam.audit.actions import AuditAction
from bodycam.audit.overview import (
    AccessReport,
    AuditPage,
    AuditQuery,
    AuditQueryError,
    access_report,
    search_log,
)
from bodycam.audit.service import require
from bodycam.auth.permissions import Permission
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import render

router = APIRouter(prefix="/audit", include_in_schema=False)

PER_PAGE = 50


def _when(value: str, tz: str, what: str, *, end: bool = False) -> datetime | None:
    """A form's date (or date and time) in the agency's time zone; ``end``: a bare date
    includes its whole day."""
    text = value.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise AuditQueryError(
            f"The {what} {text!r} is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when + timedelta(days=1) if end and len(text) == 10 else when


@router.get("", response_class=HTMLResponse)
def search_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    who: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """Search every audit record by actor, action, object and time range, newest first."""
    require(ctx.sessions, actor, Permission.AUDIT_VIEW, "search the audit log")
    tz = ctx.settings.timezone
    form = {
        "who": who.strip(),
        "action": action.strip(),
        "object_type": object_type.strip(),
        "object_id": object_id.strip(),
        "from": start.strip(),
        "to": end.strip(),
    }
    error, res = None, None
    try:
        query = AuditQuery(
            form["who"] or None,
            form["action"] or None,
            form["object_type"] or None,
            form["object_id"] or None,
            _when(start, tz, "start"),
            _when(end, tz, "end", end=True),
            page,
            PER_PAGE,
        )
        res = search_log(ctx.sessions, actor, query)
    except AuditQueryError as exc:
        error = str(exc)
    prefixes = sorted({a.value.rsplit(":", 1)[0] + ":" for a in AuditAction})
    return _render_search(request, actor, form, res, error, prefixes)


def _render_search(
    request: Request,
    actor: PageActor,
    form: dict[str, str],
    res: AuditPage | None,
    error: str | None,
    prefixes: list[str],
) -> HTMLResponse:
    return render(
        request,
        "audit_search.html",
        actor,
        422 if error else 200,
        form=form,
        res=res,
        error=error,
        actions=[a.value for a in AuditAction],
        prefixes=prefixes,
        qs=urlencode({k: v for k, v in form.items() if v}),
    )


@router.get("/access", response_class=HTMLResponse)
def access_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    recording: str = "",
    user: str = "",
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """Who viewed, streamed and downloaded what: by recording, by user, or everything."""
    require(ctx.sessions, actor, Permission.AUDIT_VIEW, "read the access report")
    tz = ctx.settings.timezone
    form = {
        "recording": recording.strip(),
        "user": user.strip(),
        "from": start.strip(),
        "to": end.strip(),
    }
    error, rep = None, None
    try:
        rep = access_report(
            ctx.sessions,
            actor,
            recording_id=form["recording"] or None,
            username=form["user"] or None,
            start=_when(start, tz, "start"),
            end=_when(end, tz, "end", end=True),
            page=page,
            per_page=PER_PAGE,
        )
    except AuditQueryError as exc:
        error = str(exc)
    return _render_access(request, actor, form, rep, error)


def _render_access(
    request: Request,
    actor: PageActor,
    form: dict[str, str],
    rep: AccessReport | None,
    error: str | None,
) -> HTMLResponse:
    return render(
        request,
        "audit_access.html",
        actor,
        422 if error else 200,
        form=form,
        rep=rep,
        error=error,
        qs=urlencode({k: v for k, v in form.items() if v}),
    )
