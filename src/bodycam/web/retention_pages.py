"""Retention pages: the schedule editor, legal holds and cases, the deletion queue,
destruction certificates.

Every action goes through ``bodycam.retention`` (which checks permissions and audits);
these handlers only read forms, check the CSRF token and show the outcome as a sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.retention import cases, service
from bodycam.retention.models import DestructionCertificate, HoldReason
from bodycam.retention.purge import certificates, verify_certificate
from bodycam.retention.service import RetentionError
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, form_action, render

router = APIRouter(prefix="/retention", include_in_schema=False)

DONE = {
    "placed": "The hold is placed; what it covers leaves the deletion queue.",
    "released": "The hold is released; what it covered follows its schedule again.",
    "opened": "The case is open; its recordings are held until it closes.",
    "closed": "The case is closed and its automatic hold released.",
    "approved": "Approved. The recordings can be recovered for 7 days, then they are purged.",
    "undone": "The deletion is taken back.",
}


def _csrf(request: Request, token: str) -> None:
    if not _check_csrf(request, token):
        raise RetentionError(FORM_EXPIRED)


def _act(
    request: Request,
    ctx: Context,
    actor: Actor,
    csrf: str,
    action: Callable[[], object],
    page: Callable[..., HTMLResponse],
    done: str,
) -> Response:
    """:func:`form_action` answering with ``page`` and the sentence saying why not."""
    return form_action(
        request,
        csrf,
        action,
        refused=RetentionError,
        show=lambda why: page(request, ctx, actor, status=422, error=why),
        done=done,
    )


# --- the schedule ------------------------------------------------------------------------


def _schedule_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    status: int = 200,
    text: str | None = None,
    note: str = "",
    error: str | None = None,
    change: service.ScheduleChange | None = None,
) -> HTMLResponse:
    versions = service.schedule_versions(ctx.sessions, actor)
    current = ""
    if versions:
        current = service.export_schedule(ctx.sessions, actor)
    return render(
        request,
        "retention_schedule.html",
        actor,
        status,
        versions=versions,
        current=current,
        text=current if text is None else text,
        note=note,
        error=error,
        change=change,
    )


@router.get("/schedule", response_class=HTMLResponse)
def schedule_page(request: Request, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """The schedule in force, its versions and (administrators) the editor."""
    return _schedule_page(request, ctx, actor)


@router.post("/schedule", response_class=HTMLResponse)
def schedule_save(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    schedule: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Import the edited schedule as a new version (every due date recomputed)."""
    try:
        _csrf(request, csrf)
        change = service.import_schedule(ctx.sessions, actor, schedule, note=note.strip())
    except RetentionError as exc:
        return _schedule_page(
            request, ctx, actor, status=422, text=schedule, note=note, error=str(exc)
        )
    return _schedule_page(request, ctx, actor, change=change)


# --- holds and cases ---------------------------------------------------------------------


def _holds_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    status: int = 200,
    error: str | None = None,
    everything: bool = False,
    done: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "retention_holds.html",
        actor,
        status,
        holds=service.list_holds(ctx.sessions, actor, include_released=everything),
        cases=cases.list_cases(ctx.sessions, actor, include_closed=everything),
        reasons=[r.value for r in HoldReason],
        everything=everything,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/holds", response_class=HTMLResponse)
def holds_page(
    request: Request, ctx: CtxDep, actor: PageActor, all: bool = False, done: str | None = None
) -> HTMLResponse:
    """Legal holds and open cases; forms to place and release them."""
    return _holds_page(request, ctx, actor, everything=all, done=done)


def _date(value: str, tz: str, what: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RetentionError(f"{what} {value!r} is not a date (use YYYY-MM-DD).") from None
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(tz))


@router.post("/holds", response_model=None)
def hold_place(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    on: Annotated[str, Form()],
    reason_type: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    recording: Annotated[str, Form()] = "",
    case: Annotated[str, Form()] = "",
    officer: Annotated[str, Form()] = "",
    start_from: Annotated[str, Form()] = "",
    start_to: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
) -> Response:
    """Place a hold on a recording, a case number or a query."""

    def place() -> None:
        tz = ctx.settings.timezone
        if on == "recording":
            target: dict[str, object] = {"recording_id": recording.strip()}
        elif on == "case":
            target = {"case": case.strip()}
        elif on == "query":
            target = {
                "query": service.HoldQuery(
                    officer.strip() or None,
                    _date(start_from, tz, "From"),
                    _date(start_to, tz, "To"),
                    category.strip() or None,
                    tag.strip() or None,
                )
            }
        else:
            raise RetentionError("Choose what the hold covers: a recording, a case or a query.")
        service.place_hold(
            ctx.sessions,
            actor,
            reason_type=reason_type,
            reason=reason,
            **target,  # type: ignore[arg-type]
        )

    return _act(request, ctx, actor, csrf, place, _holds_page, "/retention/holds?done=placed")


