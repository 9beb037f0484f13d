"""Redaction review in the vault: detect, decide, render, check and approve.

Every function checks permissions in the service layer and writes one audit record on
the *recording* (so a recording's audit trail shows each redaction step), in the same
transaction as the change. The original blob is only ever read; each render stores a
new blob and a :class:`RedactedCopy` naming the source hash and the exact plan.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, record_denial
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence.access import readable_recordings
from bodycam.evidence.models import Recording
from bodycam.evidence.service import EvidenceError, Vault
from bodycam.ids import utcnow
from bodycam.jobs.models import Job
from bodycam.jobs.runner import submit
from bodycam.redaction.analyse import analyse_video
from bodycam.redaction.engine import RedactionError, RedactOptions
from bodycam.redaction.models import (
    CopyStatus,
    ProjectStatus,
    QCFinding,
    RedactedCopy,
    RedactionProject,
    RedactionTrack,
)
from bodycam.redaction.plan import (
    AudioMode,
    AudioRange,
    AudioTrack,
    FrameBox,
    FrameRange,
    ManualBox,
    PlanError,
    ReasonCode,
    RedactionPlan,
)
from bodycam.redaction.plan_render import render_plan
from bodycam.redaction.qc import QC_THRESHOLD, qc_scan
from bodycam.redaction.styles import Style
from bodycam.redaction.transcript import AudioRedaction, Transcript, phrase_ranges
from bodycam.storage.interface import local_path

if TYPE_CHECKING:
    from bodycam.redaction.pii import Suggestion

Progress = Callable[[int, int], None]

DETECT_JOB = "redaction.detect"
RENDER_JOB = "redaction.render"


class ProjectError(EvidenceError):
    """A redaction request that cannot be done; the message says why."""


@dataclass(frozen=True)
class ProjectView:
    """A project with its tracks and copies, as the review screens show it."""

    project: RedactionProject
    recording: Recording
    plan: RedactionPlan | None
    tracks: list[RedactionTrack]
    copies: list[RedactedCopy]
    detection: Job | None = None  # the detection job, when it was queued as one


@dataclass(frozen=True)
class CopyView:
    """A redacted copy with its QC findings."""

    copy: RedactedCopy
    findings: list[QCFinding]

    @property
    def open_findings(self) -> list[QCFinding]:
        """Findings not yet resolved."""
        return [f for f in self.findings if not f.accepted]


# --- access ----------------------------------------------------------------------------


def _require(vault: Vault, actor: Actor, perm: Permission, what: str, recording_id: str) -> None:
    """Permission and recording scope, or an audited refusal."""
    try:
        actor.require(perm, what)
        with vault.sessions() as s:
            _recording(s, vault, actor, recording_id)
    except (PermissionDenied, ProjectError) as exc:
        record_denial(vault.sessions, actor, what, recording_id)
        if isinstance(exc, PermissionDenied):
            exc.audited = True
        raise


def _recording(s: Session, vault: Vault, actor: Actor, recording_id: str) -> Recording:
    rec = s.scalars(
        readable_recordings(actor, vault.officer_sees_own).where(Recording.id == recording_id)
    ).first()
    if rec is None:
        raise ProjectError(f"There is no recording {recording_id} that you may see.")
    return rec


def _project_recording(vault: Vault, project_id: str) -> str:
    with vault.sessions() as s:
        proj = s.get(RedactionProject, project_id)
        if proj is None:
            raise ProjectError(f"There is no redaction project {project_id}.")
        return proj.recording_id


def _copy_recording(vault: Vault, copy_id: str) -> str:
    with vault.sessions() as s:
        copy = s.get(RedactedCopy, copy_id)
        if copy is None:
            raise ProjectError(f"There is no redacted copy {copy_id}.")
        return copy.recording_id


# --- detection -------------------------------------------------------------------------


def detect(
    vault: Vault,
    actor: Actor,
    recording_id: str,
    *,
    options: RedactOptions | None = None,
    progress: Progress | None = None,
) -> ProjectView:
    """Start a project on a recording and run the analysis here (tracks, thumbnails)."""
    project_id = start_project(vault, actor, recording_id)
    run_detection(vault, project_id, options=options, progress=progress)
    return show(vault, actor, project_id, audit=False)


def start_project(
    vault: Vault,
    actor: Actor,
    recording_id: str,
    *,
    queue_threshold: float | None = None,
    detector: str = "centerface",
) -> str:
    """Create a project in the 'detecting' state (audited); return its id.

    With ``queue_threshold`` the detection is queued as a ``redaction.detect`` job (at that
    detection threshold) in the same transaction, for a runner to do.
    """
    _require(vault, actor, Permission.REDACTION_MANAGE, "redact recordings", recording_id)
    with transaction(vault.sessions) as s:
        rec = _recording(s, vault, actor, recording_id)
        proj = RedactionProject(
            recording_id=rec.id, source_sha256=rec.sha256, created_by=actor.user_id
        )
        s.add(proj)
        s.flush()
        details: dict[str, Any] = {"project": proj.id, "sha256": rec.sha256, "stage": "started"}
        if queue_threshold is not None:
            job = submit(
                s,
                DETECT_JOB,
                {"project_id": proj.id, "threshold": str(queue_threshold), "detector": detector},
                key=f"{DETECT_JOB}:{proj.id}",
                created_by=actor.user_id,
            )
            details["job"] = job.id
        record(s, actor, AuditAction.REDACTION_DETECT, "recording", rec.id, details)
        return proj.id


def detection_job(vault: Vault, project_id: str) -> Job | None:
    """The queued detection job of a project, if it has one."""
    with vault.sessions() as s:
        job = s.scalars(select(Job).where(Job.key == f"{DETECT_JOB}:{project_id}")).first()
        if job is not None:
            s.expunge(job)
        return job


def queue_render(vault: Vault, actor: Actor, project_id: str) -> str:
    """Queue a ``redaction.render`` job of the project's current plan; return the job id."""
    recording_id = _project_recording(vault, project_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "render redactions", recording_id)
    with transaction(vault.sessions) as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        if proj.status != ProjectStatus.REVIEW.value:
            raise ProjectError(f"Project {project_id} is {proj.status}; nothing to render.")
        job = submit(
            s,
            RENDER_JOB,
            {"project_id": project_id, "user_id": actor.user_id},
            key=f"{RENDER_JOB}:{project_id}:{proj.revision}",
            created_by=actor.user_id,
        )
        return job.id


