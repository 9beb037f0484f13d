"""Small, real, deterministic video clips for tests and the demo.

`make_clip` writes an H.264 + AAC file whose every frame is `frame_at(...)`: a few coloured
rectangles and discs moving at different speeds over a slowly changing gradient, with an
optional burned-in label and timestamp. Everything is derived from a seed, so the same
arguments give the same bytes and different seeds give different pictures.

`corrupt_variants` derives broken files from a good clip for ingest and probe tests.
"""

from __future__ import annotations

import math
import os
import shutil
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Final, Literal

import av
import numpy as np
import numpy.typing as npt

__all__ = [
    "AUDIO_SAMPLE_RATE",
    "Container",
    "corrupt_variants",
    "frame_at",
    "make_clip",
    "overlay_text",
]

AUDIO_SAMPLE_RATE: Final = 16_000
"""Sample rate of the synthetic audio track (mono AAC)."""

Container = Literal["mp4", "mov", "mkv"]
_FORMATS: Final[dict[str, str]] = {"mp4": "mp4", "mov": "mov", "mkv": "matroska"}
_AAC_FRAME: Final = 1024

RGBFrame = npt.NDArray[np.uint8]

# A 3x5 pixel font: each glyph is five rows of three bits.
_GLYPHS: Final[dict[str, tuple[str, ...]]] = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "A": ("010", "101", "111", "101", "101"),
    "B": ("110", "101", "110", "101", "110"),
    "C": ("011", "100", "100", "100", "011"),
    "D": ("110", "101", "101", "101", "110"),
    "E": ("111", "100", "110", "100", "111"),
    "F": ("111", "100", "110", "100", "100"),
    "G": ("011", "100", "101", "101", "011"),
    "H": ("101", "101", "111", "101", "101"),
    "I": ("111", "010", "010", "010", "111"),
    "J": ("001", "001", "001", "101", "010"),
    "K": ("101", "101", "110", "101", "101"),
    "L": ("100", "100", "100", "100", "111"),
    "M": ("101", "111", "111", "101", "101"),
    "N": ("110", "101", "101", "101", "101"),
    "O": ("010", "101", "101", "101", "010"),
    "P": ("110", "101", "110", "100", "100"),
    "Q": ("010", "101", "101", "110", "011"),
    "R": ("110", "101", "110", "101", "101"),
    "S": ("011", "100", "010", "001", "110"),
    "T": ("111", "010", "010", "010", "010"),
    "U": ("101", "101", "101", "101", "111"),
    "V": ("101", "101", "101", "101", "010"),
    "W": ("101", "101", "111", "111", "101"),
    "X": ("101", "101", "010", "101", "101"),
    "Y": ("101", "101", "010", "010", "010"),
    "Z": ("111", "001", "010", "100", "111"),
    "-": ("000", "000", "111", "000", "000"),
    ":": ("000", "010", "000", "010", "000"),
    ".": ("000", "000", "000", "000", "010"),
    "/": ("001", "001", "010", "100", "100"),
    "_": ("000", "000", "000", "000", "111"),
    "#": ("101", "111", "101", "111", "101"),
    " ": ("000", "000", "000", "000", "000"),
    "?": ("111", "001", "010", "000", "010"),
}
_GLYPH_BITS: Final[dict[str, npt.NDArray[np.bool_]]] = {
    ch: np.array([[c == "1" for c in row] for row in rows], dtype=np.bool_)
    for ch, rows in _GLYPHS.items()
}


@dataclass(frozen=True)
class _Shape:
    disc: bool
    size: float  # fraction of min(width, height)
    color: tuple[int, int, int]
    start: tuple[float, float]  # fraction of the free range, x and y
    velocity: tuple[float, float]  # fraction of the free range per frame, x and y


