"""Draw redactions into RGB frames: blur, pixelate or a solid box.

Masks. Blur and pixelate use an ellipse that circumscribes the (already padded) box, so
every pixel of the box is covered and the corners of the region look rounded; `box` fills
the rectangle itself.

Strength, relative to the box (s = the longer side of the padded box, in pixels):

* blur: a Gaussian of standard deviation sigma = s / 3. It is computed as an area
  down-scale by sigma / 2, a Gaussian of sigma 2 on the small picture and a linear
  up-scale, which approximates the same low-pass filter at a fraction of the cost. The
  filter passes exp(-2 pi^2 sigma^2 f^2) of the contrast at f cycles per pixel: less than
  1/255 for any detail finer than s / 2 (f > 2 / s), so after 8-bit rounding the eyes,
  nose and mouth are gone, not hidden, and no deconvolution brings them back. What is
  left is a soft blob of the region's average colours. Tested: the detail of a blurred
  face correlates with the original's by at most about 0.3 (`faceclip.correlation`).
* pixelate: the region is averaged into blocks of ceil(s / 4) pixels (at most 4 blocks
  across the box), nearest-neighbour up-scaled. Coarser than common mosaics because
  6 to 8 blocks across a face are known to leave it recognisable.
* box: a solid fill (black by default).

Why blur is irreversible, and not only hidden (tests/redaction/test_irreversible.py):
an attacker who knows the kernel (it is documented here) and deconvolves the output
(Wiener filter, any regularisation) gets back face detail correlating about 0.25 with
the original, against 0.1 for the same attack on a solid box and above 0.95 for an
unredacted face; the same attack does recover a blur a quarter as strong (above 0.8),
so the measure can fail. It holds for an exact full-resolution Gaussian of sigma s / 3
too, so the fast approximation loses nothing; the strength was left as it was.

Whole frames (`redact_full_frame`, for full-frame ranges and bulk redaction) use the
same filters with the frame's longer side L in place of s: a Gaussian of sigma L / 12,
or blocks of L / 16. That is at least as strong as a face box for every face up to a
quarter of the frame's longer side (s / 3 <= L / 12), i.e. all but extreme close-ups.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np
import numpy.typing as npt

from bodycam.redaction.styles import Style
from bodycam.redaction.track import Box

__all__ = [
    "BLUR_SIGMA_FRACTION",
    "FULL_FRAME_BLOCKS",
    "FULL_FRAME_SIGMA_FRACTION",
    "PIXELATE_BLOCKS",
    "Style",
    "redact_frame",
    "redact_full_frame",
]

RGBFrame = npt.NDArray[np.uint8]

BLUR_SIGMA_FRACTION = 1 / 3
"""Gaussian standard deviation as a fraction of the padded box's longer side."""

PIXELATE_BLOCKS = 4
"""Pixelate: at most this many blocks across the padded box's longer side."""


FULL_FRAME_SIGMA_FRACTION = 1 / 12
"""Whole-frame blur: Gaussian standard deviation as a fraction of the frame's longer side."""

FULL_FRAME_BLOCKS = 16
"""Whole-frame pixelate: this many blocks across the frame's longer side."""