def run_detection(
    vault: Vault,
    project_id: str,
    *,
    options: RedactOptions | None = None,
    progress: Progress | None = None,
) -> None:
    """Analyse the project's source (the job): store tracks and a draft plan, or the error.

    The draft includes every track (redact everyone until a person decides otherwise).
    """
    opts = options or RedactOptions()
    with vault.sessions() as s:
        proj = s.get(RedactionProject, project_id)
        if proj is None:
            raise ProjectError(f"There is no redaction project {project_id}.")
        if proj.status == ProjectStatus.REVIEW.value:
            return  # already done (a job run twice)
        sha = proj.source_sha256
    try:
        with local_path(vault.store, sha) as path:
            analysis = analyse_video(path, opts, progress, hash_source=False)
    except (RedactionError, OSError) as exc:
        with transaction(vault.sessions) as s:
            proj = s.get(RedactionProject, project_id)
            assert proj is not None
            proj.status = ProjectStatus.FAILED.value
            proj.error = str(exc)
            proj.updated_at = utcnow()
        raise ProjectError(f"Detection failed: {exc}") from None
    video = dataclasses.replace(analysis.video, sha256=sha)
    draft = dataclasses.replace(
        analysis.draft_plan(include=True, reason=ReasonCode.other, style=opts.style), video=video
    )
    with transaction(vault.sessions) as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        for t in analysis.tracks:
            s.add(
                RedactionTrack(
                    project_id=proj.id,
                    track_id=t.track_id,
                    label=t.label,
                    first_frame=t.first_frame,
                    last_frame=t.last_frame,
                    detections=t.detections,
                    mean_score=t.mean_score,
                    max_score=t.max_score,
                    thumbnail=t.thumbnail,
                    thumbnail_frame=t.thumbnail_frame,
                )
            )
        proj.analysis = {
            "engine": analysis.engine,
            "detector": analysis.detector,
            "scale": list(analysis.scale),
            "threshold": str(analysis.threshold),
            "seconds": str(round(analysis.seconds, 3)),
            "frames": analysis.video.frames,
            "tracks": len(analysis.tracks),
        }
        proj.plan = draft.to_json()
        proj.status = ProjectStatus.REVIEW.value
        proj.updated_at = utcnow()


