"""HTTP API of the redaction review (``/api/v1/redaction``): what the web editor calls.

It mirrors the review commands (``bodycam redact detect / show / track / box / full-frame /
audio / remove / style / render``) over `bodycam.redaction.projects`, which checks every
permission and writes every audit record; these handlers only translate JSON. Boxes are
``[frame, x, y, w, h]`` rows in frame pixels here (the plan stores ``x1, y1, x2, y2``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Header, Query
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field

from bodycam.auth.actor import Actor
from bodycam.context import Context
from bodycam.evidence.service import NotFound, Vault
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.service import get_job
from bodycam.redaction import preview as previews
from bodycam.redaction import projects
from bodycam.redaction.plan import FrameBox, ReasonCode, RedactionPlan
from bodycam.redaction.projects import ProjectError, ProjectView
from bodycam.redaction.styles import Style
from bodycam.web.deps import ApiActor, CtxDep

router = APIRouter(prefix="/api/v1/redaction", tags=["redaction"])

DRAFT_NOTE = "suggested by the analysis; not reviewed yet"
"""The note `Analysis.draft_plan` gives every track: a track still carrying it is undecided."""

DETECT_THRESHOLD = 0.2
"""The detection threshold of projects started here (as ``bodycam redact detect``)."""

T = TypeVar("T")


def service(call: Callable[[], T]) -> T:
    """Run a service call; "There is no ..." refusals become 404 (not found, or not yours
    to see), other `ProjectError` sentences stay 422 (see ``web.app``)."""
    try:
        return call()
    except ProjectError as exc:
        if str(exc).startswith("There is no "):
            raise NotFound(str(exc)) from None
        raise


# --- answers --------------------------------------------------------------------------------


class JobOut(BaseModel):
    """A background job (detection or render) and how far it got."""

    id: str
    kind: str
    status: str  # queued, running, done, quarantined
    done: int
    total: int
    progress: float | None  # 0 to 1; null while the total is unknown
    error: str | None
    result: dict[str, Any]


class VideoOut(BaseModel):
    """The video the plan was made for."""

    width: int
    height: int
    frames: int
    fps: tuple[int, int]  # numerator, denominator


class TrackOut(BaseModel):
    """A track (one person) found by the analysis, and the decision on it."""

    id: int
    label: str
    include: bool  # redact it
    reason: str | None
    note: str
    decided: bool  # false while it still has the draft's decision
    first_frame: int
    last_frame: int
    detections: int | None
    mean_score: float | None
    thumbnail: str | None  # data: URL of a JPEG (null in answers to edits)
    boxes: list[tuple[int, int, int, int, int]] | None  # [frame, x, y, w, h] (null in edits)


class ManualBoxOut(BaseModel):
    """A box drawn by a person, interpolated between its keyframes."""

    number: int
    reason: str
    note: str
    first_frame: int
    last_frame: int
    keyframes: list[tuple[int, int, int, int, int]]  # [frame, x, y, w, h]


class FullFrameOut(BaseModel):
    """Frames redacted as a whole picture (end excluded; null: to the end)."""

    number: int
    start_frame: int
    end_frame: int | None
    reason: str
    note: str


class AudioRangeOut(BaseModel):
    """Audio muted or bleeped (milliseconds, end excluded)."""

    number: int
    start_ms: int
    end_ms: int
    mode: str
    reason: str
    note: str


class CopyOut(BaseModel):
    """A rendered redacted copy of the project."""

    id: str
    status: str  # needs_review, clean, approved
    sha256: str
    plan_hash: str
    created_at: datetime
    content: str  # where to play it


class ReasonOut(BaseModel):
    """A reason code and what it means."""

    code: str
    description: str


class ProjectOut(BaseModel):
    """A redaction project as the editor needs it."""

    id: str
    recording_id: str
    status: str  # detecting, review, failed
    revision: int
    error: str | None
    video: VideoOut | None
    style: str | None
    mask_scale_percent: int
    audio_track: str | None
    detection_job: JobOut | None
    tracks: list[TrackOut]
    manual_boxes: list[ManualBoxOut]
    full_frame: list[FullFrameOut]
    audio: list[AudioRangeOut]
    copies: list[CopyOut]
    summary: dict[str, Any] | None
    reasons: list[ReasonOut]
    styles: list[str]


class ProjectListOut(BaseModel):
    """One of a recording's projects."""

    id: str
    status: str
    revision: int
    created_at: datetime
    updated_at: datetime
    error: str | None


