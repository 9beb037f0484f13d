"""Supervisor review pages: the review queue, one review with its checklist, the report.

Sampling stays a command (``bodycam compliance review sample``, run each cycle);
these pages are where a supervisor does the reviews and an inspector general sees
whether they happen. Permissions, scope and audit live in ``bodycam.compliance.review``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.compliance import review
from bodycam.compliance.review import ReviewError
from bodycam.compliance.review_models import CHECKLIST
from bodycam.compliance.review_report import review_report
from bodycam.context import Context
from bodycam.evidence.service import list_categories
from bodycam.ids import utcnow
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import _check_csrf, render

router = APIRouter(prefix="/compliance/reviews", include_in_schema=False)

QUESTIONS = {
    "late_activation": "Was the camera turned on late?",
    "early_deactivation": "Was it turned off early?",
    "muted": "Was the audio muted?",
    "obstructed": "Was the view obstructed?",
    "wrong_category": "Is the category wrong?",
    "professionalism": "Professionalism",
    "training_need": "Is there a training need?",
    "commendation": "Does it deserve a commendation?",
}
DONE = {"completed": "The review is recorded.", "skipped": "The review is skipped."}


@router.get("", response_class=HTMLResponse)
def reviews_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    cycle: str | None = None,
    status: str = "pending",
    mine: bool = False,
) -> HTMLResponse:
    """The reviews the reader may see (a supervisor: theirs and their squad's)."""
    error = None
    try:
        rows = review.list_reviews(
            ctx.sessions, actor, cycle=cycle or None, status=status or None, mine=mine
        )
    except ReviewError as exc:
        rows, error = [], str(exc)
    return render(
        request,
        "reviews.html",
        actor,
        422 if error else 200,
        rows=rows,
        form={"cycle": cycle or "", "status": status, "mine": mine},
        error=error,
    )


@router.get("/report", response_class=HTMLResponse)
def report_page(
    request: Request, ctx: CtxDep, actor: PageActor, cycle: str | None = None
) -> HTMLResponse:
    """Per supervisor and squad: assigned, done, skipped (why), pending, overdue, findings."""
    tz = ctx.settings.timezone
    name = cycle or review.cycle_of(utcnow(), tz).name
    error, report = None, None
    try:
        report = review_report(ctx.sessions, actor, name, tz=tz)
    except ReviewError as exc:
        error = str(exc)
    return render(
        request,
        "reviews_report.html",
        actor,
        422 if error else 200,
        report=report,
        cycle=name,
        error=error,
        findings=[f for f in review.FINDINGS],
    )


def _review_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    review_id: str,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    detail = review.show_review(ctx.sessions, actor, review_id)
    r = detail.row.review
    with ctx.sessions() as s:
        categories = [c.name for c in list_categories(s)]
    return render(
        request,
        "review.html",
        actor,
        status,
        d=detail,
        questions=QUESTIONS,
        checklist=CHECKLIST,
        categories=categories,
        can_act=r.status == "pending"
        and actor.can(Permission.COMPLIANCE_REVIEW_PERFORM)
        and r.officer_id != actor.user_id,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/{review_id}", response_class=HTMLResponse)
def review_page(
    request: Request, review_id: str, ctx: CtxDep, actor: PageActor, done: str | None = None
) -> HTMLResponse:
    """One review: the recording (when the reader may see it), and the checklist."""
    return _review_page(request, ctx, actor, review_id, done=done)


@router.post("/{review_id}/complete", response_model=None)
async def review_complete(
    request: Request,
    review_id: str,
    ctx: CtxDep,
    actor: PageActor,
) -> Response:
    """Record the checklist (every item answered); final once saved."""
    form = await request.form()
    if not _check_csrf(request, str(form.get("csrf", ""))):
        return _review_page(
            request, ctx, actor, review_id, status=422, error="The form expired; reload the page."
        )
    answers = {k: str(form[k]) for k in CHECKLIST if k in form}
    category = str(form.get("expected_category", "")).strip() or None
    try:
        review.complete_review(
            ctx.sessions,
            actor,
            review_id,
            answers,
            notes=str(form.get("notes", "")),
            expected_category=category,
        )
    except ReviewError as exc:
        return _review_page(request, ctx, actor, review_id, status=422, error=str(exc))
    return RedirectResponse(f"/compliance/reviews/{review_id}?done=completed", status_code=303)


@router.post("/{review_id}/skip", response_model=None)
def review_skip(
    request: Request,
    review_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Close the review without reviewing it; the reason is required and reported."""
    try:
        if not _check_csrf(request, csrf):
            raise ReviewError("The form expired; reload the page.")
        review.skip_review(ctx.sessions, actor, review_id, reason)
    except ReviewError as exc:
        return _review_page(request, ctx, actor, review_id, status=422, error=str(exc))
    return RedirectResponse(f"/compliance/reviews/{review_id}?done=skipped", status_code=303)
