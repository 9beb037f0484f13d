"""The analysis pass: detect and track, render nothing. What a reviewer decides on.

`analyse_video` decodes a video once, runs the detector (in a worker thread, as the
engine does) and the tracker, and returns every track with its per-frame redaction boxes
(padded, bridged and extended exactly as `redact auto` would draw them), its detection
count and scores, and a small JPEG thumbnail of its best detection (the largest box among
those scored at least 0.5, else the largest). Frames are not kept: memory holds the
tracks' boxes (a few numbers per frame a face is seen) and one thumbnail per track.

`Analysis.draft_plan()` turns the result into a `RedactionPlan` that includes every track,
for a reviewer to edit; `Analysis.to_dict()` is the JSON the CLI writes.
"""

from __future__ import annotations

import base64
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import cv2
import numpy as np
import numpy.typing as npt

from bodycam.evidence.probe import ProbeError, probe
from bodycam.redaction.detect import Detection, Detector, DetectorError, make_detector
from bodycam.redaction.engine import (
    ENGINE_VERSION,
    RedactionError,
    RedactOptions,
    decode_packet,
    video_stream,
)
from bodycam.redaction.plan import (
    FrameBox,
    PlanSettings,
    ReasonCode,
    RedactionPlan,
    TrackDecision,
    VideoFacts,
)
from bodycam.redaction.styles import Style
from bodycam.redaction.track import Box, Tracker
from bodycam.storage.interface import file_sha256

__all__ = [
    "THUMBNAIL_SIZE",
    "AnalysedTrack",
    "Analysis",
    "DetectedFrame",
    "analyse_video",
    "detected_frames",
    "file_sha256",
]

RGBFrame = npt.NDArray[np.uint8]
Progress = Callable[[int, int], None]

THUMBNAIL_SIZE: Final = 128
"""Thumbnails fit in this many pixels each way (never scaled up)."""

_MAX_PENDING: Final = 3
_CONFIDENT: Final = 0.5


@dataclass(frozen=True)
class DetectedFrame:
    """One decoded frame and its detections (empty when it was not run through the
    detector: see `detect_every`)."""

    index: int
    rgb: RGBFrame
    detections: list[Detection]
    detected: bool


def detected_frames(
    src: Path,
    detector: Detector,
    *,
    detect_every: int = 1,
    progress: Progress | None = None,
) -> Iterator[DetectedFrame]:
    """Decode `src` and yield its frames in order with their detections.

    The detector runs in a worker thread (ONNX Runtime releases the GIL) while this one
    decodes; at most a few frames wait, so memory stays flat. Raises `RedactionError`.
    """
    if detect_every < 1:
        raise RedactionError("detect_every must be at least 1.")
    try:
        info = probe(src, deep=False)
    except ProbeError as exc:
        raise RedactionError(str(exc)) from None
    total = info.frame_count
    pending: deque[tuple[int, RGBFrame, Future[list[Detection]] | None]] = deque()
    done = 0
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect")
    try:
        with av.open(str(src)) as inp:
            vin = video_stream(inp)
            if vin is None:
                raise RedactionError(f"{src.name} has no video stream.")
            vin.thread_type = "AUTO"
            index = 0
            for packet in inp.demux(vin):
                for vframe in decode_packet(packet, src):
                    assert isinstance(vframe, av.VideoFrame)
                    rgb = np.asarray(vframe.to_ndarray(format="rgb24"), dtype=np.uint8)
                    job = pool.submit(detector.detect, rgb) if index % detect_every == 0 else None
                    pending.append((index, rgb, job))
                    index += 1
                    while pending and (
                        pending[0][2] is None or pending[0][2].done() or len(pending) > _MAX_PENDING
                    ):
                        yield _ready(pending.popleft())
                        done += 1
                        if progress is not None:
                            progress(done, max(total, done))
            while pending:
                yield _ready(pending.popleft())
                done += 1
                if progress is not None:
                    progress(done, max(total, done))
    except av.error.FFmpegError as exc:
        why = exc.strerror or type(exc).__name__
        raise RedactionError(f"{src.name} could not be read ({why}).") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if done == 0:
        raise RedactionError(f"{src.name} has no video frame that decodes.")


