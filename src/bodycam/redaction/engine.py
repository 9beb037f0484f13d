"""Redact a video file in one streaming pass: decode, detect, track, draw, encode.

Frames wait in a small look-ahead buffer (`Tracker.lookahead` frames, a fraction of a
second) so that a track can be bridged over frames the detector missed before those
frames are drawn. Nothing else accumulates, so memory is flat whatever the length.

The output is a new MP4: H.264 (libx264, yuv420p) and, unless dropped, the audio (AAC
copied as is, anything else re-encoded to AAC). No metadata of the input is carried over
(no GPS, device ids or creation time); the only tag written is a comment naming the
redaction engine and the detector. The file is written next to the destination and
renamed into place at the end, so the destination never holds a partial file.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.packet import Packet
from av.stream import Disposition
from av.video.stream import VideoStream

from bodycam.evidence.probe import ProbeError, probe
from bodycam.redaction.detect import Detection, Detector, DetectorError, make_detector
from bodycam.redaction.render import Style, redact_frame
from bodycam.redaction.track import Tracker, TrackSummary

__all__ = [
    "ENGINE_VERSION",
    "RedactOptions",
    "RedactionError",
    "RedactionReport",
    "add_video_output",
    "atomic_output",
    "check_paths",
    "decode_packet",
    "open_output",
    "redact_video",
    "video_stream",
]

ENGINE_VERSION: Final = "bodycam-redact 0.1"
"""Named in every output's comment tag and report: which engine made a derivative."""

RGBFrame = npt.NDArray[np.uint8]
_MAX_PENDING = 3
Progress = Callable[[int, int], None]


class RedactionError(ValueError):
    """A redaction cannot be done; the message is one sentence naming the file."""


@dataclass(frozen=True)
class RedactOptions:
    """How `redact_video` detects, tracks, draws and encodes."""

    style: Style = Style.blur
    scale: tuple[int, int] = (640, 360)  # detection size, fitted keeping the aspect
    threshold: float = 0.2
    detector: str = "centerface"
    detect_every: int = 1  # run the detector on every n-th frame, track in between
    audio: bool = True
    max_gap: int = 10  # frames a track is bridged over when the detector misses
    extend: int = 10  # frames a track is extended before and after its detections
    reconnect: int = 45  # frames a lost track can still be picked up again (same id)
    margin: float = 0.15  # padding on each side, as a fraction of the box
    preset: str = "veryfast"  # libx264
    crf: int = 20


@dataclass
class RedactionReport:
    """What one run did: frames, tracks (one per reviewer decision), speed, audio."""

    source: Path
    output: Path
    frames: int = 0
    redacted_frames: int = 0
    seconds: float = 0.0
    duration_s: float = 0.0
    audio: str = "none"  # "copied", "re-encoded", "dropped" or "none"
    engine: str = ENGINE_VERSION
    detector: str = ""
    tracks: list[TrackSummary] = field(default_factory=list)

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def tracks_per_minute(self) -> float:
        """Review decisions (tracks) per minute of video."""
        return 60 * len(self.tracks) / self.duration_s if self.duration_s > 0 else 0.0


def video_stream(container: av.container.InputContainer) -> VideoStream | None:
    """The container's first real video stream (not an attached cover picture)."""
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    return None


def check_paths(src: Path, dst: Path) -> None:
    """Refuse an output that is the input, in a missing folder, or not an MP4."""
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise RedactionError(f"{dst.name} is the input file; choose another output path.")
    if not dst.parent.is_dir():
        raise RedactionError(f"{dst.name} cannot be written: folder {dst.parent} does not exist.")
    if dst.suffix.lower() not in (".mp4", ".m4v"):
        raise RedactionError(f"{dst.name} must be an .mp4 file (redactions are written as MP4).")


@contextmanager
def atomic_output(src: Path, dst: Path) -> Iterator[Path]:
    """Yield a temporary path beside `dst`; on success it is synced and renamed to `dst`.

    On any error the temporary file is removed, so `dst` never holds a partial file; an
    FFmpeg error becomes a `RedactionError` naming `src`.
    """
    tmp = dst.with_name(f".{dst.name}.partial")
    try:
        yield tmp
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
    except av.error.FFmpegError as exc:
        why = exc.strerror or type(exc).__name__
        raise RedactionError(f"{src.name} could not be redacted ({why}).") from None
    finally:
        tmp.unlink(missing_ok=True)


