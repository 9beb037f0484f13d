"""The analysis pass on real clips: tracks, boxes, thumbnails, facts; and a draft plan
rendered from it redacts as well as `redact auto`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bodycam.redaction.analyse import THUMBNAIL_SIZE, Analysis, analyse_video, file_sha256
from bodycam.redaction.detect import CenterFace
from bodycam.redaction.engine import RedactionError, RedactOptions
from bodycam.redaction.faceclip import FaceClip, score_output
from bodycam.redaction.plan import RedactionPlan
from bodycam.redaction.plan_render import render_plan
from bodycam.redaction.track import iou

from .plans import PAIR, pair_analysis, pair_file, track_of


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory, detector: CenterFace) -> Analysis:
    return pair_analysis(tmp_path_factory, detector)


def test_one_track_per_face_with_a_box_on_every_frame(analysis: Analysis) -> None:
    assert len(analysis.tracks) == 2
    for face in (0, 1):
        track = next(t for t in analysis.tracks if t.track_id == track_of(analysis, PAIR, face))
        assert (track.first_frame, track.last_frame) == (0, PAIR.frames - 1)
        assert [b.frame for b in track.boxes] == list(range(PAIR.frames))
        assert track.detections == PAIR.frames
        assert 0.5 < track.mean_score <= track.max_score < 1.0
        for row in track.boxes:
            truth = PAIR.frame(row.frame)[1][face]
            x1, y1, x2, y2 = truth
            # The redaction box holds the whole face (padded), and not much more.
            assert row.x1 <= x1 + 3 and row.y1 <= y1 + 3 and row.x2 >= x2 - 3 and row.y2 >= y2 - 3
            assert iou(row.box, truth) > 0.4


def test_video_facts(analysis: Analysis, tmp_path_factory: pytest.TempPathFactory) -> None:
    video = analysis.video
    assert (video.width, video.height, video.frames, video.fps) == (320, 180, 30, 15)
    assert video.sha256 == file_sha256(pair_file(tmp_path_factory))
    assert analysis.duration_s == pytest.approx(2.0)
    assert analysis.detector.startswith("centerface sha256:")
    assert analysis.scale == (640, 360) and analysis.threshold == pytest.approx(0.2)


def test_thumbnails_are_jpegs_of_the_face(analysis: Analysis, detector: CenterFace) -> None:
    for track in analysis.tracks:
        assert track.thumbnail[:3] == b"\xff\xd8\xff"
        picture = cv2.imdecode(np.frombuffer(track.thumbnail, np.uint8), cv2.IMREAD_COLOR)
        assert picture is not None and max(picture.shape[:2]) <= THUMBNAIL_SIZE
        rgb = cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)
        framed = cv2.copyMakeBorder(rgb, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=(90, 90, 90))
        assert any(d.score > 0.5 for d in detector.detect(framed)), track.track_id
        assert 0 <= track.thumbnail_frame < PAIR.frames


def test_json_with_inline_or_separate_thumbnails(analysis: Analysis, tmp_path: Path) -> None:
    inline = json.loads(json.dumps(analysis.to_dict()))
    assert inline["video"] == {
        "width": 320,
        "height": 180,
        "frames": 30,
        "fps": [15, 1],
        "sha256": analysis.video.sha256,
        "duration_s": 2.0,
    }
    first = inline["tracks"][0]
    assert base64.b64decode(first["thumbnail_jpeg_base64"]) == analysis.tracks[0].thumbnail
    assert first["start_s"] == 0.0 and first["end_s"] == 2.0
    assert first["boxes"][0] == analysis.tracks[0].boxes[0].to_row()
    separate = analysis.to_dict(tmp_path)
    name = separate["tracks"][0]["thumbnail"]
    assert (tmp_path / name).read_bytes() == analysis.tracks[0].thumbnail
    assert "thumbnail_jpeg_base64" not in separate["tracks"][0]


def test_the_draft_plan_includes_every_track(analysis: Analysis) -> None:
    plan = analysis.draft_plan()
    assert [t.include for t in plan.tracks] == [True, True]
    assert plan.video == analysis.video
    assert plan.settings.detect_scale == (640, 360)
    assert RedactionPlan.from_json(plan.to_json()) == plan
    kept = analysis.draft_plan(include=False)
    assert all(not t.include and t.reason is None for t in kept.tracks)


def test_analyse_then_render_covers_like_redact_auto(
    clip: FaceClip, clip_file: Path, detector: CenterFace, tmp_path: Path
) -> None:
    """The hard clip (shake, an occluder, two frames the detector misses): a draft plan
    rendered leaves no face unredacted in any frame."""
    analysis = analyse_video(clip_file, detector=detector)
    assert 2 <= len(analysis.tracks) <= 4
    out = tmp_path / "draft.mp4"
    render_plan(clip_file, out, analysis.draft_plan())
    score = score_output(clip, out)
    assert score.frames == clip.frames
    assert score.coverage >= 0.95 and score.flash_frames == []


def test_detecting_every_other_frame(
    tmp_path_factory: pytest.TempPathFactory, detector: CenterFace
) -> None:
    analysis = analyse_video(
        pair_file(tmp_path_factory), RedactOptions(detect_every=2), detector=detector
    )
    assert len(analysis.tracks) == 2
    assert all(len(t.boxes) == PAIR.frames for t in analysis.tracks)
    assert all(t.detections == PAIR.frames // 2 for t in analysis.tracks)


def test_bad_input(tmp_path: Path, detector: CenterFace) -> None:
    with pytest.raises(RedactionError, match=r"none\.mp4 does not exist"):
        analyse_video(tmp_path / "none.mp4", detector=detector)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 50)
    with pytest.raises(RedactionError, match=r"junk\.mp4 is not a video file"):
        analyse_video(junk, detector=detector)
    with pytest.raises(RedactionError, match="detect_every must be at least 1"):
        analyse_video(junk, RedactOptions(detect_every=0), detector=detector)
