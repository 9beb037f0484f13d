"""Probe, poster frame, matching and purge as jobs: queued with their transaction, by id,
idempotent, quarantined with their error. Real clips, real stores, both databases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from sqlalchemy import select

from bodycam.compliance.jobs import MATCH_JOB
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.matching_service import MatchError, queue_matching
from bodycam.compliance.models import ComplianceResult
from bodycam.compliance.service import import_cad
from bodycam.db import transaction
from bodycam.evidence.jobs import (
    PROBE_JOB,
    THUMBNAIL_JOB,
    get_poster,
    make_poster,
    poster_for,
    probe_key,
    thumbnail_key,
)
from bodycam.evidence.models import Recording
from bodycam.evidence.service import Vault, ingest_file
from bodycam.ids import utcnow
from bodycam.jobs import runner
from bodycam.jobs.dispatch import JobsConfig, configure
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.schedule import schedule_due
from bodycam.retention import service as retention
from bodycam.retention.jobs import PURGE_JOB
from bodycam.storage import LocalBlobStore
from tests.compliance.csvs import GENERIC_HEADER, write_csv
from tests.compliance.test_matching import RULES


class ListDispatcher:
    """A dispatcher that keeps the ids it is sent (what a broker would get), in order."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, job_ids: Sequence[str], countdown: float = 0.0) -> None:
        self.sent.extend(job_ids)


def _job_by_key(ctx, key: str) -> Job | None:
    with ctx.sessions() as s:
        job = s.scalars(select(Job).where(Job.key == key)).first()
        if job is not None:
            s.expunge(job)
        return job


def _first_frame_near(path: Path, at_s: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if frame.time is not None and frame.time >= at_s - 1e-6:
                return frame.to_ndarray(format="bgr24")
    raise AssertionError("no frame")


def test_ingest_makes_the_poster_inline_when_no_broker_is_configured(ctx, dept, vault, clips):
    clip = clips(140, seconds=2.0)
    rid = ingest_file(vault, dept.actor("clerk"), clip, officer_badge="1001").id
    job = _job_by_key(ctx, thumbnail_key(rid))
    assert job is not None and job.status == JobStatus.DONE, job and job.error
    assert job.params == {"recording_id": rid} and job.attempts == 1
    assert _job_by_key(ctx, probe_key(rid)) is None  # embedded: ingest decodes inline
    with ctx.sessions() as s:
        sha = s.get(Recording, rid).sha256
    jpeg = get_poster(ctx.store, sha)
    assert jpeg is not None and jpeg[:3] == b"\xff\xd8\xff"
    assert (ctx.store.root / "derived" / "poster" / sha[:2] / f"{sha}.jpg").is_file()
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (96, 160, 3)  # the clip is 160x96: not scaled up
    assert job.result["at_s"] == pytest.approx(0.2, abs=0.01)  # a tenth of 2 s
    source = _first_frame_near(clip, job.result["at_s"])
    assert float(np.abs(picture.astype(int) - source.astype(int)).mean()) < 8.0
    # Idempotent: a second run keeps the poster; the blob store holds only the original.
    again = poster_for(ctx.sessions, ctx.store, rid)
    assert again["kept"] is True and get_poster(ctx.store, sha) == jpeg
    assert list(ctx.store.iter_hashes()) == [sha]


def test_with_a_broker_ingest_queues_probe_and_poster_and_sends_them_after_commit(
    ctx, dept, vault, clips
):
    dispatcher = ListDispatcher()
    configure(ctx.sessions, JobsConfig(dispatcher, 3))
    clerk = dept.actor("clerk")
    rid = ingest_file(vault, clerk, clips(141), officer_badge="1001").id
    thumb, probe = _job_by_key(ctx, thumbnail_key(rid)), _job_by_key(ctx, probe_key(rid))
    assert thumb is not None and probe is not None
    assert dispatcher.sent == [thumb.id, probe.id]  # sent once the ingest committed
    assert thumb.status == probe.status == JobStatus.QUEUED  # a worker's work now
    assert ingest_file(vault, clerk, clips(141), officer_badge="1001").duplicate
    assert dispatcher.sent == [thumb.id, probe.id]  # a duplicate queues nothing

    runner.load_handlers()
    done = runner.run_job(ctx, probe.id)
    assert done.status == JobStatus.DONE, done.error
    with ctx.sessions() as s:
        rec = s.get(Recording, rid)
        assert done.result["frame_count"] == rec.frame_count == 10
    assert done.result["decoded"] == "all" and done.result["same_as_ingest"] is True
    made = runner.run_job(ctx, thumb.id)
    assert made.status == JobStatus.DONE and made.result["bytes"] > 500
    assert get_poster(ctx.store, rec.sha256) is not None
    # With BODYCAM_INGEST_DECODE=all the ingest decoded everything: no probe job.
    full = Vault(ctx.sessions, ctx.store, full_decode=True)
    rid2 = ingest_file(full, clerk, clips(142), officer_badge="1001").id
    assert _job_by_key(ctx, probe_key(rid2)) is None
    assert _job_by_key(ctx, thumbnail_key(rid2)) is not None


def test_a_stored_original_that_fails_the_full_decode_is_quarantined_with_its_error(
    ctx, dept, vault, clips
):
    configure(ctx.sessions, JobsConfig(ListDispatcher(), 3))
    rid = ingest_file(vault, dept.actor("clerk"), clips(143), officer_badge="1001").id
    with ctx.sessions() as s:
        sha = s.get(Recording, rid).sha256
    assert isinstance(ctx.store, LocalBlobStore)
    blob = ctx.store.path_for(sha)
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 400):  # damage the middle of the media
        data[i] ^= 0x5A
    blob.write_bytes(bytes(data))
    runner.load_handlers()
    job = _job_by_key(ctx, probe_key(rid))
    assert job is not None
    done = runner.run_job(ctx, job.id)
    assert done.status == JobStatus.QUARANTINED and done.attempts == 1  # bad input: at once
    assert done.error.startswith(f"Recording {rid}: the stored original fails the full decode:")
    assert "corrupt" in done.error


