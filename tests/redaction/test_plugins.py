"""A detector from an installed package plugs in by name, through the entry-point group.

The plug-in here is a real (if simple) detector: it finds saturated red squares with
OpenCV. It is installed the way a wheel installs one: a module plus a ``.dist-info``
folder declaring it under ``bodycam.detectors``, on the child process's path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np

from tests.conftest import BODYCAM

PLUGIN = '''
import cv2
import numpy as np

from bodycam.redaction.detect import Detection


class RedSquares:
    """Saturated red squares (a stand-in for a screen or a plate detector)."""

    name = "red_squares"
    version = "red_squares 1"

    def __init__(self, input_size=(640, 360), threshold=0.5):
        self.threshold = threshold

    def detect(self, frame_rgb):
        r, g, b = (frame_rgb[..., i].astype(np.int16) for i in range(3))
        mask = ((r > 180) & (g < 80) & (b < 80)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        return [
            Detection(float(x), float(y), float(x + w), float(y + h), 1.0, "square")
            for x, y, w, h, area in stats[1:count]
            if area >= 36
        ]


def make(**options):
    return RedSquares(**options)
'''


def _install(site: Path) -> None:
    (site / "agency_squares.py").write_text(PLUGIN)
    info = site / "agency_squares-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: agency-squares\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[bodycam.detectors]\nred_squares = agency_squares:make\n"
    )


def _clip(path: Path, frames: int = 20) -> list[tuple[int, int]]:
    """A grey textured clip with a red 24-pixel square moving right; its corners."""
    rng = np.random.default_rng(5)
    corners = []
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for i in range(frames):
            rgb = rng.integers(90, 140, (96, 160, 3), dtype=np.uint8)
            x, y = 10 + 5 * i, 36
            rgb[y : y + 24, x : x + 24] = (230, 20, 20)
            corners.append((x, y))
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return corners


def test_an_installed_detector_redacts_by_name(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    source, output = tmp_path / "squares.mp4", tmp_path / "out.mp4"
    corners = _clip(source)
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    done = subprocess.run(
        [
            *BODYCAM,
            "redact",
            "auto",
            str(source),
            str(output),
            "--detector",
            "red_squares",
            "--style",
            "box",
            "--scale",
            "160x96",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    with av.open(str(output)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == len(corners)
    for rgb, (x, y) in zip(frames, corners, strict=True):
        inside = rgb[y + 4 : y + 20, x + 4 : x + 20].astype(int)
        assert not (inside[..., 0] > 150).any()  # no red left: the square is boxed
    unknown = subprocess.run(
        [*BODYCAM, "redact", "auto", str(source), str(tmp_path / "x.mp4"), "--detector", "plates"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert unknown.returncode == 1
    assert "no detector named 'plates'" in unknown.stderr and "red_squares" in unknown.stderr
