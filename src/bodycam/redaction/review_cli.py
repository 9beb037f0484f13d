"""``bodycam redact`` commands that work on recordings in the vault: the review workflow.

detect → show → track / box / full-frame / audio / style → render → accept → approve.
Every command acts as the current user (``--as`` or ``BODYCAM_USER``), under the same
permission checks and audit records as the API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bodycam.cli_support import current_actor, err, fail, guarded, open_context, out
from bodycam.ids import rfc3339

if TYPE_CHECKING:
    from bodycam.redaction.projects import CopyView, ProjectView


def _bar(label: str, quiet: bool) -> tuple[Progress, Callable[[int, int], None]]:
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=True,
    )
    task = progress.add_task(label, total=None)

    def step(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total or None)

    return progress, step


def _seconds(value: str, name: str) -> float:
    """Seconds from ``SS``, ``SS.s``, ``MM:SS`` or ``HH:MM:SS``."""
    if not re.fullmatch(r"\d+(:\d{1,2}){0,2}(\.\d+)?", value.strip()):
        fail(f"--{name} must be seconds or MM:SS or HH:MM:SS, not {value!r}.")
    total = 0.0
    for part in value.strip().split(":"):
        total = total * 60 + float(part)
    return total


def project_json(view: ProjectView) -> dict[str, Any]:
    """The JSON form of a project (no thumbnails)."""
    from bodycam.redaction.projects import plan_summary

    p = view.project
    plan = view.plan
    decisions = {t.track_id: t for t in plan.tracks} if plan else {}
    return {
        "id": p.id,
        "recording_id": p.recording_id,
        "source_sha256": p.source_sha256,
        "status": p.status,
        "revision": p.revision,
        "error": p.error or None,
        "analysis": p.analysis,
        "detection_job": (
            {
                "id": j.id,
                "status": j.status,
                "done": j.done,
                "total": j.total,
                "error": j.error or None,
            }
            if (j := view.detection) is not None
            else None
        ),
        "summary": plan_summary(plan) if plan else None,
        "tracks": [
            {
                "track": t.track_id,
                "label": t.label,
                "first_frame": t.first_frame,
                "last_frame": t.last_frame,
                "detections": t.detections,
                "mean_score": round(t.mean_score, 3),
                "redact": decisions[t.track_id].include if t.track_id in decisions else None,
                "reason": (
                    r.value
                    if t.track_id in decisions and (r := decisions[t.track_id].reason)
                    else None
                ),
            }
            for t in view.tracks
        ],
        "manual_boxes": [
            {"keyframes": [k.to_row() for k in m.keyframes], "reason": m.reason.value}
            for m in (plan.manual if plan else ())
        ],
        "full_frame": [
            {"start_frame": r.start_frame, "end_frame": r.end_frame, "reason": r.reason.value}
            for r in (plan.full_frame if plan else ())
        ],
        "audio": [
            {
                "start_ms": a.start_ms,
                "end_ms": a.end_ms,
                "mode": a.mode.value,
                "reason": a.reason.value,
            }
            for a in (plan.audio if plan else ())
        ],
        "copies": [
            {
                "id": c.id,
                "sha256": c.sha256,
                "status": c.status,
                "plan_hash": c.plan_hash,
                "created_at": rfc3339(c.created_at),
            }
            for c in view.copies
        ],
    }


def _print_project(view: ProjectView) -> None:
    data = project_json(view)
    out.print(
        f"Project {data['id']} on recording {data['recording_id']}: {data['status']}"
        f" (revision {data['revision']})",
        markup=False,
    )
    if data["error"]:
        out.print(f"error: {data['error']}", markup=False)
    job = data["detection_job"]
    if job and job["status"] != "done":
        progress = f" ({job['done']}/{job['total']} frames)" if job["total"] else ""
        out.print(f"detection job {job['id']}: {job['status']}{progress}", markup=False)
    fps = view.plan.video.fps if view.plan and view.plan.video else None
    table = Table("track", "frames", "seconds", "detections", "score", "decision", "reason")
    for t in data["tracks"]:
        span = f"{t['first_frame']}-{t['last_frame']}"
        secs = (
            f"{float(t['first_frame'] / fps):.1f}-{float((t['last_frame'] + 1) / fps):.1f}"
            if fps
            else ""
        )
        decision = "redact" if t["redact"] else "keep visible"
        table.add_row(
            str(t["track"]),
            span,
            secs,
            str(t["detections"]),
            f"{t['mean_score']:.2f}",
            decision,
            t["reason"] or "",
        )
    out.print(table)
    for kind in ("manual_boxes", "full_frame", "audio"):
        for n, item in enumerate(data[kind], 1):
            out.print(f"{kind} {n}: {json.dumps(item)}", markup=False)
    for c in data["copies"]:
        out.print(f"copy {c['id']}: {c['status']} sha256 {c['sha256']}", markup=False)


def _print_copy(view: CopyView) -> None:
    c = view.copy
    out.print(
        f"Copy {c.id}: {c.status}; sha256 {c.sha256}; plan {c.plan_hash}; "
        f"{len(view.findings)} QC finding(s), {len(view.open_findings)} unresolved",
        markup=False,
    )
    for f in view.findings:
        state = f"accepted: {f.reason}" if f.accepted else "UNRESOLVED"
        out.print(
            f"  finding {f.number}: frames {f.start_frame}-{f.end_frame} "
            f"({f.start_s:.2f}-{f.end_s:.2f} s), box {f.box}, score {f.score:.2f} [{state}]",
            markup=False,
        )


def _show_copy(view: CopyView, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_copy_json(view)))
    else:
        _print_copy(view)


def _on_copy(as_json: bool, fn: Callable[[Any, Any], CopyView]) -> None:
    """Run ``fn(vault, actor)`` as the current user and show the copy it returns."""
    from bodycam.evidence.service import Vault

    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(lambda: fn(Vault.from_context(ctx), actor))
    _show_copy(view, as_json)


def _copy_json(view: CopyView) -> dict[str, Any]:
    c = view.copy
    return {
        "id": c.id,
        "project_id": c.project_id,
        "recording_id": c.recording_id,
        "source_sha256": c.source_sha256,
        "sha256": c.sha256,
        "size_bytes": c.size_bytes,
        "plan_hash": c.plan_hash,
        "engine": c.engine,
        "detector": c.detector,
        "render": c.render,
        "status": c.status,
        "findings": [
            {
                "number": f.number,
                "start_frame": f.start_frame,
                "end_frame": f.end_frame,
                "box": f.box,
                "score": round(f.score, 3),
                "accepted": f.accepted,
                "reason": f.reason or None,
            }
            for f in view.findings
        ],
    }


Reason = Annotated[str, typer.Option(help="Reason code (victim, minor, bystander, ...).")]
Note = Annotated[str, typer.Option(help="Free-text note kept with the decision.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def detect_command(
    recording_id: Annotated[str, typer.Argument(help="Recording to redact.")],
    threshold: Annotated[float, typer.Option(help="Detection score threshold.")] = 0.2,
    queue: Annotated[
        bool, typer.Option("--queue", help="Only queue the detection job; a worker runs it.")
    ] = False,
    detector: Annotated[
        str | None,
        typer.Option(help="Detector by name (default: BODYCAM_REDACTION_DETECTOR, centerface)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Start a redaction project: find and track every face, with thumbnails to review.

    The detection is a job (`redaction.detect`); it runs here, with progress, unless
    --queue leaves it to `bodycam worker`, `bodycam serve` or `bodycam jobs run`.
    """
    from bodycam.evidence.service import Vault
    from bodycam.jobs.models import JobStatus
    from bodycam.jobs.runner import load_handlers, run_job
    from bodycam.redaction import projects

    if not 0.0 < threshold < 1.0:
        fail(f"--threshold must be between 0 and 1, not {threshold}.")
    load_handlers()
    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)
        pid = guarded(
            lambda: projects.start_project(
                vault,
                actor,
                recording_id,
                queue_threshold=threshold,
                detector=detector or ctx.settings.redaction_detector,
            )
        )
        job = projects.detection_job(vault, pid)
        assert job is not None
        if queue:
            if as_json:
                print(json.dumps({"project_id": pid, "job_id": job.id, "status": job.status}))
            else:
                out.print(f"Project {pid}: detection queued as job {job.id}.", markup=False)
            return
        bar, step = _bar("detecting", as_json)
        with bar:
            job = run_job(ctx, job.id, step)
        if job.status != JobStatus.DONE:
            fail(f"Detection of project {pid} failed: {job.error}")
        view = guarded(lambda: projects.show(vault, actor, pid, audit=False))
    if as_json:
        print(json.dumps(project_json(view)))
    else:
        _print_project(view)


