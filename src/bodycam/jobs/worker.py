"""``bodycam worker``: background work, by the job table's loop or as a Celery worker.

With ``BODYCAM_JOBS=inprocess`` or ``worker`` it loops: queue due periodic jobs (the
purge, the scrub), run every due job, seal the audit log, wait ``--interval``.
With ``BODYCAM_JOBS=celery`` it runs a Celery worker on ``BODYCAM_JOBS_QUEUE``, and in a
thread beside it the same rounds without the job running: queue periodic jobs, send
again any due job the broker lost (:func:`bodycam.jobs.dispatch.resend_overdue`), seal.
Every worker runs those rounds; they are safe to run in several processes at once. The
purge is a periodic job (``retention.purge``), so one worker runs it per slot, not every
worker in every round.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from bodycam.cli_support import err, fail, load_settings, open_context

if TYPE_CHECKING:
    from bodycam.config import Settings
    from bodycam.context import Context
    from bodycam.jobs.dispatch import Dispatcher


def _say(text: str) -> None:
    err.print(f"worker: {text}", markup=False)


def housekeeping(ctx: Context, dispatcher: Dispatcher | None = None) -> None:
    """One round of what every worker does besides running jobs; each step failing alone."""
    schedule(ctx, dispatcher)
    seal_log(ctx)


def schedule(ctx: Context, dispatcher: Dispatcher | None = None) -> None:
    """Queue due periodic jobs; with a broker, send again the due jobs it seems to have lost."""
    from bodycam.jobs.dispatch import resend_overdue
    from bodycam.jobs.schedule import schedule_due

    try:
        for job_id in schedule_due(ctx):
            _say(f"queued periodic job {job_id}")
        if dispatcher is not None:
            resent = resend_overdue(ctx.sessions, dispatcher)
            if resent:
                _say(f"sent {len(resent)} overdue job(s) to the broker again")
    except Exception as exc:  # database trouble: the next round tries again
        _say(f"scheduling failed: {exc}")


def seal_log(ctx: Context) -> None:
    """Seal the audit log (a signed checkpoint over the records since the last one)."""
    from bodycam.audit.service import seal

    try:
        cp = seal(ctx.sessions, ctx.signer)
    except Exception as exc:
        _say(f"sealing failed: {exc}")
    else:
        if cp is not None:
            _say(f"sealed checkpoint of size {cp.tree_size}")


def worker_command(
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 5.0,
    once: Annotated[bool, typer.Option(help="Run one round and exit.")] = False,
    pool: Annotated[
        str | None,
        typer.Option(help="Celery only: the pool, prefork (default), threads or solo."),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Celery only: processes (or threads) running jobs; default one per CPU."),
    ] = None,
) -> None:
    """Run background work: jobs, periodic jobs (the purge, the scrub), sealing the audit log."""
    settings = load_settings()
    if settings.jobs == "celery":
        _celery(settings, interval, once, pool, concurrency)
    else:
        if pool or concurrency:
            fail("--pool and --concurrency apply to Celery workers (BODYCAM_JOBS=celery) only.")
        _loop(settings, interval, once)


def _loop(settings: Settings, interval: float, once: bool) -> None:
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from bodycam.jobs.dispatch import configure
    from bodycam.jobs.runner import load_handlers, run_next

    load_handlers()
    with open_context(settings, seal_on_exit=False) as ctx:
        configure(ctx.sessions, settings)
        _say(f"running due jobs, sealing the audit log every {interval:g} s (Ctrl-C to stop)")
        while not stop["now"]:
            schedule(ctx)
            while not stop["now"] and (job := run_next(ctx)) is not None:
                _say(f"job {job.id} ({job.kind}) {job.status}")
            seal_log(ctx)
            if once:
                break
            deadline = time.monotonic() + interval
            while not stop["now"] and time.monotonic() < deadline:
                time.sleep(0.2)


def _celery(
    settings: Settings, interval: float, once: bool, pool: str | None, concurrency: int | None
) -> None:
    from bodycam.jobs.celery_app import start_worker
    from bodycam.jobs.dispatch import configure

    if pool not in (None, "prefork", "threads", "solo"):
        fail(f"Unknown Celery pool {pool!r}: use prefork, threads or solo.")
    with open_context(settings, seal_on_exit=False) as ctx:
        config = configure(ctx.sessions, settings)
        if once:
            housekeeping(ctx, config.dispatcher)
            return
        stop = threading.Event()

        def rounds() -> None:
            while not stop.is_set():
                housekeeping(ctx, config.dispatcher)
                stop.wait(interval)

        _say(
            f"Celery worker on queue {settings.jobs_queue!r}; scheduling and sealing "
            f"every {interval:g} s"
        )
        thread = threading.Thread(target=rounds, name="bodycam-housekeeping", daemon=True)
        thread.start()
        try:
            start_worker(settings, pool=pool, concurrency=concurrency)
        finally:
            stop.set()
            thread.join(30)