class RenderOut(BaseModel):
    """A queued render."""

    project_id: str
    job: JobOut


class FindingOut(BaseModel):
    """A face the quality check still saw in a copy."""

    number: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    box: list[int]
    score: float
    accepted: bool
    reason: str | None


class CopyDetailOut(BaseModel):
    """A redacted copy, its provenance and its quality-check findings."""

    id: str
    project_id: str
    recording_id: str
    status: str
    sha256: str
    source_sha256: str
    size_bytes: int
    plan_hash: str
    engine: str
    detector: str
    render: dict[str, Any]
    created_at: datetime
    approved_at: datetime | None
    findings: list[FindingOut]
    content: str


def job_out(job: Job) -> JobOut:
    """API form of a job."""
    if job.status == JobStatus.DONE.value:
        progress: float | None = 1.0
    else:
        progress = min(1.0, job.done / job.total) if job.total else None
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        done=job.done,
        total=job.total,
        progress=progress,
        error=job.error or None,
        result=dict(job.result or {}),
    )


def _xywh(row: FrameBox) -> tuple[int, int, int, int, int]:
    return (row.frame, row.x1, row.y1, row.x2 - row.x1, row.y2 - row.y1)


def _plan_parts(plan: RedactionPlan | None) -> dict[str, Any]:
    if plan is None:
        return {"manual_boxes": [], "full_frame": [], "audio": []}
    return {
        "manual_boxes": [
            ManualBoxOut(
                number=n,
                reason=m.reason.value,
                note=m.note,
                first_frame=m.first_frame,
                last_frame=m.last_frame,
                keyframes=[_xywh(k) for k in m.keyframes],
            )
            for n, m in enumerate(plan.manual, 1)
        ],
        "full_frame": [
            FullFrameOut(
                number=n,
                start_frame=r.start_frame,
                end_frame=r.end_frame,
                reason=r.reason.value,
                note=r.note,
            )
            for n, r in enumerate(plan.full_frame, 1)
        ],
        "audio": [
            AudioRangeOut(
                number=n,
                start_ms=a.start_ms,
                end_ms=a.end_ms,
                mode=a.mode.value,
                reason=a.reason.value,
                note=a.note,
            )
            for n, a in enumerate(plan.audio, 1)
        ],
    }


