"""Synthetic clips with real faces and known boxes, and scoring of redacted outputs.

For tests and `bench/redact.py`. The face is the astronaut portrait bundled in
scikit-image (`skimage.data.astronaut()`, public domain, no download), a development
dependency only: it is imported when a clip is made. Faces move over
`bodycam.synth.video.frame_at` backgrounds, change size, can be partly hidden by a moving
bar, can be smeared by fast motion for chosen frames (which makes CenterFace miss them),
and the whole picture can shake.

A face counts as redacted in a frame when the detail of the output's pixels inside its
visible box correlates with the clip's own at most `REDACTED_CORRELATION` (`correlation`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from bodycam.synth.video import frame_at

__all__ = ["REDACTED_CORRELATION", "FaceClip", "Score", "Walker", "correlation", "score_output"]

RGBFrame = npt.NDArray[np.uint8]
GTBox = tuple[int, int, int, int]
REDACTED_CORRELATION = 0.4
"""Above this, the output still shows the face (encoding alone keeps it near 0.9)."""


@cache
def _face() -> RGBFrame:
    from skimage.data import astronaut

    portrait = np.asarray(astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    crop: RGBFrame = np.ascontiguousarray(portrait[55:195, 165:285])  # 120 x 140, face + hair
    return crop


@dataclass(frozen=True)
class Walker:
    """One face: where it is (fractions of the frame), how big, and what happens to it."""

    start: tuple[float, float]
    velocity: tuple[float, float]  # fraction of the frame per frame
    height: float  # fraction of the frame height
    grow: float = 0.0  # height change per frame (fraction of the frame height)
    mirror: bool = False
    smear: frozenset[int] = frozenset()  # frames smeared by fast motion (detector misses)
    enter: int = 0
    leave: int = 1 << 30


@dataclass
class FaceClip:
    """A clip description: `frame(i)` draws frame i and returns its visible face boxes."""

    width: int = 320
    height: int = 180
    fps: int = 15
    seconds: float = 3.0
    seed: int = 7
    walkers: Sequence[Walker] = field(default_factory=list)
    shake: float = 0.0  # pixels of camera shake (amplitude)
    occluder: bool = False  # a grey bar sweeping across the picture

    @property
    def frames(self) -> int:
        """Number of frames."""
        return max(1, round(self.seconds * self.fps))

    def frame(self, i: int) -> tuple[RGBFrame, list[GTBox]]:
        """Frame `i` (RGB) and the box of every face visible in it (the occluder excluded)."""
        rgb = frame_at(self.seed, i, self.width, self.height, fps=self.fps)
        sx = self.shake * math.sin(i * 1.7) + self.shake * 0.5 * math.sin(i * 4.1)
        sy = self.shake * math.cos(i * 1.3)
        visible = np.zeros((self.height, self.width), dtype=np.int16)
        boxes: list[tuple[int, GTBox]] = []
        for n, w in enumerate(self.walkers):
            if not w.enter <= i < w.leave:
                continue
            fh = max(8, round((w.height + w.grow * i) * self.height))
            fw = max(6, round(fh * 120 / 140))
            x = _bounce(w.start[0] + w.velocity[0] * i) * (self.width - fw) + sx
            y = _bounce(w.start[1] + w.velocity[1] * i) * (self.height - fh) + sy
            face = cv2.resize(_face(), (fw, fh), interpolation=cv2.INTER_AREA)
            if w.mirror:
                face = np.ascontiguousarray(face[:, ::-1])
            if i in w.smear:
                k = max(3, fw // 2) | 1
                kernel = np.zeros((k, k), np.float32)
                kernel[k // 2, :] = 1.0 / k
                face = cv2.filter2D(face, -1, kernel)
            x1, y1 = round(x), round(y)
            x2, y2 = min(self.width, x1 + fw), min(self.height, y1 + fh)
            x1c, y1c = max(0, x1), max(0, y1)
            if x2 <= x1c or y2 <= y1c:
                continue
            rgb[y1c:y2, x1c:x2] = face[y1c - y1 : y2 - y1, x1c - x1 : x2 - x1]
            visible[y1c:y2, x1c:x2] = n + 1
            boxes.append((n + 1, (x1c, y1c, x2, y2)))
        if self.occluder:
            bw = self.width // 6
            bx = round(_bounce(i * 0.013) * (self.width - bw))
            rgb[:, bx : bx + bw] = (128, 128, 128)
            visible[:, bx : bx + bw] = 0
        result: list[GTBox] = []
        for n, (x1, y1, x2, y2) in boxes:
            ys, xs = np.nonzero(visible == n)
            if len(xs) == 0:
                continue
            box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            # A sliver beside the occluder identifies no one: a face counts as visible when
            # at least a third of it shows, at least 12 pixels each way.
            if (
                len(xs) * 3 >= (x2 - x1) * (y2 - y1)
                and box[2] - box[0] >= 12
                and box[3] - box[1] >= 12
            ):
                result.append(box)
        return rgb, result

    def write(self, path: Path, *, audio: bool = True) -> Path:
        """Write the clip as H.264 + AAC MP4 (with a creation time and a GPS-like tag)."""
        rate = 16_000
        with av.open(str(path), "w", format="mp4") as out:
            out.metadata["creation_time"] = "2026-03-01T08:00:00.000000Z"
            out.metadata["location"] = "+40.7128-074.0060/"
            video = out.add_stream("libx264", rate=self.fps)
            video.width, video.height, video.pix_fmt = self.width, self.height, "yuv420p"
            video.options = {"preset": "ultrafast", "crf": "16"}
            sound = out.add_stream("aac", rate=rate, layout="mono") if audio else None
            sent = 0
            for i in range(self.frames):
                rgb, _ = self.frame(i)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, self.fps)
                out.mux(video.encode(frame))
                due = round((i + 1) / self.fps * rate)
                while sound is not None and sent < due:
                    count = min(1024, due - sent)
                    t = np.arange(sent, sent + count) / rate
                    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
                    chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
                    chunk.sample_rate, chunk.pts = rate, sent
                    out.mux(sound.encode(chunk))
                    sent += count
            out.mux(video.encode(None))
            if sound is not None:
                out.mux(sound.encode(None))
        return path


def _bounce(p: float) -> float:
    p %= 2.0
    return 2.0 - p if p > 1.0 else p


def _frames(path: Path) -> Iterator[RGBFrame]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def _detail(region: RGBFrame) -> npt.NDArray[np.float32]:
    grey = region.astype(np.float32).mean(axis=2)
    sigma = max(1.0, max(grey.shape) / 8)
    detail: npt.NDArray[np.float32] = grey - cv2.GaussianBlur(
        grey, (0, 0), sigma, borderType=cv2.BORDER_REFLECT
    )
    return detail


def correlation(a: RGBFrame, b: RGBFrame) -> float:
    """Correlation of the detail (features finer than 1/8 of the region) of two regions.

    The coarse shading a strong blur leaves (dark hair above a light face) identifies no one;
    eyes, nose, mouth and their edges do, and an unredacted face keeps them (about 0.9 after
    encoding). 0.0 when either region has no detail at all.
    """
    da, db = _detail(a).ravel(), _detail(b).ravel()
    if da.std() < 1e-3 or db.std() < 1e-3:
        return 0.0
    return float(np.corrcoef(da, db)[0, 1])


@dataclass
class Score:
    """How well an output hides the clip's faces, from its pixels."""

    frames: int = 0
    faces: int = 0
    redacted: int = 0
    flash_frames: list[int] = field(default_factory=list)
    false_area: float = 0.0  # share of non-face pixels strongly changed, mean over frames
    background_diff: float = 0.0  # mean abs difference far from faces

    @property
    def coverage(self) -> float:
        """Share of visible ground-truth faces that are redacted."""
        return self.redacted / self.faces if self.faces else 1.0