# --- review ----------------------------------------------------------------------------


def show(vault: Vault, actor: Actor, project_id: str, *, audit: bool = True) -> ProjectView:
    """The project, its tracks (with face thumbnails) and copies; viewing is audited."""
    recording_id = _project_recording(vault, project_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "view redaction projects", recording_id)
    with transaction(vault.sessions) as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        rec = _recording(s, vault, actor, recording_id)
        tracks = list(
            s.scalars(
                select(RedactionTrack)
                .where(RedactionTrack.project_id == project_id)
                .order_by(RedactionTrack.track_id)
            )
        )
        copies = list(
            s.scalars(
                select(RedactedCopy)
                .where(RedactedCopy.project_id == project_id)
                .order_by(RedactedCopy.created_at)
            )
        )
        if audit:
            record(
                s,
                actor,
                AuditAction.REDACTION_VIEW,
                "recording",
                recording_id,
                {"project": project_id},
            )
        s.expunge_all()
    plan = RedactionPlan.from_json(proj.plan) if proj.plan else None
    return ProjectView(proj, rec, plan, tracks, copies, detection_job(vault, project_id))


def projects_of(vault: Vault, actor: Actor, recording_id: str) -> list[RedactionProject]:
    """The redaction projects of a recording, oldest first."""
    _require(vault, actor, Permission.REDACTION_MANAGE, "view redaction projects", recording_id)
    with vault.sessions() as s:
        rows = list(
            s.scalars(
                select(RedactionProject)
                .where(RedactionProject.recording_id == recording_id)
                .order_by(RedactionProject.created_at)
            )
        )
        s.expunge_all()
    return rows


def _edit(
    vault: Vault,
    actor: Actor,
    project_id: str,
    change: Callable[[RedactionPlan], tuple[RedactionPlan, dict[str, Any]]],
) -> RedactionPlan:
    """Apply ``change`` to the working plan in one audited transaction."""
    recording_id = _project_recording(vault, project_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "edit redactions", recording_id)
    with transaction(vault.sessions) as s:
        proj = s.get(RedactionProject, project_id, with_for_update=True)
        assert proj is not None
        if proj.status != ProjectStatus.REVIEW.value:
            raise ProjectError(
                f"Project {project_id} is {proj.status}, not ready for review decisions."
            )
        try:
            new_plan, details = change(RedactionPlan.from_json(proj.plan))
        except PlanError as exc:
            raise ProjectError(str(exc)) from None
        proj.plan = new_plan.to_json()
        proj.revision += 1
        proj.updated_at = utcnow()
        record(
            s,
            actor,
            AuditAction.REDACTION_EDIT,
            "recording",
            recording_id,
            {"project": project_id, "revision": proj.revision} | details,
        )
        return new_plan


def _reason(value: str) -> ReasonCode:
    try:
        return ReasonCode(value)
    except ValueError:
        codes = ", ".join(c.value for c in ReasonCode)
        raise ProjectError(f"Unknown reason code {value!r}; choose one of {codes}.") from None


def decide_track(
    vault: Vault,
    actor: Actor,
    project_id: str,
    track_id: int,
    *,
    include: bool,
    reason: str,
    note: str = "",
) -> RedactionPlan:
    """Redact (include) or keep visible (exclude) one track, with a reason code."""
    code = _reason(reason)

    def change(plan: RedactionPlan) -> tuple[RedactionPlan, dict[str, Any]]:
        tracks = list(plan.tracks)
        for i, t in enumerate(tracks):
            if t.track_id == track_id:
                old = {"include": t.include, "reason": t.reason.value if t.reason else None}
                tracks[i] = dataclasses.replace(t, include=include, reason=code, note=note)
                details = {
                    "track": track_id,
                    "old": old,
                    "new": {"include": include, "reason": code.value},
                }
                return dataclasses.replace(plan, tracks=tuple(tracks)), details
        raise ProjectError(f"Project {project_id} has no track {track_id}.")

    return _edit(vault, actor, project_id, change)