def _ready(item: tuple[int, RGBFrame, Future[list[Detection]] | None]) -> DetectedFrame:
    index, rgb, job = item
    if job is None:
        return DetectedFrame(index, rgb, [], detected=False)
    return DetectedFrame(index, rgb, job.result(), detected=True)


@dataclass(frozen=True)
class AnalysedTrack:
    """One track: its redaction boxes per frame, scores, and a thumbnail to recognise it."""

    track_id: int
    label: str
    boxes: tuple[FrameBox, ...]
    detections: int
    mean_score: float
    max_score: float
    thumbnail: bytes  # JPEG
    thumbnail_frame: int

    @property
    def first_frame(self) -> int:
        """The first frame with a box."""
        return self.boxes[0].frame

    @property
    def last_frame(self) -> int:
        """The last frame with a box (included)."""
        return self.boxes[-1].frame


@dataclass(frozen=True)
class Analysis:
    """The result of `analyse_video`: the video's facts and its tracks."""

    source: Path
    video: VideoFacts
    tracks: tuple[AnalysedTrack, ...]
    detector: str
    scale: tuple[int, int]
    threshold: float
    seconds: float = 0.0
    engine: str = ENGINE_VERSION

    @property
    def duration_s(self) -> float:
        """Length of the video in seconds (frames / fps)."""
        return float(self.video.frames / self.video.fps)

    def draft_plan(
        self,
        *,
        include: bool = True,
        reason: ReasonCode = ReasonCode.other,
        style: Style = Style.blur,
    ) -> RedactionPlan:
        """A plan with every track included (or excluded), for a reviewer to edit."""
        note = "suggested by the analysis; not reviewed yet"
        return RedactionPlan(
            video=self.video,
            settings=PlanSettings(style=style, detect_scale=self.scale),
            tracks=tuple(
                TrackDecision(
                    t.track_id,
                    t.boxes,
                    include,
                    reason if include else None,
                    note,
                    t.label,
                )
                for t in self.tracks
            ),
        )

    def to_dict(self, thumbnails: Path | None = None) -> dict[str, Any]:
        """JSON-ready data. Thumbnails are written into the folder `thumbnails` as
        ``track-<id>.jpg`` (and named), or inlined as base64 when it is None."""
        fps = self.video.fps
        rows = []
        for t in self.tracks:
            row: dict[str, Any] = {
                "id": t.track_id,
                "label": t.label,
                "first_frame": t.first_frame,
                "last_frame": t.last_frame,
                "start_s": round(float(t.first_frame / fps), 3),
                "end_s": round(float((t.last_frame + 1) / fps), 3),
                "detections": t.detections,
                "mean_score": round(t.mean_score, 4),
                "max_score": round(t.max_score, 4),
                "thumbnail_frame": t.thumbnail_frame,
                "boxes": [b.to_row() for b in t.boxes],
            }
            if thumbnails is None:
                row["thumbnail_jpeg_base64"] = base64.b64encode(t.thumbnail).decode("ascii")
            else:
                name = f"track-{t.track_id}.jpg"
                (thumbnails / name).write_bytes(t.thumbnail)
                row["thumbnail"] = name
            rows.append(row)
        return {
            "source": self.source.name,
            "engine": self.engine,
            "detector": self.detector,
            "scale": list(self.scale),
            "threshold": self.threshold,
            "video": {
                "width": self.video.width,
                "height": self.video.height,
                "frames": self.video.frames,
                "fps": [self.video.fps_num, self.video.fps_den],
                "sha256": self.video.sha256,
                "duration_s": round(self.duration_s, 3),
            },
            "seconds": round(self.seconds, 3),
            "tracks": rows,
        }


@dataclass
class _Growing:
    label: str
    boxes: list[FrameBox] = field(default_factory=list)
    detections: int = 0
    score_sum: float = 0.0
    max_score: float = 0.0
    best: tuple[bool, float] = (False, -1.0)
    crop: RGBFrame | None = None
    crop_frame: int = 0


