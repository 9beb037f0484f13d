"""Submitting, claiming and running jobs; the in-process runner.

A job is a row in ``jobs``. :func:`submit` adds it in the caller's transaction, so a job
exists only if the action that asked for it committed; under Celery its id is sent to the
broker only after that commit (:mod:`bodycam.jobs.dispatch`). A runner claims a due job
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock serialises claims), runs
its handler with a progress callback that also refreshes the job's heartbeat, and records
the result. Claiming is the only way in, for every runner (the in-process thread,
``bodycam worker``, a Celery task), so a job delivered twice runs once. A failed attempt
is retried after an exponential back-off (``BODYCAM_JOB_RETRY_BASE_SECONDS``); a job that
fails every attempt (``BODYCAM_JOB_MAX_ATTEMPTS``), or fails with
:class:`PermanentJobError`, is quarantined with its error and not retried unless someone
asks (``bodycam jobs retry``). A job whose runner died (no heartbeat for ``STALE_AFTER``)
is taken again, or quarantined when that was its last attempt (an input that kills its
runner every time must not kill runners forever). Handlers take ids in their parameters,
never file contents, and must be idempotent: running one twice has the effect of running
it once.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bodycam.db import transaction
from bodycam.ids import utcnow
from bodycam.jobs.dispatch import config_of, enqueue_after_commit
from bodycam.jobs.models import Job, JobStatus

if TYPE_CHECKING:
    from bodycam.context import Context

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Handler = Callable[["Context", dict[str, Any], Progress], dict[str, Any]]

STALE_AFTER = timedelta(minutes=10)
"""A running job whose heartbeat is older than this is taken to be orphaned."""

MAX_BACKOFF_S = 3600.0
"""The longest wait between two attempts."""

PERIODIC_CHECK_S = 60.0
"""How often the in-process runner queues due periodic jobs (the scrub); its first check
comes this long after it starts."""

HANDLER_MODULES = (
    "bodycam.redaction.jobs",
    "bodycam.verify_scrub",
    "bodycam.evidence.jobs",
    "bodycam.compliance.jobs",
    "bodycam.retention.jobs",
    "bodycam.disclosure.jobs",
    "bodycam.evaluation.jobs",
)
"""Modules that register job handlers (imported by :func:`load_handlers`)."""

_HANDLERS: dict[str, Handler] = {}


class PermanentJobError(Exception):
    """A failure that another attempt cannot fix (bad input): quarantine at once."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def load_handlers() -> None:
    """Import every module that registers handlers."""
    for name in HANDLER_MODULES:
        importlib.import_module(name)


def submit(
    session: Session,
    kind: str,
    params: dict[str, Any],
    *,
    key: str | None = None,
    created_by: str | None = None,
    max_attempts: int | None = None,
    dispatch: bool = True,
) -> Job:
    """Queue a job in ``session``'s transaction; with ``key``, an existing job is reused.

    ``max_attempts`` defaults to ``BODYCAM_JOB_MAX_ATTEMPTS``. The job's id reaches the
    broker (under Celery) only once the transaction commits; a rollback sends nothing.
    ``dispatch=False`` sends nothing at all: for a job the caller runs itself, now.
    """
    if key is not None:
        existing = session.scalars(select(Job).where(Job.key == key)).first()
        if existing is not None:
            return existing
    config = config_of(session)
    job = Job(
        kind=kind,
        key=key,
        params=params,
        created_by=created_by,
        max_attempts=max_attempts or config.max_attempts,
    )
    session.add(job)
    session.flush()
    if dispatch:
        enqueue_after_commit(session, job.id)
    return job


def claim(factory: sessionmaker[Session], job_id: str | None = None) -> Job | None:
    """Take the oldest due job (or ``job_id`` when it is due) and mark it running.

    Atomic: of several runners asking at once (or one job delivered twice) exactly one
    gets it; the others get None. An orphaned job (running, no heartbeat for
    ``STALE_AFTER``) that has used its last attempt is quarantined instead of taken.
    """
    while True:
        with transaction(factory) as s:
            now = utcnow()
            due = or_(
                and_(Job.status == JobStatus.QUEUED.value, Job.not_before <= now),
                and_(Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < now - STALE_AFTER),
            )
            stmt = select(Job).where(due).order_by(Job.not_before, Job.created_at).limit(1)
            if job_id is not None:
                stmt = stmt.where(Job.id == job_id)
            if s.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            job = s.scalars(stmt).first()
            if job is None:
                return None
            if job.status == JobStatus.RUNNING.value and job.attempts >= job.max_attempts:
                quarantine_orphan(job, now)
                taken = None
            else:
                job.status = JobStatus.RUNNING.value
                job.attempts += 1
                job.started_at = job.heartbeat_at = now
                taken = job
            s.flush()
            s.expunge(job)
        if taken is not None or job_id is not None:
            return taken


def quarantine_orphan(job: Job, now: datetime) -> None:
    """Quarantine a job whose runner died during its last attempt."""
    job.status = JobStatus.QUARANTINED.value
    job.finished_at = now
    job.error = (
        f"Its runner stopped (no heartbeat for {STALE_AFTER}) during each of its "
        f"{job.attempts} attempt(s)." + (f" Last error: {job.error}" if job.error else "")
    )


