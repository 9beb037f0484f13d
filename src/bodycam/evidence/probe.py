"""Probe a video file: what it holds, and whether it is whole.

`probe` opens a file with FFmpeg (PyAV) and reads its container and stream facts. With
`deep=True` (the default, used at ingest) it also reads every packet and decodes every frame,
dropping each as soon as it is checked, so memory stays bounded whatever the file's length.
It refuses, with a one-sentence `ProbeError` that names the file, anything that is empty, not
a media file, has no video stream, is truncated or is corrupt.

How each fault shows up:

- empty: the file has 0 bytes.
- not a media file: no FFmpeg demuxer recognises the bytes, or it is a still image.
- truncated, index at the end (MP4/MOV without faststart): the 'moov' index is missing, so
  the file cannot be opened although it starts like an MP4.
- truncated, index first (faststart) or Matroska: the file opens, but the video packets stop
  before the duration (and, for MP4, the frame count) the header declares; the last packet
  is cut short and does not decode; the 'mdat' box claims more bytes than the file has.
- garbage inside the media data: length-prefixed NAL units whose lengths no longer add up to
  the packet size, decoder errors, or frames the decoder cannot produce. By default
  (`strict=True`) decoders run with FFmpeg's `err_detect=explode`, so even a few damaged
  bytes that a player would silently conceal are reported.

FFmpeg's own log stays silent (PyAV's default); what it reports reaches the caller through
the exceptions PyAV raises, which are turned into `ProbeError` sentences here.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.packet import Packet
from av.stream import Disposition, Stream
from av.video.codeccontext import VideoCodecContext
from av.video.stream import VideoStream

__all__ = ["ProbeError", "ProbeResult", "probe"]

_AV_TIME_BASE: Final = 1_000_000
_PROGRESS_EVERY: Final = 250
"""Video packets between two progress reports of a deep scan."""
_MAX_UNDECODABLE_FRAMES: Final = 2
"""Frames a decoder may legitimately withhold (e.g. a stream that opens on a non-keyframe)."""
_ISO_BOXES: Final = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
_SAMPLE_TABLE_FORMATS: Final = frozenset({"mp4", "mov", "m4a", "3gp"})
_IMAGE_FORMATS: Final = frozenset({"image2", "apng", "gif_pipe", "webp_pipe"})


@dataclass(frozen=True)
class ProbeResult:
    """What a probe found in a video file."""

    container: str  # short format name: "mp4", "mov", "mkv", "webm", ...
    video_codec: str  # "h264", "hevc", ...
    audio_codec: str | None  # "aac", ... or None without audio
    duration_s: float  # best estimate: the video stream's, else the container's
    width: int
    height: int
    fps: float  # average frame rate
    has_audio: bool
    creation_time: datetime | None  # tz-aware UTC, from container or stream metadata
    frame_count: int  # video packets counted (deep), else the count the header declares
    bit_rate: int | None  # container bit rate in bits per second


class ProbeError(ValueError):
    """A file is not a usable video; the message is one sentence naming the file and why."""


@dataclass
class _ScanState:
    """What a deep scan has seen so far."""

    origin: float = 0.0  # the video stream's start time: times in messages count from it
    packets: int = 0
    discarded: int = 0
    decoded: int = 0
    first_pts: int | None = None
    end_pts: int | None = None
    malformed_at: float | None = None
    video_error: tuple[float, str] | None = None
    audio_error: tuple[float, str] | None = None
    demux_error: str | None = None
    shortfall: str | None = None  # an MP4 box that runs past the end of the file
    corrupt_flag_at: float | None = None
    keyframes_only: bool = False
    keyframes: int = 0
    progress: Callable[[int, int], None] | None = None  # (packets read, packets declared)
    declared: int = 0


def probe(
    path: Path,
    *,
    display_name: str | None = None,
    deep: bool = True,
    strict: bool = True,
    keyframes_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ProbeResult:
    """Describe the video file at `path`, or raise `ProbeError` if it is not a whole video.

    `display_name` (default: the file name) is the name used in error messages. `deep` reads
    and decodes the whole file; without it only the header and the first frame are checked.
    `strict` makes any bitstream error the decoders detect fatal (FFmpeg `err_detect=explode`);
    without it they conceal small errors as players do, and only hard failures are refused.
    `keyframes_only` (with `deep`) still reads every packet and checks its structure (NAL
    unit lengths, timestamps, coverage of the declared duration) but decodes only the
    keyframes: several times faster, at the cost of missing small damage that leaves the
    structure of a non-key frame intact.
    `progress` (with `deep`) is called now and then with (packets read, packets the header
    declares, or 0 when it declares none): a background job reports it and stays alive.
    """
    name = display_name or path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ProbeError(f"{name} does not exist.") from None
    except OSError as exc:
        raise ProbeError(f"{name} cannot be read ({exc.strerror or exc}).") from None
    if not path.is_file():
        raise ProbeError(f"{name} is not a file.")
    if size == 0:
        raise ProbeError(f"{name} is empty (0 bytes).")

    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise ProbeError(_open_failure(path, name, exc)) from None
    except OSError as exc:
        raise ProbeError(f"{name} cannot be read ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:  # FFmpeg found metadata that is not text: not a video file
        raise ProbeError(f"{name} is not a video file FFmpeg can read.") from None

    with container:
        fmt = _container_name(container, path)
        if container.format.name in _IMAGE_FORMATS or container.format.name.endswith("_pipe"):
            raise ProbeError(f"{name} is a still image, not a video.")
        video = _pick_video(container)
        if video is None:
            if container.streams.audio:
                raise ProbeError(f"{name} has no video stream (it holds audio only).")
            raise ProbeError(f"{name} has no video stream.")
        vcc = video.codec_context
        if vcc is None:
            raise ProbeError(f"{name} uses a video codec that FFmpeg cannot decode.")
        audio = container.streams.audio[0] if container.streams.audio else None
        if audio is not None and audio.codec_context is None:
            audio = None
        width, height = vcc.width, vcc.height
        if width <= 0 or height <= 0:
            raise ProbeError(f"{name} is corrupt: its video stream has no picture size.")
        tb = video.time_base or Fraction(1, _AV_TIME_BASE)
        declared_s, from_stream = _declared_duration(container, video, tb)
        fps = _frame_rate(video)

        shortfall = _box_shortfall(path, size)
        if deep:
            state = _scan(
                container,
                video,
                audio,
                strict=strict,
                keyframes_only=keyframes_only,
                progress=progress,
            )
            state.shortfall = shortfall
            frame_count = state.packets
            exact_count = fmt in _SAMPLE_TABLE_FORMATS
            _judge(name, state, video, tb, declared_s, from_stream, fps, exact_count)
        else:
            if shortfall is not None:
                raise ProbeError(f"{name} is truncated: {shortfall}.")
            frame_count = max(video.frames, 0)
            _check_first_frame(container, video, name)

        duration = declared_s
        if duration is None or duration <= 0:
            duration = frame_count / fps if fps > 0 else 0.0
        if fps <= 0 and duration > 0:
            fps = frame_count / duration
        return ProbeResult(
            container=fmt,
            video_codec=vcc.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            duration_s=float(duration),
            width=width,
            height=height,
            fps=float(fps),
            has_audio=audio is not None,
            creation_time=_creation_time(container, video),
            frame_count=frame_count,
            bit_rate=container.bit_rate or None,
        )


# --- opening -------------------------------------------------------------------------


def _open_failure(path: Path, name: str, exc: av.error.FFmpegError) -> str:
    """The sentence for a file FFmpeg could not open, telling truncation from non-media."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        head = b""
    if len(head) >= 8 and head[4:8] in _ISO_BOXES:
        return (
            f"{name} is truncated or corrupt: its index (the MP4 'moov' box) is missing "
            "or unreadable."
        )
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return f"{name} is truncated or corrupt: its Matroska header cannot be read."
    if isinstance(exc, av.error.InvalidDataError):
        return f"{name} is not a video file (no container FFmpeg recognises)."
    return f"{name} cannot be opened ({exc.strerror or type(exc).__name__})."


