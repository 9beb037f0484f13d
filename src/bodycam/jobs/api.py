"""The jobs HTTP API: list jobs with their state and progress, read one, retry one.

Everyone sees their own jobs; ``system:jobs:view`` (administrators) sees every job,
the periodic ones (purge, scrub) included, with ``?all=true``. A quarantined job can be
queued again by whoever may see it; each retry is audited (``system:job:retry``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.service import NotQuarantined, get_job, page_jobs, retry_job
from bodycam.web.deps import ApiActor, CtxDep

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class JobDetail(BaseModel):
    """A background job: what it works on, where it stands, how it ended."""

    id: str
    kind: str
    status: str  # queued, running, done, quarantined
    params: dict[str, Any]
    done: int
    total: int
    progress: float | None  # 0 to 1; null while the total is unknown
    attempts: int
    max_attempts: int
    error: str | None  # the last attempt's error (kept while queued for a retry)
    result: dict[str, Any]
    created_by: str | None  # null for periodic jobs (the purge, the scrub)
    created_at: datetime
    not_before: datetime  # when it is next due (after a back-off)
    started_at: datetime | None
    finished_at: datetime | None


class JobList(BaseModel):
    """One page of jobs, newest first."""

    jobs: list[JobDetail]
    total: int
    page: int
    per_page: int
    pages: int


def job_detail(job: Job) -> JobDetail:
    """API form of a job."""
    if job.status == JobStatus.DONE.value:
        progress: float | None = 1.0
    else:
        progress = min(1.0, job.done / job.total) if job.total else None
    return JobDetail(
        id=job.id,
        kind=job.kind,
        status=job.status,
        params=dict(job.params or {}),
        done=job.done,
        total=job.total,
        progress=progress,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        error=job.error or None,
        result=dict(job.result or {}),
        created_by=job.created_by,
        created_at=job.created_at,
        not_before=job.not_before,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


@router.get("", response_model=JobList)
def list_jobs_route(
    ctx: CtxDep,
    actor: ApiActor,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    kind: Annotated[
        str | None,
        Query(
            max_length=60,
            description="Only this kind (e.g. evidence.probe; 'evidence.': all of a domain).",
        ),
    ] = None,
    all_: Annotated[
        bool, Query(alias="all", description="Every user's jobs (system:jobs:view).")
    ] = False,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JobList:
    """Your jobs (or everyone's with ``all=true``), newest first, with progress and errors."""
    found = page_jobs(
        ctx.sessions,
        actor,
        status=status.value if status else None,
        kind=kind or None,
        everyone=all_,
        page=page,
        per_page=per_page,
    )
    return JobList(
        jobs=[job_detail(j) for j in found.jobs],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        pages=found.pages,
    )


@router.get("/{job_id}", response_model=JobDetail)
def get_job_route(job_id: str, ctx: CtxDep, actor: ApiActor) -> JobDetail:
    """One job (your own, or any with ``system:jobs:view``)."""
    return job_detail(get_job(ctx.sessions, actor, job_id))


@router.post("/{job_id}/retry", response_model=JobDetail)
def retry_job_route(job_id: str, ctx: CtxDep, actor: ApiActor) -> JobDetail:
    """Queue a quarantined job again with a fresh set of attempts (audited)."""
    try:
        job = retry_job(ctx.sessions, actor, job_id)
    except NotQuarantined as exc:
        raise HTTPException(409, str(exc)) from None
    return job_detail(job)