@dataclass(frozen=True)
class _Scene:
    base: npt.NDArray[np.float32]  # (3,)
    amp_x: npt.NDArray[np.float32]  # (3,)
    amp_y: npt.NDArray[np.float32]  # (3,)
    freq_x: npt.NDArray[np.float32]  # (3,) cycles across the width
    freq_y: npt.NDArray[np.float32]  # (3,) cycles across the height
    drift: npt.NDArray[np.float32]  # (3,) cycles per frame
    shapes: tuple[_Shape, ...]


def _scene(seed: int) -> _Scene:
    rng = np.random.default_rng([seed, 0xB0D7CA])
    shapes = []
    for i in range(int(rng.integers(3, 6))):
        shapes.append(
            _Shape(
                disc=bool(i % 2),
                size=float(rng.uniform(0.15, 0.35)),
                color=(
                    int(rng.integers(0, 256)),
                    int(rng.integers(0, 256)),
                    int(rng.integers(0, 256)),
                ),
                start=(float(rng.uniform()), float(rng.uniform())),
                velocity=(
                    float(rng.choice([-1, 1]) * rng.uniform(0.01, 0.04)),
                    float(rng.choice([-1, 1]) * rng.uniform(0.01, 0.04)),
                ),
            )
        )

    def f32(low: float, high: float) -> npt.NDArray[np.float32]:
        return rng.uniform(low, high, 3).astype(np.float32)

    return _Scene(
        base=f32(70, 180),
        amp_x=f32(15, 45),
        amp_y=f32(15, 45),
        freq_x=f32(0.3, 1.5),
        freq_y=f32(0.3, 1.5),
        drift=f32(-0.02, 0.02),
        shapes=tuple(shapes),
    )


def _bounce(position: float) -> float:
    """Triangle wave in [0, 1]: a point moving at constant speed between two walls."""
    p = position % 2.0
    return 2.0 - p if p > 1.0 else p


def overlay_text(
    index: int,
    *,
    fps: int = 15,
    label: str | None = None,
    creation_time: datetime | None = None,
) -> str:
    """The text burned into frame `index`: the label and/or the frame's UTC wall-clock time."""
    parts = []
    if label:
        parts.append(label.upper())
    if creation_time is not None:
        start = creation_time.astimezone(UTC) if creation_time.tzinfo else creation_time
        moment = start + timedelta(seconds=index / fps)
        parts.append(moment.strftime("%Y-%m-%d %H:%M:%SZ"))
    return "  ".join(parts)


