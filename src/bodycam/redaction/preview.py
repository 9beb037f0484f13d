"""Previews and playback for the web editor: a few seconds of the working plan rendered
to a temporary file (never a blob, never a copy), and Range streaming of a redacted copy.

Both check permissions through the project service and audit every request.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence.service import Vault
from bodycam.ids import new_id
from bodycam.redaction.engine import RedactionError
from bodycam.redaction.models import (
    ProjectStatus,
    RedactedCopy,
    RedactionProject,
)
from bodycam.redaction.plan import (
    FrameBox,
    RedactionPlan,
)
from bodycam.redaction.plan_render import render_plan
from bodycam.redaction.projects import (
    ProjectError,
    _copy_recording,
    _project_recording,
    _require,
)
from bodycam.storage.interface import local_path

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bodycam.evidence.service import ByteRange


PREVIEW_MAX_S = 10.0
"""The longest preview, in seconds."""

PREVIEW_KEEP_S = 3600
"""Preview files older than this (seconds) are deleted when the next preview is made."""


@dataclass(frozen=True)
class Preview:
    """A rendered preview: a temporary file beside others, never a blob nor a copy."""

    path: Path
    start_frame: int
    end_frame: int  # excluded
    start_s: float
    end_s: float
    plan_hash: str


def preview(
    vault: Vault,
    actor: Actor,
    project_id: str,
    at_s: float,
    *,
    seconds: float = 4.0,
    folder: Path,
) -> Preview:
    """Render ``seconds`` of the working plan around ``at_s`` into ``folder``; audited.

    The frames are cut from the original (counted as the renderer counts them) and
    rendered by `render_plan` with the plan's part for those frames. The file is a
    temporary preview: no blob, no redacted copy, nothing that can be approved or
    released. The same plan and frames reuse the file; each request to see it is
    audited as a view of the project.
    """
    recording_id = _project_recording(vault, project_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "preview redactions", recording_id)
    if not (math.isfinite(seconds) and 0 < seconds <= PREVIEW_MAX_S):
        raise ProjectError(f"A preview lasts up to {PREVIEW_MAX_S:g} seconds, not {seconds:g}.")
    if not (math.isfinite(at_s) and at_s >= 0):
        raise ProjectError(f"A preview must be around a time from 0 s on, not {at_s:g}.")
    with vault.sessions() as s:
        proj = s.get(RedactionProject, project_id)
        assert proj is not None
        if proj.status != ProjectStatus.REVIEW.value:
            raise ProjectError(f"Project {project_id} is {proj.status}; nothing to preview.")
        plan_json, sha = proj.plan, proj.source_sha256
    plan = RedactionPlan.from_json(plan_json)
    video = plan.video
    if video is None or video.frames == 0:
        raise ProjectError("The plan names no video; it cannot be previewed.")
    length = min(video.frames, max(1, video.frame_at_ms(round(seconds * 1000))))
    start = video.frame_at_ms(round(max(0.0, at_s - seconds / 2) * 1000))
    start = max(0, min(start, video.frames - length))
    end = start + length
    digest = plan.plan_hash()
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{project_id}-{digest[:16]}-{start}-{end}.mp4"
    if not out.exists():
        _sweep_previews(folder)
        fresh = folder / f"{out.stem}-{new_id()}.mp4"  # each request its own until renamed
        try:
            with (
                tempfile.TemporaryDirectory(prefix="bodycam-preview-") as tmp,
                local_path(vault.store, sha) as src,
            ):
                segment = Path(tmp) / "segment.mp4"
                _cut_segment(src, segment, start, end, video.fps)
                render_plan(segment, fresh, _plan_window(plan, start, end))
            os.replace(fresh, out)
        except (RedactionError, OSError) as exc:
            raise ProjectError(f"The preview could not be made: {exc}") from None
        finally:
            fresh.unlink(missing_ok=True)
    with transaction(vault.sessions) as s:
        record(
            s,
            actor,
            AuditAction.REDACTION_VIEW,
            "recording",
            recording_id,
            {"project": project_id, "preview": [start, end], "plan_hash": digest},
        )
    return Preview(out, start, end, float(start / video.fps), float(end / video.fps), digest)


def _sweep_previews(folder: Path) -> None:
    """Delete previews older than `PREVIEW_KEEP_S`."""
    cutoff = time.time() - PREVIEW_KEEP_S
    for old in folder.glob("*.mp4"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another request swept it first


def _plan_window(plan: RedactionPlan, start: int, end: int) -> RedactionPlan:
    """The part of ``plan`` for frames ``start`` to ``end`` (excluded), frame 0 = ``start``.

    Manual boxes become one keyframe per frame (their interpolated boxes, rounded
    outwards), so keyframes outside the window still shape the boxes inside it.
    """
    assert plan.video is not None

    def moved(row: FrameBox) -> FrameBox:
        return FrameBox(row.frame - start, row.x1, row.y1, row.x2, row.y2)

    tracks = []
    for t in plan.tracks:
        rows = tuple(moved(r) for r in t.boxes if start <= r.frame < end)
        if rows:
            tracks.append(dataclasses.replace(t, boxes=rows))
    manual = []
    for m in plan.manual:
        frames = range(max(start, m.first_frame), min(end, m.last_frame + 1))
        keys = tuple(
            FrameBox.around(f - start, box) for f in frames if (box := m.box_at(f)) is not None
        )
        if keys:
            manual.append(dataclasses.replace(m, keyframes=keys))
    full = []
    for r in plan.full_frame:
        a, b = max(start, r.start_frame), end if r.end_frame is None else min(end, r.end_frame)
        if a < b:
            full.append(dataclasses.replace(r, start_frame=a - start, end_frame=b - start))
    offset = plan.video.ms_at_frame(start)
    length = plan.video.ms_at_frame(end) - offset
    audio = []
    for x in plan.audio:
        a, b = max(0, x.start_ms - offset), min(length, x.end_ms - offset)
        if a < b:
            audio.append(dataclasses.replace(x, start_ms=a, end_ms=b))
    return dataclasses.replace(
        plan,
        video=None,
        tracks=tuple(tracks),
        manual=tuple(manual),
        full_frame=tuple(full),
        audio=tuple(audio),
    )


def _cut_segment(src: Path, dst: Path, start: int, end: int, fps: Fraction) -> None:
    """Frames ``start`` to ``end`` (excluded) of ``src`` and the audio beside them, as a
    near-lossless MP4 whose first frame is frame ``start``.

    After a seek, frames are placed by their timestamps at the plan's frame rate (the
    constant rate cameras record at), so a preview late in a long recording does not
    decode everything before it; from the start, decoded frames are counted as the
    renderer counts them.
    """
    import av
    import numpy as np
    from av.audio.resampler import AudioResampler

    from bodycam.redaction.engine import add_video_output, decode_packet, video_stream

    with av.open(str(src)) as inp:
        vin = video_stream(inp)
        if vin is None:
            raise RedactionError(f"{src.name} has no video stream.")
        ain = inp.streams.audio[0] if inp.streams.audio else None
        tb: Fraction = vin.time_base or Fraction(1, 90_000)
        origin = Fraction(vin.start_time or 0) * tb
        t0, t1 = Fraction(start) / fps, Fraction(end) / fps
        if start > 0:
            inp.seek(round((origin + t0) / tb), stream=vin, backward=True)
        with av.open(str(dst), mode="w", format="mp4") as out:
            vout = add_video_output(out, vin, "veryfast", 10)
            aout, resampler = None, None
            if ain is not None:  # AAC at the source's rate; samples as planar floats
                rate = ain.rate or 48_000
                aout = out.add_stream("aac", rate=rate, layout=ain.layout.name)
                resampler = AudioResampler(format="fltp", layout=ain.layout.name, rate=rate)
            counted, written, samples = 0, 0, 0
            video_done, audio_done = False, ain is None
            for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
                for frame in decode_packet(packet, src):
                    if isinstance(frame, av.VideoFrame):
                        if start == 0:
                            index = counted
                        elif frame.pts is None:
                            raise RedactionError(f"{src.name} has frames without timestamps.")
                        else:
                            index = round((Fraction(frame.pts) * tb - origin) * fps)
                        counted += 1
                        if index >= end:
                            video_done = True
                        elif index >= start:
                            rgb = frame.to_ndarray(format="rgb24")[: vout.height, : vout.width]
                            new = av.VideoFrame.from_ndarray(
                                np.ascontiguousarray(rgb, dtype=np.uint8)
                            )
                            new.pts = round(Fraction(index - start) / fps / tb)
                            new.time_base = tb
                            out.mux(vout.encode(new))
                            written += 1
                    elif aout and resampler and frame.pts is not None and frame.time_base:
                        at = Fraction(frame.pts) * frame.time_base - origin
                        if at >= t1:
                            audio_done = True
                        for part in resampler.resample(frame):
                            data, rate = part.to_ndarray(), part.sample_rate
                            first = max(0, math.ceil((t0 - at) * rate))
                            last = min(data.shape[1], math.ceil((t1 - at) * rate))
                            at += Fraction(data.shape[1], rate)
                            if first >= last:
                                continue
                            chunk = av.AudioFrame.from_ndarray(
                                np.ascontiguousarray(data[:, first:last], dtype=np.float32),
                                format="fltp",
                                layout=part.layout.name,
                            )
                            chunk.sample_rate = rate
                            chunk.pts, chunk.time_base = samples, Fraction(1, rate)
                            out.mux(aout.encode(chunk))
                            samples += last - first
                if video_done and audio_done:
                    break
            out.mux(vout.encode(None))
            if aout is not None:
                out.mux(aout.encode(None))
    if written == 0:
        raise RedactionError(f"{src.name} has no frame between {start} and {end}.")


def stream_copy(
    vault: Vault, actor: Actor, copy_id: str, range_header: str | None
) -> tuple[RedactedCopy, ByteRange | None, Iterator[bytes]]:
    """Authorize and audit playing a redacted copy (one record per request, as for the
    original's stream); return the copy, the byte range and its bytes."""
    from bodycam.evidence.service import parse_range

    recording_id = _copy_recording(vault, copy_id)
    _require(vault, actor, Permission.REDACTION_MANAGE, "play redacted copies", recording_id)
    with transaction(vault.sessions) as s:
        copy = s.get(RedactedCopy, copy_id)
        assert copy is not None
        rng = parse_range(range_header, copy.size_bytes)
        details: dict[str, Any] = {"copy": copy_id, "sha256": copy.sha256, "stream": True}
        if rng is not None:
            details |= {"range_start": rng.start, "range_end": rng.end}
        record(s, actor, AuditAction.REDACTION_DOWNLOAD, "recording", recording_id, details)
        s.expunge(copy)
    start, end = (rng.start, rng.end) if rng else (0, copy.size_bytes)
    return copy, rng, vault.store.iter_bytes(copy.sha256, start, end)
