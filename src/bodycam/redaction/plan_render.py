"""Render a reviewed `RedactionPlan` onto a video: one streaming pass, no detection.

Video: each decoded frame gets the boxes of the plan's included tracks and its manual
boxes (interpolated between keyframes), drawn in the plan's style, and then, inside a
full-frame range, the whole picture is redacted too (`render.redact_full_frame`).

Audio: when the plan changes nothing in it, AAC is copied as is (anything else is
re-encoded to AAC), as `redact auto` does. Otherwise it is decoded, the plan's ranges are
silenced (mute) or replaced by a 1 kHz tone (bleep; where a bleep and a mute overlap the
bleep is heard) and re-encoded to AAC; sample positions are rounded outwards, so a range
never hides less than it says. `AudioTrack.mute` silences the whole track (same length),
`AudioTrack.remove` writes no audio stream.

The output is a new H.264/AAC MP4 written with the engine's own helpers: no metadata of
the input survives (GPS, device, creation time, comments), the only tag is a comment
naming the engine and the plan's hash. It is written beside `dst` and renamed into place
only when complete; any refusal or failure leaves no `dst`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.packet import Packet
from av.video.stream import VideoStream

from bodycam.evidence.probe import ProbeError, probe
from bodycam.redaction.analyse import file_sha256
from bodycam.redaction.engine import (
    ENGINE_VERSION,
    RedactionError,
    add_video_output,
    atomic_output,
    check_paths,
    decode_packet,
    open_output,
    video_stream,
)
from bodycam.redaction.plan import AudioMode, AudioTrack, RedactionPlan
from bodycam.redaction.render import redact_frame, redact_full_frame
from bodycam.redaction.track import Box

__all__ = ["BLEEP_AMPLITUDE", "BLEEP_HZ", "RenderReport", "boxes_by_frame", "render_plan"]

BLEEP_HZ: Final = 1000
"""Frequency of the bleep tone."""

BLEEP_AMPLITUDE: Final = 0.25
"""Peak of the bleep tone (full scale 1.0; about -12 dBFS)."""

Progress = Callable[[int, int], None]
RGBFrame = npt.NDArray[np.uint8]


@dataclass
class RenderReport:
    """What `render_plan` wrote: frames, redactions, audio, the plan's and output's hash."""

    source: Path
    output: Path
    plan_hash: str
    frames: int = 0
    redacted_frames: int = 0  # frames with at least one box or a full-frame redaction
    full_frames: int = 0  # frames redacted as a whole picture
    boxes: int = 0  # boxes drawn, over all frames
    audio: str = "none"  # "copied", "re-encoded", "edited", "muted", "removed" or "none"
    muted_s: float = 0.0  # audio silenced by ranges (the whole track for "muted")
    bleeped_s: float = 0.0  # audio replaced by the tone
    duration_s: float = 0.0
    seconds: float = 0.0
    sha256: str = ""  # of the output file
    engine: str = ENGINE_VERSION

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def render_plan(
    src: Path,
    dst: Path,
    plan: RedactionPlan,
    progress: Progress | None = None,
    *,
    preset: str = "veryfast",
    crf: int = 20,
) -> RenderReport:
    """Write `dst`: `src` with `plan` applied. Raises `RedactionError`; leaves no partial
    `dst`."""
    if not isinstance(plan, RedactionPlan):
        raise RedactionError("render_plan needs a RedactionPlan.")
    check_paths(src, dst)
    try:
        info = probe(src, deep=False)
    except ProbeError as exc:
        raise RedactionError(str(exc)) from None
    facts = plan.video
    if facts is not None and (facts.width, facts.height) != (info.width, info.height):
        raise RedactionError(
            f"The plan was made for a {facts.width}x{facts.height} video; {src.name} is "
            f"{info.width}x{info.height}."
        )
    if facts is not None and facts.sha256 is not None and file_sha256(src) != facts.sha256:
        raise RedactionError(
            f"The plan was made for another file (SHA-256 {facts.sha256[:16]}...); "
            f"{src.name} differs."
        )
    if plan.audio and not info.has_audio:
        raise RedactionError(
            f"The plan hides {len(plan.audio)} audio range(s), but {src.name} has no audio."
        )
    report = RenderReport(source=src, output=dst, plan_hash=plan.plan_hash())
    report.duration_s = info.duration_s
    started = time.perf_counter()
    with atomic_output(src, dst) as tmp:
        _run(src, tmp, plan, report, info.frame_count, progress, preset, crf)
        if facts is not None and report.frames != facts.frames:
            raise RedactionError(
                f"{src.name} has {report.frames} frames, but the plan was made for a video "
                f"of {facts.frames}; analyse this file again."
            )
        report.sha256 = file_sha256(tmp)
    report.seconds = time.perf_counter() - started
    return report


def _run(
    src: Path,
    tmp: Path,
    plan: RedactionPlan,
    report: RenderReport,
    total: int,
    progress: Progress | None,
    preset: str,
    crf: int,
) -> None:
    with av.open(str(src)) as inp:
        vin = video_stream(inp)
        if vin is None:
            raise RedactionError(f"{src.name} has no video stream.")
        vin.thread_type = "AUTO"
        if vin.codec_context.width < 2 or vin.codec_context.height < 2:
            raise RedactionError(f"{src.name} has a video picture too small to encode.")
        ain: AudioStream | None = inp.streams.audio[0] if inp.streams.audio else None
        comment = f"redacted by {ENGINE_VERSION}; plan sha256:{report.plan_hash}"
        with open_output(tmp, comment) as out:
            vout = add_video_output(out, vin, preset, crf)
            audio = _AudioOut.make(out, ain, vin, plan, report)
            video = _VideoOut(plan, vin, vout, out, report, total, progress)
            streams = (vin,) if audio is None or ain is None else (vin, ain)
            for packet in inp.demux(*streams):
                if packet.stream is vin:
                    for vframe in decode_packet(packet, src):
                        assert isinstance(vframe, av.VideoFrame)
                        video.take(vframe)
                elif audio is not None:
                    audio.take(packet, src)
            out.mux(vout.encode(None))
            if audio is not None:
                audio.flush()
        if report.frames == 0:
            raise RedactionError(f"{src.name} has no video frame that decodes.")


class _VideoOut:
    """Draw the plan on each decoded frame and encode it."""

    def __init__(
        self,
        plan: RedactionPlan,
        vin: VideoStream,
        vout: VideoStream,
        out: av.container.OutputContainer,
        report: RenderReport,
        total: int,
        progress: Progress | None,
    ) -> None:
        self.boxes_at = boxes_by_frame(plan)
        self.full = plan.full_frame
        self.style = plan.settings.style
        self.vout, self.out, self.report = vout, out, report
        self.total, self.progress = total, progress
        self.index = 0
        self.tb: Fraction = vin.time_base or Fraction(1, 90_000)  # the input's, as the engine
        self.rate: Fraction = vin.average_rate or vin.guessed_rate or Fraction(30)

    def take(self, vframe: av.VideoFrame) -> None:
        """Redact and encode the next frame."""
        rgb: RGBFrame = np.asarray(vframe.to_ndarray(format="rgb24"), dtype=np.uint8)
        rgb = np.ascontiguousarray(rgb[: self.vout.height, : self.vout.width])
        boxes = self.boxes_at(self.index)
        full = any(r.covers(self.index) for r in self.full)
        if boxes:
            # Boxes first, then the whole frame on top: a box larger than a quarter of the
            # frame keeps its own (stronger) blur.
            redact_frame(rgb, boxes, self.style)
            self.report.boxes += len(boxes)
        if full:
            redact_full_frame(rgb, self.style)
            self.report.full_frames += 1
        if boxes or full:
            self.report.redacted_frames += 1
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if vframe.pts is not None:
            frame.pts = vframe.pts
        else:  # no timestamp: place it by its index at the input's frame rate
            frame.pts = round(self.index / (self.rate * self.tb))
        frame.time_base = self.tb
        self.out.mux(self.vout.encode(frame))
        self.index += 1
        self.report.frames += 1
        if self.progress is not None:
            self.progress(self.report.frames, max(self.total, self.report.frames))


class _AudioOut:
    """The audio half: copy, re-encode, or decode, edit and re-encode."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        aout: AudioStream,
        resampler: AudioResampler | None,
        spans: list[tuple[Fraction, Fraction, AudioMode]],
        mute_all: bool,
        origin: Fraction,
        report: RenderReport,
    ) -> None:
        self.out, self.aout, self.resampler = out, aout, resampler
        self.spans, self.mute_all, self.origin = spans, mute_all, origin
        self.report = report
        self.rate = aout.rate or 48_000
        self.next_start: Fraction | None = None  # seconds (from the origin) of the next sample

    @classmethod
    def make(
        cls,
        out: av.container.OutputContainer,
        ain: AudioStream | None,
        vin: VideoStream,
        plan: RedactionPlan,
        report: RenderReport,
    ) -> _AudioOut | None:
        """The audio writer the plan needs (None: no audio stream in the output)."""
        if ain is None:
            return None
        if plan.audio_track is AudioTrack.remove:
            report.audio = "removed"
            return None
        origin = Fraction(vin.start_time or 0) * (vin.time_base or Fraction(1, 90_000))
        spans = [(Fraction(a.start_ms, 1000), Fraction(a.end_ms, 1000), a.mode) for a in plan.audio]
        mute_all = plan.audio_track is AudioTrack.mute
        if not spans and not mute_all and ain.codec_context.name == "aac":
            aout = out.add_stream_from_template(ain)
            aout.metadata.clear()
            report.audio = "copied"
            return cls(out, aout, None, [], False, origin, report)
        aout = out.add_stream("aac", rate=ain.rate or 48_000, layout=ain.layout.name)
        resampler = AudioResampler(format="fltp", layout=aout.layout, rate=aout.rate)
        report.audio = "muted" if mute_all else "edited" if spans else "re-encoded"
        return cls(out, aout, resampler, spans, mute_all, origin, report)

    def take(self, packet: Packet[Any], src: Path) -> None:
        """Copy one packet, or decode, edit and encode it."""
        if packet.dts is None:
            return
        if self.resampler is None:
            packet.stream = self.aout
            self.out.mux(packet)
            return
        for aframe in decode_packet(packet, src):
            assert isinstance(aframe, av.AudioFrame)
            if self.next_start is None:
                start = Fraction(aframe.pts or 0) * (aframe.time_base or Fraction(1, self.rate))
                self.next_start = start - self.origin
            for chunk in self.resampler.resample(aframe):
                self._encode(chunk)

    def flush(self) -> None:
        """Encode what the resampler and encoder still hold."""
        if self.resampler is not None:
            for chunk in self.resampler.resample(None):
                self._encode(chunk)
            self.out.mux(self.aout.encode(None))

    def _encode(self, chunk: av.AudioFrame) -> None:
        samples = np.array(chunk.to_ndarray(), dtype=np.float32, copy=True)  # channels x n
        n = samples.shape[1]
        first = round((self.next_start or Fraction(0)) * self.rate)  # index from the origin
        if self.mute_all:
            samples[:] = 0.0
            self.report.muted_s += n / self.rate
        else:
            for mode in (AudioMode.mute, AudioMode.bleep):  # bleeps last: they win
                for start, end, span_mode in self.spans:
                    if span_mode is not mode:
                        continue
                    a = max(0, math.floor(start * self.rate) - first)
                    b = min(n, math.ceil(end * self.rate) - first)
                    if a >= b:
                        continue
                    if mode is AudioMode.mute:
                        samples[:, a:b] = 0.0
                        self.report.muted_s += (b - a) / self.rate
                    else:
                        t = np.arange(first + a, first + b, dtype=np.float64) / self.rate
                        tone = BLEEP_AMPLITUDE * np.sin(2 * np.pi * BLEEP_HZ * t)
                        samples[:, a:b] = tone.astype(np.float32)
                        self.report.bleeped_s += (b - a) / self.rate
        edited = av.AudioFrame.from_ndarray(samples, format="fltp", layout=chunk.layout.name)
        edited.sample_rate = self.rate
        edited.pts, edited.time_base = chunk.pts, chunk.time_base
        self.next_start = (self.next_start or Fraction(0)) + Fraction(n, self.rate)
        self.out.mux(self.aout.encode(edited))


def boxes_by_frame(plan: RedactionPlan) -> Callable[[int], list[Box]]:
    """A lookup `frame -> boxes to redact` for the plan's included tracks and manual
    boxes, each grown by the plan's mask scale."""
    index: dict[int, list[Box]] = {}
    for track in plan.included_tracks():
        for row in track.boxes:
            index.setdefault(row.frame, []).append(row.box)
    manual = sorted(plan.manual, key=lambda m: m.first_frame)
    factor = plan.settings.mask_scale_percent / 100

    def lookup(frame: int) -> list[Box]:
        boxes = list(index.get(frame, ()))
        for item in manual:
            if item.first_frame > frame:
                break
            box = item.box_at(frame)
            if box is not None:
                boxes.append(box)
        return [_scaled(b, factor) for b in boxes] if factor != 1 else boxes

    return lookup


def _scaled(box: Box, factor: float) -> Box:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)
