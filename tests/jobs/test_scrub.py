"""The scrub: every original and redacted copy re-hashed within a cycle; damage raises alerts.

Real clips, the real S3-compatible server (a byte flipped behind the store's back), the
local store through the command line, both database engines.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import SYSTEM
from bodycam.auth.service import actor_for, create_user, get_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.evidence.service import Vault, ingest_file
from bodycam.ids import utcnow
from bodycam.jobs import runner
from bodycam.jobs.cli import _error_or_alert
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.schedule import schedule_due
from bodycam.jobs.service import list_jobs
from bodycam.redaction.models import RedactedCopy, RedactionProject
from bodycam.storage import LocalBlobStore
from bodycam.system_cli import initialise
from bodycam.verify_scrub import SCRUB_JOB, run_scrub, scrub_status
from tests.conftest import wipe


def _problems(ctx: Context) -> list[AuditRecord]:
    with ctx.sessions() as s:
        rows = list(
            s.scalars(select(AuditRecord).where(AuditRecord.action == "audit:scrub:problem"))
        )
        s.expunge_all()
    return rows


def _scrubs(ctx: Context, when=None) -> list[str]:
    """Queue the periodic jobs due at ``when``; the ids of the scrubs among them (the
    purge, the other periodic job, is queued too and left alone)."""
    ids = schedule_due(ctx, when)
    with ctx.sessions() as s:
        return [j for j in ids if s.get(Job, j).kind == SCRUB_JOB]


def _scrub_now(ctx: Context, when=None) -> Job:
    """Queue the scrub of the slot of ``when`` (as a runner does) and run it."""
    runner.load_handlers()
    [scrub] = _scrubs(ctx, when)
    job = runner.run_job(ctx, scrub)
    assert job.kind == SCRUB_JOB
    assert job.status == JobStatus.DONE, job.error
    return job


@pytest.fixture
def s3_ctx(s3_server, db_url, tmp_path):
    wipe(db_url)
    bucket = f"scrub-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        home=tmp_path / "home",
        database_url=db_url,
        storage_url=s3_server.url_for(bucket),
        scrub_cycle_days=1 / 24,  # one hour: one slice per hourly run is the whole pass
        scrub_interval_minutes=60,
    )
    initialise(settings)  # creates the bucket and the built-in category
    ctx = Context.from_settings(settings)
    with transaction(ctx.sessions) as s:
        for name, role, badge in [
            ("clerk", "records_clerk", None),
            ("aud", "auditor", None),
            ("chief", "administrator", None),
            ("o1", "officer", "1001"),
        ]:
            create_user(s, None, name, role, badge=badge)  # fmt: skip
    yield ctx, s3_server, bucket
    ctx.close()


def test_a_clean_store_passes_and_a_flipped_byte_on_s3_is_caught(s3_ctx, clips, caplog):
    ctx, server, bucket = s3_ctx
    with ctx.sessions() as s:
        clerk = actor_for(get_user(s, "clerk"), "cli")
        aud = actor_for(get_user(s, "aud"), "cli")
        chief = actor_for(get_user(s, "chief"), "cli")
    vault = Vault(ctx.sessions, ctx.store)
    recs = [
        ingest_file(vault, clerk, clips(seed), officer_badge="1001", category=UNCATEGORIZED)
        for seed in (71, 72, 73)
    ]

    clean = _scrub_now(ctx)
    assert clean.result["checked"] == 3 and clean.result["problem_count"] == 0
    assert clean.result["pass_complete"] and clean.result["bytes"] > 0
    assert (clean.done, clean.total) == (3, 3)
    assert _error_or_alert(clean) == "" and _problems(ctx) == []
    status = scrub_status(ctx, aud)
    assert status.ok and status.position is not None and status.position.complete

    # Flip one byte of one original behind the store's back.
    target = recs[1]
    data = bytearray(clips(72).read_bytes())
    data[len(data) // 2] ^= 0x01
    server.client().put_object(Bucket=bucket, Key=ctx.store.key_for(target.sha256), Body=data)
    with caplog.at_level(logging.ERROR, logger="bodycam.verify_scrub"):
        caught = _scrub_now(ctx, utcnow() + timedelta(hours=1))
    assert caught.result["checked"] == 3 and caught.result["problem_count"] == 1
    assert caught.result["pass"] != clean.result["pass"]  # a new pass
    [problem] = caught.result["problems"]
    assert problem["recording"] == target.id and problem["kind"] == "changed"
    assert target.id in problem["problem"] and "has changed" in problem["problem"]
    # The alert: an ERROR log line, an audit record on the recording, the job list, status.
    assert any(r.levelno == logging.ERROR and target.id in r.getMessage() for r in caplog.records)
    [audited] = _problems(ctx)
    assert (audited.object_type, audited.object_id) == ("recording", target.id)
    assert audited.details["sha256"] == target.sha256 and audited.details["kind"] == "changed"
    assert audited.actor == "system"
    listed = {j.id: j for j in list_jobs(ctx.sessions, chief, everyone=True)}
    assert _error_or_alert(listed[caught.id]).startswith("ALERT: the scrub found 1")
    status = scrub_status(ctx, aud)
    assert not status.ok and [a["recording"] for a in status.alerts] == [target.id]

    # A blob that is gone is caught too.
    server.client().delete_object(Bucket=bucket, Key=ctx.store.key_for(recs[2].sha256))
    gone = _scrub_now(ctx, utcnow() + timedelta(hours=2))
    kinds = {p["recording"]: p["kind"] for p in gone.result["problems"]}
    assert kinds == {target.id: "changed", recs[2].id: "missing"}
    with ctx.sessions() as s:
        runs = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "audit:scrub:run")
            .order_by(AuditRecord.pk)
        ).all()
        assert [r.details["problems"] for r in runs] == [0, 1, 2]


def _copy(ctx: Context, recording_id: str, user_id: str) -> str:
    """A redacted copy row with a real blob (its content does not matter to the scrub)."""
    info = ctx.store.put_stream(io.BytesIO(b"redacted copy of " + recording_id.encode()))
    with transaction(ctx.sessions) as s:
        proj = RedactionProject(
            recording_id=recording_id, source_sha256="0" * 64, created_by=user_id
        )
        s.add(proj)
        s.flush()
        copy = RedactedCopy(
            project_id=proj.id, recording_id=recording_id, source_sha256="0" * 64,
            sha256=info.sha256, size_bytes=info.size, plan="{}", plan_hash="0" * 64,
            engine="test", detector="test", qc_threshold=0.5, status="ready",
            created_by=user_id,
        )  # fmt: skip
        s.add(copy)
        s.flush()
        return copy.id


def test_a_pass_is_spread_over_its_cycle_in_a_fixed_order(ctx, vault, dept, clips):
    ctx.settings = ctx.settings.model_copy(
        update={"scrub_cycle_days": 1.0, "scrub_interval_minutes": 360.0}
    )
    clerk = dept.actor("clerk")
    rids = sorted(
        ingest_file(vault, clerk, clips(seed), officer_badge="1001").id for seed in range(80, 86)
    )
    copy = _copy(ctx, rids[0], dept.users["clerk"].id)
    t0 = utcnow()
    # 7 blobs, 4 runs left in the cycle: ceil(7/4) = 2, then 2 of 5 in 3 runs, 2 of 3 in 2.
    first = run_scrub(ctx, SYSTEM, now=t0)
    assert (first.checked, first.position.after, first.pass_total) == (2, rids[1], 7)
    second = run_scrub(ctx, SYSTEM, now=t0 + timedelta(hours=6), position=first.position)
    assert (second.checked, second.position.after) == (2, rids[3])
    assert first.position.after == rids[1]  # the earlier position is left as it was
    late = ingest_file(vault, clerk, clips(86), officer_badge="1001").id  # sorts last
    third = run_scrub(ctx, SYSTEM, now=t0 + timedelta(hours=12), position=second.position)
    assert (third.checked, third.position.after, third.pass_total) == (2, rids[5], 8)
    last = run_scrub(ctx, SYSTEM, now=t0 + timedelta(hours=18), position=third.position)
    assert (last.checked, last.position.kind, last.position.after) == (2, "copy", copy)
    assert last.position.complete and last.position.checked == 8 and last.problem_count == 0
    assert late > rids[-1]  # added during the pass, checked in it (ids are time-ordered)

    # A run that comes after the cycle's end takes everything left.
    behind = run_scrub(ctx, SYSTEM, now=t0 + timedelta(days=2), position=second.position)
    assert behind.checked == 4 and behind.position.complete
    # After a complete pass the next run starts a new one.
    again = run_scrub(ctx, SYSTEM, now=t0 + timedelta(days=1), position=last.position)
    assert again.position.pass_id != last.position.pass_id
    assert again.position.previous_started == last.position.started


def test_periodic_scrubs_are_queued_once_per_slot_and_continue_each_other(ctx, dept, vault, clips):
    clerk = dept.actor("clerk")
    for seed in (90, 91, 92):
        ingest_file(vault, clerk, clips(seed), officer_badge="1001")
    runner.load_handlers()
    t = utcnow()
    [first] = _scrubs(ctx, t)
    assert schedule_due(ctx, t) == []  # one is queued already (and the purge)
    done = runner.run_job(ctx, first)
    assert done.status == JobStatus.DONE
    assert done.result["checked"] == 1  # 3 blobs over a 30-day cycle of hourly runs
    assert _scrubs(ctx, t) == []  # this slot had its scrub
    second = _scrub_now(ctx, t + timedelta(hours=1))
    assert second.result["pass"] == done.result["pass"]
    assert second.result["pass_checked"] == 2  # it went on where the first one stopped

    # Several schedulers at once (several workers): one job per slot.
    queued: list[str] = []
    errors: list[Exception] = []

    def schedule() -> None:
        try:
            queued.extend(_scrubs(ctx, t + timedelta(hours=2)))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(queued) == 1
    with ctx.sessions() as s:
        pending = s.scalars(
            select(Job).where(Job.status == JobStatus.QUEUED.value, Job.kind == SCRUB_JOB)
        ).all()
        assert [j.id for j in pending] == queued

    ctx.settings = ctx.settings.model_copy(update={"scrub_cycle_days": 0})
    assert _scrubs(ctx, t + timedelta(hours=5)) == []  # turned off


def test_scrub_from_the_command_line_and_the_worker(home, clips, settings, tmp_path):
    rec = json.loads(
        home("ingest", str(clips(95)), "--officer", "501", "--json", user="ofc").stdout
    )
    out = home("scrub", "run", user="aud").stdout
    assert "1 file(s) re-hashed, 0 problem(s)" in out
    home("scrub", "status", user="ofc", check=3)  # officers may not

    blob = Path(LocalBlobStore(settings.resolved_home / "blobs").path_for(rec["sha256"]))
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    bad = home("scrub", "run", "--finish", user="aud", check=1)
    assert "1 problem(s)" in bad.stdout and "ALERT" in bad.stderr and rec["id"] in bad.stderr
    status = home("scrub", "status", user="aud", check=1)
    assert "ALERT" in status.stderr and rec["id"] in status.stderr
    data = json.loads(home("scrub", "status", "--json", user="aud", check=1).stdout)
    assert data["ok"] is False and data["alerts"][0]["recording"] == rec["id"]
    assert "ALERT" in home("jobs", "list", "--all", user="chief").stdout

    # `bodycam worker` (the job table's loop) queues and runs the periodic scrub itself.
    worker = home("worker", "--once")
    assert "queued periodic job" in worker.stderr
    assert "(integrity.scrub) done" in worker.stderr
