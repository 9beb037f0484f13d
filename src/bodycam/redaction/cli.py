"""``bodycam redact``: redact faces in video files (standalone, no deployment needed)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from bodycam.cli_support import err, fail, out
from bodycam.redaction.styles import Style
from bodycam.redaction.transcript import Transcript

if TYPE_CHECKING:
    from bodycam.redaction.engine import RedactOptions

redact_app = typer.Typer(help="Redact faces in video.", no_args_is_help=True)


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or int(match[1]) < 32 or int(match[2]) < 32:
        fail(f"--scale must be WIDTHxHEIGHT, each at least 32 (e.g. 640x360), not {text!r}.")
    return int(match[1]), int(match[2])


Scale = Annotated[str, typer.Option(help="Detect on frames fitted into WxH (aspect kept).")]
Threshold = Annotated[float, typer.Option(help="Detection score threshold (lower finds more).")]
DetectEvery = Annotated[
    int, typer.Option(help="Run the detector on every n-th frame; track in between.")
]
DetectorName = Annotated[
    str, typer.Option(help="Detector by name: centerface, or one an installed package adds.")
]


def _detect_options(
    scale: str, threshold: float, detect_every: int, detector: str, **more: Any
) -> RedactOptions:
    """The engine's options from the detection flags, each checked with a sentence."""
    from bodycam.redaction.engine import RedactOptions

    if not 0.0 < threshold < 1.0:
        fail(f"--threshold must be between 0 and 1, not {threshold}.")
    if detect_every < 1:
        fail(f"--detect-every must be at least 1, not {detect_every}.")
    return RedactOptions(
        scale=_size(scale),
        threshold=threshold,
        detect_every=detect_every,
        detector=detector,
        **more,
    )


