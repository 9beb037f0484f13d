"""Redaction styles on real face pixels: strong inside the mask, nothing outside."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.data import astronaut

from bodycam.redaction.faceclip import REDACTED_CORRELATION, correlation
from bodycam.redaction.render import Style, redact_frame

FACE = (183, 66, 267, 178)  # the astronaut's face in skimage's portrait


@pytest.mark.parametrize("scale", [0.25, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("style", list(Style))
def test_a_redacted_face_no_longer_correlates_with_the_original(style: Style, scale: float) -> None:
    original = cv2.resize(astronaut(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x1, y1, x2, y2 = (round(v * scale) for v in FACE)
    frame = original.copy()
    redact_frame(frame, [(x1, y1, x2, y2)], style)
    face_after, face_before = frame[y1:y2, x1:x2], original[y1:y2, x1:x2]
    assert correlation(face_after, face_before) < REDACTED_CORRELATION
    assert np.abs(face_after.astype(int) - face_before.astype(int)).mean() > 8


@pytest.mark.parametrize("style", list(Style))
def test_pixels_outside_the_mask_are_untouched(style: Style) -> None:
    original = astronaut()
    frame = original.copy()
    box = (183, 66, 267, 178)
    covered = redact_frame(frame, [box], style)
    assert covered >= (box[2] - box[0]) * (box[3] - box[1])  # the whole box, at least
    # The ellipse circumscribing the box reaches at most sqrt(2) of its half-size out.
    outside = np.ones(frame.shape[:2], dtype=bool)
    outside[66 - 24 : 178 + 24, 183 - 18 : 267 + 18] = False
    assert np.array_equal(frame[outside], original[outside])


def test_boxes_partly_outside_the_frame_and_empty_boxes() -> None:
    frame = astronaut()
    redact_frame(frame, [(-50, -50, 40, 40), (500, 500, 600, 600), (10, 10, 10, 10)])
    redact_frame(frame, [(700, 700, 800, 800)], Style.box)


def test_solid_box_fills_the_rectangle() -> None:
    frame = astronaut()
    redact_frame(frame, [(10.5, 20.2, 50.7, 60.1)], Style.box, color=(1, 2, 3))
    assert (frame[21:60, 11:50] == (1, 2, 3)).all()