def open_output(tmp: Path, comment: str) -> av.container.OutputContainer:
    """A new MP4 for a derivative. No metadata of any input is carried over (no GPS,
    device ids, creation time or comments): the only tag written is `comment`."""
    out = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
    out.metadata["comment"] = comment
    return out


def add_video_output(
    out: av.container.OutputContainer, vin: VideoStream, preset: str, crf: int
) -> VideoStream:
    """An H.264 (libx264, yuv420p) stream in `out` matching `vin`'s rate and time base,
    its size rounded down to even numbers."""
    width, height = vin.codec_context.width & ~1, vin.codec_context.height & ~1
    if width < 2 or height < 2:
        raise RedactionError("The video picture is too small to encode.")
    tb: Fraction = vin.time_base or Fraction(1, 90_000)
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    vout = out.add_stream("libx264", rate=rate)
    vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
    vout.time_base = tb
    vout.codec_context.time_base = tb
    vout.options = {"preset": preset, "crf": str(crf)}
    return vout


def redact_video(
    src: Path,
    dst: Path,
    options: RedactOptions | None = None,
    *,
    detector: Detector | None = None,
    progress: Progress | None = None,
) -> RedactionReport:
    """Write `dst`: `src` with every tracked face redacted. Raises `RedactionError`."""
    opts = options or RedactOptions()
    if opts.detect_every < 1:
        raise RedactionError("detect_every must be at least 1.")
    check_paths(src, dst)
    try:
        info = probe(src, deep=False)
    except ProbeError as exc:
        raise RedactionError(str(exc)) from None
    if detector is None:
        try:
            detector = make_detector(opts.detector, input_size=opts.scale, threshold=opts.threshold)
        except DetectorError as exc:
            raise RedactionError(str(exc)) from None
    report = RedactionReport(source=src, output=dst, detector=detector.version)
    report.duration_s = info.duration_s
    started = time.perf_counter()
    with atomic_output(src, dst) as tmp:
        _run(src, tmp, opts, detector, report, info.frame_count, progress)
    report.seconds = time.perf_counter() - started
    return report


def _run(
    src: Path,
    tmp: Path,
    opts: RedactOptions,
    detector: Detector,
    report: RedactionReport,
    total: int,
    progress: Progress | None,
) -> None:
    tracker = Tracker(
        max_gap=opts.max_gap, extend=opts.extend, margin=opts.margin, reconnect=opts.reconnect
    )
    with av.open(str(src)) as inp:
        vin = video_stream(inp)
        if vin is None:
            raise RedactionError(f"{src.name} has no video stream.")
        ain: AudioStream | None = inp.streams.audio[0] if inp.streams.audio else None
        vin.thread_type = "AUTO"
        if vin.codec_context.width < 2 or vin.codec_context.height < 2:
            raise RedactionError(f"{src.name} has a video picture too small to encode.")
        tb: Fraction = vin.time_base or Fraction(1, 90_000)
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        comment = f"redacted by {ENGINE_VERSION}; detector {detector.version}"
        with open_output(tmp, comment) as out:
            vout = add_video_output(out, vin, opts.preset, opts.crf)
            aout, resampler = None, None
            if ain is not None and not opts.audio:
                report.audio = "dropped"
            elif ain is not None and ain.codec_context.name == "aac":
                aout = out.add_stream_from_template(ain)
                aout.metadata.clear()
                report.audio = "copied"
            elif ain is not None:
                aout = out.add_stream("aac", rate=ain.rate or 48_000)
                resampler = AudioResampler(format="fltp", layout=aout.layout, rate=aout.rate)
                report.audio = "re-encoded"

            state = _Pass(tracker, detector, opts, report, vout, out, tb, rate, total, progress)
            with state:
                _pump(inp, vin, ain, aout, resampler, out, state, src)
            out.mux(vout.encode(None))
            if resampler is not None and aout is not None:
                for chunk in resampler.resample(None):
                    out.mux(aout.encode(chunk))
                out.mux(aout.encode(None))
        if report.frames == 0:
            raise RedactionError(f"{src.name} has no video frame that decodes.")
        report.tracks = tracker.summaries()