def _frames(plan: RedactionPlan, start_s: float, end_s: float | None) -> tuple[int, int | None]:
    """Frame indices of a time range (seconds) in the plan's video."""
    if plan.video is None:
        raise ProjectError("The plan names no video; cannot convert times to frames.")
    if start_s < 0 or (end_s is not None and end_s <= start_s):
        raise ProjectError(f"The range {start_s}-{end_s} s is empty or negative.")
    start = plan.video.frame_at_ms(round(start_s * 1000))
    end = None if end_s is None else plan.video.frame_at_ms(round(end_s * 1000))
    return start, end


def add_box(
    vault: Vault,
    actor: Actor,
    project_id: str,
    keyframes: Sequence[tuple[int, int, int, int, int]],
    *,
    reason: str,
    note: str = "",
) -> RedactionPlan:
    """Add a manual box given at keyframes ``(frame, x1, y1, x2, y2)``, interpolated between."""
    code = _reason(reason)
    try:
        box = ManualBox(tuple(FrameBox(*k) for k in sorted(keyframes)), code, note)
    except (PlanError, TypeError) as exc:
        raise ProjectError(f"Bad manual box: {exc}") from None

    def change(plan: RedactionPlan) -> tuple[RedactionPlan, dict[str, Any]]:
        new = dataclasses.replace(plan, manual=(*plan.manual, box))
        return new, {
            "added": "box",
            "keyframes": [k.to_row() for k in box.keyframes],
            "reason": code.value,
        }

    return _edit(vault, actor, project_id, change)


def add_full_frame(
    vault: Vault,
    actor: Actor,
    project_id: str,
    start_s: float,
    end_s: float | None,
    *,
    reason: str,
    note: str = "",
) -> RedactionPlan:
    """Redact the whole picture from ``start_s`` to ``end_s`` seconds (None: to the end)."""
    code = _reason(reason)

    def change(plan: RedactionPlan) -> tuple[RedactionPlan, dict[str, Any]]:
        start, end = _frames(plan, start_s, end_s)
        item = FrameRange(start, end, code, note)
        new = dataclasses.replace(plan, full_frame=(*plan.full_frame, item))
        return new, {
            "added": "full_frame",
            "start_frame": start,
            "end_frame": end,
            "reason": code.value,
        }

    return _edit(vault, actor, project_id, change)


def add_audio(
    vault: Vault,
    actor: Actor,
    project_id: str,
    start_s: float,
    end_s: float,
    *,
    mode: str,
    reason: str,
    note: str = "",
) -> RedactionPlan:
    """Mute or bleep the audio from ``start_s`` to ``end_s`` seconds."""
    code = _reason(reason)
    try:
        how = AudioMode(mode)
    except ValueError:
        raise ProjectError(f"Unknown audio mode {mode!r}; choose mute or bleep.") from None
    if start_s < 0 or end_s <= start_s:
        raise ProjectError(f"The range {start_s}-{end_s} s is empty or negative.")
    item = AudioRange(round(start_s * 1000), round(end_s * 1000), how, code, note)

    def change(plan: RedactionPlan) -> tuple[RedactionPlan, dict[str, Any]]:
        new = dataclasses.replace(plan, audio=(*plan.audio, item))
        return new, {
            "added": "audio",
            "start_ms": item.start_ms,
            "end_ms": item.end_ms,
            "mode": how.value,
            "reason": code.value,
        }

    return _edit(vault, actor, project_id, change)


def remove_item(
    vault: Vault, actor: Actor, project_id: str, kind: str, number: int
) -> RedactionPlan:
    """Remove manual box, full-frame range or audio range ``number`` (1-based)."""
    fields = {"box": "manual", "full_frame": "full_frame", "audio": "audio"}
    if kind not in fields:
        raise ProjectError(f"Unknown kind {kind!r}; choose box, full_frame or audio.")
    name = fields[kind]

    def change(plan: RedactionPlan) -> tuple[RedactionPlan, dict[str, Any]]:
        items = list(getattr(plan, name))
        if not 1 <= number <= len(items):
            raise ProjectError(f"Project {project_id} has no {kind} number {number}.")
        gone = items.pop(number - 1)
        if name == "manual":
            new = dataclasses.replace(plan, manual=tuple(items))
        elif name == "full_frame":
            new = dataclasses.replace(plan, full_frame=tuple(items))
        else:
            new = dataclasses.replace(plan, audio=tuple(items))
        return new, {"removed": kind, "number": number, "reason": gone.reason.value}

    return _edit(vault, actor, project_id, change)


