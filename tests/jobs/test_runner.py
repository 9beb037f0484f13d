"""The job queue: enqueued with the transaction, claimed once, retried, quarantined."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bodycam.auth.actor import PermissionDenied
from bodycam.db import transaction
from bodycam.ids import utcnow
from bodycam.jobs import runner
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.service import get_job, list_jobs

CALLS: list[tuple[str, dict[str, Any]]] = []


@runner.handler("test.echo")
def _echo(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    for i in range(3):
        progress(i + 1, 3)
    CALLS.append(("echo", params))
    return {"echo": params.get("value")}


@runner.handler("test.flaky")
def _flaky(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    CALLS.append(("flaky", params))
    raise RuntimeError("the disk was busy")


@runner.handler("test.bad_input")
def _bad(ctx: Any, params: dict[str, Any], progress: runner.Progress) -> dict[str, Any]:
    raise runner.PermanentJobError("the file is not a video")


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def _submit(ctx, kind: str, **kw: Any) -> str:
    with transaction(ctx.sessions) as s:
        return runner.submit(s, kind, {"value": kw.pop("value", 1)}, **kw).id


def _job(ctx, job_id: str) -> Job:
    with ctx.sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)
        return job


def test_a_job_exists_only_if_its_transaction_commits(ctx):
    with pytest.raises(RuntimeError), transaction(ctx.sessions) as s:
        runner.submit(s, "test.echo", {"value": 1})
        raise RuntimeError("the action failed")
    assert runner.run_next(ctx) is None


def test_run_records_progress_and_result_and_keys_deduplicate(ctx):
    first = _submit(ctx, "test.echo", value=7, key="echo:7")
    assert _submit(ctx, "test.echo", value=8, key="echo:7") == first
    done = runner.run_next(ctx)
    assert done is not None and done.id == first
    assert done.status == JobStatus.DONE and done.result == {"echo": 7}
    assert (done.done, done.total, done.attempts) == (3, 3, 1)
    assert CALLS == [("echo", {"value": 7})]
    assert runner.run_next(ctx) is None  # nothing runs twice


def test_failures_back_off_then_quarantine(ctx):
    jid = _submit(ctx, "test.flaky", max_attempts=2)
    job = runner.run_next(ctx)
    assert job is not None and job.status == JobStatus.QUEUED
    assert "RuntimeError: the disk was busy" in job.error
    assert job.not_before > utcnow() + timedelta(seconds=2)
    assert runner.run_next(ctx) is None  # not due yet
    with transaction(ctx.sessions) as s:
        s.execute(update(Job).where(Job.id == jid).values(not_before=utcnow()))
    job = runner.run_next(ctx)
    assert job is not None and job.status == JobStatus.QUARANTINED and job.attempts == 2
    assert runner.run_next(ctx) is None
    assert len(CALLS) == 2


def test_bad_input_is_quarantined_at_once_and_unknown_kinds_too(ctx):
    bad = _submit(ctx, "test.bad_input")
    unknown = _submit(ctx, "test.nobody_handles_this")
    runner.run_next(ctx)
    runner.run_next(ctx)
    assert _job(ctx, bad).status == JobStatus.QUARANTINED
    assert _job(ctx, bad).error == "the file is not a video"
    assert "No handler" in _job(ctx, unknown).error


def test_a_job_whose_runner_died_is_taken_again(ctx):
    jid = _submit(ctx, "test.echo")
    claimed = runner.claim(ctx.sessions)
    assert claimed is not None and claimed.id == jid
    assert runner.claim(ctx.sessions) is None  # running, heartbeat fresh
    with transaction(ctx.sessions) as s:
        stale = utcnow() - runner.STALE_AFTER - timedelta(seconds=1)
        s.execute(update(Job).where(Job.id == jid).values(heartbeat_at=stale))
    again = runner.run_next(ctx)
    assert again is not None and again.id == jid and again.attempts == 2
    assert again.status == JobStatus.DONE


def test_concurrent_runners_claim_each_job_once(ctx):
    ids = {_submit(ctx, "test.echo", value=i) for i in range(12)}
    claimed: list[str] = []
    errors: list[Exception] = []

    def work() -> None:
        try:
            while (job := runner.claim(ctx.sessions)) is not None:
                claimed.append(job.id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(claimed) == sorted(ids)


def test_the_in_process_runner_runs_queued_jobs(ctx):
    jid = _submit(ctx, "test.echo", value=3)
    background = runner.InProcessRunner(ctx, poll_s=0.05)
    background.start()
    try:
        deadline = time.monotonic() + 20
        while _job(ctx, jid).status != JobStatus.DONE and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        background.stop()
    assert _job(ctx, jid).status == JobStatus.DONE


def test_who_sees_which_jobs(ctx, dept):
    with transaction(ctx.sessions) as s:
        mine = runner.submit(s, "test.echo", {}, created_by=dept.users["clerk"].id).id
    clerk, officer, admin = dept.actor("clerk"), dept.actor("o1"), dept.actor("admin")
    assert [j.id for j in list_jobs(ctx.sessions, clerk)] == [mine]
    assert list_jobs(ctx.sessions, officer) == []
    assert get_job(ctx.sessions, clerk, mine).id == mine
    with pytest.raises(PermissionDenied):
        get_job(ctx.sessions, officer, mine)
    with pytest.raises(PermissionDenied):
        list_jobs(ctx.sessions, officer, everyone=True)
    assert [j.id for j in list_jobs(ctx.sessions, admin, everyone=True)] == [mine]
    with ctx.sessions() as s:
        assert s.scalars(select(Job.status)).all() == ["queued"]