def show_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    thumbnails: Annotated[
        Path | None, typer.Option(help="Write each track's face thumbnail into this folder.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show a project: tracks with frames and decisions, manual items, copies (audited)."""
    from bodycam.evidence.service import Vault
    from bodycam.redaction import projects

    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(lambda: projects.show(Vault.from_context(ctx), actor, project_id))
    if thumbnails is not None:
        thumbnails.mkdir(parents=True, exist_ok=True)
        for t in view.tracks:
            (thumbnails / f"track-{t.track_id}.jpg").write_bytes(t.thumbnail)
    if as_json:
        print(json.dumps(project_json(view)))
    else:
        _print_project(view)


def _edited(as_json: bool, fn: Callable[[Any, Any], Any]) -> None:
    from bodycam.evidence.service import Vault
    from bodycam.redaction.projects import plan_summary

    with open_context() as ctx:
        actor = current_actor(ctx)
        plan = guarded(lambda: fn(Vault.from_context(ctx), actor))
    summary = plan_summary(plan)
    if as_json:
        print(json.dumps(summary))
    else:
        out.print(
            f"{summary['tracks_redacted']} of {summary['tracks']} tracks redacted; "
            f"{summary['manual_boxes']} manual box(es), {summary['full_frame_ranges']} "
            f"full-frame range(s), {summary['audio_ranges']} audio range(s); "
            f"style {summary['style']}.",
            markup=False,
        )


def track_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    track: Annotated[int, typer.Argument(help="Track number (see `redact show`).")],
    reason: Reason,
    redact: Annotated[
        bool, typer.Option("--redact/--keep", help="Redact the track, or keep it visible.")
    ] = True,
    note: Note = "",
    as_json: AsJson = False,
) -> None:
    """Decide on one track: redact it (--redact) or keep it visible (--keep)."""
    from bodycam.redaction import projects

    _edited(
        as_json,
        lambda v, a: projects.decide_track(
            v, a, project_id, track, include=redact, reason=reason, note=note
        ),
    )


def _keyframe(text: str) -> tuple[int, int, int, int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(-?\d+),(-?\d+),(-?\d+),(-?\d+)\s*", text)
    if not match:
        fail(f"--key must be FRAME:X1,Y1,X2,Y2 (e.g. 120:40,60,200,260), not {text!r}.")
    f, x1, y1, x2, y2 = (int(g) for g in match.groups())
    return f, x1, y1, x2, y2


def box_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    key: Annotated[
        list[str], typer.Option(help="Keyframe FRAME:X1,Y1,X2,Y2 (repeatable; interpolated).")
    ],
    reason: Reason,
    note: Note = "",
    as_json: AsJson = False,
) -> None:
    """Add a manual box, given at keyframes and interpolated between them."""
    from bodycam.redaction import projects

    keys = [_keyframe(k) for k in key]
    _edited(
        as_json, lambda v, a: projects.add_box(v, a, project_id, keys, reason=reason, note=note)
    )


def full_frame_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    start: Annotated[str, typer.Option("--from", help="Start (seconds or MM:SS).")],
    reason: Reason,
    end: Annotated[
        str | None, typer.Option("--to", help="End (excluded; default: the end).")
    ] = None,
    note: Note = "",
    as_json: AsJson = False,
) -> None:
    """Redact the whole picture over a time range (e.g. inside a home)."""
    from bodycam.redaction import projects

    s = _seconds(start, "from")
    e = None if end is None else _seconds(end, "to")
    _edited(
        as_json,
        lambda v, a: projects.add_full_frame(v, a, project_id, s, e, reason=reason, note=note),
    )