def _pick_video(container: InputContainer) -> VideoStream | None:
    """The first video stream that is real video, not embedded cover art."""
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    return None


def _container_name(container: InputContainer, path: Path) -> str:
    """A short container name: FFmpeg lists demuxer aliases ("mov,mp4,m4a,...")."""
    names = container.format.name.split(",")
    suffix = path.suffix.lower().lstrip(".")
    if "mp4" in names:
        brand = container.metadata.get("major_brand", "").strip().lower()
        if brand == "qt":
            return "mov"
        if brand.startswith("3g"):
            return "3gp"
        if brand == "m4a" or suffix == "m4a":
            return "m4a"
        return "mp4"
    if "matroska" in names:
        return "webm" if suffix == "webm" else "mkv"
    if names[0] == "mpegts":
        return "ts"
    return names[0]


def _declared_duration(
    container: InputContainer, video: VideoStream, tb: Fraction
) -> tuple[float | None, bool]:
    """(seconds, whether it came from the video stream itself) as the header states it."""
    if video.duration is not None and video.duration > 0:
        return float(video.duration * tb), True
    tagged = _tag_seconds(video.metadata.get("DURATION"))  # Matroska per-stream tag
    if tagged is not None and tagged > 0:
        return tagged, True
    if container.duration is not None and container.duration > 0:
        return container.duration / _AV_TIME_BASE, False
    return None, False


