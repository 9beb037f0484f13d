"""Link detections across frames into tracks, and say which boxes to redact in each frame.

The tracker works on a stream with a small look-ahead: frame `f` is asked for
(`boxes_at(f)`) only after detections up to `f + lookahead` are in. That lets it

* bridge a gap of up to `max_gap` frames in which the detector missed a face, by
  interpolating the box between the detections on either side;
* extrapolate a track `extend` frames before its first and after its last detection
  (its centre at constant velocity, its size kept), since a face is usually visible a
  little before it is first detected and after it is last detected (turning, hidden);
* smooth sizes: grow every box about its centre to the largest size the track had within a
  few frames (a face partly hidden or cut by the frame edge gets a smaller box);
* pad every box by `margin` of its size on each side, growing by `drift` per frame away
  from a real detection, and take the union with the boxes of the neighbouring frames.

Association is IoU with a constant-velocity prediction, falling back to centre distance
for small fast boxes, solved as an assignment problem (`linear_sum_assignment`). A track
lost for longer than `max_gap` (a person hidden behind something) can still be picked up
again for `reconnect` frames, near where its motion leads and at a similar size, so it
keeps its id; the frames deep inside such a gap are not redacted (nobody is visible
there that the detector saw), only `extend` frames at either side. Every track has an
id: one track is one decision (redact or keep) for a reviewer.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from bodycam.redaction.detect import Detection

__all__ = ["Box", "TrackSummary", "Tracker", "iou", "pad_box"]

Box = tuple[float, float, float, float]
_NO_MATCH = 1e6


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def pad_box(box: Box, fraction: float) -> Box:
    """`box` grown by `fraction` of its width and height on every side."""
    dx = (box[2] - box[0]) * fraction
    dy = (box[3] - box[1]) * fraction
    return (box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy)


def _union(boxes: Iterable[Box]) -> Box:
    xs1, ys1, xs2, ys2 = zip(*boxes, strict=True)
    return (min(xs1), min(ys1), max(xs2), max(ys2))


def _centre_distance(a: Box, b: Box) -> float:
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))


def _lerp(a: Box, b: Box, t: float) -> Box:
    return (
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
        a[3] + (b[3] - a[3]) * t,
    )


def _shift(box: Box, velocity: Box, frames: float) -> Box:
    return (
        box[0] + velocity[0] * frames,
        box[1] + velocity[1] * frames,
        box[2] + velocity[2] * frames,
        box[3] + velocity[3] * frames,
    )


_END_WINDOW = 6
"""Detections used to extrapolate a track's end: its motion and its full size."""


