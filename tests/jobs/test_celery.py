"""The Celery runner on a real Redis: sent after commit, claimed once, retried, quarantined.

A real Celery worker (``--pool solo``, in a thread of this process, or ``bodycam worker``
in a subprocess) consumes a queue of its own on the Redis at BODYCAM_TEST_REDIS_URL
(default ``redis://127.0.0.1:6379/11``), on both database engines. Without Redis the
tests are skipped with the reason, or fail under BODYCAM_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from sqlalchemy import update

from bodycam.auth.service import actor_for, create_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.evidence.service import Vault, ensure_category, ingest_file
from bodycam.ids import utcnow
from bodycam.jobs import runner
from bodycam.jobs.celery_app import RUN_TASK, CeleryDispatcher, create_app, run_delivered
from bodycam.jobs.dispatch import JobsConfig, configure, resend_overdue
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.service import NotQuarantined, get_job, retry_job
from tests.fixtures.postgres import unavailable

DEFAULT_REDIS = "redis://127.0.0.1:6379/11"

CALLS: list[tuple[str, Any]] = []
STARTED = threading.Event()
RELEASE = threading.Event()
FIXED = threading.Event()


@runner.handler("test.celery.echo")
def _echo(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    for i in range(3):
        progress(i + 1, 3)
    CALLS.append(("echo", params.get("value")))
    return {"echo": params.get("value")}


@runner.handler("test.celery.slow")
def _slow(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    CALLS.append(("slow", params.get("value")))
    progress(1, 2)
    STARTED.set()
    assert RELEASE.wait(30), "the test never released the job"
    progress(2, 2)
    return {"slow": True}


@runner.handler("test.celery.flaky")
def _flaky(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    CALLS.append(("flaky", params.get("value")))
    if sum(1 for kind, _ in CALLS if kind == "flaky") == 1:
        raise ConnectionError("the object store timed out")
    return {"ok": True}


@runner.handler("test.celery.broken")
def _broken(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    CALLS.append(("broken", None))
    raise RuntimeError("the decoder crashed")


@runner.handler("test.celery.until_fixed")
def _until_fixed(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    CALLS.append(("until_fixed", None))
    if not FIXED.is_set():
        raise runner.PermanentJobError("the file is not a video")
    return {"fixed": True}


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    STARTED.clear()
    RELEASE.clear()
    FIXED.clear()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis that answers, or a skip (a failure under BODYCAM_REQUIRE_SERVICES=1)."""
    url = os.environ.get("BODYCAM_TEST_REDIS_URL", DEFAULT_REDIS)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        unavailable(f"Redis at {url}: {exc} (set BODYCAM_TEST_REDIS_URL or start redis-server)")
    return url


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    """A raw client of the test Redis."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def celery_settings(settings: Settings, redis_url: str, broker: redis.Redis) -> Iterator[Settings]:
    """The test deployment with BODYCAM_JOBS=celery on a queue of its own."""
    queue = f"bodycam-test-{uuid.uuid4().hex[:12]}"
    yield settings.model_copy(
        update={
            "jobs": "celery",
            "broker_url": redis_url,
            "jobs_queue": queue,
            "job_retry_base_seconds": 0.1,
        }
    )
    for key in broker.scan_iter(match=f"*{queue}*"):
        broker.delete(key)


@pytest.fixture
def cctx(celery_settings: Settings) -> Iterator[Context]:
    """A context whose sessions send new jobs to the broker after commit."""
    celery_settings.resolved_home.mkdir(parents=True, exist_ok=True)
    context = Context.from_settings(celery_settings, create_key=True)
    configure(context.sessions, celery_settings)
    with transaction(context.sessions) as s:
        ensure_category(s, UNCATEGORIZED)
    yield context
    context.close()


@pytest.fixture
def delivered() -> Iterator[list[tuple[str, str]]]:
    """(job id, outcome) of every task run by the worker, in order."""
    seen: list[tuple[str, str]] = []

    def record(sender: Any = None, args: Any = None, retval: Any = None, **_: Any) -> None:
        if getattr(sender, "name", "") == RUN_TASK:
            seen.append((str(args[0]), str(retval)))

    task_postrun.connect(record, weak=False)
    yield seen
    task_postrun.disconnect(record)


@pytest.fixture
def worker(celery_settings: Settings, cctx: Context, delivered: list[Any]) -> Iterator[Any]:
    """A real Celery worker (solo pool) consuming the test queue, in a thread."""
    app = create_app(celery_settings)
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=60, loglevel="WARNING"
    ) as w:
        yield w


def _submit(ctx: Context, kind: str, **kw: Any) -> str:
    with transaction(ctx.sessions) as s:
        return runner.submit(s, kind, {"value": kw.pop("value", 1)}, **kw).id


def _job(ctx: Context, job_id: str) -> Job:
    with ctx.sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)
        return job


def _wait(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _wait_status(ctx: Context, job_id: str, status: str, timeout: float = 60.0) -> Job:
    _wait(f"job {job_id} to be {status}", lambda: _job(ctx, job_id).status == status, timeout)
    return _job(ctx, job_id)


def _queued_messages(broker: redis.Redis, settings: Settings) -> list[str]:
    return [m.decode() for m in broker.lrange(settings.jobs_queue, 0, -1)]


def test_jobs_run_on_a_celery_worker_with_progress_readable_in_the_job_table(
    cctx, worker, dept, delivered
):
    clerk = dept.users["clerk"]
    jid = _submit(cctx, "test.celery.echo", value=7, created_by=clerk.id)
    done = _wait_status(cctx, jid, JobStatus.DONE)
    assert done.result == {"echo": 7}
    assert (done.done, done.total, done.attempts) == (3, 3, 1)
    assert CALLS == [("echo", 7)]
    assert delivered == [(jid, "done")]
    # The jobs service (and so `bodycam jobs show`) reads it like any other job.
    assert get_job(cctx.sessions, dept.actor("clerk"), jid).status == JobStatus.DONE

    slow = _submit(cctx, "test.celery.slow")
    assert STARTED.wait(30)
    running = _job(cctx, slow)
    assert running.status == JobStatus.RUNNING and (running.done, running.total) == (1, 2)
    RELEASE.set()
    assert _wait_status(cctx, slow, JobStatus.DONE).done == 2


def test_a_job_is_sent_only_after_its_transaction_commits(cctx, celery_settings, broker):
    with transaction(cctx.sessions) as s:
        jid = runner.submit(s, "test.celery.echo", {"value": 1}).id
        assert _queued_messages(broker, celery_settings) == []  # not before the commit
    messages = _queued_messages(broker, celery_settings)
    assert len(messages) == 1 and jid in messages[0]
    headers = json.loads(messages[0])["headers"]
    assert headers["task"] == RUN_TASK and jid in headers["argsrepr"]

    with pytest.raises(RuntimeError), transaction(cctx.sessions) as s:
        runner.submit(s, "test.celery.echo", {"value": 2})
        raise RuntimeError("the action failed")
    assert len(_queued_messages(broker, celery_settings)) == 1  # the rollback sent nothing
    with cctx.sessions() as s:
        assert [j.id for j in s.query(Job)] == [jid]

    # Released savepoints are not commits: the message waits for the outermost one.
    with transaction(cctx.sessions) as s:
        with s.begin_nested():
            inner = runner.submit(s, "test.celery.echo", {"value": 3}).id
        assert len(_queued_messages(broker, celery_settings)) == 1
    assert inner in _queued_messages(broker, celery_settings)[0]  # LPUSH: newest first
    broker.delete(celery_settings.jobs_queue)

    # A keyed job submitted again is the same job: nothing new is sent.
    with transaction(cctx.sessions) as s:
        first = runner.submit(s, "test.celery.echo", {}, key="once").id
    with transaction(cctx.sessions) as s:
        assert runner.submit(s, "test.celery.echo", {}, key="once").id == first
    assert len(_queued_messages(broker, celery_settings)) == 1


def test_a_duplicate_delivery_runs_the_job_once(cctx, worker, delivered):
    jid = _submit(cctx, "test.celery.slow", value=1)
    assert STARTED.wait(30)
    # While the worker runs it: the same id delivered again, here and through the broker.
    assert run_delivered(cctx, jid) == "skipped: running"
    CeleryDispatcher(worker.app, cctx.settings.jobs_queue).send([jid])
    RELEASE.set()
    _wait("both deliveries", lambda: len(delivered) == 2)
    assert delivered == [(jid, "done"), (jid, "skipped: done")]
    job = _job(cctx, jid)
    assert job.status == JobStatus.DONE and job.attempts == 1
    assert CALLS == [("slow", 1)]


def test_a_failed_attempt_is_retried_after_a_back_off(cctx, worker, delivered):
    jid = _submit(cctx, "test.celery.flaky")
    job = _wait_status(cctx, jid, JobStatus.DONE)
    assert job.attempts == 2 and job.error == "" and job.result == {"ok": True}
    assert [kind for kind, _ in CALLS] == ["flaky", "flaky"]
    outcomes = [outcome for job_id, outcome in delivered if job_id == jid]
    assert outcomes[0] == "queued" and outcomes[-1] == "done"


def test_a_job_that_keeps_failing_is_quarantined_and_can_be_retried(cctx, worker, dept):
    broken = _submit(cctx, "test.celery.broken", max_attempts=3)
    job = _wait_status(cctx, broken, JobStatus.QUARANTINED)
    assert job.attempts == 3 and job.error == "RuntimeError: the decoder crashed"
    assert CALLS.count(("broken", None)) == 3

    admin = dept.actor("admin")
    bad = _submit(cctx, "test.celery.until_fixed", created_by=dept.users["admin"].id)
    job = _wait_status(cctx, bad, JobStatus.QUARANTINED)
    assert job.attempts == 1 and job.error == "the file is not a video"  # at once
    with pytest.raises(NotQuarantined, match="only a quarantined job"):
        retry_job(cctx.sessions, admin, _submit(cctx, "test.celery.echo"))
    FIXED.set()
    retry_job(cctx.sessions, admin, bad)  # sent to the worker once this commits
    job = _wait_status(cctx, bad, JobStatus.DONE)
    assert job.result == {"fixed": True} and job.attempts == 1


def test_a_lost_message_is_sent_again_by_the_maintenance_round(cctx, worker, caplog):
    # The broker cannot be reached when the job commits: the action stands, a warning says so.
    nowhere = cctx.settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    configure(cctx.sessions, JobsConfig(CeleryDispatcher(create_app(nowhere), "nowhere"), 3))
    try:
        with (
            caplog.at_level(logging.WARNING, logger="bodycam.jobs.dispatch"),
            transaction(cctx.sessions) as s,
        ):
            jid = runner.submit(s, "test.celery.echo", {"value": 5}).id
    finally:
        configure(cctx.sessions, cctx.settings)
    assert "could not send 1 job(s) to the broker" in caplog.text
    assert _job(cctx, jid).status == JobStatus.QUEUED
    dispatcher = CeleryDispatcher(worker.app, cctx.settings.jobs_queue)
    assert resend_overdue(cctx.sessions, dispatcher) == []  # not overdue yet
    with transaction(cctx.sessions) as s:
        s.execute(
            update(Job).where(Job.id == jid).values(not_before=utcnow() - timedelta(minutes=11))
        )
    assert resend_overdue(cctx.sessions, dispatcher) == [jid]
    assert _wait_status(cctx, jid, JobStatus.DONE).result == {"echo": 5}
    assert resend_overdue(cctx.sessions, dispatcher) == []

    # Jobs whose worker died mid-run (no heartbeat): queued and sent again, or quarantined
    # when that was their last attempt.
    stale = utcnow() - runner.STALE_AFTER - timedelta(seconds=1)
    orphans = [_submit(cctx, "test.celery.echo", value=v, dispatch=False) for v in (6, 7)]
    for jid_, attempts in zip(orphans, (1, 3), strict=True):
        with transaction(cctx.sessions) as s:
            s.execute(
                update(Job)
                .where(Job.id == jid_)
                .values(status="running", attempts=attempts, heartbeat_at=stale)
            )
    assert resend_overdue(cctx.sessions, dispatcher) == [orphans[0]]
    again = _wait_status(cctx, orphans[0], JobStatus.DONE)
    assert again.attempts == 2 and again.result == {"echo": 6}
    lost = _job(cctx, orphans[1])
    assert lost.status == JobStatus.QUARANTINED and "runner stopped" in lost.error


def test_bodycam_worker_runs_a_real_detection_job(cctx, celery_settings, tmp_path: Path):
    from bodycam.redaction import projects
    from bodycam.redaction.faceclip import FaceClip, Walker

    clip = FaceClip(
        width=320,
        height=180,
        fps=10,
        seconds=1.5,
        walkers=[Walker(start=(0.3, 0.3), velocity=(0.01, 0.0), height=0.45)],
    ).write(tmp_path / "faces.mp4")
    with transaction(cctx.sessions) as s:
        clerk = create_user(s, None, "clerk", "records_clerk")
        create_user(s, None, "o1", "officer", badge="1001")
    vault = Vault(cctx.sessions, cctx.store)
    actor = actor_for(clerk, "cli")
    rid = ingest_file(vault, actor, clip, officer_badge="1001").id
    pid = projects.start_project(vault, actor, rid, queue_threshold=0.2)  # sent after commit
    job = projects.detection_job(vault, pid)
    assert job is not None and job.status == JobStatus.QUEUED

    env = os.environ | {
        "BODYCAM_HOME": str(celery_settings.resolved_home),
        "BODYCAM_DATABASE_URL": celery_settings.resolved_database_url,
        "BODYCAM_STORAGE_URL": celery_settings.resolved_storage_url,
        "BODYCAM_JOBS": "celery",
        "BODYCAM_BROKER_URL": celery_settings.broker_url,
        "BODYCAM_JOBS_QUEUE": celery_settings.jobs_queue,
    }
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bodycam.cli", "worker", "--pool", "solo", "--interval", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        _wait_status(cctx, job.id, JobStatus.DONE, timeout=180)
    except BaseException:
        proc.kill()
        proc.wait()
        print((tmp_path / "worker.log").read_text())
        raise
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, (tmp_path / "worker.log").read_text()
    done = _job(cctx, job.id)
    assert done.attempts == 1 and done.result["tracks"] >= 1
    assert done.total > 0 and done.done == done.total
    assert projects.show(vault, actor, pid, audit=False).project.status == "review"
    output = (tmp_path / "worker.log").read_text()
    assert f"Celery worker on queue '{celery_settings.jobs_queue}'" in output


def test_a_job_that_kills_its_worker_every_time_ends_in_quarantine(cctx):
    # Redis hands the message of a dead worker to another one: the job is taken again
    # while it has attempts left, and quarantined after its last one.
    jid = _submit(cctx, "test.celery.echo", value=8, dispatch=False, max_attempts=2)
    stale = utcnow() - runner.STALE_AFTER - timedelta(seconds=1)
    with transaction(cctx.sessions) as s:
        s.execute(
            update(Job)
            .where(Job.id == jid)
            .values(status="running", attempts=1, heartbeat_at=stale)
        )
    assert run_delivered(cctx, jid) == "done"
    assert _job(cctx, jid).attempts == 2 and CALLS == [("echo", 8)]
    with transaction(cctx.sessions) as s:
        s.execute(update(Job).where(Job.id == jid).values(status="running", heartbeat_at=stale))
    assert run_delivered(cctx, jid) == "skipped: quarantined"
    job = _job(cctx, jid)
    assert job.status == JobStatus.QUARANTINED and "during each of its 2 attempt(s)" in job.error
    assert CALLS == [("echo", 8)]
