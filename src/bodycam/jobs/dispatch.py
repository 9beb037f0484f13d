"""Telling a runner about new jobs, only after the transaction that queued them commits.

The job table is the queue of record; a broker (Celery on Redis) is only a wake-up call
carrying a job id. :func:`enqueue_after_commit` (called by ``submit`` and ``retry``, so no
caller can forget it) remembers the id on the session; when the session's outermost
transaction commits, the ids go to the deployment's :class:`Dispatcher`. A rolled-back
transaction sends nothing, so a worker never hears of a job whose row does not exist.

If the broker cannot be reached at that moment the commit stands (the action happened)
and the job waits in the table: :func:`resend_overdue`, run by every Celery worker's
maintenance round, sends again any due job nobody has taken. A duplicate message is
harmless: a worker claims the row atomically and ignores a job that is not due.

Which dispatcher a session uses: the one :func:`configure` put on its session factory
(workers and tests), else the one the process's environment settings name
(``BODYCAM_JOBS=celery``: Celery; otherwise none: the in-process and ``worker`` runners
poll the table and need no message).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import and_, event, or_, select
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from bodycam.db import transaction
from bodycam.ids import utcnow
from bodycam.jobs.models import Job, JobStatus

if TYPE_CHECKING:
    from bodycam.config import Settings

log = logging.getLogger(__name__)

CONFIG_KEY = "bodycam.jobs.config"
_PENDING_KEY = "bodycam.jobs.pending"
_HOOKED_KEY = "bodycam.jobs.hooked"

RESEND_AFTER = timedelta(minutes=10)
"""A due job still queued this long after it was due (or last re-sent) is sent again."""


class Dispatcher(Protocol):
    """Something that hands job ids to the runners (a broker)."""

    def send(self, job_ids: Sequence[str], countdown: float = 0.0) -> None:
        """Ask a runner to run these jobs (after ``countdown`` seconds)."""
        ...


@dataclass(frozen=True)
class JobsConfig:
    """How this process queues jobs: who to tell after commit, and default attempts."""

    dispatcher: Dispatcher | None = None
    max_attempts: int = 3


def config_for(settings: Settings) -> JobsConfig:
    """The jobs configuration ``settings`` describe."""
    dispatcher: Dispatcher | None = None
    if settings.jobs == "celery":
        from bodycam.jobs.celery_app import dispatcher_for

        dispatcher = dispatcher_for(settings)
    return JobsConfig(dispatcher, settings.job_max_attempts)


def configure(sessions: sessionmaker[Session], settings: Settings | JobsConfig) -> JobsConfig:
    """Make every session of ``sessions`` queue jobs as ``settings`` say; return the config."""
    config = settings if isinstance(settings, JobsConfig) else config_for(settings)
    info = dict(sessions.kw.get("info") or {})
    info[CONFIG_KEY] = config
    sessions.configure(info=info)
    return config


@lru_cache(maxsize=1)
def _environment_config() -> JobsConfig:
    from pydantic import ValidationError

    from bodycam.config import get_settings

    try:
        return config_for(get_settings())
    except ValidationError:  # the command reports bad settings itself
        return JobsConfig()


def config_of(session: Session) -> JobsConfig:
    """The jobs configuration of ``session`` (its factory's, else the environment's)."""
    config = session.info.get(CONFIG_KEY)
    return config if isinstance(config, JobsConfig) else _environment_config()


def enqueue_after_commit(session: Session, job_id: str) -> None:
    """Send ``job_id`` to the dispatcher once ``session``'s outermost transaction commits."""
    session.info.setdefault(_PENDING_KEY, []).append(job_id)
    if not session.info.get(_HOOKED_KEY):
        session.info[_HOOKED_KEY] = True
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_transaction_end", _after_transaction_end)


def _after_commit(session: Session) -> None:
    # after_commit also fires when a SAVEPOINT is released: only the outermost commit
    # makes the rows visible to other connections.
    if session.in_nested_transaction():
        return
    ids: list[str] = session.info.pop(_PENDING_KEY, [])
    if ids:
        send_quietly(config_of(session).dispatcher, ids)


def _after_transaction_end(session: Session, trans: SessionTransaction) -> None:
    if trans.parent is None:  # the outermost transaction ended: committed ids are gone already
        session.info.pop(_PENDING_KEY, None)


def send_quietly(dispatcher: Dispatcher | None, ids: Sequence[str], countdown: float = 0.0) -> bool:
    """Send ``ids``; a broker failure is logged, never raised (the rows are safe)."""
    if dispatcher is None or not ids:
        return False
    try:
        dispatcher.send(ids, countdown)
    except Exception as exc:  # the commit stands; resend_overdue sends them later
        log.warning(
            "could not send %d job(s) to the broker (%s); they stay queued and are sent "
            "again by a worker's maintenance round",
            len(ids),
            exc,
        )
        return False
    return True


def resend_overdue(
    factory: sessionmaker[Session],
    dispatcher: Dispatcher | None,
    *,
    now: datetime | None = None,
    after: timedelta = RESEND_AFTER,
    stale_after: timedelta | None = None,
    limit: int = 500,
) -> list[str]:
    """Send again the jobs a broker seems to have lost; return their ids.

    That is: queued jobs due for longer than ``after`` and not re-sent within ``after``
    (their message was lost, or every worker is busy: then the duplicate is ignored), and
    running jobs whose runner stopped heartbeating (``stale_after``): those go back to
    the queue, or to quarantine when that was their last attempt. A queued job's
    ``heartbeat_at`` records when it was last re-sent (it has no runner to beat for it).
    """
    if dispatcher is None:
        return []
    from bodycam.jobs.runner import STALE_AFTER, quarantine_orphan

    now = now or utcnow()
    stale = now - (stale_after or STALE_AFTER)
    overdue = and_(
        Job.status == JobStatus.QUEUED.value,
        Job.not_before <= now - after,
        or_(Job.heartbeat_at.is_(None), Job.heartbeat_at <= now - after),
    )
    orphaned = and_(Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < stale)
    ids = []
    with transaction(factory) as s:
        stmt = select(Job).where(or_(overdue, orphaned)).order_by(Job.not_before).limit(limit)
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for job in s.scalars(stmt):
            if job.status == JobStatus.RUNNING.value:
                if job.attempts >= job.max_attempts:
                    quarantine_orphan(job, now)
                    continue
                job.status = JobStatus.QUEUED.value
                job.not_before = now
                job.error = job.error or f"Its runner stopped (no heartbeat for {STALE_AFTER})."
            job.heartbeat_at = now
            ids.append(job.id)
    send_quietly(dispatcher, ids)
    return ids
