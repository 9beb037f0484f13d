"""The Celery runner (``BODYCAM_JOBS=celery``): the same jobs, run by workers fed by Redis.

The job table stays the record of every job: its state, progress, attempts and error.
A broker message carries only a job id and is sent after the submitting transaction
commits (:mod:`bodycam.jobs.dispatch`). The task (:func:`run_delivered`) claims the row
atomically, exactly as the in-process runner does, so a message delivered twice (a
re-sent one, Redis's redelivery after its visibility timeout, a worker lost mid-task)
runs the job once: the second delivery finds it running or finished and does nothing.

Retries are the job table's, not Celery's: a failed attempt leaves the row queued with
``not_before`` pushed back exponentially, and the task sends the id again with that
countdown. A job out of attempts, or failing with ``PermanentJobError``, is quarantined.

Workers acknowledge a message only after the task ran (``acks_late``), take one message
at a time (prefetch 1) and are replaced after ``BODYCAM_WORKER_MAX_TASKS_PER_CHILD``
jobs, so memory held by video work is given back. ``bodycam worker`` starts one; so does
``celery -A bodycam.jobs.celery_app worker`` (settings from the environment).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from celery import Celery

from bodycam.ids import utcnow
from bodycam.jobs.dispatch import configure, send_quietly
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.runner import claim, load_handlers, run_claimed

if TYPE_CHECKING:
    from bodycam.config import Settings
    from bodycam.context import Context

log = logging.getLogger(__name__)

RUN_TASK = "bodycam.jobs.run"
"""The one task: run the job whose id the message carries."""

PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
"""Sending waits at most about two seconds for the broker; then the job waits in the table."""


class CeleryDispatcher:
    """Sends job ids to the deployment's queue."""

    def __init__(self, app: Celery, queue: str) -> None:
        """Send through ``app`` to ``queue``."""
        self.app = app
        self.queue = queue

    def send(self, job_ids: Sequence[str], countdown: float = 0.0) -> None:
        """One message per job id (after ``countdown`` seconds)."""
        for job_id in job_ids:
            self.app.send_task(
                RUN_TASK,
                args=[job_id],
                queue=self.queue,
                countdown=countdown if countdown > 0 else None,
                retry=True,
                retry_policy=PUBLISH_RETRY,
            )


_dispatchers: dict[tuple[str, str], CeleryDispatcher] = {}
_lock = threading.Lock()


def dispatcher_for(settings: Settings) -> CeleryDispatcher:
    """The (shared) dispatcher of ``settings``'s broker and queue."""
    key = (settings.broker_url, settings.jobs_queue)
    with _lock:
        found = _dispatchers.get(key)
        if found is None:
            found = _dispatchers[key] = CeleryDispatcher(create_app(settings), settings.jobs_queue)
        return found


class _WorkerState:
    """The context a worker process runs jobs with, opened on first use in each process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ctx: Context | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def context(self) -> Context:
        # Per process: a prefork child must not use connections opened by its parent.
        with self._lock:
            if self._ctx is None or self._pid != os.getpid():
                from bodycam.context import Context

                load_handlers()
                ctx = Context.from_settings(self.settings)
                configure(ctx.sessions, self.settings)
                self._ctx, self._pid = ctx, os.getpid()
            return self._ctx


def create_app(settings: Settings) -> Celery:
    """A Celery app for ``settings``: broker, queue, worker limits and the run task."""
    app = Celery("bodycam", set_as_current=False)
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_connect_timeout": 5},
        task_default_queue=settings.jobs_queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # the job table holds results; no result backend
        task_acks_late=True,  # a message is acknowledged after its job ran ...
        task_reject_on_worker_lost=True,  # ... and given back if its worker died
        worker_prefetch_multiplier=1,  # one job at a time per worker process
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        worker_send_task_events=False,
        enable_utc=True,
        timezone="UTC",
    )
    state = _WorkerState(settings)

    @app.task(name=RUN_TASK, shared=False, ignore_result=True)  # type: ignore[untyped-decorator]
    def run(job_id: str) -> str:
        return run_delivered(state.context(), job_id)

    return app


def run_delivered(ctx: Context, job_id: str) -> str:
    """Run job ``job_id`` if it is due (what a message asks); return what happened."""
    dispatcher = dispatcher_for(ctx.settings)
    job = claim(ctx.sessions, job_id)
    if job is None:
        return _not_taken(ctx, job_id)
    done = run_claimed(ctx, job)
    log.info("job %s (%s): %s after %d attempt(s)", job_id, done.kind, done.status, done.attempts)
    if done.status == JobStatus.QUEUED.value:  # a failed attempt: try again after the back-off
        delay = max(0.0, (done.not_before - utcnow()).total_seconds())
        send_quietly(dispatcher, [job_id], countdown=delay)
    return str(done.status)


def _not_taken(ctx: Context, job_id: str) -> str:
    with ctx.sessions() as s:
        row = s.get(Job, job_id)
        status, not_before = (row.status, row.not_before) if row is not None else ("", None)
    if row is None:  # its transaction rolled back after all (a savepoint), or never was
        log.warning("job %s: no such job; message ignored", job_id)
        return "unknown"
    if status == JobStatus.QUEUED.value and not_before is not None:
        wait = (not_before - utcnow()).total_seconds()
        if wait > 0:  # delivered early (a retry's countdown, clocks apart): ask again then
            send_quietly(dispatcher_for(ctx.settings), [job_id], countdown=wait)
            return "early"
    # Running elsewhere or finished: a duplicate delivery, nothing to do.
    log.info("job %s is %s; duplicate message ignored", job_id, status)
    return f"skipped: {status}"


def start_worker(
    settings: Settings,
    *,
    pool: str | None = None,
    concurrency: int | None = None,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker on ``settings``'s queue until it is stopped (SIGTERM, Ctrl-C)."""
    app = create_app(settings)
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--queues={settings.jobs_queue}",
        f"--hostname=bodycam-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    if pool:
        argv.append(f"--pool={pool}")
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


@lru_cache(maxsize=1)
def _environment_app() -> Celery:
    from bodycam.config import get_settings

    return create_app(get_settings())


def __getattr__(name: str) -> Any:
    # ``celery -A bodycam.jobs.celery_app worker`` looks for ``app`` (or ``celery``).
    if name in ("app", "celery"):
        return _environment_app()
    raise AttributeError(name)
