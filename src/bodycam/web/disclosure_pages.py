"""Public-records request pages: the clerk's queue, intake, one request with its footage
and steps, the report, and the requester's status page (no sign-in).

Every action goes through ``bodycam.disclosure`` (which checks permissions and audits);
these handlers read forms, check the CSRF token, and show the outcome as a sentence.
The requester's page asks for the request number and the status code printed on the
acknowledgement (:mod:`bodycam.disclosure.public_status`) and shows no name or footage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.disclosure import appeals, footage, overview, public_status, report, requests
from bodycam.disclosure.deadlines import clock_in_force
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.models import CLOSED, DECIDED, AppealOutcome, RequesterType, RequestStatus
from bodycam.disclosure.requests import RequestView
from bodycam.disclosure.search import SearchResult, search_footage
from bodycam.disclosure.workflow import NEEDS_EXEMPTION, TRANSITIONS, change_status, extend_deadline
from bodycam.evidence.service import Vault
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, form_action, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
DONE = {
    "created": "The request is logged. Its clocks started on the day it was received.",
    "status": "The status is changed and written to the request's history.",
    "extended": "The decision deadline is extended; tell the requester the new date.",
    "attached": "The footage is attached and held for this request.",
    "detached": "The recording is off the request; this request's hold on it ended.",
    "appealed": "The appeal is filed; the footage is held until it is decided.",
    "decided": "The appeal is decided.",
}
STATUS_LABELS = {
    "received": "received",
    "acknowledged": "acknowledged",
    "searching": "searching",
    "redacting": "redacting",
    "review": "review",
    "released_full": "released in full",
    "released_partial": "released in part",
    "denied": "denied",
    "withdrawn": "withdrawn",
}


def _label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def _bd(n: int | None, unit: str = "bd") -> str:
    """Days left in words: ``3 bd left``, ``due today``, ``2 bd overdue``."""
    if n is None:
        return ""
    if n == 0:
        return "due today"
    return f"{abs(n)} {unit} {'left' if n > 0 else 'overdue'}"


def _csrf(request: Request, token: str) -> None:
    if not _check_csrf(request, token):
        raise DisclosureError(FORM_EXPIRED)


def _url(number: str) -> str:
    return f"/requests/{quote(number, safe='')}"


# --- the queue ----------------------------------------------------------------------------


def _due_this_week(v: RequestView) -> bool:
    """The report's definition: open, not late, next deadline between today and Sunday."""
    d = v.deadlines
    _, sunday = report.week_of(d.today)
    return (
        v.status not in CLOSED
        and not d.late
        and d.next_due is not None
        and d.today <= d.next_due <= sunday
    )


