"""Who may see which jobs: their own always, everyone's with ``system:jobs:view``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import Permission
from bodycam.jobs.models import Job


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
