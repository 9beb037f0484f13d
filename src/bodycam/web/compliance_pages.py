"""Compliance pages: the supervisor dashboard (rates with intervals, a trend chart) and
the drill-down from a squad to an officer, to an event, to its video.

What a reader sees is scoped in ``bodycam.compliance`` (everyone, their squad, or their
own record); these handlers only parse the query and lay the numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.compliance import dashboard, report
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import render

router = APIRouter(prefix="/compliance", include_in_schema=False)

STATUSES = (
    "recorded", "late_start", "early_stop", "gaps", "tagged", "not_recorded", "exempt", "unknown",
)  # fmt: skip


class BadQuery(ValueError):
    """A page's query cannot be read; the message says why."""


def _day(value: str | None, tz: str, what: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadQuery(f"{what} {value!r} is not a date (use YYYY-MM-DD).") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when + timedelta(days=1) if end and len(value.strip()) == 10 else when


@dataclass(frozen=True)
class Chart:
    """An SVG line chart of one rate per period with its 95% interval as a band."""

    width: int
    height: int
    line: str
    band: str
    points: list[tuple[float, float, str, str]]  # x, y, label, tooltip
    ticks: list[tuple[float, str]]  # y, label
    labels: list[tuple[float, str]]  # x, period label (a few)


def chart(points: list[report.TrendPoint], metric: str = "activation") -> Chart | None:
    """Coordinates for ``points`` (None when no period has data)."""
    _, num, den = report.METRICS[metric]
    rate_f, low_f, high_f = (
        ("activation_rate", "activation_low", "activation_high")
        if metric == "activation"
        else (f"{metric}_rate", f"{metric}_low", f"{metric}_high")
    )
    width, height, left, right, top, bottom = 720, 240, 44, 12, 12, 36
    n = len(points)
    if not n or all(getattr(p.rate, den) == 0 for p in points):
        return None

    def x(i: int) -> float:
        return left + (width - left - right) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v)

    line, upper, lower, dots = [], [], [], []
    for i, p in enumerate(points):
        r = p.rate
        value = getattr(r, rate_f)
        if value is None:
            continue
        lo, hi = getattr(r, low_f), getattr(r, high_f)
        line.append(f"{x(i):.1f},{y(value):.1f}")
        upper.append(f"{x(i):.1f},{y(hi):.1f}")
        lower.append(f"{x(i):.1f},{y(lo):.1f}")
        tip = (
            f"{p.period}: {value:.0%} ({getattr(r, num)} of {getattr(r, den)}; "
            f"95% CI {lo:.0%} to {hi:.0%})"
        )
        dots.append((x(i), y(value), p.period, tip))
    step = max(1, n // 8)
    return Chart(
        width,
        height,
        " ".join(line),
        " ".join(upper + lower[::-1]),
        dots,
        [(y(v), f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)],
        [(x(i), points[i].period) for i in range(0, n, step)],
    )


@router.get("", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    by: str | None = None,
    squad: str | None = None,
    period: str = "month",
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> HTMLResponse:
    """Rates by squad (or officer) with intervals, and the trend of the department or squad."""
    tz = ctx.settings.timezone
    everyone = actor.can(Permission.COMPLIANCE_VIEW)
    by = by or ("squad" if everyone else "officer")
    form = {"by": by, "squad": squad or "", "period": period, "from": start or "", "to": end or ""}
    error, rates, points, change = None, [], [], None
    try:
        if by not in ("squad", "officer", "precinct", "call-type"):
            raise BadQuery("Group by squad, officer, precinct or call-type.")
        if period not in report.PERIODS:
            raise BadQuery("The period is day, week or month.")
        a, b = _day(start, tz, "From"), _day(end, tz, "To", end=True)
        rates = report.compliance_report(
            ctx.sessions, actor, by=by, start=a, end=b, tz=tz, squad=squad or None
        )
        points = report.trend(
            ctx.sessions,
            actor,
            by="squad" if squad else "all",
            group=squad or None,
            period=period,
            start=a,
            end=b,
            tz=tz,
        )
        change = report.describe_trend(points)
    except (BadQuery, ValueError) as exc:
        error = str(exc)
    with ctx.sessions() as s:
        ids = {
            f"{u.badge or '-'} {u.username}": u.id
            for u in s.scalars(select(User).where(User.badge.is_not(None)))
        }
    return render(
        request,
        "compliance.html",
        actor,
        422 if error else 200,
        form=form,
        rates=rates,
        officer_ids=ids,
        chart=chart(points),
        points=points,
        change=change,
        error=error,
        scope=(
            "every officer"
            if everyone
            else (
                "your squad"
                if actor.can(Permission.COMPLIANCE_VIEW_SQUAD) and actor.squad_id
                else "you"
            )
        ),
    )


@router.get("/officers/{officer_id}", response_class=HTMLResponse)
def officer_page(
    request: Request,
    officer_id: str,
    ctx: CtxDep,
    actor: PageActor,
    status: str | None = None,
    period: str = "month",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """One officer: their trend and every verdict, newest first, each linked to its event."""
    if status and status not in STATUSES:
        raise BadQuery(f"Unknown status {status!r}.")
    if period not in report.PERIODS:
        raise BadQuery("The period is day, week or month.")
    info, verdicts, total = dashboard.officer_verdicts(
        ctx.sessions, actor, officer_id, status=status or None, page=page
    )
    points = report.trend(
        ctx.sessions,
        actor,
        by="officer",
        group=info.badge or info.username,
        period=period,
        tz=ctx.settings.timezone,
    )
    pages = max(1, -(-total // 50))
    return render(
        request,
        "compliance_officer.html",
        actor,
        info=info,
        verdicts=verdicts,
        total=total,
        page=page,
        pages=pages,
        wanted=status or "",
        statuses=STATUSES,
        period=period,
        chart=chart(points),
        points=points,
        change=report.describe_trend(points),
    )


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: str, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """A dispatch event: its times, its officers, each verdict with its reasons and videos."""
    detail = dashboard.event_detail(ctx.sessions, actor, event_id)
    return render(request, "compliance_event.html", actor, d=detail)
