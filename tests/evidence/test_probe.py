"""Probing video files: facts from good clips, one clear sentence for every broken one."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bodycam.evidence.probe import ProbeError, ProbeResult, probe
from bodycam.synth.video import corrupt_variants, make_clip

WHEN = datetime(2023, 11, 2, 8, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe")


@pytest.fixture(scope="module")
def good(clips: Path) -> Path:
    return make_clip(clips / "good.mp4", seconds=2.0, seed=4, creation_time=WHEN)


@pytest.fixture(scope="module")
def variants(good: Path, clips: Path) -> dict[str, Path]:
    return corrupt_variants(good, clips / "bad")


def test_good_clip_facts(good: Path) -> None:
    result = probe(good)
    assert isinstance(result, ProbeResult)
    assert result.container == "mp4"
    assert result.video_codec == "h264"
    assert result.audio_codec == "aac"
    assert result.has_audio
    assert (result.width, result.height) == (320, 180)
    assert result.fps == pytest.approx(15.0)
    assert result.duration_s == pytest.approx(2.0, abs=0.05)
    assert result.frame_count == 30
    assert result.creation_time == WHEN
    assert result.creation_time is not None and result.creation_time.tzinfo is not None
    assert result.bit_rate is not None and result.bit_rate > 0


def test_shallow_probe_agrees_on_a_good_clip(good: Path) -> None:
    assert probe(good, deep=False) == probe(good)


def test_clip_without_audio_or_creation_time(clips: Path) -> None:
    path = make_clip(clips / "silent.mp4", seconds=1.0, fps=10, audio=False, seed=9)
    result = probe(path)
    assert not result.has_audio and result.audio_codec is None
    assert result.creation_time is None
    assert result.frame_count == 10
    assert result.duration_s == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(("container", "short"), [("mov", "mov"), ("mkv", "mkv"), ("mp4", "mp4")])
def test_other_containers_probe(clips: Path, container: str, short: str) -> None:
    path = make_clip(
        clips / f"other.{container}",
        seconds=1.0,
        fps=12,
        width=160,
        height=90,
        creation_time=WHEN,
        container=container,  # type: ignore[arg-type]
        faststart=False,
    )
    result = probe(path)
    assert result.container == short
    assert (result.video_codec, result.audio_codec) == ("h264", "aac")
    assert (result.width, result.height, result.frame_count) == (160, 90, 12)
    assert result.duration_s == pytest.approx(1.0, abs=0.05)
    assert result.creation_time == WHEN


REFUSALS = [
    ("zero_bytes", True, "is empty (0 bytes)."),
    ("zero_bytes", False, "is empty (0 bytes)."),
    ("truncated", True, "is truncated or corrupt: the video stream ends at "),
    ("truncated", False, "is truncated: its 'mdat' box needs "),
    ("not_video", True, "is not a video file (no container FFmpeg recognises)."),
    ("not_video", False, "is not a video file (no container FFmpeg recognises)."),
    ("garbage_middle", True, "is corrupt: "),  # damage in the media needs the deep check
    ("no_video_stream", True, "has no video stream"),
    ("no_video_stream", False, "has no video stream"),
]


@pytest.mark.parametrize(("variant", "deep", "problem"), REFUSALS)
def test_corrupt_variants_are_refused(
    variants: dict[str, Path], variant: str, deep: bool, problem: str
) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(variants[variant], deep=deep)
    message = str(caught.value)
    assert message.startswith(f"{variant}.mp4 ")
    assert problem in message
    assert message.endswith(".") and message.count(". ") == 0  # one sentence


def test_truncated_message_names_the_shortfall(variants: dict[str, Path]) -> None:
    with pytest.raises(ProbeError, match=r"ends at 1\.\d s of the 2\.0 s it declares\.$"):
        probe(variants["truncated"])


def test_garbage_is_caught_without_strict_decoding(variants: dict[str, Path]) -> None:
    with pytest.raises(ProbeError, match="is corrupt"):
        probe(variants["garbage_middle"], strict=False)


def test_display_name_is_used_in_messages(variants: dict[str, Path]) -> None:
    for variant in ("zero_bytes", "truncated", "not_video", "garbage_middle"):
        with pytest.raises(ProbeError) as caught:
            probe(variants[variant], display_name="Officer 12 upload 3")
        assert str(caught.value).startswith("Officer 12 upload 3 is ")
        assert f"{variant}.mp4" not in str(caught.value)


def test_truncated_without_faststart_has_no_index(clips: Path) -> None:
    path = make_clip(clips / "late_index.mp4", seconds=1.0, faststart=False, seed=2)
    cut = clips / "late_index_cut.mp4"
    cut.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.9)])
    for deep in (True, False):
        with pytest.raises(
            ProbeError, match=r"late_index_cut\.mp4 is truncated or corrupt: .*moov"
        ):
            probe(cut, deep=deep)


@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_matroska(clips: Path, keep: float) -> None:
    path = make_clip(clips / "cut.mkv", seconds=2.0, container="mkv", seed=6)
    cut = clips / f"cut_{keep}.mkv"
    cut.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])
    with pytest.raises(ProbeError, match="is truncated or corrupt"):
        probe(cut)


def test_cut_anywhere_in_the_media_is_refused(good: Path, clips: Path) -> None:
    data = good.read_bytes()
    cut = clips / "cut_anywhere.mp4"
    for fraction in (0.2, 0.45, 0.7, 0.9, 0.99):
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(ProbeError, match="truncated"):
            probe(cut)


def test_still_image_is_not_a_video(clips: Path) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * 8 for _ in range(8))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    path = clips / "photo.mp4"
    path.write_bytes(png)
    with pytest.raises(ProbeError, match=r"^photo\.mp4 is (a still image|not a video file)"):
        probe(path)


def test_missing_file_and_directory(clips: Path) -> None:
    with pytest.raises(ProbeError, match=r"^nowhere\.mp4 does not exist\.$"):
        probe(clips / "nowhere.mp4")
    with pytest.raises(ProbeError, match="is not a file"):
        probe(clips)


def test_probe_error_is_a_value_error() -> None:
    assert issubclass(ProbeError, ValueError)


def test_metadata_that_is_not_text_is_refused_with_a_sentence():
    """Found by fuzzing the upload API: FFmpeg handed PyAV undecodable metadata bytes."""
    sample = Path(__file__).parent / "data" / "undecodable-metadata.bin"
    with pytest.raises(ProbeError, match="is not a video file FFmpeg can read"):
        probe(sample)
