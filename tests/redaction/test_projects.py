"""The redaction review workflow in the vault: detect, decide, render, QC, approve.

Real video with real faces (faceclip), the real detector, both database engines.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.evidence.service import ingest_file
from bodycam.redaction import projects
from bodycam.redaction.faceclip import FaceClip, correlation
from bodycam.redaction.models import CopyStatus
from bodycam.redaction.plan import RedactionPlan
from bodycam.redaction.projects import ProjectError
from bodycam.verify import verify_all


@pytest.fixture
def recording(vault, dept, clip_file: Path) -> str:
    return ingest_file(vault, dept.actor("clerk"), clip_file, officer_badge="1001").id


@pytest.fixture
def project(vault, dept, recording):
    return projects.detect(vault, dept.actor("clerk"), recording)


def _frames(path: Path) -> list:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _audit(vault, recording: str) -> list[str]:
    with vault.sessions() as s:
        rows = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.object_id == recording)
            .order_by(AuditRecord.at, AuditRecord.id)
        )
        return [r.action for r in rows]


def test_detect_stores_tracks_thumbnails_and_a_draft_that_redacts_everyone(project):
    assert project.project.status == "review"
    assert len(project.tracks) >= 2
    for t in project.tracks:
        assert t.thumbnail[:3] == b"\xff\xd8\xff"  # JPEG
        assert 0 <= t.first_frame <= t.thumbnail_frame <= t.last_frame
    plan = project.plan
    assert plan is not None and plan.video is not None
    assert plan.video.sha256 == project.project.source_sha256
    assert {t.track_id for t in plan.tracks} == {t.track_id for t in project.tracks}
    assert all(t.include for t in plan.tracks)


def test_review_render_qc_and_approve(ctx, vault, dept, recording, project, clip: FaceClip):
    clerk = dept.actor("clerk")
    pid = project.project.id
    # Keep the longest track visible (as for an officer); the others stay redacted.
    keep = max(project.tracks, key=lambda t: t.last_frame - t.first_frame).track_id
    plan = projects.decide_track(vault, clerk, pid, keep, include=False, reason="officer")
    kept = next(t for t in plan.tracks if t.track_id == keep)
    assert not kept.include
    # A manual box over the kept face for its first 6 frames only.
    first, after = kept.boxes[0], kept.boxes[10]
    projects.add_box(
        vault,
        clerk,
        pid,
        [
            (first.frame, first.x1, first.y1, first.x2, first.y2),
            (first.frame + 5, first.x1, first.y1, first.x2, first.y2),
        ],
        reason="personal_data",
    )
    projects.add_audio(vault, clerk, pid, 0.5, 1.0, mode="bleep", reason="personal_data")
    with pytest.raises(ProjectError, match="Unknown reason code 'nope'"):
        projects.add_full_frame(vault, clerk, pid, 0, 1, reason="nope")

    view = projects.render(vault, clerk, pid)
    copy = view.copy
    source_sha = project.project.source_sha256
    assert copy.source_sha256 == source_sha and copy.sha256 != source_sha
    saved = RedactionPlan.from_json(copy.plan)
    assert copy.plan_hash == saved.plan_hash() and len(saved.manual) == 1
    assert copy.engine and copy.detector.startswith("centerface")
    assert ctx.store.rehash(source_sha) == source_sha  # the original is untouched

    # The kept face is still there, so QC finds it and approval is refused.
    assert copy.status == CopyStatus.NEEDS_REVIEW and view.open_findings
    with pytest.raises(ProjectError, match="cannot be approved: QC finding"):
        projects.approve(vault, clerk, copy.id)

    out = Path(ctx.settings.resolved_home) / "copy.mp4"
    projects.download_copy(vault, clerk, copy.id, out)
    with av.open(str(out)) as c:
        assert not {"creation_time", "location"} & set(c.metadata)
        assert c.streams.audio  # audio kept (bleeped, not dropped)
    frames = _frames(out)

    def corr(box) -> float:
        w, h = clip.width, clip.height
        x1, y1, x2, y2 = max(box.x1, 0), max(box.y1, 0), min(box.x2, w), min(box.y2, h)
        truth = clip.frame(box.frame)[0]
        return correlation(frames[box.frame][y1:y2, x1:x2], truth[y1:y2, x1:x2])

    assert corr(first) < 0.3  # under the manual box
    assert corr(after) > 0.9  # the kept face, where no manual box is

    for f in view.findings:
        view = projects.accept_finding(vault, clerk, copy.id, f.number, "officer kept visible")
    assert view.copy.status == CopyStatus.CLEAN
    approved = projects.approve(vault, clerk, copy.id, "released to requester")
    assert approved.copy.status == CopyStatus.APPROVED

    actions = _audit(vault, recording)
    for action in (
        "redaction:project:detect",
        "redaction:project:edit",
        "redaction:copy:render",
        "redaction:copy:download",
        "redaction:finding:accept",
        "redaction:copy:approve",
    ):
        assert action in actions, action
    report = verify_all(ctx, dept.actor("auditor"))
    assert report.ok and report.copies == 1


def test_a_fully_redacted_copy_passes_qc(vault, dept, project):
    view = projects.render(vault, dept.actor("clerk"), project.project.id)
    assert view.findings == [] and view.copy.status == CopyStatus.CLEAN


def test_who_may_redact(vault, dept, recording, project):
    pid = project.project.id
    for name in ("o1", "sgt_a", "analyst", "admin", "equipment"):
        with pytest.raises(PermissionDenied):
            projects.detect(vault, dept.actor(name), recording)
        with pytest.raises(PermissionDenied):
            projects.show(vault, dept.actor(name), pid)
    with pytest.raises(ProjectError, match="no redaction project nope"):
        projects.show(vault, dept.actor("clerk"), "nope")
    assert _audit(vault, recording).count("access:request:denied") == 10


def test_edits_are_refused_cleanly(vault, dept, project):
    clerk = dept.actor("clerk")
    pid = project.project.id
    with pytest.raises(ProjectError, match="has no track 999"):
        projects.decide_track(vault, clerk, pid, 999, include=False, reason="officer")
    with pytest.raises(ProjectError, match="Bad manual box"):
        projects.add_box(vault, clerk, pid, [(0, 50, 50, 10, 10)], reason="victim")
    with pytest.raises(ProjectError, match="has no audio number 1"):
        projects.remove_item(vault, clerk, pid, "audio", 1)
    with pytest.raises(ProjectError, match="empty or negative"):
        projects.add_audio(vault, clerk, pid, 2, 1, mode="mute", reason="victim")
    view = projects.show(vault, clerk, pid)
    assert view.project.revision == 0  # nothing half-written


# --- bulk and audio ----------------------------------------------------------------------


def test_bulk_blurs_every_frame_and_removes_the_audio(ctx, vault, dept, recording, clip):
    clerk = dept.actor("clerk")
    with pytest.raises(ProjectError, match="removes or mutes the audio"):
        projects.bulk(vault, clerk, recording, audio="keep")
    view = projects.bulk(vault, clerk, recording, audio="remove")
    assert view.copy.status == CopyStatus.CLEAN and view.findings == []
    out = Path(ctx.settings.resolved_home) / "bulk.mp4"
    projects.download_copy(vault, clerk, view.copy.id, out)
    with av.open(str(out)) as c:
        assert not c.streams.audio
    frames = _frames(out)
    for i in (0, len(frames) // 2):
        truth, boxes = clip.frame(i)
        for x1, y1, x2, y2 in boxes:
            assert correlation(frames[i][y1:y2, x1:x2], truth[y1:y2, x1:x2]) < 0.3
    with pytest.raises(PermissionDenied):
        projects.bulk(vault, dept.actor("sgt_a"), recording)


@pytest.fixture(scope="session")
def personal_video(tmp_path_factory):
    from tests.redaction.conftest import PERSONAL
    from tests.redaction.speech import spoken_clip

    return spoken_clip(tmp_path_factory.mktemp("speech") / "personal.mp4", PERSONAL)


def test_transcript_phrases_and_suggestions_become_audio_ranges(vault, dept, personal_video):
    clerk = dept.actor("clerk")
    rid = ingest_file(vault, clerk, personal_video.path, officer_badge="1001").id
    pid = projects.detect(vault, clerk, rid).project.id
    with pytest.raises(ProjectError, match="no transcript yet"):
        projects.transcript_of(vault, clerk, pid)
    transcript = projects.transcribe(vault, clerk, pid)
    assert len(transcript.words) > 20
    assert projects.transcript_of(vault, clerk, pid).text == transcript.text

    start, end = personal_video.part_of("Elm Street")
    ranges = projects.redact_phrase(
        vault, clerk, pid, "Elm Street", mode="bleep", reason="personal_data"
    )
    assert ranges and all(start - 0.5 <= r.start < r.end <= end + 0.5 for r in ranges)
    with pytest.raises(ProjectError, match="is not in the transcript"):
        projects.redact_phrase(vault, clerk, pid, "zebra crossing", mode="mute", reason="other")

    found = projects.suggest_audio(vault, clerk, pid)
    kinds = [s.entity for s in found]
    assert "PHONE_NUMBER" in kinds
    phone = kinds.index("PHONE_NUMBER") + 1
    projects.apply_suggestions(vault, clerk, pid, [phone])
    plan = projects.show(vault, clerk, pid).plan
    assert plan is not None and len(plan.audio) == len(ranges) + 1
    p_start, p_end = personal_video.part_of("phone number")
    added = plan.audio[-1]
    assert p_start - 0.5 <= added.start_ms / 1000 < added.end_ms / 1000 <= p_end + 0.5

    view = projects.render(vault, clerk, pid)
    assert view.copy.render["bleeped_ms"] > 0
    actions = _audit(vault, rid)
    assert "redaction:project:transcribe" in actions


# --- as jobs -----------------------------------------------------------------------------


def test_detection_and_rendering_run_as_idempotent_jobs(ctx, vault, dept, recording):
    from bodycam.jobs import runner
    from bodycam.jobs.models import JobStatus

    runner.load_handlers()
    clerk = dept.actor("clerk")
    pid = projects.start_project(vault, clerk, recording, queue_threshold=0.2)
    waiting = projects.show(vault, clerk, pid)
    assert waiting.project.status == "detecting" and waiting.detection is not None
    job = runner.run_next(ctx)
    assert job is not None and job.status == JobStatus.DONE, job.error
    assert job.result["tracks"] >= 2
    view = projects.show(vault, clerk, pid)
    assert view.project.status == "review" and len(view.tracks) == job.result["tracks"]
    projects.run_detection(vault, pid)  # a second run changes nothing
    assert len(projects.show(vault, clerk, pid).tracks) == len(view.tracks)

    first = projects.queue_render(vault, clerk, pid)
    assert projects.queue_render(vault, clerk, pid) == first  # same plan revision, same job
    done = runner.run_next(ctx)
    assert done is not None and done.id == first and done.status == JobStatus.DONE, done.error
    copy_id = done.result["copy_id"]
    assert projects.render(vault, clerk, pid).copy.id == copy_id  # same plan, same copy
    with pytest.raises(PermissionDenied):
        projects.queue_render(vault, dept.actor("o1"), pid)


def test_review_from_the_command_line(home, clip_file):
    rid = json.loads(
        home("ingest", str(clip_file), "--officer", "501", "--json", user="clerk").stdout
    )["id"]
    queued = json.loads(home("redact", "detect", rid, "--queue", "--json", user="clerk").stdout)
    assert queued["status"] == "queued"
    home("redact", "detect", rid, user="ofc", check=3)
    assert "1 job(s) run" in home("jobs", "run", user="clerk").stdout
    pid = queued["project_id"]
    shown = json.loads(home("redact", "show", pid, "--json", user="clerk").stdout)
    assert shown["status"] == "review" and shown["detection_job"]["status"] == "done"
    track = shown["tracks"][0]["track"]
    home("redact", "track", pid, str(track), "--keep", "--reason", "officer", user="clerk")
    home("redact", "audio", pid, "--from", "0.5", "--to", "1", "--reason", "victim", user="clerk")
    p = home("redact", "render", pid, "--json", user="clerk", check=1)  # QC sees the kept face
    copy = json.loads(p.stdout)
    assert copy["status"] == "needs_review" and copy["findings"]
    p = home("redact", "approve", copy["id"], user="clerk", check=1)
    assert "cannot be approved" in p.stderr and "Traceback" not in p.stderr
    for f in copy["findings"]:
        home("redact", "accept", copy["id"], str(f["number"]), "--reason", "officer", user="clerk")
    approved = json.loads(home("redact", "approve", copy["id"], "--json", user="clerk").stdout)
    assert approved["status"] == "approved"
    jobs = [json.loads(x) for x in home("jobs", "list", "--json", user="clerk").stdout.splitlines()]
    assert [j["kind"] for j in jobs] == ["redaction.detect"]
    home("jobs", "list", "--all", user="clerk", check=3)
    home("jobs", "show", jobs[0]["id"], user="chief")
