"""The jobs page: background jobs with their state, progress, attempts and errors.

Everyone sees the jobs they asked for; ``system:jobs:view`` (administrators) may show
every job, the periodic ones (purge, scrub) included, and the quarantined ones with the
error that stopped them. A quarantined job can be queued again from here (audited as
``system:job:retry``) by whoever may see it. Times are shown in the agency's time zone.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.jobs.models import JobStatus
from bodycam.jobs.service import NotQuarantined, job_kinds, page_jobs, retry_job
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
DONE = {"retried": "The job is queued again with a fresh set of attempts."}


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    status: str = "",
    kind: str = "",
    scope: str = "",
    page: int = 1,
    done: str = "",
    error: str = "",
) -> HTMLResponse:
    """Jobs, newest first, filtered by state, kind and whose; paginated."""
    may_all = actor.can(Permission.JOBS_VIEW)
    everyone = may_all and scope != "mine"
    problem = error or None
    wanted = status if status in {s.value for s in JobStatus} else None
    if status and wanted is None:
        problem = f"Unknown job state {status!r}."
    found = page_jobs(
        ctx.sessions,
        actor,
        status=wanted,
        kind=kind.strip() or None,
        everyone=everyone,
        page=page,
        per_page=PER_PAGE,
    )
    ids = {j.created_by for j in found.jobs if j.created_by}
    with ctx.sessions() as s:
        names = {u.id: u.username for u in (s.get(User, i) for i in ids) if u is not None}
    filters = {"status": wanted or "", "kind": kind.strip(), "scope": scope}
    qs = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "jobs.html",
        actor,
        status=422 if problem else 200,
        found=found,
        names=names,
        filters=filters,
        qs=qs,
        kinds=job_kinds(ctx.sessions) if may_all else [],
        states=[s.value for s in JobStatus],
        everyone=everyone,
        may_all=may_all,
        done=DONE.get(done),
        error=problem,
    )


@router.post("/jobs/{job_id}/retry", response_model=None)
def jobs_retry(
    request: Request,
    job_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
) -> Response:
    """Queue a quarantined job again (audited); back to the quarantined jobs."""
    back = "/jobs?status=quarantined"
    if not _check_csrf(request, csrf):
        return RedirectResponse(f"{back}&error={quote(FORM_EXPIRED)}", status_code=303)
    try:
        retry_job(ctx.sessions, actor, job_id)
    except NotQuarantined as exc:
        return RedirectResponse(f"{back}&error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"{back}&done=retried", status_code=303)