def score_output(clip: FaceClip, output: Path) -> Score:
    """Score `output` (a redaction of `clip`) frame by frame against the clip's truth."""
    result = Score()
    far_diffs: list[float] = []
    for i, out in enumerate(_frames(output)):
        if i >= clip.frames:
            break
        truth, boxes = clip.frame(i)
        if out.shape != truth.shape:
            out = np.asarray(cv2.resize(out, (truth.shape[1], truth.shape[0])), dtype=np.uint8)
        result.frames += 1
        near = np.zeros(truth.shape[:2], dtype=bool)
        far = np.ones(truth.shape[:2], dtype=bool)
        flashed = False
        for x1, y1, x2, y2 in boxes:
            result.faces += 1
            if correlation(out[y1:y2, x1:x2], truth[y1:y2, x1:x2]) <= REDACTED_CORRELATION:
                result.redacted += 1
            else:
                flashed = True
            w, h = x2 - x1, y2 - y1
            near[max(0, y1 - h // 2) : y2 + h // 2, max(0, x1 - w // 2) : x2 + w // 2] = True
            far[max(0, y1 - 2 * h) : y2 + 2 * h, max(0, x1 - 2 * w) : x2 + 2 * w] = False
        if flashed:
            result.flash_frames.append(i)
        diff = np.abs(out.astype(np.int16) - truth.astype(np.int16)).mean(axis=2)
        changed = (cv2.blur(diff, (5, 5)) > 25) & ~near
        result.false_area += float(changed.mean())
        if far.any():
            far_diffs.append(float(diff[far].mean()))
    if result.frames:
        result.false_area /= result.frames
    result.background_diff = float(np.mean(far_diffs)) if far_diffs else 0.0
    return result
