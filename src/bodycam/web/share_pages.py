"""External share pages: the records clerk's list, form and share pages, and the
recipient's side (``/s/<token>``): the code form, the share page, its players and downloads.

Sender pages go through ``bodycam.disclosure.shares`` (which checks permissions and
audits); recipient pages through ``bodycam.disclosure.share_access``, which checks the
link and the share session and audits every view, stream request, download and refusal.
Recipient pages need no account: the link's token and the code are their credentials,
and the share session lives in a cookie scoped to the link's path (httponly, SameSite
strict).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.disclosure import share_access, shares
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.share_models import RecipientRole, ShareState
from bodycam.disclosure.shares import (
    DEFAULT_DAYS,
    BadRange,
    NotReady,
    SessionRequired,
    ShareError,
    ShareNotFound,
    ShareRefused,
    Sharing,
    WrongCode,
)
from bodycam.web.deps import CtxDep, PageActor, client_ip
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, render

router = APIRouter(include_in_schema=False)

SHARE_COOKIE = "bodycam_share"
DONE = {"revoked": "The share is revoked: its link answers 403 from now on."}
PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow"}
RETRY_AFTER_S = 3
"""What a play of an item whose watermarked copy is not made yet is told to wait."""


def _lines(text: str) -> list[str]:
    """Ids from a text box: one per line, or separated by commas or spaces."""
    return [v for v in text.replace(",", " ").split() if v]


# --- the sender's side ----------------------------------------------------------------------


@router.get("/shares", response_class=HTMLResponse)
def shares_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    state: str = "",
    done: str | None = None,
) -> HTMLResponse:
    """Every share (or those active, locked, expired or revoked), newest first."""
    error = None
    try:
        rows = shares.list_shares(Sharing.from_context(ctx), actor, state=state or None)
    except ShareError as exc:
        rows, error = [], str(exc)
    return render(
        request,
        "shares.html",
        actor,
        422 if error else 200,
        rows=rows,
        state=state,
        states=[s.value for s in ShareState],
        error=error,
        done=DONE.get(done or ""),
    )


def _form(
    request: Request,
    actor: Actor,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    error: str | None = None,
    max_days: int,
) -> HTMLResponse:
    values = {
        "recordings": "",
        "copies": "",
        "recipient": "",
        "org": "",
        "email": "",
        "role": RecipientRole.PROSECUTOR.value,
        "days": str(DEFAULT_DAYS),
        "case": "",
        "request": "",
        "download": "",
    } | (form or {})
    return render(
        request,
        "share_new.html",
        actor,
        status,
        form=values,
        roles=list(shares.DIRECT_ROLES),
        max_days=max_days,
        error=error,
    )


@router.get("/shares/new", response_class=HTMLResponse)
def share_form(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    recording: str = "",
    copy: str = "",
) -> HTMLResponse:
    """The form to share recordings or approved redacted copies with one recipient."""
    require(ctx.sessions, actor, Permission.SHARE_MANAGE, "share footage with outside recipients")
    sharing = Sharing.from_context(ctx)
    return _form(
        request,
        actor,
        form={"recordings": recording, "copies": copy},
        max_days=sharing.max_days,
    )


@router.post("/shares", response_class=HTMLResponse)
def share_create(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    recipient: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    org: Annotated[str, Form()] = "",
    recordings: Annotated[str, Form()] = "",
    copies: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = str(DEFAULT_DAYS),
    case: Annotated[str, Form()] = "",
    request_number: Annotated[str, Form(alias="request")] = "",
    download: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Make the share; the page that answers shows the link and the code, once."""
    sharing = Sharing.from_context(ctx)
    form = {
        "recordings": recordings,
        "copies": copies,
        "recipient": recipient,
        "org": org,
        "email": email,
        "role": role,
        "days": days,
        "case": case,
        "request": request_number,
        "download": download,
    }
    try:
        if not _check_csrf(request, csrf):
            raise ShareError(FORM_EXPIRED)
        try:
            n_days = int(days.strip() or DEFAULT_DAYS)
        except ValueError:
            raise ShareError(f"{days!r} is not a number of days.") from None
        issued = shares.create_share(
            sharing,
            actor,
            recipient_name=recipient,
            recipient_email=email,
            recipient_role=role,
            recipient_org=org,
            recordings=_lines(recordings),
            copies=_lines(copies),
            days=n_days,
            allow_download=bool(download),
            case_number=case,
            request_number=request_number,
        )
    except DisclosureError as exc:  # a share refused on its input, or an unknown request
        return _form(
            request, actor, status=422, form=form, error=str(exc), max_days=sharing.max_days
        )
    link = str(request.base_url).rstrip("/") + issued.path
    resp = render(request, "share_created.html", actor, v=issued.view, link=link, code=issued.code)
    resp.headers.update(PRIVATE)
    return resp


