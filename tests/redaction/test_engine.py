"""`redact_video` end to end on a real clip with faces: coverage, no flash frames, audio,
metadata, untouched background, bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from bodycam.redaction.detect import CenterFace
from bodycam.redaction.engine import (
    ENGINE_VERSION,
    RedactionError,
    RedactOptions,
    redact_video,
)
from bodycam.redaction.faceclip import FaceClip, score_output
from bodycam.redaction.render import Style
from bodycam.redaction.track import iou

from .conftest import SMEARED


@pytest.fixture(scope="module")
def redacted(
    clip_file: Path, detector: CenterFace, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("out") / "redacted.mp4"
    report = redact_video(clip_file, out, detector=detector)
    return out, report


def test_the_detector_really_misses_the_smeared_frames(
    clip: FaceClip, detector: CenterFace
) -> None:
    for index in SMEARED:
        picture, boxes = clip.frame(index)
        first_face = boxes[0]
        found = detector.detect(picture)
        assert all(iou(d.box, first_face) < 0.1 for d in found), index
    picture, boxes = clip.frame(min(SMEARED) - 1)
    assert any(iou(d.box, boxes[0]) > 0.4 for d in detector.detect(picture))


def test_every_face_is_covered_with_no_flash_frame(
    clip: FaceClip, redacted: tuple[Path, object]
) -> None:
    out, _ = redacted
    score = score_output(clip, out)
    assert score.frames == clip.frames
    assert score.faces > 60
    assert score.coverage >= 0.95
    assert score.flash_frames == []


def test_the_background_far_from_faces_is_unchanged(
    clip: FaceClip, clip_file: Path, redacted: tuple[Path, object]
) -> None:
    out, _ = redacted
    assert score_output(clip, out).background_diff < 4.0
    assert score_output(clip, clip_file).background_diff < 4.0
    assert score_output(clip, out).false_area < 0.02


def test_output_is_h264_aac_with_the_same_duration_and_no_input_metadata(
    clip_file: Path, redacted: tuple[Path, object]
) -> None:
    out, report = redacted
    with av.open(str(clip_file)) as src, av.open(str(out)) as dst:
        assert dst.streams.video[0].codec_context.name == "h264"
        assert dst.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert dst.streams.audio[0].codec_context.name == "aac"
        assert dst.duration == pytest.approx(src.duration, abs=100_000)
        vin, vout = src.streams.video[0], dst.streams.video[0]
        assert float(vout.duration * vout.time_base) == pytest.approx(
            float(vin.duration * vin.time_base), abs=0.01
        )
        ain, aout = src.streams.audio[0], dst.streams.audio[0]
        assert float(aout.duration * aout.time_base) == pytest.approx(
            float(ain.duration * ain.time_base), abs=0.01
        )
        assert "creation_time" in src.metadata and "location" in src.metadata
        meta = {**dst.metadata, **dst.streams.video[0].metadata, **dst.streams.audio[0].metadata}
        assert not {"creation_time", "location", "location-eng"} & set(meta)
        assert ENGINE_VERSION in dst.metadata["comment"]
        assert sum(1 for _ in dst.decode(video=0)) == vin.frames
    with av.open(str(out)) as dst:
        assert sum(f.samples for f in dst.decode(audio=0)) > 0.95 * 3.0 * 16_000
    assert report.audio == "copied"  # type: ignore[attr-defined]
    assert 2 <= len(report.tracks) <= 4  # type: ignore[attr-defined]


@pytest.mark.parametrize("style", [Style.box, Style.pixelate])
def test_other_styles(
    style: Style, clip: FaceClip, clip_file: Path, detector: CenterFace, tmp_path: Path
) -> None:
    out = tmp_path / "styled.mp4"
    redact_video(clip_file, out, RedactOptions(style=style), detector=detector)
    score = score_output(clip, out)
    assert score.coverage >= (0.95 if style is Style.box else 0.85)
    if style is Style.box:
        assert score.flash_frames == []


def test_detecting_every_other_frame_still_covers(
    clip: FaceClip, clip_file: Path, detector: CenterFace, tmp_path: Path
) -> None:
    out = tmp_path / "every2.mp4"
    redact_video(clip_file, out, RedactOptions(detect_every=2), detector=detector)
    score = score_output(clip, out)
    assert score.coverage >= 0.95 and score.flash_frames == []


def test_no_audio_drops_the_track(clip_file: Path, detector: CenterFace, tmp_path: Path) -> None:
    out = tmp_path / "mute.mp4"
    report = redact_video(clip_file, out, RedactOptions(audio=False), detector=detector)
    assert report.audio == "dropped"
    with av.open(str(out)) as dst:
        assert not dst.streams.audio


def test_non_aac_audio_is_reencoded(detector: CenterFace, tmp_path: Path) -> None:
    src = tmp_path / "pcm.mov"
    clip = FaceClip(seconds=1.0, width=160, height=96)
    with av.open(str(src), "w", format="mov") as out:
        video = out.add_stream("libx264", rate=clip.fps)
        video.width, video.height, video.pix_fmt = clip.width, clip.height, "yuv420p"
        sound = out.add_stream("pcm_s16le", rate=8000, layout="mono")
        import numpy as np

        for i in range(clip.frames):
            frame = av.VideoFrame.from_ndarray(clip.frame(i)[0], format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        samples = (np.sin(np.arange(8000) / 5) * 8000).astype(np.int16)[None, :]
        chunk = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        chunk.sample_rate, chunk.pts = 8000, 0
        out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
        out.mux(video.encode(None))
    dst = tmp_path / "pcm-redacted.mp4"
    report = redact_video(src, dst, detector=detector)
    assert report.audio == "re-encoded"
    with av.open(str(dst)) as check:
        assert check.streams.audio[0].codec_context.name == "aac"
        assert sum(f.samples for f in check.decode(audio=0)) >= 7000


def test_bad_input_leaves_no_output(tmp_path: Path, detector: CenterFace) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"junk" * 500)
    out = tmp_path / "out.mp4"
    with pytest.raises(RedactionError, match=r"^bad\.mp4 is"):
        redact_video(bad, out, detector=detector)
    assert list(tmp_path.iterdir()) == [bad]


def test_output_path_checks(clip_file: Path, detector: CenterFace, tmp_path: Path) -> None:
    with pytest.raises(RedactionError, match="is the input file"):
        redact_video(clip_file, clip_file, detector=detector)
    with pytest.raises(RedactionError, match="does not exist"):
        redact_video(clip_file, tmp_path / "no" / "out.mp4", detector=detector)
    with pytest.raises(RedactionError, match=r"must be an \.mp4"):
        redact_video(clip_file, tmp_path / "out.avi", detector=detector)


MEMORY_SCRIPT = """
import json, resource, sys
from pathlib import Path
from bodycam.redaction.engine import redact_video
from bodycam.synth.video import make_clip

folder = Path(sys.argv[1])
rss = []
for seconds in (2, 40):
    src = make_clip(folder / f"in{seconds}.mp4", seconds=seconds, width=320, height=180, fps=10)
    redact_video(src, folder / f"out{seconds}.mp4")
    rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(json.dumps(rss))
"""


def test_memory_stays_flat_on_a_longer_clip(tmp_path: Path) -> None:
    """20 times more frames (400 frames, 66 MB decoded) add less than 20 MB of peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    short_kb, long_kb = json.loads(done.stdout.strip().splitlines()[-1])
    assert long_kb - short_kb < 20_000, (short_kb, long_kb)
