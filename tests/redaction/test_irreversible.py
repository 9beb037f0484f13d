"""Redaction is irreversible by construction, measured on real face pixels.

The measure is the normalised cross-correlation (NCC) of the *detail* of two regions
(`faceclip.correlation`: grey levels minus a Gaussian blur of 1/8 of the region, i.e. the
eyes, nose, mouth and their edges). Plain pixel NCC is not used: a redacted region keeps
the average colours of what was there (a light face under dark hair), which correlates
with the original without identifying anyone.

The bound is 0.3: then the redacted pixels explain less than 9 % (r squared) of the
variance of the original face's detail. For scale: an unredacted face after H.264
encoding correlates above 0.95 (checked below, so the tests can fail), a solid box,
which holds no information about the face at all, reaches 0.1 to 0.15 in these
measurements (the box edges against the face's), and the blur stays near 0.25 even
after an attacker who knows the kernel deconvolves it (Wiener filter, any
regularisation), while the same attack on a blur a quarter as strong gets the face
back (from about 0.56 to above 0.8).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from skimage.data import astronaut

from bodycam.redaction import render
from bodycam.redaction.analyse import Analysis
from bodycam.redaction.detect import CenterFace
from bodycam.redaction.faceclip import correlation
from bodycam.redaction.plan import PlanSettings
from bodycam.redaction.plan_render import render_plan
from bodycam.redaction.render import (
    BLUR_SIGMA_FRACTION,
    PIXELATE_BLOCKS,
    Style,
    redact_frame,
)

from .plans import PAIR, decisions, frames, pair_analysis, pair_file, plan_for, track_of

BOUND = 0.3
"""Detail NCC above which a region still carries the face (see the module docstring)."""

FACE = (183, 66, 267, 178)  # the astronaut's face in skimage's portrait
RGBFrame = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory, detector: CenterFace) -> Analysis:
    return pair_analysis(tmp_path_factory, detector)


@pytest.mark.parametrize("style", list(Style))
def test_redacted_faces_in_a_rendered_clip_no_longer_correlate(
    style: Style,
    analysis: Analysis,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Face A redacted in `style`, face B kept: inside every ground-truth box of A the
    output's detail NCC with the original is under the bound; B's stays above 0.95."""
    a = track_of(analysis, PAIR, 0)
    plan = plan_for(
        analysis,
        settings=PlanSettings(style=style),
        tracks=decisions(analysis, {t.track_id: t.track_id == a for t in analysis.tracks}),
    )
    out = tmp_path / f"{style}.mp4"
    render_plan(pair_file(tmp_path_factory), out, plan)
    redacted, kept = [], []
    for i, rgb in enumerate(frames(out)):
        truth, ((ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2)) = PAIR.frame(i)
        redacted.append(correlation(rgb[ay1:ay2, ax1:ax2], truth[ay1:ay2, ax1:ax2]))
        kept.append(correlation(rgb[by1:by2, bx1:bx2], truth[by1:by2, bx1:bx2]))
    assert len(redacted) == PAIR.frames
    assert max(abs(r) for r in redacted) < BOUND, redacted
    assert min(kept) > 0.95, kept


def wiener(picture: RGBFrame, sigma: float, k: float) -> RGBFrame:
    """Deconvolve a Gaussian blur of `sigma` (Wiener filter, noise-to-signal `k`)."""
    grey = picture.astype(np.float64).mean(axis=2)
    fy = np.fft.fftfreq(grey.shape[0])[:, None]
    fx = np.fft.fftfreq(grey.shape[1])[None, :]
    gain = np.exp(-2 * np.pi**2 * sigma**2 * (fx**2 + fy**2))
    restored = np.real(np.fft.ifft2(np.fft.fft2(grey) * gain / (gain**2 + k)))
    return np.repeat(np.clip(restored, 0, 255)[:, :, None], 3, axis=2).astype(np.uint8)


def best_attack(picture: RGBFrame, sigma: float) -> float:
    """The highest detail NCC with the original face that deconvolution gets back."""
    x1, y1, x2, y2 = FACE
    original = astronaut()[y1:y2, x1:x2]
    return max(
        correlation(wiener(picture, sigma, k)[y1:y2, x1:x2], original)
        for k in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
    )


def blurred_whole(sigma: float) -> RGBFrame:
    """The portrait blurred by an exact Gaussian and rounded to 8 bits: the attacker's
    model holds exactly."""
    return np.asarray(
        cv2.GaussianBlur(astronaut(), (0, 0), sigma, borderType=cv2.BORDER_REFLECT), np.uint8
    )


def face_ncc(picture: RGBFrame) -> float:
    """Detail NCC of `picture`'s face region with the original face."""
    x1, y1, x2, y2 = FACE
    return correlation(picture[y1:y2, x1:x2], astronaut()[y1:y2, x1:x2])


def redaction_sigma() -> float:
    """The blur's sigma for the portrait's face box (see `render`)."""
    x1, y1, x2, y2 = FACE
    return max(x2 - x1, y2 - y1) * BLUR_SIGMA_FRACTION


def test_the_attack_recovers_a_weak_blur() -> None:
    """The control: deconvolution really works on a blur a quarter as strong."""
    sigma = redaction_sigma() / 4
    weak = blurred_whole(sigma)
    assert best_attack(weak, sigma) > max(0.75, face_ncc(weak) + 0.15)


def test_deconvolving_the_redaction_blur_gets_nothing_back() -> None:
    sigma = redaction_sigma()
    # An exact Gaussian of the redaction's sigma, the attacker's model exact: the
    # detail is under 8-bit rounding, and no regularisation brings it back.
    assert best_attack(blurred_whole(sigma), sigma) < BOUND
    blurred = astronaut()
    redact_frame(blurred, [FACE], Style.blur)
    boxed = astronaut()
    redact_frame(boxed, [FACE], Style.box)
    assert face_ncc(blurred) < 0.15
    assert best_attack(blurred, sigma) < BOUND
    assert best_attack(boxed, sigma) < 0.15  # what the attack "finds" in nothing at all


def test_the_fast_blur_is_as_strong_as_a_true_gaussian() -> None:
    """`render` approximates the Gaussian by down-scaling; an exact full-resolution
    Gaussian of the documented sigma leaves the same (or more) detail."""
    x1, y1, x2, y2 = FACE
    sigma = max(x2 - x1, y2 - y1) * BLUR_SIGMA_FRACTION
    region = astronaut()[y1 - 40 : y2 + 40, x1 - 40 : x2 + 40]
    fast = render._blurred(region, sigma)
    exact = cv2.GaussianBlur(region, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    inner = (slice(40, -40), slice(40, -40))
    original = region[inner]
    assert correlation(fast[inner], original) <= correlation(exact[inner], original) + 0.05


def test_smoothing_a_pixelated_face_does_not_bring_it_back() -> None:
    """The obvious attack on a mosaic, interpolating between the block centres."""
    x1, y1, x2, y2 = FACE
    picture = astronaut()
    redact_frame(picture, [FACE], Style.pixelate)
    size = max(x2 - x1, y2 - y1)
    block = max(2, math.ceil(size / PIXELATE_BLOCKS))
    region = picture[y1:y2, x1:x2]
    blocks = (math.ceil((x2 - x1) / block), math.ceil((y2 - y1) / block))
    small = cv2.resize(region, blocks, interpolation=cv2.INTER_AREA)
    for method in (cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4):
        smooth = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=method)
        assert correlation(smooth, astronaut()[y1:y2, x1:x2]) < BOUND, method