def project_out(view: ProjectView, *, full: bool = True) -> ProjectOut:
    """API form of a project; without ``full``, tracks carry no boxes nor thumbnails."""
    p, plan = view.project, view.plan
    rows = {t.track_id: t for t in view.tracks}
    tracks = []
    for t in plan.tracks if plan else ():
        row = rows.get(t.track_id)
        thumb = None
        if full and row is not None and row.thumbnail:
            thumb = "data:image/jpeg;base64," + base64.b64encode(row.thumbnail).decode("ascii")
        tracks.append(
            TrackOut(
                id=t.track_id,
                label=t.label,
                include=t.include,
                reason=t.reason.value if t.reason else None,
                note="" if t.note == DRAFT_NOTE else t.note,
                decided=t.note != DRAFT_NOTE,
                first_frame=t.first_frame,
                last_frame=t.last_frame,
                detections=row.detections if row else None,
                mean_score=round(row.mean_score, 3) if row else None,
                thumbnail=thumb,
                boxes=[_xywh(b) for b in t.boxes] if full else None,
            )
        )
    video = plan.video if plan else None
    return ProjectOut(
        id=p.id,
        recording_id=p.recording_id,
        status=p.status,
        revision=p.revision,
        error=p.error or None,
        video=None
        if video is None
        else VideoOut(
            width=video.width,
            height=video.height,
            frames=video.frames,
            fps=(video.fps_num, video.fps_den),
        ),
        style=plan.settings.style.value if plan else None,
        mask_scale_percent=plan.settings.mask_scale_percent if plan else 100,
        audio_track=plan.audio_track.value if plan else None,
        detection_job=job_out(view.detection) if view.detection else None,
        tracks=tracks,
        **_plan_parts(plan),
        copies=[
            CopyOut(
                id=c.id,
                status=c.status,
                sha256=c.sha256,
                plan_hash=c.plan_hash,
                created_at=c.created_at,
                content=f"{router.prefix}/copies/{c.id}/content",
            )
            for c in view.copies
        ],
        summary=projects.plan_summary(plan) if plan else None,
        reasons=[ReasonOut(code=r.value, description=r.description) for r in ReasonCode],
        styles=[s.value for s in Style],
    )


def _edited(
    ctx: Context, actor: Actor, project_id: str, edit: Callable[[Vault], object]
) -> ProjectOut:
    """Make an edit (checked and audited by the service), then answer the project without
    track boxes (reading back one's own edit is not another view of the footage)."""
    vault = Vault.from_context(ctx)
    service(lambda: edit(vault))
    view = service(lambda: projects.show(vault, actor, project_id, audit=False))
    return project_out(view, full=False)


# --- requests -------------------------------------------------------------------------------

Reason = Annotated[str, Field(max_length=40, description="A reason code (see `reasons`).")]
Note = Annotated[str, Field(max_length=1000)]


class StartIn(BaseModel):
    """Start a redaction project on a recording."""

    recording_id: str = Field(max_length=64)
    threshold: float = Field(default=DETECT_THRESHOLD, gt=0, lt=1)


class DecisionIn(BaseModel):
    """Redact a track (include) or keep it visible (exclude), and why."""

    include: bool
    reason: Reason
    note: Note = ""


class BoxIn(BaseModel):
    """A box drawn at keyframes ``[frame, x, y, w, h]``, interpolated between them."""

    keyframes: list[tuple[int, int, int, int, int]] = Field(min_length=1, max_length=100_000)
    reason: Reason
    note: Note = ""


class FullFrameIn(BaseModel):
    """Redact the whole picture from ``start_s`` to ``end_s`` (null: to the end)."""

    start_s: float = Field(ge=0)
    end_s: float | None = None
    reason: Reason
    note: Note = ""


class AudioIn(BaseModel):
    """Mute or bleep the audio from ``start_s`` to ``end_s``."""

    start_s: float = Field(ge=0)
    end_s: float
    mode: Literal["mute", "bleep"] = "mute"
    reason: Reason
    note: Note = ""


class StyleIn(BaseModel):
    """How redactions are drawn."""

    style: str = Field(max_length=20)


# --- endpoints ------------------------------------------------------------------------------


@router.post("/projects", status_code=201, response_model=ProjectOut)
def start_project(body: StartIn, ctx: CtxDep, actor: ApiActor) -> ProjectOut:
    """Start a project on a recording and queue its detection (a ``redaction.detect`` job)."""
    vault = Vault.from_context(ctx)
    pid = service(
        lambda: projects.start_project(
            vault,
            actor,
            body.recording_id,
            queue_threshold=body.threshold,
            detector=ctx.settings.redaction_detector,
        )
    )
    return project_out(service(lambda: projects.show(vault, actor, pid, audit=False)))


