"""Who may see which jobs (their own always, everyone's with ``system:jobs:view``); retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.ids import utcnow
from bodycam.jobs.models import Job, JobStatus


def list_jobs(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    status: str | None = None,
    everyone: bool = False,
    limit: int = 50,
) -> list[Job]:
    """The newest jobs: the actor's own, or with ``everyone`` all (``system:jobs:view``)."""
    if everyone:
        actor.require(Permission.JOBS_VIEW, "see other users' jobs")
    stmt = select(Job).order_by(Job.created_at.desc()).limit(max(1, min(limit, 1000)))
    if not everyone:
        stmt = stmt.where(Job.created_by == actor.user_id)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    with factory() as s:
        rows = list(s.scalars(stmt))
        s.expunge_all()
    return rows


@dataclass
class JobPage:
    """One page of jobs, newest first, and how many there are in all."""

    jobs: list[Job]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def page_jobs(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    status: str | None = None,
    kind: str | None = None,
    everyone: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> JobPage:
    """Page ``page`` of the jobs the actor asks for: their own, or with ``everyone`` all
    (``system:jobs:view``); by state and kind (a kind ending in ``.`` is a prefix)."""
    if everyone:
        actor.require(Permission.JOBS_VIEW, "see other users' jobs")
    if status is not None and status not in {s.value for s in JobStatus}:
        known = ", ".join(s.value for s in JobStatus)
        raise ValueError(f"Unknown job state {status!r}; choose {known}.")
    per_page = max(1, min(per_page, 500))
    where = []
    if not everyone:
        where.append(Job.created_by == actor.user_id)
    if status is not None:
        where.append(Job.status == status)
    if kind:
        where.append(Job.kind.startswith(kind) if kind.endswith(".") else Job.kind == kind)
    with factory() as s:
        total = int(s.scalar(select(func.count()).select_from(Job).where(*where)) or 0)
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        rows = list(
            s.scalars(
                select(Job)
                .where(*where)
                .order_by(Job.created_at.desc(), Job.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
        )
        s.expunge_all()
    return JobPage(rows, total, page, per_page)


def job_kinds(factory: sessionmaker[Session]) -> list[str]:
    """Every kind of job the table holds, sorted (for a filter's choices)."""
    with factory() as s:
        return sorted(s.scalars(select(Job.kind).distinct()))


def get_job(factory: sessionmaker[Session], actor: Actor, job_id: str) -> Job:
    """One job, when it is the actor's own or the actor may see every job."""
    with factory() as s:
        job = s.get(Job, job_id)
        if job is not None:
            s.expunge(job)
    if job is None:
        raise LookupError(f"There is no job {job_id}.")
    if job.created_by != actor.user_id and not actor.can(Permission.JOBS_VIEW):
        raise PermissionDenied(
            f"User {actor.username} ({actor.role.value}) may not see job {job_id}: it is "
            "another user's.",
            actor,
            job_id,
        )
    return job


class NotQuarantined(LookupError):
    """A retry of a job that is not quarantined: there is no such job to retry."""


def retry_job(factory: sessionmaker[Session], actor: Actor, job_id: str) -> Job:
    """Queue a quarantined job again with a fresh set of attempts (its own or, with
    ``system:jobs:view``, anyone's), audited; under Celery it is sent once this commits."""
    from bodycam.jobs.dispatch import enqueue_after_commit

    get_job(factory, actor, job_id)  # refuses what the actor may not see
    with transaction(factory) as s:
        job = s.get(Job, job_id)
        assert job is not None
        if job.status != JobStatus.QUARANTINED.value:
            raise NotQuarantined(
                f"Job {job_id} is {job.status}; only a quarantined job can be retried."
            )
        record(
            s,
            actor,
            AuditAction.JOB_RETRY,
            "job",
            job.id,
            {"kind": job.kind, "attempts": job.attempts, "error": job.error[:2000]},
        )
        job.status = JobStatus.QUEUED.value
        job.attempts = 0
        job.not_before = utcnow()
        job.finished_at = None
        job.heartbeat_at = None
        s.flush()
        enqueue_after_commit(s, job.id)
        s.expunge(job)
    return job


def finished_jobs(
    factory: sessionmaker[Session],
    kind: str,
    *,
    since: datetime | None = None,
    status: str = JobStatus.DONE.value,
    limit: int = 5000,
) -> list[Job]:
    """Jobs of ``kind`` that ended in ``status`` (since ``since``), newest first."""
    stmt = (
        select(Job)
        .where(Job.kind == kind, Job.status == status)
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(Job.finished_at >= since)
    with factory() as s:
        rows = list(s.scalars(stmt))
        s.expunge_all()
    return rows


def pending_job(factory: sessionmaker[Session], kind: str) -> Job | None:
    """A queued or running job of ``kind``, if there is one."""
    pending = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
    with factory() as s:
        job = s.scalars(select(Job).where(Job.kind == kind, Job.status.in_(pending))).first()
        if job is not None:
            s.expunge(job)
    return job
