"""Quality control of a rendered redaction: which faces can still be seen in it?

`qc_scan` runs the face detector on every frame of an output at a lower threshold than
redaction uses (`QC_THRESHOLD`, half the default), links the detections into tracks and
reports each face still visible as a `Finding`: the frames it is seen in (consecutive
detections of one track, gaps of up to `merge_gap` frames merged), when, where (its
largest box) and how sure the detector is. Findings are for a person to resolve (fix the
plan and render again, or accept with a reason, e.g. the officer kept visible on
purpose); this module only finds them.

At a low threshold CenterFace also fires on the smooth oval a blur leaves (scores up to
about 0.2 were seen), so a detection counts only when its box still holds detail: the
standard deviation of its grey levels minus a Gaussian blur of 1/8 of the box (the eyes,
nose, mouth and edges that identify a face) must reach `QC_MIN_DETAIL`. Measured on the
test clips, blurred faces stay under 3 grey levels (what H.264 leaves), while every
detection on a visible face, partly hidden or smeared ones included, has 11 or more.
Pass ``min_detail=0`` to count every detection. Pixelated faces keep block edges, so the
detector can fire on a mosaic now and then; such findings show a mosaic when looked at.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import cv2
import numpy as np
import numpy.typing as npt

from bodycam.redaction.analyse import detected_frames
from bodycam.redaction.detect import Detection, Detector, DetectorError, make_detector
from bodycam.redaction.engine import RedactionError, video_stream
from bodycam.redaction.track import Box, Tracker

__all__ = ["QC_MIN_DETAIL", "QC_THRESHOLD", "Finding", "detail", "qc_scan"]

RGBFrame = npt.NDArray[np.uint8]

QC_THRESHOLD: Final = 0.1
"""Default detection threshold of the quality-control pass (redaction uses 0.2)."""

QC_MIN_DETAIL: Final = 4.0
"""A detection whose box has less fine detail than this (grey levels) is a blurred blob."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Finding:
    """A face still visible in an output, over a range of frames (both ends included)."""

    track_id: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    box: tuple[int, int, int, int]  # the largest box seen, frame pixels, rounded outwards
    box_frame: int
    score: float  # the highest detection score
    detections: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "track_id": self.track_id,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "box": list(self.box),
            "box_frame": self.box_frame,
            "score": round(self.score, 4),
            "detections": self.detections,
        }

    def describe(self) -> str:
        """One line for people."""
        x1, y1, x2, y2 = self.box
        frames = (
            f"frame {self.start_frame}"
            if self.start_frame == self.end_frame
            else f"frames {self.start_frame}-{self.end_frame}"
        )
        return (
            f"face {self.track_id}: {frames} ({self.start_s:.2f}-{self.end_s:.2f} s), "
            f"box {x1},{y1}-{x2},{y2} at frame {self.box_frame}, score {self.score:.2f}, "
            f"{self.detections} detection(s)"
        )


@dataclass
class _Run:
    track_id: int
    start: int
    end: int
    best: Detection
    best_frame: int
    score: float
    detections: int


def qc_scan(
    path: Path,
    threshold: float = QC_THRESHOLD,
    *,
    scale: tuple[int, int] = (640, 360),
    detector: Detector | None = None,
    merge_gap: int = 5,
    min_detail: float = QC_MIN_DETAIL,
    progress: Progress | None = None,
) -> list[Finding]:
    """Every face still visible in `path`, by first frame. Raises `RedactionError`.

    With `detector` given, its own threshold and size apply instead of `threshold` and
    `scale`. Detections with less than `min_detail` of fine detail are not counted.
    """
    if not path.is_file():
        raise RedactionError(f"{path.name} does not exist.")
    if merge_gap < 0:
        raise RedactionError(f"merge_gap must be 0 or more, not {merge_gap}.")
    if detector is None:
        if not 0.0 < threshold < 1.0:
            raise RedactionError(f"The threshold must be between 0 and 1, not {threshold}.")
        try:
            detector = make_detector("centerface", input_size=scale, threshold=threshold)
        except DetectorError as exc:
            raise RedactionError(str(exc)) from None
    tracker = Tracker(max_gap=merge_gap, reconnect=merge_gap + 1)
    open_runs: dict[int, _Run] = {}
    closed: list[_Run] = []
    for item in detected_frames(path, detector, progress=progress):
        seen = [d for d in item.detections if detail(item.rgb, d.box) >= min_detail]
        for track_id, det in tracker.update(item.index, seen):
            run = open_runs.get(track_id)
            if run is not None and item.index - run.end > merge_gap + 1:
                closed.append(run)
                run = None
            if run is None:
                open_runs[track_id] = _Run(track_id, item.index, item.index, det, item.index, 0, 0)
                run = open_runs[track_id]
            run.end = item.index
            run.detections += 1
            run.score = max(run.score, det.score)
            if _area(det) > _area(run.best):
                run.best, run.best_frame = det, item.index
        # Let the tracker drop what it no longer needs (memory stays flat).
        if item.index >= tracker.lookahead:
            tracker.boxes_at(item.index - tracker.lookahead)
    closed.extend(open_runs.values())
    with av.open(str(path)) as inp:  # it decoded: the input was checked
        vin = video_stream(inp)
        rate = (vin.average_rate or vin.guessed_rate) if vin is not None else None
    fps = rate or Fraction(30)
    findings = [_finding(run, fps) for run in closed]
    return sorted(findings, key=lambda f: (f.start_frame, f.track_id))


def detail(rgb: RGBFrame, box: Box) -> float:
    """Standard deviation of the fine detail (grey minus a blur of 1/8 of the box) inside
    `box`, in grey levels: near 0 for a blurred or solid region, 10 to 40 for a face."""
    height, width = rgb.shape[:2]
    x1, y1 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x2, y2 = min(width, math.ceil(box[2])), min(height, math.ceil(box[3]))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return 0.0
    grey = rgb[y1:y2, x1:x2].astype(np.float32).mean(axis=2)
    sigma = max(1.0, max(grey.shape) / 8)
    smooth = cv2.GaussianBlur(grey, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return float(np.std(grey - smooth))


def _area(det: Detection) -> float:
    return (det.x2 - det.x1) * (det.y2 - det.y1)


def _finding(run: _Run, fps: Fraction) -> Finding:
    b = run.best
    return Finding(
        track_id=run.track_id,
        start_frame=run.start,
        end_frame=run.end,
        start_s=float(run.start / fps),
        end_s=float((run.end + 1) / fps),
        box=(math.floor(b.x1), math.floor(b.y1), math.ceil(b.x2), math.ceil(b.y2)),
        box_frame=run.best_frame,
        score=run.score,
        detections=run.detections,
    )