def audio_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    start: Annotated[str, typer.Option("--from", help="Start (seconds or MM:SS).")],
    end: Annotated[str, typer.Option("--to", help="End (excluded).")],
    reason: Reason,
    bleep: Annotated[bool, typer.Option("--bleep/--mute", help="Bleep (tone) or mute.")] = False,
    note: Note = "",
    as_json: AsJson = False,
) -> None:
    """Mute or bleep the audio over a time range."""
    from bodycam.redaction import projects

    s, e = _seconds(start, "from"), _seconds(end, "to")
    mode = "bleep" if bleep else "mute"
    _edited(
        as_json,
        lambda v, a: projects.add_audio(
            v, a, project_id, s, e, mode=mode, reason=reason, note=note
        ),
    )


def remove_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    kind: Annotated[str, typer.Argument(help="box, full_frame or audio.")],
    number: Annotated[int, typer.Argument(help="Its number in `redact show` (from 1).")],
    as_json: AsJson = False,
) -> None:
    """Remove a manual box, full-frame range or audio range."""
    from bodycam.redaction import projects

    _edited(as_json, lambda v, a: projects.remove_item(v, a, project_id, kind, number))


def style_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    style: Annotated[str, typer.Argument(help="blur, pixelate or box.")],
    as_json: AsJson = False,
) -> None:
    """Choose how the project's redactions are drawn."""
    from bodycam.redaction import projects

    _edited(as_json, lambda v, a: projects.set_style(v, a, project_id, style))


