"""Fixtures for the redaction tests: one detector and small real clips with faces; the speech
model, and real spoken clips with their transcripts (see `tests.redaction.speech`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bodycam.redaction.detect import CenterFace, make_detector
from bodycam.redaction.faceclip import FaceClip, Walker
from bodycam.redaction.speech import SpeechModel, load_speech_model, transcribe
from bodycam.redaction.transcript import Transcript
from tests.redaction.speech import SpokenClip, spoken_clip

SMEARED = frozenset({20, 21})
"""Frames in which the first face is smeared by fast motion: CenterFace misses it there."""


@pytest.fixture(scope="session")
def detector() -> CenterFace:
    """The CenterFace detector (loaded once)."""
    found = make_detector("centerface")
    assert isinstance(found, CenterFace)
    return found


@pytest.fixture(scope="session")
def clip() -> FaceClip:
    """Two moving faces (one growing), camera shake, a sweeping occluder and 2 missed frames."""
    return FaceClip(
        width=320,
        height=180,
        fps=15,
        seconds=3.0,
        walkers=[
            Walker(start=(0.1, 0.2), velocity=(0.02, 0.01), height=0.4, smear=SMEARED),
            Walker(start=(0.8, 0.6), velocity=(-0.015, 0.02), height=0.3, mirror=True, grow=0.002),
        ],
        shake=3.0,
        occluder=True,
    )


@pytest.fixture(scope="session")
def clip_file(clip: FaceClip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`clip` written as H.264 + AAC MP4 with a creation time and a location tag."""
    return clip.write(tmp_path_factory.mktemp("faces") / "faces.mp4")


# -- speech ------------------------------------------------------------------------------

TALK = (
    "The officer asked the driver to step out of the car.",
    "Please keep your hands where I can see them.",
)
"""Speech without personal data: two parts, a known silence between them."""

PERSONAL = (
    "My name is John Smith.",
    "My phone number is five five five, one two one two.",
    "I was born on March third, nineteen eighty five.",
    "I live at fourteen twenty eight Elm Street.",
)
"""Speech with a name, a phone number said digit by digit, a date of birth and an address."""


@pytest.fixture(scope="session")
def speech_model() -> SpeechModel:
    """The shipped Whisper tiny.en model (loaded once per worker, hash checked)."""
    return load_speech_model()


@pytest.fixture(scope="session")
def talk_clip(tmp_path_factory: pytest.TempPathFactory) -> SpokenClip:
    """`TALK` spoken by espeak-ng in an H.264 + AAC MP4 (about 6 s)."""
    return spoken_clip(tmp_path_factory.mktemp("speech") / "talk.mp4", TALK)


@pytest.fixture(scope="session")
def talk_transcript(talk_clip: SpokenClip, speech_model: SpeechModel) -> Transcript:
    """`talk_clip` transcribed."""
    return transcribe(talk_clip.path, model=speech_model)


@pytest.fixture(scope="session")
def personal_clip(tmp_path_factory: pytest.TempPathFactory) -> SpokenClip:
    """`PERSONAL` spoken by espeak-ng in an audio-only M4A (AAC, about 12 s)."""
    return spoken_clip(tmp_path_factory.mktemp("speech") / "personal.m4a", PERSONAL, video=False)


@pytest.fixture(scope="session")
def personal_transcript(personal_clip: SpokenClip, speech_model: SpeechModel) -> Transcript:
    """`personal_clip` transcribed."""
    return transcribe(personal_clip.path, model=speech_model)