def _reporter(factory: sessionmaker[Session], job_id: str, also: Progress | None) -> Progress:
    """A progress callback writing (throttled) progress and heartbeat to the job row."""
    last = [0.0]

    def report(done: int, total: int) -> None:
        if also is not None:
            also(done, total)
        now = time.monotonic()
        if now - last[0] < 0.5:
            return
        last[0] = now
        with transaction(factory) as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(done=done, total=total, heartbeat_at=utcnow())
            )

    return report


def run_claimed(ctx: Context, job: Job, progress: Progress | None = None) -> Job:
    """Run a claimed job's handler and record how it ended; return the job's new state."""
    fn = _HANDLERS.get(job.kind)
    error: str | None = None
    permanent = False
    result: dict[str, Any] = {}
    if fn is None:
        error, permanent = f"No handler for jobs of kind {job.kind!r}.", True
    else:
        try:
            result = fn(ctx, dict(job.params), _reporter(ctx.sessions, job.id, progress))
        except PermanentJobError as exc:
            error, permanent = str(exc), True
        except Exception as exc:  # any failure: recorded, retried later or quarantined
            error = f"{type(exc).__name__}: {exc}"
    return _record_outcome(
        ctx.sessions, job.id, result, error, permanent, ctx.settings.job_retry_base_seconds
    )


def _record_outcome(
    factory: sessionmaker[Session],
    job_id: str,
    result: dict[str, Any],
    error: str | None,
    permanent: bool,
    retry_base_s: float,
) -> Job:
    """Record how an attempt ended: done, queued again after a back-off, or quarantined."""
    with transaction(factory) as s:
        row = s.get(Job, job_id, populate_existing=True)
        assert row is not None
        now = utcnow()
        if error is None:
            row.status = JobStatus.DONE.value
            row.result = result
            row.error = ""
            row.finished_at = now
            if row.total:
                row.done = row.total
        elif permanent or row.attempts >= row.max_attempts:
            row.status = JobStatus.QUARANTINED.value
            row.error = error
            row.finished_at = now
        else:
            row.status = JobStatus.QUEUED.value
            row.error = error
            row.not_before = now + backoff(retry_base_s, row.attempts)
        s.flush()
        s.expunge(row)
        return row


def run_inline(
    factory: sessionmaker[Session],
    job_id: str,
    fn: Callable[[Progress], dict[str, Any]],
    *,
    retry_base_s: float = 2.0,
) -> Job | None:
    """Claim job ``job_id`` and run ``fn`` for it in this process, now; its new state.

    For a caller that has no :class:`~bodycam.context.Context` but wants a job done
    before it returns (ingest in an embedded deployment makes its poster frame so). The
    job row records the attempt exactly as a runner would: a failure leaves it queued
    for the runners after a back-off, or quarantined. None when another runner holds it.
    """
    job = claim(factory, job_id)
    if job is None:
        return None
    error: str | None = None
    permanent = False
    result: dict[str, Any] = {}
    try:
        result = fn(_reporter(factory, job_id, None))
    except PermanentJobError as exc:
        error, permanent = str(exc), True
    except Exception as exc:  # recorded; a runner tries again after the back-off
        error = f"{type(exc).__name__}: {exc}"
    return _record_outcome(factory, job_id, result, error, permanent, retry_base_s)


def backoff(base_s: float, attempts: int) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones: base * 2**attempts."""
    return timedelta(seconds=min(base_s * 2**attempts, MAX_BACKOFF_S))


def run_next(ctx: Context) -> Job | None:
    """Claim and run one due job; None when none is due."""
    job = claim(ctx.sessions)
    return None if job is None else run_claimed(ctx, job)


def run_job(
    ctx: Context,
    job_id: str,
    progress: Progress | None = None,
    *,
    wait: bool = True,
    poll_s: float = 0.5,
) -> Job:
    """Run job ``job_id`` now, in this process, if it is due; return its state.

    When another runner holds it (a Celery worker that got its message first), wait for
    that runner to finish, relaying the job's progress, unless ``wait`` is False.
    """
    while True:
        job = claim(ctx.sessions, job_id)
        if job is not None:
            return run_claimed(ctx, job, progress)
        with ctx.sessions() as s:
            row = s.get(Job, job_id)
            if row is None:
                raise LookupError(f"There is no job {job_id}.")
            s.expunge(row)
        if not wait or row.status != JobStatus.RUNNING.value:
            return row
        if progress is not None and row.total:
            progress(row.done, row.total)
        time.sleep(poll_s)


class InProcessRunner:
    """A thread that runs due jobs one after another (embedded deployments)."""

    def __init__(self, ctx: Context, poll_s: float = 1.0) -> None:
        """Prepare a runner over ``ctx``; :meth:`start` starts it."""
        self.ctx = ctx
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bodycam-jobs", daemon=True)

    def start(self) -> None:
        """Start running jobs in the background."""
        load_handlers()
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop after its current job, and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        from bodycam.jobs.schedule import schedule_due

        next_check = time.monotonic() + PERIODIC_CHECK_S
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + PERIODIC_CHECK_S
                    schedule_due(self.ctx)
                ran = run_next(self.ctx)
            except Exception as exc:  # the database was unavailable: try again later
                log.warning("the in-process job runner failed (%s); it tries again", exc)
                ran = None
            if ran is None:
                self._stop.wait(self.poll_s)