def _extrapolate(frames: list[int], boxes: list[Box], frame: int) -> Box:
    """The box at `frame` beyond the detections: centre on a line fitted to their centres,
    size the largest seen (a face being hidden shrinks its box: the redaction must not)."""
    centres = np.array([((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in boxes])
    nearest = 0 if frame < frames[0] else -1
    cx, cy = centres[nearest]
    if len(frames) >= 3:
        t = np.asarray(frames, dtype=np.float64)
        slope_x = float(np.polyfit(t, centres[:, 0], 1)[0])
        slope_y = float(np.polyfit(t, centres[:, 1], 1)[0])
        cx += slope_x * (frame - frames[nearest])
        cy += slope_y * (frame - frames[nearest])
    elif len(frames) == 2:
        step = frames[1] - frames[0]
        cx += (centres[1, 0] - centres[0, 0]) / step * (frame - frames[nearest])
        cy += (centres[1, 1] - centres[0, 1]) / step * (frame - frames[nearest])
    half_w = max(b[2] - b[0] for b in boxes) / 2
    half_h = max(b[3] - b[1] for b in boxes) / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


@dataclass(frozen=True, slots=True)
class TrackSummary:
    """What a reviewer decides on: one tracked object and where it appears."""

    track_id: int
    label: str
    first_frame: int
    last_frame: int
    detections: int
    max_score: float


@dataclass
class _Track:
    track_id: int
    label: str
    frames: list[int] = field(default_factory=list)  # detection frames, ascending
    boxes: list[Box] = field(default_factory=list)
    velocity: Box = (0.0, 0.0, 0.0, 0.0)  # per frame, for x1, y1, x2, y2
    detections: int = 0
    max_score: float = 0.0
    first_frame: int = 0

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def predict(self, frame: int) -> Box:
        return _shift(self.boxes[-1], self.velocity, frame - self.frames[-1])

    def add(self, frame: int, det: Detection) -> None:
        box = det.box
        if self.frames:
            step = frame - self.frames[-1]
            seen = tuple((n - o) / step for n, o in zip(box, self.boxes[-1], strict=True))
            # Smooth the velocity: single detections jitter by a few pixels.
            self.velocity = tuple(  # type: ignore[assignment]
                0.5 * v + 0.5 * s for v, s in zip(self.velocity, seen, strict=True)
            )
        else:
            self.first_frame = frame
        self.frames.append(frame)
        self.boxes.append(box)
        self.detections += 1
        self.max_score = max(self.max_score, det.score)

    def raw_box(self, frame: int, max_gap: int, extend: int) -> tuple[Box, int] | None:
        """The unpadded box at `frame` and how many frames it is from a detection."""
        i = bisect.bisect_left(self.frames, frame)
        if i < len(self.frames) and self.frames[i] == frame:
            return self.boxes[i], 0
        if 0 < i < len(self.frames):
            before, after = self.frames[i - 1], self.frames[i]
            if after - before > max_gap + 1:  # a long gap (reconnected): extend both ends
                if frame - before <= extend:
                    window = slice(max(0, i - _END_WINDOW), i)
                    box = _extrapolate(self.frames[window], self.boxes[window], frame)
                    return box, frame - before
                if after - frame <= extend:
                    window = slice(i, i + _END_WINDOW)
                    box = _extrapolate(self.frames[window], self.boxes[window], frame)
                    return box, after - frame
                return None
            t = (frame - before) / (after - before)
            return _lerp(self.boxes[i - 1], self.boxes[i], t), min(frame - before, after - frame)
        if i == len(self.frames) and frame - self.frames[-1] <= extend:
            distance = frame - self.frames[-1]
            window = slice(-_END_WINDOW, None)
            return _extrapolate(self.frames[window], self.boxes[window], frame), distance
        if i == 0 and self.frames[0] - frame <= extend:
            distance = self.frames[0] - frame
            window = slice(0, _END_WINDOW)
            return _extrapolate(self.frames[window], self.boxes[window], frame), distance
        return None

    def full_size(self, box: Box, frame: int) -> Box:
        """`box` grown about its centre to the largest width and height the track had
        within `_END_WINDOW` frames: a face partly hidden or cut by the frame edge gets a
        smaller box from the detector, but its hidden part may show a frame later."""
        lo = bisect.bisect_left(self.frames, frame - _END_WINDOW)
        hi = bisect.bisect_right(self.frames, frame + _END_WINDOW)
        near = self.boxes[lo:hi]
        if not near:
            return box
        half_w = max(max(b[2] - b[0] for b in near), box[2] - box[0]) / 2
        half_h = max(max(b[3] - b[1] for b in near), box[3] - box[1]) / 2
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def summary(self) -> TrackSummary:
        return TrackSummary(
            self.track_id,
            self.label,
            self.first_frame,
            self.last_frame,
            self.detections,
            round(self.max_score, 4),
        )


class Tracker:
    """Streaming tracker: `update` each detected frame in order, then `boxes_at` later frames.

    `boxes_at(f)` is exact once `update` has seen frame `f + lookahead` (or `finish` was
    called). Memory stays bounded: old detections and ended tracks are dropped as frames
    are asked for; ended tracks are kept as `TrackSummary` rows.
    """

    def __init__(
        self,
        *,
        max_gap: int = 10,
        extend: int = 10,
        margin: float = 0.15,
        drift: float = 0.04,
        min_iou: float = 0.1,
        max_centre_shift: float = 0.75,
        temporal_union: int = 1,
        reconnect: int = 45,
    ) -> None:
        self.max_gap = max_gap
        self.extend = extend
        self.margin = margin
        self.drift = drift
        self.min_iou = min_iou
        self.max_centre_shift = max_centre_shift
        self.temporal_union = temporal_union
        self.reconnect = max(reconnect, max_gap + 1)
        self._tracks: list[_Track] = []
        self._ended: list[TrackSummary] = []
        self._next_id = 1
        self._last_update = -1
        self._finished = False

    @property
    def lookahead(self) -> int:
        """How many frames after `f` must be detected before `boxes_at(f)` is final."""
        return max(self.max_gap + 1, self.extend) + self.temporal_union

    def update(self, frame: int, detections: Sequence[Detection]) -> list[tuple[int, Detection]]:
        """Add the detections of `frame` (frames come in increasing order; gaps allowed);
        return (track id, detection) for each, in the order given."""
        if frame <= self._last_update:
            raise ValueError(f"frame {frame} comes after frame {self._last_update}.")
        self._last_update = frame
        live = [t for t in self._tracks if frame - t.last_frame <= self.reconnect]
        cost = np.full((len(live), len(detections)), _NO_MATCH)
        for r, track in enumerate(live):
            lost = frame - track.last_frame
            recent = lost <= self.max_gap + 1
            if recent:
                guess = track.predict(frame)
            else:
                # Long lost (hidden): move the centre on, keep the size, widen the gate.
                v = track.velocity
                guess = _extrapolate([0, 1], [track.boxes[-1], _shift(track.boxes[-1], v, 1)], lost)
            # Its size: the largest of its last boxes (a partly hidden face's box shrinks).
            size = max(max(b[2] - b[0], b[3] - b[1]) for b in track.boxes[-_END_WINDOW:])
            size = max(size, 1.0)
            # The longer a track is lost, the less its motion says (partly hidden faces
            # give skewed boxes): widen the gate, measuring from its last seen place too.
            gate = self.max_centre_shift + 0.08 * (lost - 1)
            last = track.boxes[-1]
            for c, det in enumerate(detections):
                if det.label != track.label:
                    continue
                overlap = iou(guess, det.box)
                if recent and overlap >= self.min_iou:
                    cost[r, c] = 1.0 - overlap
                    continue
                shift = min(_centre_distance(guess, det.box), _centre_distance(last, det.box))
                shift /= size
                ratio = max(det.x2 - det.x1, det.y2 - det.y1) / size
                if shift <= gate and 0.5 <= ratio <= 2.0:
                    cost[r, c] = (1.0 if recent else 2.0) + shift
        owner: dict[int, int] = {}
        if live and detections:
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] < _NO_MATCH:
                    live[r].add(frame, detections[c])
                    owner[int(c)] = live[r].track_id
        for c, det in enumerate(detections):
            if c not in owner:
                track = _Track(self._next_id, det.label)
                self._next_id += 1
                track.add(frame, det)
                self._tracks.append(track)
                owner[c] = track.track_id
        return [(owner[c], det) for c, det in enumerate(detections)]

    def finish(self) -> None:
        """No more detections: every later frame may be asked for."""
        self._finished = True

    def boxes_at(self, frame: int) -> list[tuple[int, Box]]:
        """(track id, padded box) for each track to redact in `frame`, in frame pixels.

        Call with increasing `frame`: tracks and detections that can no longer matter are
        dropped.
        """
        if not self._finished and frame + self.lookahead > self._last_update:
            raise ValueError(
                f"frame {frame} is not final until frame {frame + self.lookahead} is detected."
            )
        result: list[tuple[int, Box]] = []
        for track in self._tracks:
            parts: list[Box] = []
            for near in range(frame - self.temporal_union, frame + self.temporal_union + 1):
                found = track.raw_box(near, self.max_gap, self.extend)
                if found is not None:
                    box, distance = found
                    box = track.full_size(box, near)
                    parts.append(pad_box(box, self.margin + self.drift * distance))
            if parts and track.raw_box(frame, self.max_gap, self.extend) is not None:
                result.append((track.track_id, _union(parts)))
        self._forget(frame)
        return result

    def _forget(self, frame: int) -> None:
        """Drop what frames after `frame` can no longer use."""
        horizon = frame - self.temporal_union
        keep: list[_Track] = []
        for track in self._tracks:
            if track.last_frame + self.extend + self.temporal_union < frame and (
                self._finished or self._last_update - track.last_frame > self.reconnect
            ):
                self._ended.append(track.summary())
                continue
            # Keep the last detection before the horizon: it anchors interpolation.
            # and the last few, which extrapolate its end.
            cut = max(
                0,
                min(bisect.bisect_left(track.frames, horizon) - 1, len(track.frames) - _END_WINDOW),
            )
            if cut:
                del track.frames[:cut]
                del track.boxes[:cut]
            keep.append(track)
        self._tracks = keep

    def summaries(self) -> list[TrackSummary]:
        """Every track seen so far (ended and live), by id."""
        rows = self._ended + [t.summary() for t in self._tracks]
        return sorted(rows, key=lambda s: s.track_id)
