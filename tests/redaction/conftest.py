"""Fixtures for the redaction tests: one detector and small real clips with faces."""

from __future__ import annotations

from pathlib import Path

import pytest

from bodycam.redaction.detect import CenterFace, make_detector
from bodycam.redaction.faceclip import FaceClip, Walker

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
