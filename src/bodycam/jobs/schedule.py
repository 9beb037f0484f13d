"""Periodic jobs (the purge, the scrub): queued once per time slot, by whichever runner asks
first.

Every runner calls :func:`schedule_due` now and then: the in-process thread of ``bodycam
serve`` every minute, ``bodycam worker``'s loop every round, and each Celery worker's
maintenance round. For each periodic kind it takes the current slot (the time divided by
the kind's interval) and queues one job keyed ``<kind>@<slot>``, unless a job of that kind
is still queued or running. The job table's unique key makes this safe with any number of
schedulers: the first insert wins and the others find it (or are refused by the database
and let it be). So no separate scheduler process (Celery beat) is needed, a scheduler
that was down only delays the next slot, and a periodic job is an ordinary job: claimed
once, retried, quarantined, listed by ``bodycam jobs list --all``.

The periodic jobs: ``retention.purge`` every 15 minutes (always), ``integrity.scrub``
every ``BODYCAM_SCRUB_INTERVAL_MINUTES`` (unless ``BODYCAM_SCRUB_CYCLE_DAYS=0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bodycam.db import transaction
from bodycam.ids import utcnow
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.runner import submit

if TYPE_CHECKING:
    from bodycam.config import Settings
    from bodycam.context import Context


@dataclass(frozen=True)
class Periodic:
    """A kind of job queued every ``every``."""

    kind: str
    every: timedelta


def periodic_jobs(settings: Settings) -> list[Periodic]:
    """The periodic jobs ``settings`` turn on."""
    from bodycam.retention.jobs import PURGE_EVERY, PURGE_JOB
    from bodycam.verify_scrub import SCRUB_JOB

    jobs = [Periodic(PURGE_JOB, PURGE_EVERY)]
    if settings.scrub_cycle_days > 0:
        jobs.append(Periodic(SCRUB_JOB, timedelta(minutes=settings.scrub_interval_minutes)))
    return jobs


def schedule_due(ctx: Context, now: datetime | None = None) -> list[str]:
    """Queue the periodic jobs whose slot has come; return the ids of those queued here."""
    now = now or utcnow()
    queued = []
    for periodic in periodic_jobs(ctx.settings):
        slot = int(now.timestamp() // periodic.every.total_seconds())
        key = f"{periodic.kind}@{slot}"
        pending = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
        try:
            with transaction(ctx.sessions) as s:
                busy = s.scalar(
                    select(Job.id)
                    .where(Job.kind == periodic.kind, Job.status.in_(pending))
                    .limit(1)
                )
                if busy is not None or s.scalar(select(Job.id).where(Job.key == key)):
                    continue
                job_id = submit(s, periodic.kind, {"slot": slot}, key=key).id
        except IntegrityError:  # another scheduler queued this slot first
            continue
        queued.append(job_id)
    return queued