def render_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    queue: Annotated[
        bool, typer.Option("--queue", help="Only queue the render job; a worker runs it.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Render the reviewed plan to a new redacted copy, then run quality control on it.

    Exits 1 when QC still sees a face (the copy is kept, to be fixed or accepted). With
    --queue a `redaction.render` job is queued instead (see `bodycam jobs show`).
    """
    from bodycam.evidence.service import Vault
    from bodycam.redaction import projects

    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)
        if queue:
            job_id = guarded(lambda: projects.queue_render(vault, actor, project_id))
            if as_json:
                print(json.dumps({"project_id": project_id, "job_id": job_id}))
            else:
                out.print(f"Project {project_id}: render queued as job {job_id}.", markup=False)
            return
        bar, step = _bar("rendering", as_json)
        with bar:
            view = guarded(lambda: projects.render(vault, actor, project_id, progress=step))
    _show_copy(view, as_json)
    if view.open_findings:
        raise typer.Exit(1)


def copy_command(
    copy_id: Annotated[str, typer.Argument(help="Redacted copy.")],
    as_json: AsJson = False,
) -> None:
    """Show a redacted copy: its hashes, plan and QC findings."""
    from bodycam.redaction import projects

    _on_copy(as_json, lambda v, a: projects.copy_view(v, a, copy_id))


def accept_command(
    copy_id: Annotated[str, typer.Argument(help="Redacted copy.")],
    finding: Annotated[int, typer.Argument(help="Finding number.")],
    reason: Annotated[str, typer.Option(help="Why the visible face may stay (required).")],
    as_json: AsJson = False,
) -> None:
    """Resolve a QC finding by accepting it with a reason (e.g. a face on a poster)."""
    from bodycam.redaction import projects

    _on_copy(as_json, lambda v, a: projects.accept_finding(v, a, copy_id, finding, reason))


def approve_command(
    copy_id: Annotated[str, typer.Argument(help="Redacted copy.")],
    note: Note = "",
    as_json: AsJson = False,
) -> None:
    """Approve a redacted copy for release (refused while QC findings are unresolved)."""
    from bodycam.redaction import projects

    _on_copy(as_json, lambda v, a: projects.approve(v, a, copy_id, note))


def download_command(
    copy_id: Annotated[str, typer.Argument(help="Redacted copy.")],
    dest: Annotated[Path, typer.Argument(help="File to write (must not exist).")],
) -> None:
    """Download a redacted copy (audited)."""
    from bodycam.evidence.service import Vault
    from bodycam.redaction import projects

    with open_context() as ctx:
        actor = current_actor(ctx)
        copy = guarded(
            lambda: projects.download_copy(Vault.from_context(ctx), actor, copy_id, dest)
        )
    out.print(f"{dest}: {copy.size_bytes} bytes, sha256 {copy.sha256}", markup=False)


def bulk_command(
    recordings: Annotated[list[str], typer.Argument(help="Recordings to redact whole.")],
    audio: Annotated[str, typer.Option(help="remove the audio track, or mute it.")] = "remove",
    as_json: AsJson = False,
) -> None:
    """Blur every frame of each recording and remove or mute its audio, as redacted copies."""
    from bodycam.evidence.service import Vault
    from bodycam.redaction import projects

    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)
        for rid in recordings:
            bar, step = _bar(f"bulk {rid}", as_json)

            def run(rid: str = rid, step: Callable[[int, int], None] = step) -> CopyView:
                return projects.bulk(vault, actor, rid, audio=audio, progress=step)

            with bar:
                view = guarded(run)
            if as_json:
                print(json.dumps(_copy_json(view)), flush=True)
            else:
                _print_copy(view)


def transcript_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    search: Annotated[str | None, typer.Option(help="Only show where this phrase is said.")] = None,
    again: Annotated[bool, typer.Option("--again", help="Transcribe again.")] = False,
    model: Annotated[
        Path | None,
        typer.Option(help="A CTranslate2 Whisper model folder (default: BODYCAM_SPEECH_MODEL)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Transcribe the recording's audio (once; on this machine) and print or search it."""
    from bodycam.evidence.service import Vault
    from bodycam.redaction import projects
    from bodycam.redaction.projects import ProjectError
    from bodycam.redaction.transcript import search as find

    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)

        def load() -> Any:
            if not again:
                try:
                    return projects.transcript_of(vault, actor, project_id)
                except ProjectError as exc:
                    if "no transcript yet" not in str(exc):
                        raise
            bar, step = _bar("transcribing", as_json)
            with bar:
                return projects.transcribe(
                    vault,
                    actor,
                    project_id,
                    model=model or ctx.settings.speech_model,
                    model_sha256=ctx.settings.speech_model_sha256,
                    progress=step,
                )

        transcript = guarded(load)
    if search is not None:
        matches = find(transcript, search)
        if as_json:
            print(
                json.dumps(
                    [
                        {"start": round(m.start, 3), "end": round(m.end, 3), "text": m.text}
                        for m in matches
                    ]
                )
            )
        else:
            for m in matches:
                out.print(f"{m.start:8.2f}-{m.end:8.2f}  {m.text}", markup=False)
            if not matches:
                err.print(f"{search!r} is not in the transcript.", markup=False)
        return
    if as_json:
        print(transcript.to_json())
        return
    for seg in transcript.segments:
        out.print(f"{seg.start:8.2f}-{seg.end:8.2f}  {seg.text.strip()}", markup=False)


def words_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    phrase: Annotated[str, typer.Argument(help="Words to hide wherever they are said.")],
    reason: Reason,
    bleep: Annotated[bool, typer.Option("--bleep/--mute", help="Bleep (tone) or mute.")] = True,
    as_json: AsJson = False,
) -> None:
    """Mute or bleep every occurrence of a phrase in the transcript."""
    from bodycam.evidence.service import Vault
    from bodycam.redaction import projects

    with open_context() as ctx:
        actor = current_actor(ctx)
        found = guarded(
            lambda: projects.redact_phrase(
                Vault.from_context(ctx),
                actor,
                project_id,
                phrase,
                mode="bleep" if bleep else "mute",
                reason=reason,
            )
        )
    if as_json:
        print(json.dumps([r.to_dict() for r in found]))
    else:
        for r in found:
            out.print(f"{r.mode} {r.start:.2f}-{r.end:.2f} s ({r.reason})", markup=False)


