"""Quality control on real outputs: faces left visible are found (frames, box, score),
a correctly redacted output has no finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bodycam.redaction.analyse import Analysis
from bodycam.redaction.detect import CenterFace, make_detector
from bodycam.redaction.engine import RedactionError
from bodycam.redaction.faceclip import FaceClip
from bodycam.redaction.plan import PlanSettings
from bodycam.redaction.plan_render import render_plan
from bodycam.redaction.qc import QC_MIN_DETAIL, QC_THRESHOLD, Finding, detail, qc_scan
from bodycam.redaction.styles import Style
from bodycam.redaction.track import iou

from .plans import PAIR, decisions, frames, pair_analysis, pair_file, plan_for, track_of


@pytest.fixture(scope="module")
def qc_detector() -> CenterFace:
    """CenterFace at the quality-control threshold."""
    found = make_detector("centerface", threshold=QC_THRESHOLD)
    assert isinstance(found, CenterFace)
    return found


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory, detector: CenterFace) -> Analysis:
    return pair_analysis(tmp_path_factory, detector)


def findings_on(clip: FaceClip, findings: list[Finding], face: int) -> list[Finding]:
    """The findings whose box is on face number `face` of `clip`."""
    return [f for f in findings if iou(f.box, clip.frame(f.box_frame)[1][face]) > 0.3]


def test_an_unredacted_output_shows_both_faces(
    tmp_path_factory: pytest.TempPathFactory, qc_detector: CenterFace
) -> None:
    findings = qc_scan(pair_file(tmp_path_factory), detector=qc_detector)
    for face in (0, 1):
        (finding,) = findings_on(PAIR, findings, face)
        # Consecutive frames of one face are one finding with a frame range.
        assert (finding.start_frame, finding.end_frame) == (0, PAIR.frames - 1)
        assert finding.detections == PAIR.frames
        assert (finding.start_s, finding.end_s) == (0.0, pytest.approx(2.0))
        assert finding.score > 0.8
        assert "frames 0-29 (0.00-2.00 s)" in finding.describe()
        assert json.loads(json.dumps(finding.to_dict()))["end_frame"] == PAIR.frames - 1


@pytest.mark.parametrize("style", [Style.blur, Style.box])
def test_a_correctly_redacted_output_has_no_finding(
    style: Style, analysis: Analysis, qc_detector: CenterFace, tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    out = tmp_path / "redacted.mp4"
    plan = plan_for(analysis, settings=PlanSettings(style=style))
    render_plan(pair_file(tmp_path_factory), out, plan)
    assert qc_scan(out, detector=qc_detector) == []


def test_the_face_kept_visible_is_the_only_finding(
    analysis: Analysis,
    qc_detector: CenterFace,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    b = track_of(analysis, PAIR, 1)
    plan = plan_for(
        analysis,
        tracks=decisions(analysis, {t.track_id: t.track_id != b for t in analysis.tracks}),
    )
    out = tmp_path / "officer-kept.mp4"
    render_plan(pair_file(tmp_path_factory), out, plan)
    findings = qc_scan(out, detector=qc_detector)
    assert len(findings) == 1
    assert findings_on(PAIR, findings, 1) == findings
    assert findings_on(PAIR, findings, 0) == []


def test_a_face_that_flashes_through_for_a_few_frames_is_found(
    analysis: Analysis,
    qc_detector: CenterFace,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Frames 12 to 14 of face A removed from its track: QC reports exactly them."""
    a = track_of(analysis, PAIR, 0)
    tracks = tuple(
        t if t.track_id != a else t.__class__(
            t.track_id,
            tuple(r for r in t.boxes if not 12 <= r.frame <= 14),
            True,
            t.reason,
        )
        for t in analysis.draft_plan().tracks
    )  # fmt: skip
    out = tmp_path / "flash.mp4"
    render_plan(pair_file(tmp_path_factory), out, plan_for(analysis, tracks=tracks))
    (finding,) = qc_scan(out, detector=qc_detector)
    assert (finding.start_frame, finding.end_frame, finding.detections) == (12, 14, 3)
    assert iou(finding.box, PAIR.frame(finding.box_frame)[1][0]) > 0.5


def test_blurred_blobs_have_no_detail_and_faces_have_plenty(
    analysis: Analysis, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path / "blurred.mp4"
    render_plan(pair_file(tmp_path_factory), out, analysis.draft_plan())
    blurred, original = frames(out), frames(pair_file(tmp_path_factory))
    for i in (0, 15, 29):
        for box in PAIR.frame(i)[1]:
            assert detail(blurred[i], box) < QC_MIN_DETAIL / 2
            assert detail(original[i], box) > 3 * QC_MIN_DETAIL


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(RedactionError, match=r"none\.mp4 does not exist"):
        qc_scan(tmp_path / "none.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"junk" * 100)
    with pytest.raises(RedactionError, match="The threshold must be between 0 and 1"):
        qc_scan(junk, threshold=1.5)
    with pytest.raises(RedactionError, match=r"junk\.mp4 is not a video file"):
        qc_scan(junk)