@router.get("/projects", response_model=list[ProjectListOut])
def list_projects(
    ctx: CtxDep, actor: ApiActor, recording: Annotated[str, Query(max_length=64)]
) -> list[ProjectListOut]:
    """A recording's redaction projects, oldest first."""
    rows = service(lambda: projects.projects_of(Vault.from_context(ctx), actor, recording))
    return [
        ProjectListOut(
            id=p.id,
            status=p.status,
            revision=p.revision,
            created_at=p.created_at,
            updated_at=p.updated_at,
            error=p.error or None,
        )
        for p in rows
    ]


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: str, ctx: CtxDep, actor: ApiActor) -> ProjectOut:
    """The project: tracks with their boxes, decisions, ranges, style, copies (audited)."""
    return project_out(service(lambda: projects.show(Vault.from_context(ctx), actor, project_id)))


@router.put("/projects/{project_id}/tracks/{track_id}", response_model=ProjectOut)
def decide_track(
    project_id: str, track_id: int, body: DecisionIn, ctx: CtxDep, actor: ApiActor
) -> ProjectOut:
    """Redact (include) or keep visible (exclude) one track, with a reason code."""
    return _edited(
        ctx,
        actor,
        project_id,
        lambda v: projects.decide_track(
            v, actor, project_id, track_id, include=body.include, reason=body.reason, note=body.note
        ),
    )


@router.post("/projects/{project_id}/boxes", status_code=201, response_model=ProjectOut)
def add_box(project_id: str, body: BoxIn, ctx: CtxDep, actor: ApiActor) -> ProjectOut:
    """Add a box given at keyframes ``[frame, x, y, w, h]`` (interpolated between them)."""
    keys = [(f, x, y, x + w, y + h) for f, x, y, w, h in body.keyframes]
    return _edited(
        ctx,
        actor,
        project_id,
        lambda v: projects.add_box(v, actor, project_id, keys, reason=body.reason, note=body.note),
    )


@router.post("/projects/{project_id}/full-frame", status_code=201, response_model=ProjectOut)
def add_full_frame(project_id: str, body: FullFrameIn, ctx: CtxDep, actor: ApiActor) -> ProjectOut:
    """Redact the whole picture over a time range (seconds, converted to frames)."""
    return _edited(
        ctx,
        actor,
        project_id,
        lambda v: projects.add_full_frame(
            v, actor, project_id, body.start_s, body.end_s, reason=body.reason, note=body.note
        ),
    )


@router.post("/projects/{project_id}/audio", status_code=201, response_model=ProjectOut)
def add_audio(project_id: str, body: AudioIn, ctx: CtxDep, actor: ApiActor) -> ProjectOut:
    """Mute or bleep the audio over a time range (seconds)."""
    return _edited(
        ctx,
        actor,
        project_id,
        lambda v: projects.add_audio(
            v,
            actor,
            project_id,
            body.start_s,
            body.end_s,
            mode=body.mode,
            reason=body.reason,
            note=body.note,
        ),
    )


@router.delete("/projects/{project_id}/items/{kind}/{number}", response_model=ProjectOut)
def remove_item(
    project_id: str,
    kind: Literal["box", "full_frame", "audio"],
    number: int,
    ctx: CtxDep,
    actor: ApiActor,
) -> ProjectOut:
    """Remove manual box, full-frame range or audio range ``number`` (from 1)."""
    return _edited(
        ctx, actor, project_id, lambda v: projects.remove_item(v, actor, project_id, kind, number)
    )


@router.put("/projects/{project_id}/style", response_model=ProjectOut)
def set_style(project_id: str, body: StyleIn, ctx: CtxDep, actor: ApiActor) -> ProjectOut:
    """Choose how redactions are drawn: blur, pixelate or box."""
    return _edited(
        ctx, actor, project_id, lambda v: projects.set_style(v, actor, project_id, body.style)
    )


