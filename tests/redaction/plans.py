"""Shared material for the plan, render, QC and bulk tests: a small two-face clip, its
analysis (made once per test session) and readers for output pixels and samples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
import numpy.typing as npt
import pytest

from bodycam.redaction.analyse import Analysis, analyse_video
from bodycam.redaction.detect import Detector
from bodycam.redaction.faceclip import FaceClip, Walker
from bodycam.redaction.plan import ReasonCode, RedactionPlan, TrackDecision
from bodycam.redaction.track import iou

RGBFrame = npt.NDArray[np.uint8]
T = TypeVar("T")

PAIR = FaceClip(
    width=320,
    height=180,
    fps=15,
    seconds=2.0,
    walkers=[
        Walker(start=(0.05, 0.3), velocity=(0.0, 0.01), height=0.45),
        Walker(start=(0.9, 0.3), velocity=(0.0, -0.01), height=0.45, mirror=True),
    ],
)
"""Two faces that never come near each other, A on the left and B (mirrored) on the right,
30 frames, a 440 Hz tone as audio (16 kHz mono AAC)."""

_made: dict[tuple[str, str], Any] = {}


def _once(factory: pytest.TempPathFactory, key: str, make: Callable[[], T]) -> T:
    """`make()` once per test session (and xdist worker)."""
    slot = (str(factory.getbasetemp()), key)
    if slot not in _made:
        _made[slot] = make()
    result: T = _made[slot]
    return result


def pair_file(factory: pytest.TempPathFactory) -> Path:
    """`PAIR` written as H.264 + AAC MP4 (with a creation time and a location tag)."""
    return _once(factory, "pair", lambda: PAIR.write(factory.mktemp("pair") / "pair.mp4"))


def pair_analysis(factory: pytest.TempPathFactory, detector: Detector) -> Analysis:
    """The analysis of `pair_file`."""
    return _once(factory, "analysis", lambda: analyse_video(pair_file(factory), detector=detector))


def track_of(analysis: Analysis, clip: FaceClip, face: int) -> int:
    """The id of the track that follows face number `face` (0-based) of `clip`."""
    truth = [clip.frame(i)[1][face] for i in range(clip.frames)]
    best = max(
        analysis.tracks,
        key=lambda t: sum(iou(b.box, truth[b.frame]) for b in t.boxes if b.frame < len(truth)),
    )
    return best.track_id


def decisions(analysis: Analysis, include: dict[int, bool]) -> tuple[TrackDecision, ...]:
    """The analysis' tracks with the given include flags (reason `victim` or `officer`)."""
    return tuple(
        TrackDecision(
            t.track_id,
            t.boxes,
            include[t.track_id],
            ReasonCode.victim if include[t.track_id] else ReasonCode.officer,
        )
        for t in analysis.tracks
    )


def plan_for(analysis: Analysis, **changes: Any) -> RedactionPlan:
    """The draft plan of `analysis` with `changes` to its fields."""
    from dataclasses import replace

    return replace(analysis.draft_plan(), **changes)


def frames(path: Path) -> list[RGBFrame]:
    """Every decoded frame of `path` (small clips only)."""
    with av.open(str(path)) as container:
        return [
            np.asarray(f.to_ndarray(format="rgb24"), dtype=np.uint8)
            for f in container.decode(video=0)
        ]


def samples(path: Path) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32], int]:
    """(time of each sample in seconds, first-channel samples, rate) of `path`'s audio."""
    times: list[npt.NDArray[np.float64]] = []
    values: list[npt.NDArray[np.float32]] = []
    rate = 0
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            rate = frame.sample_rate
            data = np.asarray(frame.to_ndarray(), dtype=np.float32)[0]
            start = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
            times.append(start + np.arange(len(data)) / rate)
            values.append(data)
    return np.concatenate(times), np.concatenate(values), rate


def mean_abs_diff(a: RGBFrame, b: RGBFrame) -> float:
    """Mean absolute difference of two pictures, in grey levels."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
