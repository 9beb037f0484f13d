"""`bodycam redact auto` as a person runs it: a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av

from bodycam.redaction.faceclip import FaceClip, score_output


def bodycam(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bodycam.cli", *args], capture_output=True, text=True, check=False
    )


def test_redact_auto_writes_a_redacted_copy(
    clip: FaceClip, clip_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "public.mp4"
    done = bodycam(
        "redact", "auto", str(clip_file), str(out), "--style", "box", "--scale", "320x180"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {out}: 45 frames")
    assert "audio copied" in done.stdout
    score = score_output(clip, out)
    assert score.coverage >= 0.95 and score.flash_frames == []
    with av.open(str(out)) as check:
        assert check.streams.audio


def test_bad_input_is_one_sentence_exit_1_and_no_output(tmp_path: Path) -> None:
    bad = tmp_path / "camera7.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    out = tmp_path / "out.mp4"
    done = bodycam("redact", "auto", str(bad), str(out))
    assert done.returncode == 1
    message = done.stderr.strip()
    assert message == "camera7.mp4 is not a video file (no container FFmpeg recognises)."
    assert sorted(p.name for p in tmp_path.iterdir()) == ["camera7.mp4"]


def test_missing_input_and_bad_options(tmp_path: Path) -> None:
    done = bodycam("redact", "auto", str(tmp_path / "none.mp4"), str(tmp_path / "o.mp4"))
    assert (done.returncode, done.stderr.strip()) == (1, "none.mp4 does not exist.")
    done = bodycam("redact", "auto", "a.mp4", "b.mp4", "--scale", "big")
    assert done.returncode == 1 and "--scale must be WIDTHxHEIGHT" in done.stderr
    done = bodycam("redact", "auto", "a.mp4", "b.mp4", "--threshold", "2")
    assert done.returncode == 1 and "--threshold must be between 0 and 1" in done.stderr
