"""Burn a visible watermark into a video: one streaming pass, bounded memory.

Every decoded frame gets a dark band across its bottom with two lines of white text (for
a share: the recipient's name and organisation; the share id and date). The band is drawn
into the pixels before encoding, so no player can switch it off, and a frame grabbed
from the screen carries it. Everything above the band is the source picture, re-encoded.

The text is drawn once per video (OpenCV, anti-aliased) into an alpha mask; each frame is
then darkened under the band and blended towards white under the text. The output is a
new H.264 MP4 written with the redaction engine's helpers: audio copied when it is AAC
(re-encoded to AAC otherwise), no metadata of the input carried over (the only tag is a
comment naming this module's version), written beside ``dst`` and renamed into place
only when complete.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream

from bodycam.evidence.probe import ProbeError, probe
from bodycam.redaction.engine import (
    RedactionError,
    add_video_output,
    atomic_output,
    check_paths,
    decode_packet,
    open_output,
    video_stream,
)

__all__ = ["BAND_FRACTION", "WATERMARK_VERSION", "Stamp", "WatermarkReport", "watermark_video"]

WATERMARK_VERSION: Final = "bodycam-watermark 1"
"""Named in every watermarked file's comment tag."""

BAND_FRACTION: Final = 0.16
"""Height of the band as a fraction of the picture's height (at least `MIN_BAND` pixels)."""

MIN_BAND: Final = 16
DARKEN: Final = 0.35  # what is left of the picture under the band
_FONT = cv2.FONT_HERSHEY_SIMPLEX

Progress = Callable[[int, int], None]
RGBFrame = npt.NDArray[np.uint8]


class Stamp:
    """The watermark of one picture size: the band's rows and its text's alpha mask."""

    def __init__(self, width: int, height: int, lines: list[str]) -> None:
        """Lay out ``lines`` (one or two) in a band across the bottom of the picture."""
        if not lines or not any(line.strip() for line in lines):
            raise RedactionError("A watermark needs some text.")
        self.band = min(height, max(MIN_BAND, round(height * BAND_FRACTION)))
        self.top = height - self.band
        mask = np.zeros((self.band, width), dtype=np.uint8)
        texts = [_ascii(line) for line in lines]
        line_h = self.band / len(texts)
        scale = min(_fit(text, width * 0.96, line_h * 0.62) for text in texts)
        thick = max(1, round(scale * 1.6))
        for i, text in enumerate(texts):
            (w, h), _ = cv2.getTextSize(text, _FONT, scale, thick)
            x = max(0, (width - w) // 2)
            y = round(line_h * i + (line_h + h) / 2)
            cv2.putText(mask, text, (x, y), _FONT, scale, 255, thick, cv2.LINE_AA)
        self.alpha: npt.NDArray[np.float32] = (mask.astype(np.float32) / 255.0)[:, :, None]

    def apply(self, rgb: RGBFrame) -> None:
        """Draw the watermark into ``rgb`` (height x width x 3) in place."""
        band = rgb[self.top :].astype(np.float32) * DARKEN
        band += (255.0 - band) * self.alpha
        rgb[self.top :] = np.clip(band + 0.5, 0, 255).astype(np.uint8)


def _ascii(text: str) -> str:
    """``text`` in the ASCII the Hershey fonts draw: accents dropped, the rest as ``?``."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return plain.encode("ascii", "replace").decode("ascii")


def _fit(text: str, width: float, height: float) -> float:
    """The largest font scale at which ``text`` fits ``width`` x ``height`` pixels."""
    (w, h), base = cv2.getTextSize(text, _FONT, 1.0, 1)
    return min(width / max(w, 1), height / max(h + base, 1))


@dataclass
class WatermarkReport:
    """What `watermark_video` wrote."""

    source: Path
    output: Path
    frames: int = 0
    audio: str = "none"  # "copied", "re-encoded" or "none"
    seconds: float = 0.0
    band: tuple[int, int] = (0, 0)  # the band's first row and height, in pixels


def watermark_video(
    src: Path,
    dst: Path,
    lines: list[str],
    progress: Progress | None = None,
    *,
    preset: str = "veryfast",
    crf: int = 20,
) -> WatermarkReport:
    """Write ``dst``: ``src`` with ``lines`` burned in. Raises `RedactionError` (a sentence
    naming the file); leaves no partial ``dst``."""
    check_paths(src, dst)
    try:
        info = probe(src, deep=False)
    except ProbeError as exc:
        raise RedactionError(str(exc)) from None
    report = WatermarkReport(source=src, output=dst)
    started = time.perf_counter()
    with atomic_output(src, dst) as tmp:
        _run(src, tmp, lines, report, info.frame_count, progress, preset, crf)
    report.seconds = time.perf_counter() - started
    return report


def _run(
    src: Path,
    tmp: Path,
    lines: list[str],
    report: WatermarkReport,
    total: int,
    progress: Progress | None,
    preset: str,
    crf: int,
) -> None:
    with av.open(str(src)) as inp:
        vin = video_stream(inp)
        if vin is None:
            raise RedactionError(f"{src.name} has no video stream.")
        vin.thread_type = "AUTO"
        ain: AudioStream | None = inp.streams.audio[0] if inp.streams.audio else None
        tb: Fraction = vin.time_base or Fraction(1, 90_000)
        rate: Fraction = vin.average_rate or vin.guessed_rate or Fraction(30)
        with open_output(tmp, f"watermarked by {WATERMARK_VERSION}") as out:
            vout = add_video_output(out, vin, preset, crf)
            stamp = Stamp(vout.width, vout.height, lines)
            report.band = (stamp.top, stamp.band)
            aout, resampler = None, None
            if ain is not None and ain.codec_context.name == "aac":
                aout = out.add_stream_from_template(ain)
                aout.metadata.clear()
                report.audio = "copied"
            elif ain is not None:
                aout = out.add_stream("aac", rate=ain.rate or 48_000)
                resampler = AudioResampler(format="fltp", layout=aout.layout, rate=aout.rate)
                report.audio = "re-encoded"
            streams = (vin,) if ain is None else (vin, ain)
            for packet in inp.demux(*streams):
                if packet.stream is vin:
                    for vframe in decode_packet(packet, src):
                        assert isinstance(vframe, av.VideoFrame)
                        rgb = np.asarray(vframe.to_ndarray(format="rgb24"), dtype=np.uint8)
                        rgb = np.ascontiguousarray(rgb[: vout.height, : vout.width])
                        stamp.apply(rgb)
                        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                        if vframe.pts is not None:
                            frame.pts = vframe.pts
                        else:  # no timestamp: place it by its index at the input's rate
                            frame.pts = round(report.frames / (rate * tb))
                        frame.time_base = tb
                        out.mux(vout.encode(frame))
                        report.frames += 1
                        if progress is not None:
                            progress(report.frames, max(total, report.frames))
                elif aout is not None and packet.dts is not None:
                    if resampler is None:
                        packet.stream = aout
                        out.mux(packet)
                    else:
                        for aframe in decode_packet(packet, src):
                            assert isinstance(aframe, av.AudioFrame)
                            for chunk in resampler.resample(aframe):
                                out.mux(aout.encode(chunk))
            out.mux(vout.encode(None))
            if resampler is not None and aout is not None:
                for chunk in resampler.resample(None):
                    out.mux(aout.encode(chunk))
                out.mux(aout.encode(None))
        if report.frames == 0:
            raise RedactionError(f"{src.name} has no video frame that decodes.")
