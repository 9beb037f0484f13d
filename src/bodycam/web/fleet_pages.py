"""Fleet pages for the equipment unit: the camera table with filters, one camera's history,
recalls and rollouts with their progress, and the device reports.

Reading needs ``fleet:inventory:view``; starting a recall or rollout and recording what
became of a recalled camera need ``fleet:recall:manage``. Every check and audit record is
in ``bodycam.fleet``; these handlers parse forms, check the CSRF token and lay out tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bodycam.auth.actor import Actor
from bodycam.context import Context
from bodycam.evidence.access import has_any_view
from bodycam.fleet import browse, inventory, recall_warnings, recalls, reports
from bodycam.fleet.common import FleetError
from bodycam.fleet.models import CampaignKind, ItemStatus
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, render

router = APIRouter(prefix="/fleet", include_in_schema=False)

PER_PAGE = 50
DONE = {
    "created": "Created. Its cameras and their holders are listed on its page.",
    "resolved": "The camera's outcome is recorded.",
}


def _csrf(request: Request, token: str) -> None:
    if not _check_csrf(request, token):
        raise FleetError(FORM_EXPIRED)


def _number(value: str, what: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise FleetError(f"The {what} {text!r} is not a number.") from None


def _day(value: str, tz: str, what: str, *, end: bool = False) -> datetime | None:
    """A form's date in the agency's time zone; ``end``: the day is included."""
    text = value.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise FleetError(f"The {what} date {text!r} is not a date (use YYYY-MM-DD).") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when + timedelta(days=1) if end and len(text) == 10 else when


# --- the camera table ---------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def cameras_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    status: str = "",
    model: str = "",
    lot: str = "",
    firmware: str = "",
    precinct: str = "",
    dock: str = "",
    holder: str = "",
    undocked: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """Every camera with its holder and last dock, filtered and paged."""
    form = {
        "status": status,
        "model": model,
        "lot": lot,
        "firmware": firmware,
        "precinct": precinct,
        "dock": dock,
        "holder": holder.strip(),
        "undocked": undocked.strip(),
    }
    choices = browse.filter_choices(ctx.sessions, actor)
    error, result = None, None
    try:
        filters = browse.CameraFilters(
            status or None,
            model or None,
            lot or None,
            firmware or None,
            precinct or None,
            dock or None,
            holder.strip() or None,
            _number(undocked, "number of days"),
        )
        result = browse.browse_cameras(ctx.sessions, actor, filters, page=page, per_page=PER_PAGE)
    except FleetError as exc:
        error = str(exc)
    return render(
        request,
        "fleet.html",
        actor,
        422 if error else 200,
        form=form,
        choices=choices,
        res=result,
        qs=urlencode({k: v for k, v in form.items() if v}),
        error=error,
    )


def _at(item: dict[str, Any]) -> dict[str, Any]:
    """A history or event row with its ISO time as a datetime (for ``local()``)."""
    return item | {"at": datetime.fromisoformat(item["at"])}


@router.get("/cameras/{serial}", response_class=HTMLResponse)
def camera_page(request: Request, serial: str, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """One camera: its record, holder, assignments, history, device events and uploads."""
    try:
        detail = inventory.camera_detail(ctx.sessions, actor, serial, events=50)
        activity = browse.camera_activity(ctx.sessions, actor, serial)
        warnings = recall_warnings.list_warnings(ctx.sessions, actor, serial=serial)
    except FleetError as exc:
        raise LookupError(str(exc)) from None
    docks = {d.id: d for d in inventory.list_docks(ctx.sessions, actor)}
    return render(
        request,
        "fleet_camera.html",
        actor,
        c=detail.camera,
        dock=docks.get(detail.camera.dock or ""),
        assignments=list(reversed(detail.assignments)),
        history=[_at(h) for h in reversed(detail.history)],
        events=[_at(e) for e in reversed(detail.events)],
        activity=activity,
        warnings=warnings,
        footage=has_any_view(actor),
    )


# --- recalls and rollouts -----------------------------------------------------------------


def _recalls_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    camps = recalls.list_campaigns(ctx.sessions, actor)
    return render(
        request,
        "fleet_recalls.html",
        actor,
        status,
        recalls=[c for c in camps if c.kind == CampaignKind.RECALL.value],
        rollouts=[c for c in camps if c.kind == CampaignKind.ROLLOUT.value],
        choices=browse.filter_choices(ctx.sessions, actor),
        form=form or {},
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/recalls", response_class=HTMLResponse)
def recalls_page(
    request: Request, ctx: CtxDep, actor: PageActor, done: str | None = None
) -> HTMLResponse:
    """Every recall and rollout with its progress; forms to start one."""
    return _recalls_page(request, ctx, actor, done=done)


@router.post("/recalls", response_model=None)
def recall_create(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    kind: Annotated[str, Form()] = "recall",
    criterion: Annotated[str, Form()] = "battery_lot",
    value: Annotated[str, Form()] = "",
    model: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Start a recall (every camera of a lot, firmware or model out of service) or a
    firmware rollout (every camera not on the target firmware, of one model if named)."""
    form = {"kind": kind, "criterion": criterion, "value": value, "model": model, "reason": reason}

    def create() -> None:
        _csrf(request, csrf)
        if not reason.strip():
            raise FleetError(f"Give the reason for the {kind}.")
        if kind == CampaignKind.ROLLOUT.value:
            if not value.strip():
                raise FleetError("Name the firmware version the cameras are to run.")
            recalls.create_rollout(
                ctx.sessions, actor, value, model=model.strip() or None, reason=reason
            )
            return
        if kind != CampaignKind.RECALL.value:
            raise FleetError(f"Choose a recall or a rollout, not {kind!r}.")
        if criterion not in recalls.CRITERIA:
            raise FleetError("Recall by battery lot, firmware or model.")
        if not value.strip():
            raise FleetError(f"Name the {criterion.replace('_', ' ')} recalled.")
        recalls.create_recall(ctx.sessions, actor, reason=reason, **{criterion: value})

    try:
        create()
    except FleetError as exc:
        return _recalls_page(request, ctx, actor, status=422, error=str(exc), form=form)
    return RedirectResponse("/fleet/recalls?done=created", status_code=303)