def _tag_seconds(raw: str | None) -> float | None:
    """Seconds from an "HH:MM:SS.fraction" duration tag, or None."""
    if not raw:
        return None
    parts = raw.strip().split(":")
    if len(parts) != 3:
        return None
    try:
        return int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])
    except ValueError:
        return None


def _frame_rate(video: VideoStream) -> float:
    for rate in (video.average_rate, video.guessed_rate, video.base_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return 0.0


def _creation_time(container: InputContainer, video: VideoStream) -> datetime | None:
    """`creation_time` from container, then stream metadata, as tz-aware UTC."""
    for meta in (container.metadata, video.metadata):
        raw = meta.get("creation_time") or meta.get("DATE_UTC")
        if not raw:
            continue
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    return None


# --- checks --------------------------------------------------------------------------


def _nal_length_size(video: VideoStream) -> int | None:
    """Bytes in each NAL length prefix for H.264/HEVC in MP4/MKV style, else None."""
    extradata = video.codec_context.extradata
    if not extradata or extradata[0] != 1:
        return None  # Annex B start codes (e.g. MPEG-TS) or another codec.
    name = video.codec_context.name
    if name == "h264" and len(extradata) >= 7:
        return (extradata[4] & 3) + 1
    if name == "hevc" and len(extradata) >= 23:
        return (extradata[21] & 3) + 1
    return None


def _nal_units_fit(data: memoryview, length_size: int) -> bool:
    """True if the length-prefixed NAL units tile the packet exactly, headers intact."""
    pos, end = 0, len(data)
    while pos < end:
        if pos + length_size > end:
            return False
        length = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if length == 0 or pos + length > end or data[pos] & 0x80:
            return False
        pos += length
    return True


def _seconds(packet: Packet[Stream], origin: float) -> float:
    """The packet's time in seconds from `origin` (0.0 when it has no timestamp)."""
    ts = packet.pts if packet.pts is not None else packet.dts
    if ts is None or packet.time_base is None:
        return 0.0
    return max(0.0, float(ts * packet.time_base) - origin)


def _scan(
    container: InputContainer,
    video: VideoStream,
    audio: AudioStream | None,
    *,
    strict: bool,
    keyframes_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> _ScanState:
    """Read every packet of the video (and audio) stream, decode it and drop the frames."""
    tb = video.time_base
    state = _ScanState(origin=float(video.start_time * tb) if video.start_time and tb else 0.0)
    state.keyframes_only = keyframes_only
    state.progress = progress
    state.declared = max(video.frames, 0)
    vcc = video.codec_context
    vcc.thread_type = "AUTO"  # Frame threads; errors then surface a few packets late.
    if strict:
        # Decoders open lazily on the first packet, so options set now still apply.
        vcc.options = {"err_detect": "explode"}
        if audio is not None:
            audio.codec_context.options = {"err_detect": "explode"}
    length_size = _nal_length_size(video)
    rate = video.average_rate or video.guessed_rate
    frame_ticks = round(1 / (rate * tb)) if rate and tb else 0  # a packet without a duration
    streams: tuple[VideoStream | AudioStream, ...] = (video,) if audio is None else (video, audio)
    try:
        for packet in container.demux(*streams):
            if packet.dts is None and packet.size == 0:
                continue  # The empty packet PyAV yields at the end of each stream.
            if packet.stream is video:
                _video_packet(state, packet, vcc, length_size, frame_ticks)
            elif audio is not None and state.audio_error is None:
                try:
                    audio.codec_context.decode(packet)
                except av.error.FFmpegError as exc:
                    state.audio_error = (
                        _seconds(packet, state.origin),
                        exc.strerror or type(exc).__name__,
                    )
    except av.error.FFmpegError as exc:
        state.demux_error = exc.strerror or type(exc).__name__
    if state.video_error is None:
        try:
            state.decoded += len(vcc.decode(None))
        except av.error.FFmpegError as exc:
            state.video_error = (_end_seconds(state, video), exc.strerror or "decoder error")
    return state


def _video_packet(
    state: _ScanState,
    packet: Packet[Stream],
    decoder: VideoCodecContext,
    length_size: int | None,
    frame_ticks: int,
) -> None:
    state.packets += 1
    if state.progress is not None and state.packets % _PROGRESS_EVERY == 0:
        state.progress(state.packets, max(state.declared, state.packets))
    ts = packet.pts if packet.pts is not None else packet.dts
    if ts is not None:
        end = ts + (packet.duration or frame_ticks)
        state.first_pts = ts if state.first_pts is None else min(state.first_pts, ts)
        state.end_pts = end if state.end_pts is None else max(state.end_pts, end)
    if packet.is_discard:
        state.discarded += 1
    if packet.is_corrupt and state.corrupt_flag_at is None:
        state.corrupt_flag_at = _seconds(packet, state.origin)
    if (
        length_size is not None
        and state.malformed_at is None
        and not _nal_units_fit(memoryview(packet), length_size)
    ):
        state.malformed_at = _seconds(packet, state.origin)
    if state.video_error is not None:
        return  # After a decoder error, later frames say nothing new.
    if state.keyframes_only:
        if not packet.is_keyframe:
            return
        state.keyframes += 1
    try:
        state.decoded += len(decoder.decode(packet))
    except av.error.FFmpegError as exc:
        state.video_error = (_seconds(packet, state.origin), exc.strerror or type(exc).__name__)


def _end_seconds(state: _ScanState, video: VideoStream) -> float:
    if state.end_pts is None or video.time_base is None:
        return 0.0
    return max(0.0, float(state.end_pts * video.time_base) - state.origin)


def _judge(
    name: str,
    state: _ScanState,
    video: VideoStream,
    tb: Fraction,
    declared_s: float | None,
    from_stream: bool,
    fps: float,
    exact_count: bool,
) -> None:
    """Raise `ProbeError` for the most telling fault a deep scan found, if any.

    `exact_count` says the header's frame count is an exact sample table (MP4/MOV).
    """
    if state.packets == 0:
        raise ProbeError(f"{name} is truncated or corrupt: its video stream holds no frames.")
    start = state.first_pts if state.first_pts is not None else 0
    covered = float((state.end_pts or 0) - start) * float(tb)
    if declared_s is not None:
        # Half a frame interval absorbs rounding; a container-wide duration may also
        # count audio that outlasts the video.
        frame_s = 1.0 / fps if fps > 0 else 0.1
        tolerance = 0.5 * frame_s + 0.01 + (0.0 if from_stream else 0.25)
        if covered < declared_s - tolerance:
            digits = 1
            while digits < 3 and f"{covered:.{digits}f}" == f"{declared_s:.{digits}f}":
                digits += 1
            raise ProbeError(
                f"{name} is truncated or corrupt: the video stream ends at "
                f"{covered:.{digits}f} s of the {declared_s:.{digits}f} s it declares."
            )
    if exact_count and 0 < state.packets < video.frames:
        raise ProbeError(
            f"{name} is truncated or corrupt: its video stream holds {state.packets} "
            f"of the {video.frames} frames it declares."
        )
    if state.shortfall is not None:
        raise ProbeError(f"{name} is truncated: {state.shortfall}.")
    if state.demux_error is not None:
        raise ProbeError(
            f"{name} is truncated or corrupt: it cannot be read past {covered:.1f} s "
            f"({state.demux_error})."
        )
    if state.malformed_at is not None:
        raise ProbeError(
            f"{name} is corrupt: the video data at {state.malformed_at:.1f} s is damaged "
            "(its NAL unit lengths do not add up)."
        )
    if state.corrupt_flag_at is not None:
        raise ProbeError(
            f"{name} is corrupt: the demuxer flags the video data at "
            f"{state.corrupt_flag_at:.1f} s as damaged."
        )
    if state.video_error is not None:
        at, why = state.video_error
        raise ProbeError(f"{name} is corrupt: the video cannot be decoded near {at:.1f} s ({why}).")
    if state.audio_error is not None:
        at, why = state.audio_error
        raise ProbeError(f"{name} is corrupt: the audio cannot be decoded near {at:.1f} s ({why}).")
    expected = state.keyframes if state.keyframes_only else state.packets - state.discarded
    if state.decoded < expected - _MAX_UNDECODABLE_FRAMES:
        raise ProbeError(
            f"{name} is corrupt: only {state.decoded} of its {expected} video frames decode."
        )


def _check_first_frame(container: InputContainer, video: VideoStream, name: str) -> None:
    """Decode frames from the start until one comes out (the shallow probe's only decode)."""
    try:
        for _frame in container.decode(video):
            return
    except av.error.FFmpegError as exc:
        raise ProbeError(
            f"{name} is corrupt: its first video frame cannot be decoded "
            f"({exc.strerror or type(exc).__name__})."
        ) from None
    raise ProbeError(f"{name} is truncated or corrupt: its video stream holds no frames.")


def _box_shortfall(path: Path, size: int) -> str | None:
    """For MP4/MOV files, what is missing if a top-level box claims more bytes than exist."""
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= size:
            fh.seek(offset)
            header = fh.read(16)
            box_size, kind = struct.unpack(">I4s", header[:8])
            if offset == 0 and kind not in _ISO_BOXES:
                return None  # Not an ISO base media file.
            if box_size == 1 and len(header) >= 16:
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                return None  # The box runs to the end of the file.
            if box_size < 8:
                return None  # Not a box structure to follow; FFmpeg has read what it could.
            if offset + box_size > size:
                label = kind.decode("latin-1", "replace")
                missing = offset + box_size - size
                return f"its '{label}' box needs {missing} bytes more than the file holds"
            offset += box_size
    return None