def suggest_command(
    project_id: Annotated[str, typer.Argument(help="Redaction project.")],
    apply: Annotated[
        str | None, typer.Option(help="Add these suggestions (e.g. 1,3) to the plan.")
    ] = None,
    bleep: Annotated[bool, typer.Option("--bleep/--mute", help="Bleep (tone) or mute.")] = True,
    min_score: Annotated[float, typer.Option(help="Hide weaker suggestions.")] = 0.5,
    as_json: AsJson = False,
) -> None:
    """Suggest spoken personal data to hide (names, phone numbers, dates of birth, addresses)."""
    from bodycam.evidence.service import Vault
    from bodycam.redaction import projects

    numbers: list[int] = []
    if apply is not None:
        if not re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", apply):
            fail(f"--apply must be suggestion numbers like 1,3, not {apply!r}.")
        numbers = [int(n) for n in apply.split(",")]
    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)
        found = guarded(
            lambda: projects.suggest_audio(vault, actor, project_id, min_score=min_score)
        )
        if numbers:
            guarded(
                lambda: projects.apply_suggestions(
                    vault,
                    actor,
                    project_id,
                    numbers,
                    mode="bleep" if bleep else "mute",
                    min_score=min_score,
                )
            )
    if as_json:
        print(json.dumps([s.to_dict() for s in found]))
        return
    for n, sug in enumerate(found, 1):
        mark = " (added)" if n in numbers else ""
        out.print(
            f"{n:3}. {sug.start:8.2f}-{sug.end:8.2f}  {sug.entity:<16} {sug.score:.2f}  "
            f"{sug.text}{mark}",
            markup=False,
        )
    if not found:
        out.print("No spoken personal data suggested.", markup=False)


def register(app: typer.Typer) -> None:
    """Add the review commands to the ``redact`` group."""
    app.command("detect")(detect_command)
    app.command("show")(show_command)
    app.command("track")(track_command)
    app.command("box")(box_command)
    app.command("full-frame")(full_frame_command)
    app.command("audio")(audio_command)
    app.command("remove")(remove_command)
    app.command("style")(style_command)
    app.command("render")(render_command)
    app.command("copy")(copy_command)
    app.command("accept")(accept_command)
    app.command("approve")(approve_command)
    app.command("download")(download_command)
    app.command("bulk")(bulk_command)
    app.command("transcript")(transcript_command)
    app.command("words")(words_command)
    app.command("suggest")(suggest_command)