def _recall_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    recall_id: str,
    *,
    everything: bool = False,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    try:
        view = recalls.show_campaign(ctx.sessions, actor, recall_id, everything=everything)
    except FleetError as exc:
        raise LookupError(str(exc)) from None
    return render(
        request,
        "fleet_recall.html",
        actor,
        status,
        c=view,
        everything=everything,
        outcomes=recalls.OUTCOMES,
        is_recall=view.kind == CampaignKind.RECALL.value,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/recalls/{recall_id}", response_class=HTMLResponse)
def recall_page(
    request: Request,
    recall_id: str,
    ctx: CtxDep,
    actor: PageActor,
    all: bool = False,
    done: str | None = None,
) -> HTMLResponse:
    """A recall's or rollout's progress: counts, the cameras still open with their holders
    now (every camera with ``all``), and uploads by recalled cameras after the recall."""
    return _recall_page(request, ctx, actor, recall_id, everything=all, done=done)


@router.post("/recalls/{recall_id}/resolve", response_model=None)
def recall_resolve(
    request: Request,
    recall_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    serial: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    replacement: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record what became of one recalled camera: returned, replaced (by which camera) or
    cleared."""

    def resolve() -> None:
        _csrf(request, csrf)
        if not outcome:
            raise FleetError(f"Choose what became of camera {serial}.")
        spare = replacement.strip() or None
        if outcome == ItemStatus.REPLACED.value and spare is None:
            raise FleetError(f"Name the serial of the camera that replaced {serial}.")
        if outcome != ItemStatus.REPLACED.value and spare is not None:
            raise FleetError("Give a replacement serial only when the camera was replaced.")
        recalls.resolve_recall(
            ctx.sessions, actor, recall_id, serial, outcome, replacement=spare, note=note
        )

    return _act(
        request,
        lambda status, error: _recall_page(
            request, ctx, actor, recall_id, status=status, error=error
        ),
        resolve,
        f"/fleet/recalls/{quote(recall_id, safe='')}?done=resolved",
    )


def _act(
    request: Request,
    page: Callable[[int, str], HTMLResponse],
    action: Callable[[], object],
    done: str,
) -> Response:
    """Act, then on to ``done``; or ``page`` with the sentence saying why not."""
    try:
        action()
    except FleetError as exc:
        return page(422, str(exc))
    return RedirectResponse(done, status_code=303)


# --- reports ------------------------------------------------------------------------------


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    days: str = "3",
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
    grace: str = "12",
    threshold: str = "20",
) -> HTMLResponse:
    """Not docked for N days, late uploads, power cycling and battery health by lot."""
    tz = ctx.settings.timezone
    form = {"days": days, "from": start, "to": end, "grace": grace, "threshold": threshold}
    error = None
    data: dict[str, Any] = {"undocked": [], "late": None, "cycling": [], "battery": []}
    try:
        n = _number(days, "number of days")
        hours = _number(grace, "shift grace")
        level = _number(threshold, "battery threshold")
        a, b = _day(start, tz, "from"), _day(end, tz, "to", end=True)
        if hours is not None and hours < 0:
            raise FleetError("The shift grace cannot be negative.")
        if level is not None and level != int(level):
            raise FleetError("The battery threshold is a whole percentage.")
        data["undocked"] = reports.not_docked(ctx.sessions, actor, 3 if n is None else n)
        late_kw: dict[str, Any] = {"start": a, "end": b}
        if hours is not None:
            late_kw["shift_grace"] = timedelta(hours=hours)
        data["late"] = reports.late_uploads(ctx.sessions, actor, **late_kw)
        data["cycling"] = reports.power_cycling(ctx.sessions, actor, start=a, end=b)
        data["battery"] = reports.battery_by_lot(
            ctx.sessions, actor, start=a, end=b, threshold=20 if level is None else int(level)
        )
    except FleetError as exc:
        error = str(exc)
    return render(
        request,
        "fleet_reports.html",
        actor,
        422 if error else 200,
        form=form,
        period=bool(start or end),
        error=error,
        **data,
    )