@router.get(
    "/projects/{project_id}/preview",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "Partial content."}},
)
def preview(
    project_id: str,
    ctx: CtxDep,
    actor: ApiActor,
    at: Annotated[float, Query(ge=0, description="Centre of the preview, in seconds.")] = 0.0,
    seconds: Annotated[float, Query(gt=0, le=previews.PREVIEW_MAX_S)] = 4.0,
) -> FileResponse:
    """A few seconds of the working plan around ``at``, rendered as MP4 (not a copy)."""
    found = service(
        lambda: previews.preview(
            Vault.from_context(ctx),
            actor,
            project_id,
            at,
            seconds=seconds,
            folder=ctx.settings.resolved_home / "previews",
        )
    )
    return FileResponse(
        found.path,
        media_type="video/mp4",
        headers={
            "Cache-Control": "private, no-store",
            "X-Preview-Frames": f"{found.start_frame}-{found.end_frame}",
            "X-Preview-Seconds": f"{found.start_s:.3f}-{found.end_s:.3f}",
        },
    )


@router.post("/projects/{project_id}/render", status_code=202, response_model=RenderOut)
def queue_render(project_id: str, ctx: CtxDep, actor: ApiActor) -> RenderOut:
    """Queue a render of the working plan (a ``redaction.render`` job); poll the job."""
    job_id = service(lambda: projects.queue_render(Vault.from_context(ctx), actor, project_id))
    return RenderOut(project_id=project_id, job=job_out(get_job(ctx.sessions, actor, job_id)))


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_redaction_job(job_id: str, ctx: CtxDep, actor: ApiActor) -> JobOut:
    """A detection or render job: status, progress, error, result (your own jobs, or any
    with ``system:jobs:view``)."""
    job = get_job(ctx.sessions, actor, job_id)
    if not job.kind.startswith("redaction."):
        raise NotFound(f"There is no redaction job {job_id}.")
    return job_out(job)


@router.get("/copies/{copy_id}", response_model=CopyDetailOut)
def get_copy(copy_id: str, ctx: CtxDep, actor: ApiActor) -> CopyDetailOut:
    """A redacted copy: hashes, plan, engine, status and quality-check findings."""
    view = service(lambda: projects.copy_view(Vault.from_context(ctx), actor, copy_id))
    c = view.copy
    return CopyDetailOut(
        id=c.id,
        project_id=c.project_id,
        recording_id=c.recording_id,
        status=c.status,
        sha256=c.sha256,
        source_sha256=c.source_sha256,
        size_bytes=c.size_bytes,
        plan_hash=c.plan_hash,
        engine=c.engine,
        detector=c.detector,
        render=dict(c.render or {}),
        created_at=c.created_at,
        approved_at=c.approved_at,
        findings=[
            FindingOut(
                number=f.number,
                start_frame=f.start_frame,
                end_frame=f.end_frame,
                start_s=f.start_s,
                end_s=f.end_s,
                box=list(f.box),
                score=round(f.score, 3),
                accepted=f.accepted,
                reason=f.reason or None,
            )
            for f in view.findings
        ],
        content=f"{router.prefix}/copies/{c.id}/content",
    )


@router.get(
    "/copies/{copy_id}/content",
    response_class=StreamingResponse,
    responses={206: {"description": "Partial content (Range)."}},
)
def stream_copy(
    copy_id: str,
    ctx: CtxDep,
    actor: ApiActor,
    range_: Annotated[str | None, Header(alias="range")] = None,
) -> StreamingResponse:
    """Play a redacted copy, honouring HTTP Range (each request audited)."""
    copy, rng, chunks = service(
        lambda: previews.stream_copy(Vault.from_context(ctx), actor, copy_id, range_)
    )
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{copy.sha256}"',
        "Cache-Control": "private, no-store",
    }
    if rng is None:
        headers["Content-Length"] = str(copy.size_bytes)
        status = 200
    else:
        headers["Content-Range"] = f"bytes {rng.start}-{rng.end - 1}/{rng.size}"
        headers["Content-Length"] = str(rng.end - rng.start)
        status = 206

    def body() -> Iterator[bytes]:
        yield from chunks

    return StreamingResponse(body(), status_code=status, media_type="video/mp4", headers=headers)