def _draw_text(frame: RGBFrame, text: str) -> None:
    """Burn `text` into the top-left corner: white 3x5 glyphs on a black box."""
    if not text:
        return
    height, width = frame.shape[:2]
    scale = max(1, height // 90)
    bits = np.zeros((5, 4 * len(text) - 1), dtype=np.bool_)
    for i, ch in enumerate(text):
        bits[:, 4 * i : 4 * i + 3] = _GLYPH_BITS.get(ch, _GLYPH_BITS["?"])
    big = np.repeat(np.repeat(bits, scale, axis=0), scale, axis=1)
    pad = scale * 2
    y0 = x0 = pad
    box_h = min(big.shape[0] + 2 * pad, height - y0)
    box_w = min(big.shape[1] + 2 * pad, width - x0)
    if box_h <= 0 or box_w <= 0:
        return
    frame[y0 : y0 + box_h, x0 : x0 + box_w] = 0
    glyphs = big[: max(0, box_h - pad), : max(0, box_w - pad)]
    region = frame[y0 + pad : y0 + pad + glyphs.shape[0], x0 + pad : x0 + pad + glyphs.shape[1]]
    region[glyphs] = 255


def frame_at(
    seed: int,
    index: int,
    width: int,
    height: int,
    *,
    fps: int = 15,
    label: str | None = None,
    creation_time: datetime | None = None,
) -> RGBFrame:
    """The RGB picture (height x width x 3, uint8) that `make_clip` draws as frame `index`."""
    scene = _scene(seed)
    xs = np.arange(width, dtype=np.float32) / np.float32(width)
    ys = np.arange(height, dtype=np.float32) / np.float32(height)
    phase = np.float32(index) * scene.drift
    two_pi = np.float32(2 * math.pi)
    wave_x = scene.amp_x * np.sin(two_pi * (xs[:, None] * scene.freq_x + phase))  # (W, 3)
    wave_y = scene.amp_y * np.sin(two_pi * (ys[:, None] * scene.freq_y - phase))  # (H, 3)
    background = scene.base + wave_y[:, None, :] + wave_x[None, :, :]
    frame: RGBFrame = np.clip(background, 0, 255).astype(np.uint8)

    for shape in scene.shapes:
        size = max(2, int(shape.size * min(width, height)))
        free_x, free_y = max(0, width - size), max(0, height - size)
        x0 = round(_bounce(shape.start[0] + shape.velocity[0] * index) * free_x)
        y0 = round(_bounce(shape.start[1] + shape.velocity[1] * index) * free_y)
        box = frame[y0 : y0 + size, x0 : x0 + size]
        if shape.disc:
            yy, xx = np.ogrid[0:size, 0:size]
            r = (size - 1) / 2.0
            mask = (yy - r) ** 2 + (xx - r) ** 2 <= r * r
            box[mask] = shape.color
        else:
            box[...] = shape.color

    _draw_text(frame, overlay_text(index, fps=fps, label=label, creation_time=creation_time))
    return frame


def _audio_chunk(
    start: int, count: int, total: int, seed: int, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Samples [start, start+count) of a linear tone sweep plus low noise, shape (1, count)."""
    rate = AUDIO_SAMPLE_RATE
    f0 = 300.0 + 40.0 * (seed % 10)
    f1 = 2400.0 + 60.0 * (seed % 7)
    duration = max(total, 1) / rate
    t = np.arange(start, start + count, dtype=np.float64) / rate
    phase = 2 * math.pi * (f0 * t + (f1 - f0) * t * t / (2 * duration))
    samples = 0.3 * np.sin(phase) + 0.01 * rng.standard_normal(count)
    return samples.astype(np.float32).reshape(1, count)


def _iso_utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 180,
    fps: int = 15,
    seed: int = 0,
    audio: bool = True,
    creation_time: datetime | None = None,
    label: str | None = None,
    container: Container = "mp4",
    faststart: bool = True,
) -> Path:
    """Write a deterministic H.264 (+ mono AAC) clip to `path` and return `path`.

    The file is written next to `path` and renamed into place, so `path` never holds a
    partial clip. `creation_time` (naive means UTC) is stored as container metadata and
    burned in with `label`; `faststart` moves the MP4/MOV index before the media data.
    """
    if container not in _FORMATS:
        raise ValueError(f"container must be one of {sorted(_FORMATS)}, not {container!r}.")
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive and even, not {width}x{height}.")
    if fps <= 0 or seconds <= 0:
        raise ValueError("seconds and fps must be positive.")
    n_frames = max(1, round(seconds * fps))
    n_samples = round(n_frames / fps * AUDIO_SAMPLE_RATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    options = {"movflags": "+faststart"} if faststart and container != "mkv" else {}

    try:
        with av.open(str(tmp), mode="w", format=_FORMATS[container], options=options) as out:
            if creation_time is not None:
                out.metadata["creation_time"] = _iso_utc(creation_time)
            video = out.add_stream("libx264", rate=fps)
            video.width = width
            video.height = height
            video.pix_fmt = "yuv420p"
            video.codec_context.gop_size = 2 * fps
            video.options = {"preset": "ultrafast", "crf": "20"}
            sound = None
            if audio:
                sound = out.add_stream("aac", rate=AUDIO_SAMPLE_RATE, layout="mono")
            rng = np.random.default_rng([seed, 0xA0D10])

            next_sample = 0
            for index in range(n_frames):
                picture = frame_at(
                    seed, index, width, height, fps=fps, label=label, creation_time=creation_time
                )
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = index
                frame.time_base = Fraction(1, fps)
                out.mux(video.encode(frame))
                if sound is None:
                    continue
                # Keep audio level with video so the muxer interleaves in small steps.
                due = min(n_samples, round((index + 1) / fps * AUDIO_SAMPLE_RATE))
                while next_sample < due:
                    count = min(_AAC_FRAME, n_samples - next_sample)
                    chunk = _audio_chunk(next_sample, count, n_samples, seed, rng)
                    aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                    aframe.sample_rate = AUDIO_SAMPLE_RATE
                    aframe.pts = next_sample
                    aframe.time_base = Fraction(1, AUDIO_SAMPLE_RATE)
                    out.mux(sound.encode(aframe))
                    next_sample += count
            out.mux(video.encode(None))
            if sound is not None:
                out.mux(sound.encode(None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _copy_prefix(src: Path, dst: Path, length: int) -> None:
    """Copy the first `length` bytes of `src` to `dst` in bounded memory."""
    with src.open("rb") as fin, dst.open("wb") as fout:
        remaining = length
        while remaining > 0:
            block = fin.read(min(remaining, 1 << 20))
            if not block:
                break
            fout.write(block)
            remaining -= len(block)


def _mdat_span(path: Path) -> tuple[int, int] | None:
    """(offset, size) of the payload of the top-level ISO BMFF `mdat` box, if there is one."""
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= size_total:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return None
            size, kind = struct.unpack(">I4s", header[:8])
            head = 8
            if size == 1 and len(header) >= 16:
                size = struct.unpack(">Q", header[8:16])[0]
                head = 16
            elif size == 0:
                size = size_total - offset
            if size < head:
                return None
            if kind == b"mdat":
                return offset + head, min(size, size_total - offset) - head
            offset += size
    return None


def _audio_only(dst: Path, seconds: float = 1.0) -> None:
    """Write an audio-only AAC file in an MP4 (.m4a-style) container."""
    n_samples = round(seconds * AUDIO_SAMPLE_RATE)
    rng = np.random.default_rng([0, 0xA0D10])
    with av.open(str(dst), mode="w", format="ipod") as out:
        sound = out.add_stream("aac", rate=AUDIO_SAMPLE_RATE, layout="mono")
        for start in range(0, n_samples, _AAC_FRAME):
            count = min(_AAC_FRAME, n_samples - start)
            aframe = av.AudioFrame.from_ndarray(
                _audio_chunk(start, count, n_samples, 0, rng), format="fltp", layout="mono"
            )
            aframe.sample_rate = AUDIO_SAMPLE_RATE
            aframe.pts = start
            out.mux(sound.encode(aframe))
        out.mux(sound.encode(None))


def corrupt_variants(good: Path, out_dir: Path) -> dict[str, Path]:
    """Derive broken files from the good clip `good`, all named `<variant>.mp4` in `out_dir`.

    Variants: "zero_bytes" (empty), "truncated" (first 60% of the bytes), "not_video" (text),
    "garbage_middle" (random bytes over the middle of the media data) and "no_video_stream"
    (audio-only MP4).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    variants = {
        name: out_dir / f"{name}.mp4"
        for name in ("zero_bytes", "truncated", "not_video", "garbage_middle", "no_video_stream")
    }
    size = good.stat().st_size

    variants["zero_bytes"].write_bytes(b"")
    _copy_prefix(good, variants["truncated"], int(size * 0.6))
    variants["not_video"].write_text(
        "This is not a video. It is a text file that someone renamed to .mp4.\n" * 40,
        encoding="utf-8",
    )

    garbage = variants["garbage_middle"]
    shutil.copyfile(good, garbage)
    start, length = _mdat_span(good) or (0, size)
    span = max(4096, length // 10)
    first = start + max(0, (length - span) // 2)
    span = min(span, size - first)
    noise = np.random.default_rng(0xBAD).integers(0, 256, span, dtype=np.uint8).tobytes()
    with garbage.open("r+b") as fh:
        fh.seek(first)
        fh.write(noise)

    _audio_only(variants["no_video_stream"])
    return variants