def analyse_video(
    src: Path,
    options: RedactOptions | None = None,
    progress: Progress | None = None,
    *,
    detector: Detector | None = None,
    hash_source: bool = True,
) -> Analysis:
    """Detect and track every face of `src` (nothing is drawn). Raises `RedactionError`.

    `options` are `redact auto`'s (detector, scale, threshold, detect_every and the
    tracker's settings; the drawing and encoding ones are unused). With `hash_source` the
    result names the file's SHA-256, so a plan made from it fits that file only.
    """
    opts = options or RedactOptions()
    if not src.is_file():
        raise RedactionError(f"{src.name} does not exist.")
    if detector is None:
        try:
            detector = make_detector(opts.detector, input_size=opts.scale, threshold=opts.threshold)
        except DetectorError as exc:
            raise RedactionError(str(exc)) from None
    started = time.perf_counter()
    tracker = Tracker(
        max_gap=opts.max_gap, extend=opts.extend, margin=opts.margin, reconnect=opts.reconnect
    )
    growing: dict[int, _Growing] = {}
    emitted = 0  # frames whose boxes are final and recorded
    frames = 0
    size = (0, 0)

    def emit_upto(last: int) -> None:
        nonlocal emitted
        while emitted <= last:
            for track_id, box in tracker.boxes_at(emitted):
                growing[track_id].boxes.append(FrameBox.around(emitted, box))
            emitted += 1

    for item in detected_frames(src, detector, detect_every=opts.detect_every, progress=progress):
        frames = item.index + 1
        size = (int(item.rgb.shape[1]), int(item.rgb.shape[0]))
        if not item.detected:
            continue
        for track_id, det in tracker.update(item.index, item.detections):
            grow = growing.setdefault(track_id, _Growing(det.label))
            grow.detections += 1
            grow.score_sum += det.score
            grow.max_score = max(grow.max_score, det.score)
            key = (det.score >= _CONFIDENT, (det.x2 - det.x1) * (det.y2 - det.y1))
            if key > grow.best:
                grow.best, grow.crop, grow.crop_frame = key, _crop(item.rgb, det.box), item.index
        emit_upto(item.index - tracker.lookahead)
    tracker.finish()
    emit_upto(frames - 1)

    with av.open(str(src)) as inp:
        vin = video_stream(inp)
        assert vin is not None  # detected_frames checked
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    facts = VideoFacts(
        width=size[0],
        height=size[1],
        frames=frames,
        fps_num=rate.numerator,
        fps_den=rate.denominator,
        sha256=file_sha256(src) if hash_source else None,
    )
    tracks = tuple(
        AnalysedTrack(
            track_id=track_id,
            label=grow.label,
            boxes=tuple(grow.boxes),
            detections=grow.detections,
            mean_score=grow.score_sum / grow.detections,
            max_score=grow.max_score,
            thumbnail=_jpeg(grow.crop),
            thumbnail_frame=grow.crop_frame,
        )
        for track_id, grow in sorted(growing.items())
        if grow.boxes and grow.crop is not None
    )
    scale = getattr(detector, "input_size", opts.scale)
    threshold = getattr(detector, "threshold", opts.threshold)
    return Analysis(
        source=src,
        video=facts,
        tracks=tracks,
        detector=detector.version,
        scale=(int(scale[0]), int(scale[1])),
        threshold=float(threshold),
        seconds=time.perf_counter() - started,
    )


def _crop(rgb: RGBFrame, box: Box) -> RGBFrame:
    """The detection box grown by a quarter each side, clipped, fitted in the thumbnail."""
    height, width = rgb.shape[:2]
    dx, dy = (box[2] - box[0]) / 4, (box[3] - box[1]) / 4
    x1, y1 = max(0, int(box[0] - dx)), max(0, int(box[1] - dy))
    x2, y2 = min(width, int(box[2] + dx) + 1), min(height, int(box[3] + dy) + 1)
    if x2 <= x1 or y2 <= y1:
        x1, y1, x2, y2 = 0, 0, width, height
    crop = rgb[y1:y2, x1:x2]
    factor = min(1.0, THUMBNAIL_SIZE / max(x2 - x1, y2 - y1))
    if factor < 1.0:
        w, h = max(1, round((x2 - x1) * factor)), max(1, round((y2 - y1) * factor))
        crop = np.asarray(cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA))
    return np.ascontiguousarray(crop)


def _jpeg(crop: RGBFrame | None) -> bytes:
    if crop is None:
        return b""
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    if not ok:
        raise RedactionError("A track thumbnail could not be encoded as JPEG.")
    return bytes(data.tobytes())