def set_style(vault: Vault, actor: Actor, project_id: str, style: str) -> RedactionPlan:
    """Choose how redactions are drawn: blur, pixelate or box."""
    try:
        chosen = Style(style)
    except ValueError:
        raise ProjectError(f"Unknown style {style!r}; choose blur, pixelate or box.") from None

    def change(plan: RedactionPlan) -> tuple[RedactionPlan, dict[str, Any]]:
        old = plan.settings.style.value
        settings = dataclasses.replace(plan.settings, style=chosen)
        details = {"style": {"old": old, "new": chosen.value}}
        return dataclasses.replace(plan, settings=settings), details

    return _edit(vault, actor, project_id, change)


# --- bulk -----------------------------------------------------------------------------


def bulk(
    vault: Vault,
    actor: Actor,
    recording_id: str,
    *,
    audio: str = "remove",
    progress: Progress | None = None,
) -> CopyView:
    """Blur every frame of a recording whole and remove (or mute) its audio, as a copy.

    For large requests where the agency releases what happened, not who was there. No
    detection runs; the project's plan is the bulk preset, rendered and QC-checked like
    any other.
    """
    try:
        track = AudioTrack(audio)
    except ValueError:
        raise ProjectError(f"Unknown audio choice {audio!r}; choose remove or mute.") from None
    if track == AudioTrack.keep:
        raise ProjectError("A bulk redaction removes or mutes the audio; choose remove or mute.")
    _require(vault, actor, Permission.REDACTION_MANAGE, "redact recordings", recording_id)
    plan = RedactionPlan.bulk(audio=track, reason=ReasonCode.other)
    with transaction(vault.sessions) as s:
        rec = _recording(s, vault, actor, recording_id)
        proj = RedactionProject(
            recording_id=rec.id,
            source_sha256=rec.sha256,
            created_by=actor.user_id,
            status=ProjectStatus.REVIEW.value,
            analysis={"mode": "bulk", "audio": track.value},
            plan=plan.to_json(),
        )
        s.add(proj)
        s.flush()
        project_id = proj.id
        record(
            s,
            actor,
            AuditAction.REDACTION_DETECT,
            "recording",
            rec.id,
            {"project": project_id, "sha256": rec.sha256, "stage": "bulk", "audio": track.value},
        )
    return render(vault, actor, project_id, progress=progress)


# --- audio: transcript, search, suggestions --------------------------------------------