@redact_app.command("auto")
def auto_command(
    source: Annotated[Path, typer.Argument(help="Video to redact (IN).")],
    output: Annotated[Path, typer.Argument(help="Redacted MP4 to write (OUT).")],
    style: Annotated[Style, typer.Option(help="How faces are hidden.")] = Style.blur,
    scale: Scale = "640x360",
    threshold: Threshold = 0.2,
    detect_every: DetectEvery = 1,
    no_audio: Annotated[bool, typer.Option("--no-audio", help="Drop the audio track.")] = False,
    detector: DetectorName = "centerface",
) -> None:
    """Detect, track and redact every face of IN into OUT (H.264/AAC MP4, no metadata)."""
    # Imported here: `bodycam` starts faster, and works without the redaction libraries.
    from bodycam.redaction.engine import RedactionError, redact_video

    options = _detect_options(
        scale, threshold, detect_every, detector, style=style, audio=not no_audio
    )
    bar = Progress(
        TextColumn(f"redact {source.name}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("redact", total=None)

    def step(done: int, total: int) -> None:
        if done == 1:
            bar.start()  # only once the input is accepted, so errors print alone
        bar.update(task, completed=done, total=total)

    try:
        report = redact_video(source, output, options, progress=step)
    except RedactionError as exc:
        bar.stop()
        fail(str(exc))
    bar.stop()
    out.print(
        f"Wrote {output}: {report.frames} frames, {report.redacted_frames} with redactions, "
        f"{len(report.tracks)} tracks, audio {report.audio}, {report.fps:.1f} frames/s.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


# --- review workflow on files: analyse, render a plan, quality control, bulk -----------
# (issue 4 points 4, 6 and 7; the vault's jobs and audit records wrap these later)


def _bar(label: str) -> tuple[Progress, Callable[[int, int], None]]:
    """A transient progress bar on stderr, started on the first frame (errors print alone)."""
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=None)

    def step(done: int, total: int) -> None:
        if done == 1:
            bar.start()
        bar.update(task, completed=done, total=total)

    return bar, step


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _write_text(path: Path, text: str) -> None:
    """Write `path` whole or not at all (a temporary file beside it, renamed)."""
    if not path.parent.is_dir():
        fail(f"{path.name} cannot be written: folder {path.parent} does not exist.")
    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        fail(f"{path.name} cannot be written ({exc.strerror or exc}).")


class BulkAudio(StrEnum):
    """What bulk redaction does with the audio."""

    remove = "remove"
    mute = "mute"


@redact_app.command("analyse")
def analyse_command(
    source: Annotated[Path, typer.Argument(help="Video to analyse (IN).")],
    out_path: Annotated[Path, typer.Option("--out", help="Write the tracks here (JSON).")],
    thumbnails: Annotated[
        Path | None,
        typer.Option(help="Write thumbnails into this folder (default: base64 in the JSON)."),
    ] = None,
    plan_path: Annotated[
        Path | None,
        typer.Option("--plan", help="Also write a draft plan including every track."),
    ] = None,
    scale: Scale = "640x360",
    threshold: Threshold = 0.2,
    detect_every: DetectEvery = 1,
    detector: DetectorName = "centerface",
) -> None:
    """Detect and track every face of IN, render nothing: tracks, boxes and thumbnails."""
    from bodycam.redaction.analyse import analyse_video
    from bodycam.redaction.engine import RedactionError

    options = _detect_options(scale, threshold, detect_every, detector)
    for target in (out_path, plan_path):
        if target is not None and not target.parent.is_dir():
            fail(f"{target.name} cannot be written: folder {target.parent} does not exist.")
    if thumbnails is not None:
        try:
            thumbnails.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"Folder {thumbnails} cannot be made ({exc.strerror or exc}).")
    bar, step = _bar(f"analyse {source.name}")
    try:
        analysis = analyse_video(source, options, step)
    except RedactionError as exc:
        bar.stop()
        fail(str(exc))
    bar.stop()
    _write_text(out_path, json.dumps(analysis.to_dict(thumbnails), indent=1) + "\n")
    wrote = str(out_path)
    if plan_path is not None:
        _write_text(plan_path, analysis.draft_plan().to_json(indent=1) + "\n")
        wrote += f" and the draft plan {plan_path}"
    per_minute = 60 * len(analysis.tracks) / analysis.duration_s if analysis.duration_s else 0.0
    _say(
        f"Analysed {source.name}: {analysis.video.frames} frames, "
        f"{len(analysis.tracks)} tracks ({per_minute:.1f} per minute); wrote {wrote}."
    )


@redact_app.command("render-file")
def render_file_command(
    source: Annotated[Path, typer.Argument(help="Video the plan was made for (IN).")],
    output: Annotated[Path, typer.Argument(help="Redacted MP4 to write (OUT).")],
    plan_path: Annotated[Path, typer.Option("--plan", help="The reviewed plan (JSON).")],
) -> None:
    """Apply a reviewed redaction plan to IN and write OUT (H.264/AAC MP4, no metadata)."""
    from bodycam.redaction.engine import RedactionError
    from bodycam.redaction.plan import PlanError, RedactionPlan
    from bodycam.redaction.plan_render import render_plan

    try:
        plan = RedactionPlan.from_json(plan_path.read_bytes())
    except FileNotFoundError:
        fail(f"{plan_path.name} does not exist.")
    except OSError as exc:
        fail(f"{plan_path.name} cannot be read ({exc.strerror or exc}).")
    except PlanError as exc:
        fail(f"{plan_path.name}: {exc}")
    bar, step = _bar(f"render {source.name}")
    try:
        report = render_plan(source, output, plan, step)
    except RedactionError as exc:
        bar.stop()
        fail(str(exc))
    bar.stop()
    _say(
        f"Wrote {output}: {report.frames} frames, {report.redacted_frames} with redactions, "
        f"audio {report.audio}, plan sha256 {report.plan_hash}, "
        f"output sha256 {report.sha256}."
    )


@redact_app.command("qc")
def qc_command(
    source: Annotated[Path, typer.Argument(help="Redacted video to check (IN).")],
    threshold: Annotated[
        float, typer.Option(help="Detection threshold (lower than redaction's 0.2).")
    ] = 0.1,
    min_detail: Annotated[
        float, typer.Option(help="Ignore detections with less fine detail (blurred blobs).")
    ] = 4.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per finding.")] = False,
) -> None:
    """List every face still visible in IN; exit 0 when none, 1 with the findings."""
    from bodycam.redaction.engine import RedactionError
    from bodycam.redaction.qc import qc_scan

    if not 0.0 < threshold < 1.0:
        fail(f"--threshold must be between 0 and 1, not {threshold}.")
    if min_detail < 0:
        fail(f"--min-detail must be 0 or more, not {min_detail}.")
    bar, step = _bar(f"check {source.name}")
    try:
        findings = qc_scan(source, threshold, min_detail=min_detail, progress=step)
    except RedactionError as exc:
        bar.stop()
        fail(str(exc))
    bar.stop()
    for finding in findings:
        _say(json.dumps(finding.to_dict()) if as_json else finding.describe())
    if findings:
        if not as_json:
            err.print(
                f"{source.name}: {len(findings)} face(s) still visible.",
                markup=False,
                highlight=False,
            )
        raise typer.Exit(1)
    if not as_json:
        _say(f"{source.name}: no face visible (threshold {threshold}).")


@redact_app.command("bulk-file")
def bulk_command(
    source: Annotated[Path, typer.Argument(help="Video to redact whole (IN).")],
    output: Annotated[Path, typer.Argument(help="Redacted MP4 to write (OUT).")],
    audio: Annotated[
        BulkAudio, typer.Option(help="Drop the audio stream, or keep a silent one.")
    ] = BulkAudio.remove,
    style: Annotated[Style, typer.Option(help="How the picture is hidden.")] = Style.blur,
) -> None:
    """Redact every frame of IN whole and remove or mute its audio (OUT: H.264 MP4)."""
    from bodycam.redaction.engine import RedactionError
    from bodycam.redaction.plan import AudioTrack, RedactionPlan
    from bodycam.redaction.plan_render import render_plan

    plan = RedactionPlan.bulk(audio=AudioTrack(audio.value), style=style)
    bar, step = _bar(f"bulk {source.name}")
    try:
        report = render_plan(source, output, plan, step)
    except RedactionError as exc:
        bar.stop()
        fail(str(exc))
    bar.stop()
    _say(
        f"Wrote {output}: {report.frames} frames redacted whole, audio {report.audio}, "
        f"plan sha256 {report.plan_hash}, output sha256 {report.sha256}."
    )


# --- audio: transcripts and spoken personal data (issue 4 point 5) ----------------------


class RangeMode(StrEnum):
    """How suggested audio ranges are hidden once accepted."""

    mute = "mute"
    bleep = "bleep"


def _clock(seconds: float) -> str:
    """Seconds as ``mm:ss.ss`` (``h:mm:ss.ss`` from an hour)."""
    minutes, secs = divmod(max(0.0, seconds), 60.0)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:05.2f}" if hours else f"{minutes:02d}:{secs:05.2f}"