def test_the_poster_is_read_from_s3_in_ranges_and_kept_beside_the_blob(s3_store, clips, tmp_path):
    from bodycam.evidence.jobs import delete_poster, poster_key, put_poster

    clip = clips(144, seconds=2.0)
    info = s3_store.put_file(clip)
    local = LocalBlobStore(tmp_path / "local")
    local.put_file(clip)
    remote = make_poster(s3_store, info.sha256, 2.0)
    assert remote == make_poster(local, info.sha256, 2.0)  # same frame, same bytes
    put_poster(s3_store, info.sha256, remote.jpeg)
    key = s3_store.prefix + poster_key(info.sha256)
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=key)
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == len(remote.jpeg)
    assert get_poster(s3_store, info.sha256) == remote.jpeg
    assert list(s3_store.iter_hashes()) == [info.sha256]  # not a blob: verify ignores it
    assert delete_poster(s3_store, info.sha256) and get_poster(s3_store, info.sha256) is None
    assert not delete_poster(s3_store, info.sha256)


def test_matching_runs_as_a_job_on_demand_and_after_each_cad_import(ctx, dept, vault, tmp_path):
    admin = dept.actor("admin")
    runner.load_handlers()
    with pytest.raises(MatchError):
        queue_matching(ctx.sessions, admin, "[[policy]]\nversion = 1\n")
    rows = [
        {
            "event_id": f"E-{n}",
            "call_type": "TRAFFIC STOP",
            "priority": "2",
            "self_initiated": "Y",
            "precinct": "North",
            "location": "x",
            "disposition": "CITATION",
            "created_at": "2026-03-01T08:00:00Z",
            "badge": badge,
            "dispatched_at": "2026-03-01T08:00:00Z",
            "arrived_at": "2026-03-01T08:00:00Z",
            "cleared_at": "2026-03-01T08:30:00Z",
        }
        for n, badge in enumerate(["1001", "1002"])
    ]
    first = import_cad(
        ctx.sessions,
        admin,
        write_csv(tmp_path / "a.csv", GENERIC_HEADER, rows[:1]),
        load_preset("generic"),
    )
    assert "matching_job" not in first.report  # matching never ran: no rules to reuse
    jid = queue_matching(ctx.sessions, admin, RULES)
    done = runner.run_job(ctx, jid)
    assert done.status == JobStatus.DONE and done.kind == MATCH_JOB, done.error
    assert done.result == {"judged": 1, "by_status": {"not_recorded": 1}}
    assert done.created_by == admin.user_id

    second = import_cad(
        ctx.sessions,
        admin,
        write_csv(tmp_path / "b.csv", GENERIC_HEADER, rows),
        load_preset("generic"),
    )
    again = second.report["matching_job"]
    assert again != jid
    done = runner.run_job(ctx, again)
    assert done.status == JobStatus.DONE and done.result["judged"] == 2
    assert runner.run_job(ctx, again).status == JobStatus.DONE  # not run a second time
    with ctx.sessions() as s:
        assert len(list(s.scalars(select(ComplianceResult)))) == 2


