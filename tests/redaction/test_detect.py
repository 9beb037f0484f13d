"""CenterFace on real pixels, the pinned model hash and the detector registry."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from skimage.data import astronaut

from bodycam.redaction.detect import (
    CENTERFACE_SHA256,
    CenterFace,
    Detection,
    Detector,
    DetectorError,
    available_detectors,
    centerface_path,
    fit_within,
    make_detector,
    nms,
)
from bodycam.redaction.track import iou


def test_finds_the_astronauts_face(detector: CenterFace) -> None:
    found = detector.detect(astronaut())
    assert len(found) == 1
    face = found[0]
    assert face.label == "face" and face.score > 0.5
    # The face in skimage's astronaut portrait is at about x 183-267, y 66-178.
    assert iou(face.box, (183, 66, 267, 178)) > 0.6
    assert isinstance(detector, Detector)


def test_boxes_are_in_frame_pixels_whatever_the_detection_size(detector: CenterFace) -> None:
    big = np.full((720, 1280, 3), 110, dtype=np.uint8)
    big[100:612, 500:1012] = astronaut()
    (face,) = detector.detect(big)
    assert iou(face.box, (683, 166, 767, 278)) > 0.5


def test_empty_picture_has_no_faces(detector: CenterFace) -> None:
    assert detector.detect(np.full((180, 320, 3), 90, dtype=np.uint8)) == []


def test_a_model_file_with_another_hash_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "centerface.onnx"
    shutil.copyfile(centerface_path(), copy)
    with copy.open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(DetectorError, match="refusing to load"):
        CenterFace(model_path=copy)


def test_the_pinned_hash_is_the_installed_file(detector: CenterFace) -> None:
    assert detector.sha256 == CENTERFACE_SHA256
    assert detector.version.startswith("centerface sha256:")


def test_cpu_is_used_without_a_gpu(detector: CenterFace) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        assert detector.providers[0] == "CUDAExecutionProvider"
    else:
        assert detector.providers == ["CPUExecutionProvider"]


def test_registry_names_and_unknown_names() -> None:
    assert "centerface" in available_detectors()
    with pytest.raises(DetectorError, match="no detector named 'plates'"):
        make_detector("plates")


def test_bad_options_are_refused() -> None:
    with pytest.raises(DetectorError, match="threshold"):
        CenterFace(threshold=1.5)
    with pytest.raises(DetectorError, match="at least 32x32"):
        CenterFace(input_size=(16, 16))


def test_fit_within_keeps_aspect_and_never_enlarges() -> None:
    assert fit_within(1280, 720, 640, 360) == (640, 360)
    assert fit_within(1440, 1080, 640, 360) == (480, 360)
    assert fit_within(320, 180, 640, 360) == (320, 180)


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=np.float32)
    scores = np.array([0.5, 0.9, 0.4], dtype=np.float32)
    assert nms(boxes, scores, 0.3) == [1, 2]
    assert Detection(0, 0, 1, 1, 0.5).box == (0, 0, 1, 1)