def transcribe(
    vault: Vault,
    actor: Actor,
    project_id: str,
    *,
    model: Path | None = None,
    model_sha256: str | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Transcribe the project's recording on this machine and keep it with the project.

    ``model`` is a CTranslate2 Whisper folder (default: the shipped tiny.en, whose hash is
    pinned); ``model_sha256`` pins another model's ``model.bin``.
    """
    from bodycam.redaction.speech import AudioInputError, SpeechModelError, load_speech_model
    from bodycam.redaction.speech import transcribe as run

    recording_id = _project_recording(vault, project_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "transcribe recordings", recording_id)
    with vault.sessions() as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        sha = proj.source_sha256
    try:
        speech = load_speech_model(model, sha256=model_sha256)
        with local_path(vault.store, sha) as src:
            seconds = None
            if progress is not None:
                step = progress

                def seconds(done: float, total: float) -> None:
                    step(int(done), int(total))

            found = run(src, model=speech, progress=seconds)
    except (SpeechModelError, AudioInputError, OSError) as exc:
        raise ProjectError(f"Transcription failed: {exc}") from None
    with transaction(vault.sessions) as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        proj.transcript = found.to_json()
        proj.updated_at = utcnow()
        record(
            s,
            actor,
            AuditAction.REDACTION_TRANSCRIBE,
            "recording",
            recording_id,
            {
                "project": project_id,
                "model": found.model,
                "model_sha256": found.model_sha256,
                "words": len(found.words),
            },
        )
    return found


def transcript_of(vault: Vault, actor: Actor, project_id: str) -> Transcript:
    """The project's stored transcript (reading it is audited like viewing the project)."""
    recording_id = _project_recording(vault, project_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "read transcripts", recording_id)
    with transaction(vault.sessions) as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        if not proj.transcript:
            raise ProjectError(
                f"Project {project_id} has no transcript yet; run `bodycam redact transcript` "
                "first."
            )
        record(
            s,
            actor,
            AuditAction.REDACTION_VIEW,
            "recording",
            recording_id,
            {"project": project_id, "transcript": True},
        )
        text = proj.transcript
    return Transcript.from_json(text)


def redact_phrase(
    vault: Vault,
    actor: Actor,
    project_id: str,
    phrase: str,
    *,
    mode: str,
    reason: str,
    padding: float = 0.15,
) -> list[AudioRedaction]:
    """Mute or bleep every occurrence of ``phrase`` in the project's transcript."""
    transcript = transcript_of(vault, actor, project_id)
    found = phrase_ranges(
        transcript, [phrase], reason=_reason(reason).value, mode=_audio_mode(mode), padding=padding
    )
    if not found:
        raise ProjectError(f"{phrase!r} is not in the transcript of project {project_id}.")
    _add_audio_ranges(vault, actor, project_id, found, f"phrase {phrase!r}")
    return found


def suggest_audio(
    vault: Vault, actor: Actor, project_id: str, *, min_score: float = 0.5
) -> list[Suggestion]:
    """Spoken personal data in the project's transcript (names, numbers, dates, addresses)."""
    from bodycam.redaction.pii import PiiModelError, suggest

    transcript = transcript_of(vault, actor, project_id)
    try:
        return suggest(transcript, min_score=min_score)
    except PiiModelError as exc:
        raise ProjectError(str(exc)) from None


def apply_suggestions(
    vault: Vault,
    actor: Actor,
    project_id: str,
    numbers: Sequence[int],
    *,
    mode: str = "bleep",
    min_score: float = 0.5,
    padding: float = 0.15,
) -> list[AudioRedaction]:
    """Add the audio ranges of suggestions ``numbers`` (1-based, as listed) to the plan."""
    from bodycam.redaction.pii import suggestion_ranges

    found = suggest_audio(vault, actor, project_id, min_score=min_score)
    chosen = []
    for n in numbers:
        if not 1 <= n <= len(found):
            raise ProjectError(f"There is no suggestion {n}; there are {len(found)}.")
        chosen.append(found[n - 1])
    transcript = transcript_of(vault, actor, project_id)
    ranges = suggestion_ranges(transcript, chosen, mode=_audio_mode(mode), padding=padding)
    _add_audio_ranges(
        vault, actor, project_id, ranges, "suggestions " + ",".join(map(str, numbers))
    )
    return ranges


def _audio_mode(mode: str) -> Literal["mute", "bleep"]:
    if mode == "mute":
        return "mute"
    if mode == "bleep":
        return "bleep"
    raise ProjectError(f"Unknown audio mode {mode!r}; choose mute or bleep.")


def _add_audio_ranges(
    vault: Vault, actor: Actor, project_id: str, ranges: Sequence[AudioRedaction], source: str
) -> None:
    items = tuple(AudioRange(**r.to_dict()) for r in ranges)

    def change(plan: RedactionPlan) -> tuple[RedactionPlan, dict[str, Any]]:
        new = dataclasses.replace(plan, audio=(*plan.audio, *items))
        added = [[i.start_ms, i.end_ms, i.mode.value, i.reason.value] for i in items]
        return new, {"added": "audio", "from": source, "ranges": added}

    _edit(vault, actor, project_id, change)


# --- rendering and quality control -----------------------------------------------------


def render(
    vault: Vault,
    actor: Actor,
    project_id: str,
    *,
    qc_threshold: float = QC_THRESHOLD,
    progress: Progress | None = None,
) -> CopyView:
    """Render the working plan to a new blob, run QC on it, and record the copy."""
    recording_id = _project_recording(vault, project_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "render redactions", recording_id)
    with vault.sessions() as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        if proj.status != ProjectStatus.REVIEW.value:
            raise ProjectError(f"Project {project_id} is {proj.status}; nothing to render.")
        plan_json, revision, sha = proj.plan, proj.revision, proj.source_sha256
        analysis = dict(proj.analysis)
    plan = RedactionPlan.from_json(plan_json)
    with vault.sessions() as s:
        done = s.scalars(
            select(RedactedCopy.id).where(
                RedactedCopy.project_id == project_id,
                RedactedCopy.plan_hash == plan.plan_hash(),
                RedactedCopy.qc_threshold == qc_threshold,
            )
        ).first()
    if done is not None:  # this exact plan is already rendered: the same copy
        return copy_view(vault, actor, done)
    with tempfile.TemporaryDirectory(prefix="bodycam-render-") as tmp:
        out = Path(tmp) / "redacted.mp4"
        try:
            with local_path(vault.store, sha) as src:
                report = render_plan(src, out, plan, progress)
            findings = qc_scan(out, qc_threshold)
        except RedactionError as exc:
            raise ProjectError(f"Rendering failed: {exc}") from None
        info = vault.store.put_file(out, expected_sha256=report.sha256 or None)
    status = CopyStatus.NEEDS_REVIEW if findings else CopyStatus.CLEAN
    with transaction(vault.sessions) as s:
        proj = s.get(RedactionProject, project_id, with_for_update=True)
        assert proj is not None
        if proj.revision != revision:
            raise ProjectError(
                f"Project {project_id} changed while it was rendering; render it again."
            )
        copy = RedactedCopy(
            project_id=project_id,
            recording_id=recording_id,
            source_sha256=sha,
            sha256=info.sha256,
            size_bytes=info.size,
            plan=plan_json,
            plan_hash=plan.plan_hash(),
            engine=report.engine,
            detector=str(analysis.get("detector", "")),
            render={
                "frames": report.frames,
                "redacted_frames": report.redacted_frames,
                "full_frames": report.full_frames,
                "boxes": report.boxes,
                "audio": report.audio,
                "muted_ms": round(report.muted_s * 1000),
                "bleeped_ms": round(report.bleeped_s * 1000),
            },
            qc_threshold=qc_threshold,
            status=status.value,
            created_by=actor.user_id,
        )
        s.add(copy)
        s.flush()
        rows = [
            QCFinding(
                copy_id=copy.id,
                number=n,
                start_frame=f.start_frame,
                end_frame=f.end_frame,
                start_s=f.start_s,
                end_s=f.end_s,
                box=list(f.box),
                box_frame=f.box_frame,
                score=f.score,
            )
            for n, f in enumerate(findings, 1)
        ]
        s.add_all(rows)
        record(
            s,
            actor,
            AuditAction.REDACTION_RENDER,
            "recording",
            recording_id,
            {
                "project": project_id,
                "copy": copy.id,
                "sha256": info.sha256,
                "source_sha256": sha,
                "plan_hash": copy.plan_hash,
                "engine": copy.engine,
                "detector": copy.detector,
                "qc_findings": len(rows),
            },
        )
        s.flush()
        s.expunge_all()
    return CopyView(copy, rows)


def copy_view(vault: Vault, actor: Actor, copy_id: str) -> CopyView:
    """A redacted copy and its findings (no footage is shown: not audited)."""
    recording_id = _copy_recording(vault, copy_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "view redacted copies", recording_id)
    with vault.sessions() as s:
        copy = s.get(RedactedCopy, copy_id)
        assert copy is not None
        findings = list(
            s.scalars(
                select(QCFinding).where(QCFinding.copy_id == copy_id).order_by(QCFinding.number)
            )
        )
        s.expunge_all()
    return CopyView(copy, findings)


def accept_finding(vault: Vault, actor: Actor, copy_id: str, number: int, reason: str) -> CopyView:
    """Resolve a QC finding by accepting it with a reason (e.g. a face on a poster)."""
    recording_id = _copy_recording(vault, copy_id)
    _require(vault, actor, Permission.REDACTION_APPROVE, "resolve QC findings", recording_id)
    if not reason.strip():
        raise ProjectError("Accepting a finding needs a reason.")
    with transaction(vault.sessions) as s:
        copy = s.get(RedactedCopy, copy_id, with_for_update=True)
        assert copy is not None
        if copy.status == CopyStatus.APPROVED.value:
            raise ProjectError(f"Copy {copy_id} is already approved.")
        finding = s.scalars(
            select(QCFinding).where(QCFinding.copy_id == copy_id, QCFinding.number == number)
        ).first()
        if finding is None:
            raise ProjectError(f"Copy {copy_id} has no finding {number}.")
        finding.accepted = True
        finding.reason = reason.strip()
        finding.resolved_by = actor.user_id
        finding.resolved_at = utcnow()
        s.flush()
        still_open = s.scalars(
            select(QCFinding.id).where(QCFinding.copy_id == copy_id, QCFinding.accepted.is_(False))
        ).first()
        if still_open is None:
            copy.status = CopyStatus.CLEAN.value
        record(
            s,
            actor,
            AuditAction.REDACTION_FINDING_ACCEPT,
            "recording",
            recording_id,
            {"copy": copy_id, "finding": number, "reason": finding.reason},
        )
    return copy_view(vault, actor, copy_id)


def approve(vault: Vault, actor: Actor, copy_id: str, note: str = "") -> CopyView:
    """Approve a copy for release; refused while any QC finding is unresolved."""
    recording_id = _copy_recording(vault, copy_id)
    _require(vault, actor, Permission.REDACTION_APPROVE, "approve redacted copies", recording_id)
    with transaction(vault.sessions) as s:
        copy = s.get(RedactedCopy, copy_id, with_for_update=True)
        assert copy is not None
        if copy.status == CopyStatus.APPROVED.value:
            raise ProjectError(f"Copy {copy_id} is already approved.")
        open_ = list(
            s.scalars(
                select(QCFinding.number).where(
                    QCFinding.copy_id == copy_id, QCFinding.accepted.is_(False)
                )
            )
        )
        if open_:
            numbers = ", ".join(str(n) for n in open_)
            raise ProjectError(
                f"Copy {copy_id} cannot be approved: QC finding(s) {numbers} are unresolved. "
                "Fix the plan and render again, or accept each finding with a reason."
            )
        copy.status = CopyStatus.APPROVED.value
        copy.approved_by = actor.user_id
        copy.approved_at = utcnow()
        copy.approval_note = note
        record(
            s,
            actor,
            AuditAction.REDACTION_APPROVE,
            "recording",
            recording_id,
            {"copy": copy_id, "sha256": copy.sha256, "plan_hash": copy.plan_hash, "note": note},
        )
    return copy_view(vault, actor, copy_id)


def download_copy(vault: Vault, actor: Actor, copy_id: str, dest: Path) -> RedactedCopy:
    """Write a redacted copy to ``dest`` (never overwrites); audited."""
    recording_id = _copy_recording(vault, copy_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "download redacted copies", recording_id)
    if dest.exists():
        raise ProjectError(f"{dest} already exists; choose another name.")
    with transaction(vault.sessions) as s:
        copy = s.get(RedactedCopy, copy_id)
        assert copy is not None
        record(
            s,
            actor,
            AuditAction.REDACTION_DOWNLOAD,
            "recording",
            recording_id,
            {"copy": copy_id, "sha256": copy.sha256},
        )
        s.expunge(copy)
    partial = dest.with_name(dest.name + ".part")
    try:
        with partial.open("xb") as f:
            for chunk in vault.store.iter_bytes(copy.sha256):
                f.write(chunk)
        shutil.move(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return copy


def plan_summary(plan: RedactionPlan) -> dict[str, Any]:
    """Counts of what a plan redacts, for listings."""
    return {
        "tracks": len(plan.tracks),
        "tracks_redacted": sum(1 for t in plan.tracks if t.include),
        "manual_boxes": len(plan.manual),
        "full_frame_ranges": len(plan.full_frame),
        "audio_ranges": len(plan.audio),
        "style": plan.settings.style.value,
    }