@router.get("/requests", response_class=HTMLResponse)
def queue_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    status: str = "open",
    late: bool = False,
    due: bool = False,
    q: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """The request queue with its deadlines: filter by status, lateness, due this week."""
    text = q.strip()
    form: dict[str, str | bool] = {"status": status, "late": late, "due": due, "q": text}
    error = None
    try:
        rows = requests.list_requests(ctx.sessions, actor, status=status or None, late=late)
    except DisclosureError as exc:
        rows, error = [], str(exc)
    if due:
        rows = [v for v in rows if _due_this_week(v)]
    if text:
        needle = text.casefold()
        rows = [
            v
            for v in rows
            if needle in v.number.casefold() or needle in v.request.requester_name.casefold()
        ]
    total = len(rows)
    pages = max(1, -(-total // PER_PAGE))
    shown = rows[(page - 1) * PER_PAGE : page * PER_PAGE]
    # The status is always in the links ("" is "any"; left out it would mean "open").
    qs = urlencode({k: ("1" if v is True else v) for k, v in form.items() if v or k == "status"})
    return render(
        request,
        "requests.html",
        actor,
        422 if error else 200,
        rows=shown,
        left=overview.days_left(ctx.sessions, actor, shown),
        total=total,
        page=page,
        pages=pages,
        qs=qs,
        form=form,
        statuses=["open", "closed", *(s.value for s in RequestStatus)],
        label=_label,
        bd=_bd,
        error=error,
    )


# --- intake -------------------------------------------------------------------------------


def _jurisdictions(ctx: Context) -> tuple[str, list[tuple[str, str]]]:
    with ctx.sessions() as s:
        _, clock = clock_in_force(s)
    return clock.default, [(k, j.name) for k, j in sorted(clock.jurisdictions.items())]


def _new_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    require(ctx.sessions, actor, Permission.DISCLOSURE_MANAGE, "log public-records requests")
    default, jurisdictions = _jurisdictions(ctx)
    return render(
        request,
        "requests_new.html",
        actor,
        status,
        form=form or {"jurisdiction": default, "requester_type": "public"},
        jurisdictions=jurisdictions,
        types=[t.value for t in RequesterType],
        error=error,
    )


@router.get("/requests/new", response_class=HTMLResponse)
def new_page(request: Request, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """The intake form."""
    return _new_page(request, ctx, actor)


def _moment(value: str, what: str) -> datetime | None:
    """A form's date or date and time, naive: the service reads it in the jurisdiction's
    time zone."""
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise DisclosureError(
            f"The {what} {text!r} is not a date (use YYYY-MM-DD, or YYYY-MM-DDTHH:MM)."
        ) from None


def _day(value: str, what: str) -> date | None:
    when = _moment(value, what)
    return when.date() if when is not None and len(value.strip()) == 10 else when


def _split(text: str) -> list[str]:
    return [part for chunk in text.splitlines() for part in chunk.split(",")]


@router.post("/requests", response_model=None)
def create(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    requester_name: Annotated[str, Form()] = "",
    requester_type: Annotated[str, Form()] = "public",
    requester_contact: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    range_start: Annotated[str, Form()] = "",
    range_end: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
    officers: Annotated[str, Form()] = "",
    events: Annotated[str, Form()] = "",
    received: Annotated[str, Form()] = "",
    jurisdiction: Annotated[str, Form()] = "",
    critical_incident: Annotated[bool, Form()] = False,
    incident_at: Annotated[str, Form()] = "",
) -> Response:
    """Log a request; on to its page."""
    form = {
        "requester_name": requester_name,
        "requester_type": requester_type,
        "requester_contact": requester_contact,
        "description": description,
        "range_start": range_start,
        "range_end": range_end,
        "location": location,
        "officers": officers,
        "events": events,
        "received": received,
        "jurisdiction": jurisdiction,
        "critical_incident": "1" if critical_incident else "",
        "incident_at": incident_at,
    }
    try:
        _csrf(request, csrf)
        view = requests.create_request(
            ctx.sessions,
            actor,
            requester_name=requester_name,
            requester_type=requester_type,
            description=description,
            requester_contact=requester_contact,
            range_start=_moment(range_start, "time range start"),
            range_end=_moment(range_end, "time range end"),
            location=location,
            officers=_split(officers),
            events=_split(events),
            received=_day(received, "received date"),
            jurisdiction=jurisdiction or None,
            critical_incident=critical_incident,
            incident_at=_moment(incident_at, "incident date"),
        )
    except DisclosureError as exc:
        return _new_page(request, ctx, actor, status=422, form=form, error=str(exc))
    return RedirectResponse(_url(view.number) + "?done=created", status_code=303)


# --- the report ---------------------------------------------------------------------------


@router.get("/requests/report", response_class=HTMLResponse)
def report_page(request: Request, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """Open by age, due this week, late, days to close, share closed late, appeals."""
    r = report.request_report(ctx.sessions, actor)
    return render(request, "requests_report.html", actor, r=r, label=_label)


# --- one request --------------------------------------------------------------------------


def _detail_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    number: str,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    found: SearchResult | None = None,
) -> HTMLResponse:
    try:
        v = requests.get_request(ctx.sessions, actor, number)
    except DisclosureError as exc:
        raise LookupError(str(exc)) from None
    current = RequestStatus(v.status)
    moves = [
        (s.value, _label(s.value), s in NEEDS_EXEMPTION)
        for s in RequestStatus
        if s in TRANSITIONS[current]
    ]
    pending = next((a for a in v.appeals if a.outcome is None), None)
    return render(
        request,
        "requests_detail.html",
        actor,
        status,
        v=v,
        r=v.request,
        d=v.deadlines,
        url=_url(v.number),
        left=overview.days_left(ctx.sessions, actor, [v])[v.number],
        redaction=overview.redaction_status(ctx.sessions, actor, v.number),
        moves=moves,
        is_open=current not in CLOSED,
        pending=pending,
        may_appeal=pending is None
        and current != RequestStatus.WITHDRAWN
        and (current in DECIDED or v.deadlines.late),
        outcomes=[o.value for o in AppealOutcome],
        code=public_status.status_code(ctx.settings.resolved_secret_key(), v.number),
        found=found,
        label=_label,
        bd=_bd,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/requests/{number}", response_class=HTMLResponse)
def detail_page(
    request: Request, number: str, ctx: CtxDep, actor: PageActor, done: str | None = None
) -> HTMLResponse:
    """A request: its fields, deadlines, footage with redaction status, appeals, history."""
    return _detail_page(request, ctx, actor, number, done=done)


@router.get("/requests/{number}/search", response_class=HTMLResponse)
def search_page(request: Request, number: str, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """The request's page with the footage matching its criteria, to attach (audited)."""
    try:
        found = search_footage(Vault.from_context(ctx), actor, number)
    except DisclosureError as exc:
        raise LookupError(str(exc)) from None
    return _detail_page(request, ctx, actor, number, found=found)


def _act(
    request: Request,
    ctx: Context,
    actor: Actor,
    number: str,
    csrf: str,
    action: Callable[[], object],
    done: str,
) -> Response:
    """Check the form's token and act, then back to the request with ``done``'s sentence;
    or the request's page with the sentence saying why not (nothing was changed)."""
    return form_action(
        request,
        csrf,
        action,
        refused=DisclosureError,
        show=lambda why: _detail_page(request, ctx, actor, number, status=422, error=why),
        done=f"{_url(requests.normalise_number(number))}?done={done}",
    )


@router.post("/requests/{number}/status", response_model=None)
def status_change(
    request: Request,
    number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    status: Annotated[str, Form()] = "",
    exemption: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Move the request to its next step (the exemption cited where one is needed)."""

    def move() -> None:
        if not status.strip():
            raise DisclosureError("Choose the step the request moves to.")
        change_status(ctx.sessions, actor, number, status, exemption=exemption, note=note)

    return _act(request, ctx, actor, number, csrf, move, "status")


@router.post("/requests/{number}/extend", response_model=None)
def extend(
    request: Request,
    number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    days: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Extend the decision deadline by business days, with the reason."""

    def go() -> None:
        try:
            n = int(days.strip())
        except ValueError:
            raise DisclosureError(
                f"The extension {days.strip()!r} is not a whole number of business days."
            ) from None
        extend_deadline(ctx.sessions, actor, number, n, reason)

    return _act(request, ctx, actor, number, csrf, go, "extended")


@router.post("/requests/{number}/attach", response_model=None)
def attach(
    request: Request,
    number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    recording: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Attach the ticked (or typed) recordings; all or nothing."""

    def go() -> None:
        ids = [part for r in recording or [] for part in _split(r)]
        if not any(i.strip() for i in ids):
            raise DisclosureError("Tick or type the recordings to attach.")
        footage.attach(Vault.from_context(ctx), actor, number, ids)

    return _act(request, ctx, actor, number, csrf, go, "attached")


@router.post("/requests/{number}/detach", response_model=None)
def detach(
    request: Request,
    number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    recording: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Take a recording off the request (its hold for this request ends)."""
    return _act(
        request,
        ctx,
        actor,
        number,
        csrf,
        lambda: footage.detach(ctx.sessions, actor, number, [recording], reason=reason),
        "detached",
    )


@router.post("/requests/{number}/appeals", response_model=None)
def appeal_file(
    request: Request,
    number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    grounds: Annotated[str, Form()] = "",
    filed: Annotated[str, Form()] = "",
) -> Response:
    """File an appeal of the request's decision (or of its missed deadline)."""
    return _act(
        request,
        ctx,
        actor,
        number,
        csrf,
        lambda: appeals.file_appeal(
            ctx.sessions, actor, number, grounds, filed=_day(filed, "filing date")
        ),
        "appealed",
    )


@router.post("/requests/{number}/appeals/decide", response_model=None)
def appeal_decide(
    request: Request,
    number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Decide the pending appeal: granted or partly granted reopens a closed request."""

    def go() -> None:
        if not outcome.strip():
            raise DisclosureError("Choose the appeal's outcome.")
        appeals.decide_appeal(ctx.sessions, actor, number, outcome, note=note)

    return _act(request, ctx, actor, number, csrf, go, "decided")


# --- the requester's status page (no sign-in) ---------------------------------------------


@router.get("/request-status", response_class=HTMLResponse)
def public_form(request: Request) -> HTMLResponse:
    """Ask for the request number and its status code."""
    return render(request, "request_status.html", None, number="", error=None)


@router.post("/request-status", response_class=HTMLResponse)
def public_result(
    request: Request,
    ctx: CtxDep,
    number: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Where the request stands: status, dates and deadlines; no names, no footage."""
    try:
        found = public_status.lookup(ctx.sessions, number, code, ctx.settings.resolved_secret_key())
    except DisclosureError as exc:
        return render(request, "request_status.html", None, 404, number=number[:40], error=str(exc))
    return render(request, "request_status_result.html", None, s=found, label=_label)
