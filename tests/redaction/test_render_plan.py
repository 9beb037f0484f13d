"""`render_plan` on a real clip: what the plan says is hidden, and nothing else, in the
output's decoded pixels and samples; no metadata; refusals leave no file."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from bodycam.redaction.analyse import Analysis
from bodycam.redaction.detect import CenterFace
from bodycam.redaction.engine import ENGINE_VERSION, RedactionError
from bodycam.redaction.faceclip import REDACTED_CORRELATION, correlation
from bodycam.redaction.plan import (
    AudioMode,
    AudioRange,
    FrameBox,
    FrameRange,
    ManualBox,
    PlanSettings,
    ReasonCode,
    RedactionPlan,
    VideoFacts,
)
from bodycam.redaction.plan_render import BLEEP_HZ, RenderReport, render_plan
from bodycam.redaction.styles import Style

from .plans import (
    PAIR,
    decisions,
    frames,
    mean_abs_diff,
    pair_analysis,
    pair_file,
    plan_for,
    samples,
    track_of,
)

MUTE = (500, 900)  # ms
BLEEP = (1200, 1600)  # ms
EDGE = 0.03  # s: AAC frames (64 ms at 16 kHz) smear a cut over a few ms at most


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pair_file(tmp_path_factory)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory, detector: CenterFace) -> Analysis:
    return pair_analysis(tmp_path_factory, detector)


@pytest.fixture(scope="module")
def face_a_only(
    source: Path, analysis: Analysis, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RenderReport]:
    """Face A (left) redacted, face B (right, "the officer") kept; audio ranges hidden."""
    a = track_of(analysis, PAIR, 0)
    plan = plan_for(
        analysis,
        tracks=decisions(analysis, {t.track_id: t.track_id == a for t in analysis.tracks}),
        audio=(
            AudioRange(*MUTE, AudioMode.mute, ReasonCode.personal_data),
            AudioRange(*BLEEP, AudioMode.bleep, ReasonCode.personal_data),
        ),
    )
    out = tmp_path_factory.mktemp("render") / "a-only.mp4"
    return out, render_plan(source, out, plan)


def test_included_track_is_redacted_and_excluded_one_left_intact(
    source: Path, face_a_only: tuple[Path, RenderReport]
) -> None:
    out, report = face_a_only
    decoded, before = frames(out), frames(source)
    assert len(decoded) == PAIR.frames == report.frames == 30
    assert report.redacted_frames == 30 and report.boxes == 30 and report.full_frames == 0
    for i, rgb in enumerate(decoded):
        truth, (a, b) = PAIR.frame(i)
        ax1, ay1, ax2, ay2 = a
        bx1, by1, bx2, by2 = b
        assert correlation(rgb[ay1:ay2, ax1:ax2], truth[ay1:ay2, ax1:ax2]) < 0.3, i
        assert mean_abs_diff(rgb[ay1:ay2, ax1:ax2], truth[ay1:ay2, ax1:ax2]) > 10, i
        assert correlation(rgb[by1:by2, bx1:bx2], truth[by1:by2, bx1:bx2]) > 0.95, i
        # Only re-encoding changed face B: compared with the decoded source, not the truth.
        assert mean_abs_diff(rgb[by1:by2, bx1:bx2], before[i][by1:by2, bx1:bx2]) < 5, i


def test_audio_is_muted_and_bleeped_in_the_ranges_and_kept_elsewhere(
    source: Path, face_a_only: tuple[Path, RenderReport]
) -> None:
    out, report = face_a_only
    assert report.audio == "edited"
    assert report.muted_s == pytest.approx(0.4, abs=0.002)
    assert report.bleeped_s == pytest.approx(0.4, abs=0.002)
    t, x, rate = samples(out)
    t0, x0, _ = samples(source)
    assert rate == 16_000 and abs(len(x) - len(x0)) <= 1024

    def part(lo: float, hi: float) -> np.ndarray:
        return x[(t >= lo) & (t < hi)]

    def peak_hz(values: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(values * np.hanning(len(values))))
        return float(np.fft.rfftfreq(len(values), 1 / rate)[np.argmax(spectrum)])

    muted = part(MUTE[0] / 1000 + EDGE, MUTE[1] / 1000 - EDGE)
    bleep = part(BLEEP[0] / 1000 + EDGE, BLEEP[1] / 1000 - EDGE)
    assert len(muted) > 5000 and np.abs(muted).max() < 0.01
    assert peak_hz(bleep) == pytest.approx(BLEEP_HZ, abs=10)
    assert np.sqrt(np.mean(bleep**2)) == pytest.approx(0.25 / np.sqrt(2), rel=0.1)
    # Outside the ranges: the source's 440 Hz tone (0.3 peak), sample for sample.
    for lo, hi in ((0.05, MUTE[0] / 1000 - EDGE), (MUTE[1] / 1000 + EDGE, BLEEP[0] / 1000 - EDGE)):
        kept = part(lo, hi)
        assert peak_hz(kept) == pytest.approx(440, abs=10)
        assert np.sqrt(np.mean(kept**2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.05)
        original = x0[(t0 >= lo) & (t0 < hi)]
        n = min(len(kept), len(original))
        assert np.corrcoef(kept[:n], original[:n])[0, 1] > 0.99
    # The tone joins the 440 Hz at the edges of the bleep, not a gap of silence.
    assert np.abs(part(BLEEP[0] / 1000 - 0.01, BLEEP[0] / 1000 + 0.01)).max() > 0.2


def test_metadata_is_stripped_and_the_comment_names_the_plan(
    source: Path, face_a_only: tuple[Path, RenderReport]
) -> None:
    out, report = face_a_only
    with av.open(str(source)) as src:
        assert {"creation_time", "location"} <= set(src.metadata)
        duration, vin = src.duration, src.streams.video[0]
        seconds = float(vin.duration * vin.time_base)
    with av.open(str(out)) as dst:
        assert dst.duration == pytest.approx(duration, abs=100_000)
        vout = dst.streams.video[0]
        assert float(vout.duration * vout.time_base) == pytest.approx(seconds, abs=0.01)
        assert dst.streams.video[0].codec_context.name == "h264"
        assert dst.streams.audio[0].codec_context.name == "aac"
        tags = {**dst.metadata}
        for stream in dst.streams:
            tags.update(stream.metadata)
        assert not {"creation_time", "location", "location-eng"} & set(tags)
        assert dst.metadata["comment"] == (
            f"redacted by {ENGINE_VERSION}; plan sha256:{report.plan_hash}"
        )
    data = out.read_bytes()
    assert b"+40.7128" not in data and b"2026-03-01" not in data
    assert report.sha256 == __import__("hashlib").sha256(data).hexdigest()


def tagged_source(path: Path) -> Path:
    """A short clip whose container and streams carry GPS, device and comment tags."""
    with av.open(str(path), "w", format="mov") as out:
        out.metadata.update(
            {
                "creation_time": "2026-03-01T08:00:00.000000Z",
                "location": "+40.7128-074.0060/",
                "make": "AcmeCam",
                "model": "BWC-9000",
                "comment": "serial X0123456",
                "encoder": "AcmeCam firmware 4.2",
                "com.apple.quicktime.location.ISO6709": "+40.7128-074.0060/",
            }
        )
        video = out.add_stream("libx264", rate=15)
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        video.metadata["handler_name"] = "AcmeCam Video X0123456"
        sound = out.add_stream("aac", rate=16_000, layout="mono")
        sound.metadata["handler_name"] = "AcmeCam Audio X0123456"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(PAIR.frame(i)[0][:96, :160].copy(), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 15)
            out.mux(video.encode(frame))
        tone = (0.2 * np.sin(np.arange(16_000 * 2 // 3) / 5)).astype(np.float32)[None, :]
        chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        chunk.sample_rate, chunk.pts = 16_000, 0
        out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
        out.mux(video.encode(None))
    return path


@pytest.mark.parametrize("audio", ["copied", "edited"])
def test_device_tags_are_stripped_like_redact_auto(tmp_path: Path, audio: str) -> None:
    src = tagged_source(tmp_path / "tagged.mov")
    raw = src.read_bytes()
    assert b"AcmeCam" in raw and b"X0123456" in raw and b"BWC-9000" in raw
    plan = RedactionPlan(
        manual=(ManualBox((FrameBox(2, 10, 10, 40, 40),), ReasonCode.other),),
        audio=(AudioRange(100, 200, AudioMode.mute, ReasonCode.other),)
        if audio == "edited"
        else (),
    )
    out = tmp_path / "clean.mp4"
    report = render_plan(src, out, plan)
    assert report.audio == audio
    data = out.read_bytes()
    for secret in (b"AcmeCam", b"X0123456", b"BWC-9000", b"+40.7128", b"2026-03-01"):
        assert secret not in data, secret
    with av.open(str(out)) as dst:
        assert len(dst.streams) == 2


@pytest.fixture(scope="module")
def manual_and_full(
    source: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RedactionPlan]:
    """No track; a manual black box moving from the top left (frame 4) to the top right
    (frame 14), and frames 18 to 23 redacted whole."""
    plan = RedactionPlan(
        settings=PlanSettings(style=Style.box),
        manual=(
            ManualBox(
                (FrameBox(4, 100, 5, 140, 35), FrameBox(14, 180, 25, 220, 55)),
                ReasonCode.minor,
            ),
        ),
        full_frame=(FrameRange(18, 24, ReasonCode.home_interior),),
    )
    out = tmp_path_factory.mktemp("manual") / "manual.mp4"
    render_plan(source, out, plan)
    return out, plan


def test_a_manual_box_is_interpolated_between_its_keyframes(
    manual_and_full: tuple[Path, RedactionPlan],
) -> None:
    out, _ = manual_and_full
    decoded = frames(out)

    def dark(rgb: np.ndarray, box: tuple[int, int, int, int]) -> bool:
        x1, y1, x2, y2 = box
        return bool(rgb[y1 + 2 : y2 - 2, x1 + 2 : x2 - 2].max() < 30)

    assert not dark(decoded[3], (100, 5, 140, 35))  # before the first keyframe
    assert dark(decoded[4], (100, 5, 140, 35))
    assert dark(decoded[9], (140, 15, 180, 45))  # half way: (4 + 14) / 2
    assert not dark(decoded[9], (100, 5, 140, 35))  # it moved: no trail
    assert not dark(decoded[9], (180, 25, 220, 55))  # and is not there yet
    assert dark(decoded[14], (180, 25, 220, 55))
    assert not dark(decoded[15], (180, 25, 220, 55))  # after the last keyframe
    for i in (3, 9, 15):  # the faces are untouched (no track in the plan)
        truth, (a, _) = PAIR.frame(i)
        x1, y1, x2, y2 = a
        assert correlation(decoded[i][y1:y2, x1:x2], truth[y1:y2, x1:x2]) > 0.95


def test_full_frame_range_covers_its_frames_and_no_others(
    source: Path, manual_and_full: tuple[Path, RedactionPlan]
) -> None:
    out, _ = manual_and_full
    decoded, before = frames(out), frames(source)
    for i in (16, 17, 24, 25):
        assert mean_abs_diff(decoded[i], before[i]) < 4, i
    for i in range(18, 24):
        assert decoded[i].max() < 30, i  # box style: the whole picture black


def test_full_frame_blur_hides_the_faces(source: Path, tmp_path: Path) -> None:
    plan = RedactionPlan(full_frame=(FrameRange(5, 10, ReasonCode.home_interior),))
    out = tmp_path / "blurred.mp4"
    report = render_plan(source, out, plan)
    assert report.full_frames == 5 and report.redacted_frames == 5 and report.audio == "copied"
    decoded = frames(out)
    for i in (4, 5, 9, 10):
        truth, faces = PAIR.frame(i)
        hidden = [
            correlation(decoded[i][y1:y2, x1:x2], truth[y1:y2, x1:x2]) for x1, y1, x2, y2 in faces
        ]
        if 5 <= i < 10:
            assert max(hidden) < REDACTED_CORRELATION, i
        else:
            assert min(hidden) > 0.95, i


def test_unchanged_audio_is_copied_bit_for_bit(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.mp4"
    report = render_plan(source, out, RedactionPlan())
    assert report.audio == "copied" and report.redacted_frames == 0
    (_, x, _), (_, x0, _) = samples(out), samples(source)
    assert np.array_equal(x, x0)


def test_the_plan_hash_is_reported_and_stable(
    source: Path, analysis: Analysis, tmp_path: Path
) -> None:
    plan = analysis.draft_plan()
    again = RedactionPlan.from_json(plan.to_json(indent=2))
    first = render_plan(source, tmp_path / "one.mp4", plan)
    second = render_plan(source, tmp_path / "two.mp4", again)
    assert first.plan_hash == second.plan_hash == plan.plan_hash()
    changed = replace(plan, settings=replace(plan.settings, mask_scale_percent=110))
    assert render_plan(source, tmp_path / "three.mp4", changed).plan_hash != first.plan_hash


def assert_refused(src: Path, out: Path, plan: RedactionPlan, message: str) -> None:
    with pytest.raises(RedactionError, match=message):
        render_plan(src, out, plan)
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}*")), "a partial file was left"


def test_a_plan_for_another_video_is_refused_and_leaves_nothing(
    source: Path, analysis: Analysis, tmp_path: Path
) -> None:
    plan = analysis.draft_plan()
    assert plan.video is not None and plan.video.sha256 is not None
    out = tmp_path / "out.mp4"
    other = PAIR.__class__(width=320, height=180, fps=15, seconds=2.0, seed=99)
    other_file = other.write(tmp_path / "other.mp4")
    assert_refused(other_file, out, plan, r"made for another file \(SHA-256")
    smaller = replace(plan, video=VideoFacts(160, 90, 30, 15))
    assert_refused(source, out, smaller, "made for a 160x90 video; pair.mp4 is 320x180")
    # The frame count is only known once every frame is decoded: the whole output is
    # written to the temporary file first, and must still not appear.
    longer = replace(plan, video=replace(plan.video, frames=31, sha256=None))
    assert_refused(source, out, longer, "pair.mp4 has 30 frames, but the plan was made for")


def test_bad_inputs_are_refused_cleanly(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    mute = RedactionPlan(audio=(AudioRange(0, 100, AudioMode.mute, ReasonCode.other),))
    silent = PAIR.__class__(width=160, height=96, seconds=0.5).write(
        tmp_path / "silent.mp4", audio=False
    )
    assert_refused(silent, out, mute, "hides 1 audio range\\(s\\), but silent.mp4 has no audio")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(RedactionError, match=r"broken\.mp4"):
        render_plan(broken, out, RedactionPlan())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "silent.mp4"]
    assert_refused(source, tmp_path / "out.avi", RedactionPlan(), r"must be an \.mp4 file")
    size = source.stat().st_size
    with pytest.raises(RedactionError, match="is the input file"):
        render_plan(source, source, RedactionPlan())
    assert source.stat().st_size == size
    with pytest.raises(RedactionError, match="does not exist"):
        render_plan(tmp_path / "none.mp4", out, RedactionPlan())


MEMORY_SCRIPT = """
import json, resource, sys
from pathlib import Path
from bodycam.redaction.analyse import analyse_video
from bodycam.redaction.plan import AudioMode, AudioRange, FrameRange, ReasonCode, RedactionPlan
from bodycam.redaction.plan_render import render_plan
from bodycam.synth.video import make_clip

folder = Path(sys.argv[1])
rss = []
for seconds in (2, 20, 40):
    src = make_clip(folder / f"in{seconds}.mp4", seconds=seconds, width=320, height=180, fps=10)
    analysis = analyse_video(src)
    plan = RedactionPlan(
        full_frame=(FrameRange(5, None, ReasonCode.other),),
        audio=(AudioRange(500, 1000 * seconds, AudioMode.bleep, ReasonCode.other),),
    )
    render_plan(src, folder / f"out{seconds}.mp4", plan)
    rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(json.dumps(rss))
"""


def test_memory_stays_flat_on_a_longer_clip(tmp_path: Path) -> None:
    """Clips of 20, 200 and 400 frames (66 MB decoded), analysed and rendered with the
    audio edited throughout: the runtime's buffers grow once (ONNX Runtime, FFmpeg), then
    200 more frames add less than 8 MB of peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    short_kb, middle_kb, long_kb = json.loads(done.stdout.strip().splitlines()[-1])
    assert long_kb - short_kb < 30_000, (short_kb, middle_kb, long_kb)
    assert long_kb - middle_kb < 8_000, (short_kb, middle_kb, long_kb)
