"""Real speech for the audio redaction tests: espeak-ng sentences muxed into MP4 or M4A.

espeak-ng (Debian package ``espeak-ng``; `.ci/run` installs it) speaks each part to a WAV;
the parts are joined with known silences between them and written as AAC, with a small
H.264 picture track from `bodycam.synth.video.frame_at` or audio only. The clip keeps
where each part was spoken, so a test can check that a word was heard at the right time.
When espeak-ng is missing the tests skip, or fail under ``BODYCAM_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

import av
import numpy as np
import numpy.typing as npt
import pytest

from bodycam.redaction.transcript import tokens
from bodycam.synth.video import frame_at

Samples = npt.NDArray[np.float32]


def _unavailable(reason: str) -> NoReturn:
    """Skip (or, under BODYCAM_REQUIRE_SERVICES=1, fail) for want of espeak-ng."""
    message = f"No speech synthesiser for tests: {reason}"
    if os.environ.get("BODYCAM_REQUIRE_SERVICES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def espeak() -> str:
    """The espeak-ng executable (skips or fails the test when there is none)."""
    found = shutil.which("espeak-ng")
    if found is None:
        _unavailable("espeak-ng is not installed (apt-get install espeak-ng)")
    return found


def speak(text: str, *, voice: str = "en-us", words_per_minute: int = 150) -> tuple[Samples, int]:
    """`text` spoken by espeak-ng: mono float32 samples and their rate."""
    done = subprocess.run(
        [espeak(), "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        _unavailable(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()}")
    with wave.open(io.BytesIO(done.stdout)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    return (np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0), rate


@dataclass(frozen=True)
class SpokenClip:
    """A file of speech and where each part of it was spoken."""

    path: Path
    parts: tuple[tuple[str, float, float], ...]
    """(text, start s, end s) of each spoken part."""
    duration: float

    @property
    def text(self) -> str:
        """Everything said, in order."""
        return " ".join(p[0] for p in self.parts)

    def part_of(self, phrase: str) -> tuple[float, float]:
        """(start, end) of the part that says `phrase`."""
        wanted = tokens(phrase)
        for text, start, end in self.parts:
            said = tokens(text)
            if any(said[i : i + len(wanted)] == wanted for i in range(len(said))):
                return start, end
        raise KeyError(phrase)


def spoken_clip(
    path: Path,
    parts: Sequence[str],
    *,
    lead_s: float = 0.6,
    gap_s: float = 0.9,
    video: bool = True,
) -> SpokenClip:
    """Write `parts` spoken one after another (silence first and between) to `path`."""
    pieces: list[Samples] = []
    spans: list[tuple[str, float, float]] = []
    rate = 0
    at = 0
    for i, text in enumerate(parts):
        samples, rate = speak(text)
        pause = np.zeros(round((lead_s if i == 0 else gap_s) * rate), dtype=np.float32)
        pieces += [pause, samples]
        at += pause.size
        spans.append((text, at / rate, (at + samples.size) / rate))
        at += samples.size
    pieces.append(np.zeros(round(0.5 * rate), dtype=np.float32))
    audio = np.concatenate(pieces)
    _write(path, audio, rate, video=video)
    return SpokenClip(path, tuple(spans), audio.size / rate)


def _write(path: Path, audio: Samples, rate: int, *, video: bool) -> None:
    fps = 5
    with av.open(str(path), mode="w", format="mp4") as out:
        picture = out.add_stream("libx264", rate=fps) if video else None
        if picture is not None:
            picture.width, picture.height, picture.pix_fmt = 160, 90, "yuv420p"
            picture.options = {"preset": "ultrafast"}
        sound = out.add_stream("aac", rate=rate, layout="mono")
        frames = int(np.ceil(audio.size / rate * fps))
        step = 1024
        sent = 0
        for index in range(frames if picture is not None else 1):
            if picture is not None:
                frame = av.VideoFrame.from_ndarray(frame_at(7, index, 160, 90), format="rgb24")
                frame.pts, frame.time_base = index, Fraction(1, fps)
                out.mux(picture.encode(frame))
            due = audio.size if picture is None else min(audio.size, (index + 1) * rate // fps)
            while sent < due:
                chunk = audio[sent : sent + step].reshape(1, -1)
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                aframe.sample_rate, aframe.pts = rate, sent
                aframe.time_base = Fraction(1, rate)
                out.mux(sound.encode(aframe))
                sent += chunk.shape[1]
        if picture is not None:
            out.mux(picture.encode(None))
        out.mux(sound.encode(None))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate of `hypothesis` against `reference` (tokens, case and punctuation off)."""
    ref, hyp = tokens(reference), tokens(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))