def _detail(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    share_id: str,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    try:
        view = shares.get_share(Sharing.from_context(ctx), actor, share_id)
    except ShareNotFound as exc:
        raise LookupError(str(exc)) from None
    return render(
        request, "share_detail.html", actor, status, v=view, error=error, done=DONE.get(done or "")
    )


@router.get("/shares/{share_id}", response_class=HTMLResponse)
def share_page(
    request: Request, share_id: str, ctx: CtxDep, actor: PageActor, done: str | None = None
) -> HTMLResponse:
    """A share: its recipient, items, and every opening, view, play and download."""
    return _detail(request, ctx, actor, share_id, done=done)


@router.post("/shares/{share_id}/revoke", response_model=None)
def share_revoke(
    request: Request,
    share_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Revoke the share now."""
    try:
        if not _check_csrf(request, csrf):
            raise ShareError(FORM_EXPIRED)
        shares.revoke_share(Sharing.from_context(ctx), actor, share_id, reason)
    except ShareNotFound as exc:
        raise LookupError(str(exc)) from None
    except ShareError as exc:
        return _detail(request, ctx, actor, share_id, status=422, error=str(exc))
    return RedirectResponse(f"/shares/{share_id}?done=revoked", status_code=303)


@router.post("/shares/{share_id}/code", response_class=HTMLResponse)
def share_code(
    request: Request,
    share_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
) -> HTMLResponse:
    """Issue a new code (shown once): the old code stops working and a lockout ends."""
    sharing = Sharing.from_context(ctx)
    try:
        if not _check_csrf(request, csrf):
            raise ShareError(FORM_EXPIRED)
        issued = shares.new_code(sharing, actor, share_id)
    except ShareNotFound as exc:
        raise LookupError(str(exc)) from None
    except ShareError as exc:
        return _detail(request, ctx, actor, share_id, status=422, error=str(exc))
    view = shares.get_share(sharing, actor, share_id)
    resp = render(request, "share_code.html", actor, v=view, code=issued.code)
    resp.headers.update(PRIVATE)
    return resp


# --- the recipient's side -------------------------------------------------------------------


def _plain(request: Request, status: int, heading: str, message: str) -> HTMLResponse:
    """A plain page for a refused or broken link (no staff navigation)."""
    resp = render(request, "share_refused.html", None, status, heading=heading, message=message)
    resp.headers.update(PRIVATE)
    return resp


def _refused(request: Request, exc: ShareError) -> HTMLResponse:
    if isinstance(exc, ShareNotFound):
        return _plain(request, 404, "Link not found", str(exc))
    if isinstance(exc, ShareRefused):
        return _plain(request, 403, "Link not available", str(exc))
    if isinstance(exc, SessionRequired):
        return _plain(request, 401, "Give the code again", str(exc))
    if isinstance(exc, BadRange):
        return _plain(request, 416, "Cannot send that part", str(exc))
    if isinstance(exc, NotReady):  # its watermarked copy is being made by a job
        resp = _plain(request, 503, "Not ready yet", str(exc))
        resp.headers["Retry-After"] = str(RETRY_AFTER_S)
        return resp
    return _plain(request, 422, "Cannot show that", str(exc))


def _code_form(
    request: Request, sharing: Sharing, token: str, *, status: int = 200, error: str | None = None
) -> HTMLResponse:
    try:
        info = share_access.check_link(sharing, token, ip=client_ip(request))
    except ShareError as exc:
        return _refused(request, exc)
    resp = render(request, "share_open.html", None, status, token=token, info=info, error=error)
    resp.headers.update(PRIVATE)
    return resp


@router.get("/s/{token}", response_class=HTMLResponse)
def recipient_page(request: Request, token: str, ctx: CtxDep) -> HTMLResponse:
    """The share page (with a live share session) or the form asking for the code."""
    sharing = Sharing.from_context(ctx)
    try:
        view = share_access.recipient_view(
            sharing, token, request.cookies.get(SHARE_COOKIE), ip=client_ip(request)
        )
    except SessionRequired:
        return _code_form(request, sharing, token)
    except ShareError as exc:
        return _refused(request, exc)
    resp = render(request, "share.html", None, view=view, token=token)
    resp.headers.update(PRIVATE)
    return resp


@router.post("/s/{token}", response_model=None)
def recipient_code(
    request: Request, token: str, ctx: CtxDep, code: Annotated[str, Form()] = ""
) -> Response:
    """Trade the code for a share session (a cookie for this link only)."""
    sharing = Sharing.from_context(ctx)
    try:
        opened = share_access.exchange_code(sharing, token, code, ip=client_ip(request))
    except WrongCode as exc:
        return _code_form(request, sharing, token, status=401, error=str(exc))
    except ShareError as exc:
        return _refused(request, exc)
    resp = RedirectResponse(f"/s/{token}", status_code=303)
    resp.set_cookie(
        SHARE_COOKIE,
        opened.secret,
        max_age=int(shares.SESSION_MAX.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=f"/s/{token}",
    )
    return resp


@router.get("/s/{token}/progress", response_model=None)
def recipient_progress(request: Request, token: str, ctx: CtxDep) -> Response:
    """How far each item's watermarked copy is (JSON, for the share page while it waits)."""
    try:
        items = share_access.recipient_progress(
            Sharing.from_context(ctx),
            token,
            request.cookies.get(SHARE_COOKIE),
            ip=client_ip(request),
        )
    except ShareError as exc:
        status = _refused(request, exc).status_code  # what the page would answer (audited)
        return JSONResponse({"detail": str(exc)}, status, headers=PRIVATE)
    body = {
        "items": [
            {
                "position": it.position,
                "ready": it.ready,
                "percent": it.percent,
                "problem": it.problem,
            }
            for it in items
        ]
    }
    return JSONResponse(body, headers=PRIVATE)


@router.post("/s/{token}/close", response_model=None)
def recipient_close(request: Request, token: str, ctx: CtxDep) -> Response:
    """End the share session on this browser."""
    share_access.end_session(Sharing.from_context(ctx), token, request.cookies.get(SHARE_COOKIE))
    resp = RedirectResponse(f"/s/{token}", status_code=303)
    resp.delete_cookie(SHARE_COOKIE, path=f"/s/{token}")
    return resp


def _item(
    request: Request, ctx: CtxDep, token: str, position: int, range_: str | None, download: bool
) -> Response:
    try:
        stream = share_access.open_item(
            Sharing.from_context(ctx),
            token,
            request.cookies.get(SHARE_COOKIE),
            position,
            None if download else range_,
            download=download,
            ip=client_ip(request),
        )
    except ShareError as exc:
        return _refused(request, exc)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{stream.sha256}"',
        "Content-Length": str(stream.length),
    } | PRIVATE
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{stream.filename}"'
    status = 200
    if stream.range is not None:
        rng = stream.range
        headers["Content-Range"] = f"bytes {rng.start}-{rng.end - 1}/{rng.size}"
        status = 206

    def body() -> Iterator[bytes]:
        yield from stream.chunks()

    return StreamingResponse(body(), status_code=status, media_type="video/mp4", headers=headers)


@router.get("/s/{token}/items/{position}/video", response_model=None)
def recipient_video(
    request: Request,
    token: str,
    position: int,
    ctx: CtxDep,
    range_: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    """An item's watermarked video for the player, honouring Range (each request audited)."""
    return _item(request, ctx, token, position, range_, False)


@router.get("/s/{token}/items/{position}/download", response_model=None)
def recipient_download(request: Request, token: str, position: int, ctx: CtxDep) -> Response:
    """An item's watermarked video as a file, when the share allows downloads (audited)."""
    return _item(request, ctx, token, position, None, True)