def _transcript_of(source: Path, model: Path | None) -> Transcript:
    """The transcript of a media file (transcribed now), or one read from its JSON."""
    from time import perf_counter

    from bodycam.redaction.speech import (
        AudioInputError,
        SpeechModelError,
        load_speech_model,
        transcribe,
    )
    from bodycam.redaction.transcript import TranscriptFormatError

    if source.suffix.lower() == ".json" and source.is_file():
        try:
            return Transcript.from_json(source.read_bytes())
        except TranscriptFormatError as exc:
            fail(f"{source.name} is not a transcript: {exc}")
    bar = Progress(
        TextColumn(f"transcribe {source.name}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        console=err,
        transient=True,
    )
    task = bar.add_task("transcribe", total=None)

    def step(done: float, total: float) -> None:
        bar.update(task, completed=done, total=max(total, done))
        bar.start()  # only once audio decodes, so errors print alone

    try:
        speech = load_speech_model(model)
        started = perf_counter()
        transcript = transcribe(source, model=speech, progress=step)
    except (AudioInputError, SpeechModelError) as exc:
        bar.stop()
        fail(str(exc))
    bar.stop()
    took = perf_counter() - started
    err.print(
        f"{transcript.duration:.1f} s of audio transcribed in {took:.1f} s "
        f"({transcript.duration / max(took, 1e-9):.1f}x real time) with {transcript.model} "
        f"(model.bin sha256 {transcript.model_sha256[:12]}..., loaded in "
        f"{speech.load_seconds:.1f} s).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for warning in transcript.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    return transcript


@redact_app.command("transcribe")
def transcribe_command(
    source: Annotated[Path, typer.Argument(help="Audio or video file (IN).")],
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Also write the transcript (word times) as JSON to OUT."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(help="A CTranslate2 Whisper model folder (default: the shipped tiny.en)."),
    ] = None,
    words: Annotated[bool, typer.Option("--words", help="Print every word's times too.")] = False,
) -> None:
    """Transcribe the speech of IN on the CPU and print it with timestamps."""
    if json_out is not None and not json_out.parent.is_dir():
        fail(f"{json_out.name} cannot be written: folder {json_out.parent} does not exist.")
    transcript = _transcript_of(source, model)
    if json_out is not None:
        tmp = json_out.with_name(f".{json_out.name}.partial")
        tmp.write_text(transcript.to_json(indent=1) + "\n", encoding="utf-8")
        tmp.replace(json_out)
    for segment in transcript.segments:
        out.print(
            f"[{_clock(segment.start)} - {_clock(segment.end)}] {segment.text}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        if words:
            for w in segment.words:
                out.print(
                    f"    {_clock(w.start)} - {_clock(w.end)}  {w.text.strip()}  "
                    f"(p {w.probability:.2f})",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
    if not transcript.segments:
        out.print("(no speech heard)", markup=False, highlight=False)


@redact_app.command("suggest-audio")
def suggest_audio_command(
    source: Annotated[
        Path,
        typer.Argument(help="Audio or video file, or a transcript from `transcribe --json` (IN)."),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print suggestions and audio ranges as JSON.")
    ] = False,
    model: Annotated[
        Path | None,
        typer.Option(help="A CTranslate2 Whisper model folder (default: the shipped tiny.en)."),
    ] = None,
    min_score: Annotated[
        float, typer.Option(help="Leave out suggestions scoring below this (0 to 1).")
    ] = 0.5,
    mode: Annotated[
        RangeMode, typer.Option(help="How the audio ranges hide what was said.")
    ] = RangeMode.bleep,
    padding: Annotated[
        float, typer.Option(help="Seconds added before and after each range.")
    ] = 0.15,
) -> None:
    """Suggest spoken personal data in IN (names, phone numbers, dates of birth, addresses)."""
    from bodycam.redaction.pii import PiiModelError, suggest, suggestion_ranges

    if not 0.0 <= min_score <= 1.0:
        fail(f"--min-score must be between 0 and 1, not {min_score}.")
    if not 0.0 <= padding <= 5.0:
        fail(f"--padding must be between 0 and 5 seconds, not {padding}.")
    transcript = _transcript_of(source, model)
    try:
        found = suggest(transcript, min_score=min_score)
    except PiiModelError as exc:
        fail(str(exc))
    ranges = suggestion_ranges(transcript, found, mode=mode.value, padding=padding)
    if as_json:
        document = {
            "source": source.name,
            "transcript": {
                "model": transcript.model,
                "model_sha256": transcript.model_sha256,
                "duration": transcript.duration,
            },
            "suggestions": [s.to_dict() for s in found],
            "ranges": [r.to_dict() for r in ranges],
        }
        typer.echo(json.dumps(document, indent=1, ensure_ascii=False))
        return
    for s in found:
        out.print(
            f"{_clock(s.start)} - {_clock(s.end)}  {s.entity:<15} {s.score:.2f}  {s.text}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        f"{len(found)} suggestions; accepted, they {mode.value} {len(ranges)} ranges "
        f"({sum(r.seconds for r in ranges):.1f} s).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