def test_the_purge_is_a_periodic_job_that_also_removes_posters(ctx, dept, vault, clips):
    from bodycam.retention.models import DeletionItem
    from tests.retention.test_purge import SCHEDULE

    clerk = dept.actor("clerk")
    rid = ingest_file(vault, clerk, clips(145), officer_badge="1001").id
    with transaction(ctx.sessions) as s:
        rec = s.get(Recording, rid)
        rec.recorded_start -= timedelta(days=400)
        rec.recorded_end -= timedelta(days=400)
        sha = rec.sha256
    retention.import_schedule(ctx.sessions, dept.actor("admin"), SCHEDULE)
    [item] = retention.approve_deletions(ctx.sessions, clerk)
    with transaction(ctx.sessions) as s:  # the 7-day recovery window has passed
        s.get(DeletionItem, item.id).purge_after = utcnow() - timedelta(seconds=1)
    assert get_poster(ctx.store, sha) is not None
    runner.load_handlers()
    queued = schedule_due(ctx)
    purges = [j for j in queued if _kind(ctx, j) == PURGE_JOB]
    assert len(purges) == 1
    assert PURGE_JOB not in [_kind(ctx, j) for j in schedule_due(ctx)]  # one per slot
    done = runner.run_job(ctx, purges[0])
    assert done.status == JobStatus.DONE, done.error
    assert done.result["purged"] == [rid] and done.result["blobs_deleted"] == 1
    assert done.result["posters_deleted"] == 1
    assert get_poster(ctx.store, sha) is None and not ctx.store.exists(sha)
    assert runner.run_job(ctx, purges[0]).result == done.result  # it ran once
    # Run again (the next slot): nothing left to purge, nothing to remove.
    with transaction(ctx.sessions) as s:
        again = runner.submit(s, PURGE_JOB, {}).id
    assert runner.run_job(ctx, again).result == {
        "purged": [],
        "certificates": [],
        "blobs_deleted": 0,
        "posters_deleted": 0,
    }
    assert poster_for(ctx.sessions, ctx.store, rid)["skipped"] == "the recording was purged"


def _kind(ctx, job_id: str) -> str:
    with ctx.sessions() as s:
        return s.get(Job, job_id).kind


def test_thumbnail_and_probe_kinds_are_registered():
    runner.load_handlers()
    assert {THUMBNAIL_JOB, PROBE_JOB, MATCH_JOB, PURGE_JOB} <= set(runner._HANDLERS)