@router.post("/holds/{hold_id}/release", response_model=None)
def hold_release(
    request: Request,
    hold_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Release a hold placed by hand (audited)."""
    return _act(
        request,
        ctx,
        actor,
        csrf,
        lambda: service.release_hold(ctx.sessions, actor, hold_id, reason),
        _holds_page,
        "/retention/holds?done=released",
    )


@router.post("/cases", response_model=None)
def case_open(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    case_number: Annotated[str, Form()],
    title: Annotated[str, Form()] = "",
) -> Response:
    """Open a case: its footage is held until it closes."""
    return _act(
        request,
        ctx,
        actor,
        csrf,
        lambda: cases.open_case(ctx.sessions, actor, case_number, title),
        _holds_page,
        "/retention/holds?done=opened",
    )


@router.post("/cases/{case_number}/close", response_model=None)
def case_close(
    request: Request,
    case_number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Close a case and release its automatic hold."""
    return _act(
        request,
        ctx,
        actor,
        csrf,
        lambda: cases.close_case(ctx.sessions, actor, case_number, reason),
        _holds_page,
        "/retention/holds?done=closed",
    )


# --- the deletion queue ------------------------------------------------------------------


def _queue_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    days: int = 30,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    entries = service.upcoming(ctx.sessions, actor, days=days)
    groups: dict[str, list[service.QueueEntry]] = {
        "pending": [],
        "recoverable": [],
        "upcoming": [],
        "held": [],
    }
    for e in entries:
        groups.setdefault(e.status, []).append(e)
    return render(
        request,
        "retention_queue.html",
        actor,
        status,
        groups=groups,
        days=days,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request, ctx: CtxDep, actor: PageActor, days: int = 30, done: str | None = None
) -> HTMLResponse:
    """What is due now and in the next ``days`` days, under which rule; approve and undo."""
    if not 0 <= days <= 3660:
        raise RetentionError("Days must be between 0 and 3660.")
    service.refresh_queue(ctx.sessions)
    return _queue_page(request, ctx, actor, days=days, done=done)


@router.post("/queue/approve", response_model=None)
def queue_approve(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    recording: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Approve the ticked pending deletions in the signed-in user's name."""

    def approve() -> None:
        if not recording:
            raise RetentionError("Tick the recordings to approve for deletion.")
        service.approve_deletions(ctx.sessions, actor, recording)

    return _act(request, ctx, actor, csrf, approve, _queue_page, "/retention/queue?done=approved")


@router.post("/queue/{recording_id}/undo", response_model=None)
def queue_undo(
    request: Request,
    recording_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Take an approved deletion back inside the recovery window."""

    def undo() -> None:
        if not reason.strip():
            raise RetentionError("Say why the deletion is taken back.")
        service.undo_deletion(ctx.sessions, actor, recording_id, reason)

    return _act(request, ctx, actor, csrf, undo, _queue_page, "/retention/queue?done=undone")


# --- destruction certificates ------------------------------------------------------------


Checked = tuple[DestructionCertificate, dict[str, object], str]


def _checked(ctx: Context, actor: Actor) -> list[Checked]:
    """Every certificate with its statement (when it verifies) or the problem."""
    require(ctx.sessions, actor, Permission.RETENTION_VIEW, "see destruction certificates")
    rows: list[Checked] = []
    for cert in certificates(ctx):
        try:
            rows.append((cert, verify_certificate(cert, ctx.signer.public_key), ""))
        except ValueError as exc:
            rows.append((cert, {}, str(exc)))
    return rows


@router.get("/certificates", response_class=HTMLResponse)
def certificates_page(request: Request, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """Every destruction certificate, each checked against the deployment's key."""
    rows = _checked(ctx, actor)
    return render(request, "retention_certificates.html", actor, rows=rows, one=None)


@router.get("/certificates/{certificate_id}", response_class=HTMLResponse)
def certificate_page(
    request: Request, certificate_id: str, ctx: CtxDep, actor: PageActor
) -> HTMLResponse:
    """One certificate: the signed statement, its signature and whether it verifies."""
    rows = [r for r in _checked(ctx, actor) if r[0].id == certificate_id]
    if not rows:
        raise LookupError(f"There is no destruction certificate {certificate_id}.")
    return render(request, "retention_certificates.html", actor, rows=rows, one=rows[0])
