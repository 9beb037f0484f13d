"""``bodycam redact``: redact faces in video files (standalone, no deployment needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from bodycam.cli_support import err, fail, out
from bodycam.redaction.styles import Style

redact_app = typer.Typer(help="Redact faces in video.", no_args_is_help=True)


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or int(match[1]) < 32 or int(match[2]) < 32:
        fail(f"--scale must be WIDTHxHEIGHT, each at least 32 (e.g. 640x360), not {text!r}.")
    return int(match[1]), int(match[2])


@redact_app.command("auto")
def auto_command(
    source: Annotated[Path, typer.Argument(help="Video to redact (IN).")],
    output: Annotated[Path, typer.Argument(help="Redacted MP4 to write (OUT).")],
    style: Annotated[Style, typer.Option(help="How faces are hidden.")] = Style.blur,
    scale: Annotated[
        str, typer.Option(help="Detect on frames fitted into WxH (aspect kept).")
    ] = "640x360",
    threshold: Annotated[
        float, typer.Option(help="Detection score threshold (lower finds more).")
    ] = 0.2,
    detect_every: Annotated[
        int, typer.Option(help="Run the detector on every n-th frame; track in between.")
    ] = 1,
    no_audio: Annotated[bool, typer.Option("--no-audio", help="Drop the audio track.")] = False,
) -> None:
    """Detect, track and redact every face of IN into OUT (H.264/AAC MP4, no metadata)."""
    # Imported here: `bodycam` starts faster, and works without the redaction libraries.
    from bodycam.redaction.engine import RedactionError, RedactOptions, redact_video

    if not 0.0 < threshold < 1.0:
        fail(f"--threshold must be between 0 and 1, not {threshold}.")
    if detect_every < 1:
        fail(f"--detect-every must be at least 1, not {detect_every}.")
    options = RedactOptions(
        style=style,
        scale=_size(scale),
        threshold=threshold,
        detect_every=detect_every,
        audio=not no_audio,
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