def _pump(
    inp: av.container.InputContainer,
    vin: VideoStream,
    ain: AudioStream | None,
    aout: AudioStream | None,
    resampler: AudioResampler | None,
    out: av.container.OutputContainer,
    state: _Pass,
    src: Path,
) -> None:
    """Demux the input: video frames to `state`, audio copied or re-encoded to `out`."""
    streams = (vin,) if ain is None or aout is None else (vin, ain)
    for packet in inp.demux(*streams):
        if packet.stream is vin:
            for vframe in decode_packet(packet, src):
                assert isinstance(vframe, av.VideoFrame)
                state.take(np.asarray(vframe.to_ndarray(format="rgb24")), vframe.pts)
        elif packet.dts is not None and aout is not None:
            if resampler is None:
                packet.stream = aout
                out.mux(packet)
            else:
                for aframe in decode_packet(packet, src):
                    assert isinstance(aframe, av.AudioFrame)
                    for chunk in resampler.resample(aframe):
                        out.mux(aout.encode(chunk))
    state.finish()


class _Pass:
    """The video half of one pass: detect, buffer, then draw and encode in order.

    The detector runs in a worker thread (ONNX Runtime releases the GIL) while this
    thread decodes, draws and encodes: on two cores the two halves overlap. At most
    `_MAX_PENDING` frames wait for detection, so memory stays bounded.
    """

    def __init__(
        self,
        tracker: Tracker,
        detector: Detector,
        opts: RedactOptions,
        report: RedactionReport,
        vout: VideoStream,
        out: av.container.OutputContainer,
        tb: Fraction,
        rate: Fraction,
        total: int,
        progress: Progress | None,
    ) -> None:
        self.tracker, self.detector, self.opts, self.report = tracker, detector, opts, report
        self.vout, self.out, self.tb, self.rate = vout, out, tb, rate
        self.total, self.progress = total, progress
        self.buffer: deque[tuple[int, RGBFrame, int | None]] = deque()
        self.index = 0
        self.detected_upto = -1
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect")
        self.pending: deque[tuple[int, Future[list[Detection]]]] = deque()

    def __enter__(self) -> _Pass:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def take(self, rgb: RGBFrame, pts: int | None) -> None:
        """One decoded frame: queue its detection (every n-th frame), buffer it, and draw
        and encode the frames whose boxes are final."""
        rgb = np.ascontiguousarray(rgb[: self.vout.height, : self.vout.width])
        if self.index % self.opts.detect_every == 0:
            self.pending.append((self.index, self.pool.submit(self.detector.detect, rgb)))
        self.buffer.append((self.index, rgb, pts))
        self.index += 1
        self._collect(wait=False)
        self.emit(final=False)

    def finish(self) -> None:
        """The input is done: wait for the last detections and emit every frame."""
        self._collect(wait=True)
        self.tracker.finish()
        self.emit(final=True)

    def _collect(self, *, wait: bool) -> None:
        """Feed finished detections to the tracker in frame order (waiting when too many
        are queued, or for all of them with `wait`)."""
        while self.pending and (
            wait or self.pending[0][1].done() or len(self.pending) > _MAX_PENDING
        ):
            index, future = self.pending.popleft()
            self.tracker.update(index, future.result())
            self.detected_upto = index

    def emit(self, *, final: bool) -> None:
        """Draw and encode the buffered frames whose boxes are final (all, when `final`)."""
        lookahead = self.tracker.lookahead
        while self.buffer and (final or self.buffer[0][0] + lookahead <= self.detected_upto):
            index, rgb, pts = self.buffer.popleft()
            boxes = [box for _, box in self.tracker.boxes_at(index)]
            if boxes:
                redact_frame(rgb, boxes, self.opts.style)
                self.report.redacted_frames += 1
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = pts if pts is not None else round(index / (self.rate * self.tb))
            frame.time_base = self.tb
            self.out.mux(self.vout.encode(frame))
            self.report.frames += 1
            if self.progress is not None:
                self.progress(self.report.frames, max(self.total, self.report.frames))


def decode_packet(packet: Packet[Any], src: Path) -> list[av.VideoFrame | av.AudioFrame]:
    """The frames of one packet (the empty packet at the end of a stream flushes)."""
    try:
        return list(packet.decode())
    except av.error.FFmpegError as exc:
        at = float(packet.pts * packet.time_base) if packet.pts and packet.time_base else 0.0
        why = exc.strerror or type(exc).__name__
        raise RedactionError(
            f"{src.name} is corrupt: it cannot be decoded near {at:.1f} s ({why})."
        ) from None
