"""Bulk redaction: every frame redacted whole, the audio removed or muted."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from bodycam.redaction.detect import make_detector
from bodycam.redaction.faceclip import REDACTED_CORRELATION, correlation
from bodycam.redaction.plan import AudioTrack, RedactionPlan, VideoFacts
from bodycam.redaction.plan_render import render_plan
from bodycam.redaction.qc import QC_THRESHOLD, qc_scan
from bodycam.redaction.styles import Style

from .plans import PAIR, frames, pair_file, samples


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pair_file(tmp_path_factory)


def test_bulk_with_audio_removed(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "bulk.mp4"
    report = render_plan(source, out, RedactionPlan.bulk())
    assert report.audio == "removed"
    assert report.frames == report.full_frames == report.redacted_frames == PAIR.frames
    with av.open(str(out)) as check:
        assert not check.streams.audio
        assert len(check.streams) == 1
    for i, rgb in enumerate(frames(out)):
        truth, faces = PAIR.frame(i)
        for x1, y1, x2, y2 in faces:
            assert correlation(rgb[y1:y2, x1:x2], truth[y1:y2, x1:x2]) < REDACTED_CORRELATION
    detector = make_detector("centerface", threshold=QC_THRESHOLD)
    assert qc_scan(out, detector=detector) == []


def test_bulk_with_audio_muted_keeps_a_silent_track_of_the_same_length(
    source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bulk-mute.mp4"
    report = render_plan(source, out, RedactionPlan.bulk(audio=AudioTrack.mute))
    assert report.audio == "muted"
    assert report.muted_s == pytest.approx(2.0, abs=0.07)
    _, x, rate = samples(out)
    _, x0, _ = samples(source)
    assert rate == 16_000 and abs(len(x) - len(x0)) <= 1024
    assert np.abs(x0).max() > 0.25
    assert np.abs(x).max() < 1e-4


def test_bulk_pixelate_and_box(source: Path, tmp_path: Path) -> None:
    boxed = tmp_path / "boxed.mp4"
    render_plan(source, boxed, RedactionPlan.bulk(style=Style.box))
    assert all(rgb.max() < 30 for rgb in frames(boxed))
    mosaic = tmp_path / "mosaic.mp4"
    render_plan(source, mosaic, RedactionPlan.bulk(style=Style.pixelate))
    rgb = frames(mosaic)[10]
    # 16 blocks across 320 pixels: runs of 20 equal pixels (give or take H.264).
    row = rgb[90].astype(int)
    assert np.abs(np.diff(row[2:18], axis=0)).max() <= 6


def test_a_bulk_plan_can_name_its_video(source: Path, tmp_path: Path) -> None:
    plan = RedactionPlan.bulk(video=VideoFacts(320, 180, 30, 15))
    render_plan(source, tmp_path / "ok.mp4", plan)
    wrong = RedactionPlan.bulk(video=VideoFacts(640, 360, 30, 15))
    with pytest.raises(ValueError, match="made for a 640x360 video"):
        render_plan(source, tmp_path / "no.mp4", wrong)
    assert not (tmp_path / "no.mp4").exists()