def _clip(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    x1, y1 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x2, y2 = min(width, math.ceil(box[2])), min(height, math.ceil(box[3]))
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


def _ellipse_box(box: Box) -> Box:
    """The bounding box of the ellipse that passes through `box`'s corners (sqrt 2 larger)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rx, ry = (box[2] - box[0]) / math.sqrt(2), (box[3] - box[1]) / math.sqrt(2)
    return (cx - rx, cy - ry, cx + rx, cy + ry)


def _ellipse_mask(w: int, h: int, ebox: Box, x0: int, y0: int) -> npt.NDArray[np.uint8]:
    """A w x h mask (1 inside) of the ellipse `ebox`, for the region at (x0, y0)."""
    cx, cy = (ebox[0] + ebox[2]) / 2 - x0, (ebox[1] + ebox[3]) / 2 - y0
    rx, ry = max((ebox[2] - ebox[0]) / 2, 0.5), max((ebox[3] - ebox[1]) / 2, 0.5)
    mask = np.zeros((h, w), dtype=np.uint8)
    shift = 4  # sub-pixel precision of the centre and axes
    cv2.ellipse(
        mask,
        (round((cx - 0.5) * 16), round((cy - 0.5) * 16)),
        (round(rx * 16), round(ry * 16)),
        0,
        0,
        360,
        1,
        thickness=-1,
        lineType=cv2.LINE_8,
        shift=shift,
    )
    return mask


def _blurred(region: RGBFrame, sigma: float) -> RGBFrame:
    h, w = region.shape[:2]
    factor = max(1.0, sigma / 2)
    sw, sh = max(1, round(w / factor)), max(1, round(h / factor))
    small = np.asarray(cv2.resize(region, (sw, sh), interpolation=cv2.INTER_AREA))
    small = np.asarray(
        cv2.GaussianBlur(small, (0, 0), sigmaX=min(2.0, sigma), borderType=cv2.BORDER_REPLICATE)
    )
    out: RGBFrame = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    return out


def _pixelated(region: RGBFrame, block: int) -> RGBFrame:
    h, w = region.shape[:2]
    small = np.asarray(
        cv2.resize(
            region,
            (max(1, math.ceil(w / block)), max(1, math.ceil(h / block))),
            interpolation=cv2.INTER_AREA,
        )
    )
    out: RGBFrame = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST))
    return out


def redact_frame(
    frame: RGBFrame,
    boxes: Iterable[Box],
    style: Style = Style.blur,
    color: tuple[int, int, int] = (0, 0, 0),
) -> int:
    """Redact every box of `frame` in place; return the number of pixels changed by masks."""
    height, width = frame.shape[:2]
    covered = 0
    for box in boxes:
        size = max(box[2] - box[0], box[3] - box[1])
        if size <= 0:
            continue
        if style is Style.box:
            rect = _clip(box, width, height)
            if rect is not None:
                x1, y1, x2, y2 = rect
                frame[y1:y2, x1:x2] = color
                covered += (x2 - x1) * (y2 - y1)
            continue
        ebox = _ellipse_box(box)
        sigma = size * BLUR_SIGMA_FRACTION
        # Blur a context ring around the mask so its edge does not average in a hard border.
        ring = 2 * sigma if style is Style.blur else 0
        outer = _clip(
            (ebox[0] - ring, ebox[1] - ring, ebox[2] + ring, ebox[3] + ring), width, height
        )
        inner = _clip(ebox, width, height)
        if outer is None or inner is None:
            continue
        ox1, oy1, ox2, oy2 = outer
        x1, y1, x2, y2 = inner
        if style is Style.blur:
            treated = _blurred(frame[oy1:oy2, ox1:ox2], sigma)[
                y1 - oy1 : y2 - oy1, x1 - ox1 : x2 - ox1
            ]
        else:
            treated = _pixelated(frame[y1:y2, x1:x2], max(2, math.ceil(size / PIXELATE_BLOCKS)))
        mask = _ellipse_mask(x2 - x1, y2 - y1, ebox, x1, y1)
        np.copyto(frame[y1:y2, x1:x2], treated, where=mask[:, :, None].astype(bool))
        covered += int(np.count_nonzero(mask))
    return covered


def redact_full_frame(
    frame: RGBFrame, style: Style = Style.blur, color: tuple[int, int, int] = (0, 0, 0)
) -> int:
    """Redact the whole of `frame` in place; return the number of pixels (all of them)."""
    height, width = int(frame.shape[0]), int(frame.shape[1])
    size = max(height, width)
    if style is Style.box:
        frame[:] = color
    elif style is Style.blur:
        frame[:] = _blurred(frame, size * FULL_FRAME_SIGMA_FRACTION)
    else:
        frame[:] = _pixelated(frame, max(2, math.ceil(size / FULL_FRAME_BLOCKS)))
    return height * width
