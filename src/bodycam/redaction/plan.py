"""A redaction plan: what to hide in one video, as reviewed by a person, and its hash.

A plan is plain data (frozen dataclasses, no video code): the vault stores it, a clerk
edits it, `bodycam.redaction.plan_render.render_plan` applies it, and the derivative
names it by `plan_hash()`. It holds

* tracks found by the analysis pass, each with its per-frame boxes and one decision:
  `include` (redact) or not (keep visible, e.g. the officer), with a reason code;
* manual boxes given by keyframes, linearly interpolated between them;
* full-frame ranges (the whole picture redacted, e.g. the inside of a home);
* audio ranges to mute (silence) or bleep (a 1 kHz tone), and what happens to the
  whole audio track (keep, mute, remove);
* the drawing style and the mask scale.

Units. Everything is an integer, so the canonical JSON has no float to round:

* video positions are frame indices: frame 0 is the first frame the decoder returns,
  counting every decoded frame in presentation order (the analysis pass and the
  renderer count the same way). Frame ``i`` is shown at ``i / fps`` seconds; a time in
  seconds becomes ``round(seconds * fps)`` (`VideoFacts.frame_at_ms`);
* ranges are half-open: ``start`` is included, ``end`` is not. A full-frame range
  whose ``end_frame`` is null runs to the end of the video;
* boxes are ``[x1, y1, x2, y2]`` in frame pixels (x2, y2 excluded), rounded outwards
  from the tracker's boxes; they may reach outside the picture (padding);
* audio positions are integer milliseconds from the first video frame;
* the frame rate is a fraction ``[numerator, denominator]`` (30000/1001, not 29.97).

`to_json()` writes the canonical form (keys sorted, no spaces, ASCII); `plan_hash()` is
the SHA-256 of it, so two plans with the same content have the same hash, whatever
formatting or key order a JSON file had. `from_json()` refuses anything it does not
understand (unknown keys, floats, booleans where numbers belong, duplicate keys, bad
ranges) with a `PlanError` naming the field, and returns nothing half-built.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final, TypeVar

from bodycam.redaction.styles import Style

__all__ = [
    "PLAN_FORMAT",
    "PLAN_VERSION",
    "AudioMode",
    "AudioRange",
    "AudioTrack",
    "FrameBox",
    "FrameRange",
    "ManualBox",
    "PlanError",
    "PlanSettings",
    "ReasonCode",
    "RedactionPlan",
    "TrackDecision",
    "VideoFacts",
]

PLAN_FORMAT: Final = "bodycam-redaction-plan"
"""The ``format`` field of every plan file."""

PLAN_VERSION: Final = 1
"""The ``version`` field this code reads and writes."""

_MAX_FRAME: Final = 100_000_000  # about five weeks at 30 frames per second
_MAX_COORD: Final = 100_000
_MAX_MS: Final = 10_000_000_000
_MAX_NOTE: Final = 1_000
_SHA256 = re.compile(r"[0-9a-f]{64}")

Box = tuple[float, float, float, float]


class PlanError(ValueError):
    """A plan is malformed; the message names the field (e.g. ``tracks[2].boxes[5]``)."""


class ReasonCode(StrEnum):
    """Why something is redacted (or, for an excluded track, why it is kept visible)."""

    victim = "victim"
    witness = "witness"
    minor = "minor"
    bystander = "bystander"
    medical = "medical"
    home_interior = "home_interior"
    officer_safety = "officer_safety"
    personal_data = "personal_data"
    officer = "officer"
    other = "other"

    @property
    def description(self) -> str:
        """One line for pick lists and documentation."""
        return _REASONS[self]


_REASONS: Final[dict[ReasonCode, str]] = {
    ReasonCode.victim: "a victim of a crime (domestic violence, sexual assault, ...)",
    ReasonCode.witness: "a witness or informant",
    ReasonCode.minor: "a child or juvenile",
    ReasonCode.bystander: "an uninvolved member of the public",
    ReasonCode.medical: "medical treatment, injury or a health condition",
    ReasonCode.home_interior: "the inside of a private home",
    ReasonCode.officer_safety: "an undercover officer, tactics or security details",
    ReasonCode.personal_data: "spoken or shown personal data (name, phone, address, ...)",
    ReasonCode.officer: "an on-duty officer (usually the reason a track is kept visible)",
    ReasonCode.other: "anything else; say what in the note",
}


class AudioMode(StrEnum):
    """How an audio range is hidden."""

    mute = "mute"  # silence
    bleep = "bleep"  # a 1 kHz tone


class AudioTrack(StrEnum):
    """What happens to the whole audio track."""

    keep = "keep"  # kept, except the plan's audio ranges
    mute = "mute"  # a silent track of the same length
    remove = "remove"  # no audio stream in the output


def _int(value: object, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError(f"{name}: must be an integer, not {_show(value)}.")
    if not lo <= value <= hi:
        raise PlanError(f"{name}: {value} is outside {lo}..{hi}.")
    return value


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value[:40])
    return f"a {type(value).__name__}"


E = TypeVar("E", bound=StrEnum)


def _enum(kind: type[E], value: object, name: str) -> E:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    known = ", ".join(m.value for m in kind)
    raise PlanError(f"{name}: {_show(value)} is not one of {known}.")


def _note(value: object, name: str = "note") -> str:
    if not isinstance(value, str):
        raise PlanError(f"{name}: must be a string, not {_show(value)}.")
    if len(value) > _MAX_NOTE:
        raise PlanError(f"{name}: is {len(value)} characters long, more than {_MAX_NOTE}.")
    return value


def _tuple(obj: object, name: str, value: object) -> None:
    """Store a sequence argument as a tuple on a frozen dataclass."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise PlanError(f"{name}: must be a list, not {_show(value)}.")
    object.__setattr__(obj, name, tuple(value))


@dataclass(frozen=True, slots=True)
class FrameBox:
    """A box ``(x1, y1, x2, y2)`` in frame pixels on frame `frame` (JSON: a 5-number row)."""

    frame: int
    x1: int
    y1: int
    x2: int
    y2: int

    def __post_init__(self) -> None:
        _int(self.frame, "frame", 0, _MAX_FRAME)
        for name in ("x1", "y1", "x2", "y2"):
            _int(getattr(self, name), name, -_MAX_COORD, _MAX_COORD)
        if self.x2 <= self.x1:
            raise PlanError(f"x2: {self.x2} must exceed x1 = {self.x1} (the box is empty).")
        if self.y2 <= self.y1:
            raise PlanError(f"y2: {self.y2} must exceed y1 = {self.y1} (the box is empty).")

    @property
    def box(self) -> Box:
        """The box as floats (x1, y1, x2, y2)."""
        return (float(self.x1), float(self.y1), float(self.x2), float(self.y2))

    def to_row(self) -> list[int]:
        """The JSON row ``[frame, x1, y1, x2, y2]``."""
        return [self.frame, self.x1, self.y1, self.x2, self.y2]

    @classmethod
    def from_row(cls, row: object) -> FrameBox:
        """A box from its JSON row ``[frame, x1, y1, x2, y2]``."""
        if not isinstance(row, list) or len(row) != 5:
            raise PlanError(f"_: must be a row [frame, x1, y1, x2, y2], not {_show(row)}.")
        return cls(*row)

    @classmethod
    def around(cls, frame: int, box: Box) -> FrameBox:
        """The smallest integer box holding the float `box` (rounded outwards)."""
        return cls(
            frame,
            math.floor(box[0]),
            math.floor(box[1]),
            max(math.ceil(box[2]), math.floor(box[0]) + 1),
            max(math.ceil(box[3]), math.floor(box[1]) + 1),
        )


def _frame_boxes(owner: object, name: str, *, at_least: int) -> tuple[FrameBox, ...]:
    _tuple(owner, name, getattr(owner, name))
    rows: tuple[FrameBox, ...] = getattr(owner, name)
    if len(rows) < at_least:
        raise PlanError(f"{name}: needs at least {at_least} row(s).")
    last = -1
    for i, row in enumerate(rows):
        if not isinstance(row, FrameBox):
            raise PlanError(f"{name}[{i}]: must be a FrameBox, not {_show(row)}.")
        if row.frame <= last:
            raise PlanError(
                f"{name}[{i}]: frame {row.frame} does not come after frame {last} "
                "(rows must be in increasing frame order, one per frame)."
            )
        last = row.frame
    return rows


@dataclass(frozen=True)
class TrackDecision:
    """One tracked object (one person) and the decision on it.

    `boxes` are the tracker's redaction boxes, one row per frame the track covers. An
    included track needs a reason; an excluded one may give one (usually `officer`).
    """

    track_id: int
    boxes: tuple[FrameBox, ...]
    include: bool
    reason: ReasonCode | None = None
    note: str = ""
    label: str = "face"

    def __post_init__(self) -> None:
        _int(self.track_id, "id", 0, 1 << 62)
        _frame_boxes(self, "boxes", at_least=1)
        if not isinstance(self.include, bool):
            raise PlanError(f"include: must be true or false, not {_show(self.include)}.")
        if self.reason is not None:
            object.__setattr__(self, "reason", _enum(ReasonCode, self.reason, "reason"))
        elif self.include:
            raise PlanError("reason: an included track needs a reason code.")
        _note(self.note)
        if not isinstance(self.label, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", self.label):
            raise PlanError(f"label: must be a short lower-case word, not {_show(self.label)}.")

    @property
    def first_frame(self) -> int:
        """The first frame the track covers."""
        return self.boxes[0].frame

    @property
    def last_frame(self) -> int:
        """The last frame the track covers (included)."""
        return self.boxes[-1].frame


@dataclass(frozen=True)
class ManualBox:
    """A box drawn by a person at keyframes, linearly interpolated in between.

    It covers the frames from its first keyframe to its last, both included; a single
    keyframe covers that one frame.
    """

    keyframes: tuple[FrameBox, ...]
    reason: ReasonCode
    note: str = ""

    def __post_init__(self) -> None:
        _frame_boxes(self, "keyframes", at_least=1)
        object.__setattr__(self, "reason", _enum(ReasonCode, self.reason, "reason"))
        _note(self.note)

    @property
    def first_frame(self) -> int:
        """The first frame covered."""
        return self.keyframes[0].frame

    @property
    def last_frame(self) -> int:
        """The last frame covered (included)."""
        return self.keyframes[-1].frame

    def box_at(self, frame: int) -> Box | None:
        """The interpolated box at `frame`, or None outside the keyframes."""
        keys = self.keyframes
        if not keys[0].frame <= frame <= keys[-1].frame:
            return None
        i = bisect.bisect_left(keys, frame, key=lambda k: k.frame)
        if keys[i].frame == frame:
            return keys[i].box
        a, b = keys[i - 1], keys[i]
        t = (frame - a.frame) / (b.frame - a.frame)
        return (
            a.x1 + (b.x1 - a.x1) * t,
            a.y1 + (b.y1 - a.y1) * t,
            a.x2 + (b.x2 - a.x2) * t,
            a.y2 + (b.y2 - a.y2) * t,
        )


@dataclass(frozen=True)
class FrameRange:
    """Frames `start_frame` (included) to `end_frame` (excluded; None: to the end) that
    are redacted as a whole picture."""

    start_frame: int
    end_frame: int | None
    reason: ReasonCode
    note: str = ""

    def __post_init__(self) -> None:
        _int(self.start_frame, "start_frame", 0, _MAX_FRAME)
        if self.end_frame is not None:
            _int(self.end_frame, "end_frame", 0, _MAX_FRAME)
            if self.end_frame <= self.start_frame:
                raise PlanError(
                    f"end_frame: {self.end_frame} must come after start_frame "
                    f"{self.start_frame} (the end is excluded)."
                )
        object.__setattr__(self, "reason", _enum(ReasonCode, self.reason, "reason"))
        _note(self.note)

    def covers(self, frame: int) -> bool:
        """Whether `frame` is in the range."""
        return self.start_frame <= frame and (self.end_frame is None or frame < self.end_frame)


@dataclass(frozen=True)
class AudioRange:
    """Audio from `start_ms` (included) to `end_ms` (excluded), muted or bleeped."""

    start_ms: int
    end_ms: int
    mode: AudioMode
    reason: ReasonCode
    note: str = ""

    def __post_init__(self) -> None:
        _int(self.start_ms, "start_ms", 0, _MAX_MS)
        _int(self.end_ms, "end_ms", 0, _MAX_MS)
        if self.end_ms <= self.start_ms:
            raise PlanError(
                f"end_ms: {self.end_ms} must come after start_ms {self.start_ms} "
                "(the end is excluded)."
            )
        object.__setattr__(self, "mode", _enum(AudioMode, self.mode, "mode"))
        object.__setattr__(self, "reason", _enum(ReasonCode, self.reason, "reason"))
        _note(self.note)


@dataclass(frozen=True)
class VideoFacts:
    """The video a plan was made for: picture size, decoded frames, frame rate, hash.

    `render_plan` refuses a video whose size differs, or whose SHA-256 differs when
    `sha256` is given.
    """

    width: int
    height: int
    frames: int
    fps_num: int
    fps_den: int = 1
    sha256: str | None = None

    def __post_init__(self) -> None:
        _int(self.width, "width", 2, _MAX_COORD)
        _int(self.height, "height", 2, _MAX_COORD)
        _int(self.frames, "frames", 0, _MAX_FRAME)
        _int(self.fps_num, "fps[0]", 1, 1_000_000)
        _int(self.fps_den, "fps[1]", 1, 1_000_000)
        if self.sha256 is not None and (
            not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256)
        ):
            raise PlanError(f"sha256: must be 64 lower-case hex digits, not {_show(self.sha256)}.")

    @property
    def fps(self) -> Fraction:
        """The frame rate as an exact fraction."""
        return Fraction(self.fps_num, self.fps_den)

    def frame_at_ms(self, ms: int) -> int:
        """The index of the frame shown at `ms` milliseconds (rounded to the nearest)."""
        return round(Fraction(ms, 1000) * self.fps)

    def ms_at_frame(self, frame: int) -> int:
        """When frame `frame` is shown, in milliseconds (rounded to the nearest)."""
        return round(Fraction(frame * 1000) / self.fps)


@dataclass(frozen=True)
class PlanSettings:
    """How redactions are drawn, and how the tracks were found.

    `mask_scale_percent` grows every track and manual box about its centre (100: as
    given; 130: 30 % wider and taller). `detect_scale` records the detection size (W, H)
    the analysis ran at, as provenance (None when not known).
    """

    style: Style = Style.blur
    mask_scale_percent: int = 100
    detect_scale: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "style", _enum(Style, self.style, "style"))
        _int(self.mask_scale_percent, "mask_scale_percent", 100, 400)
        if self.detect_scale is not None:
            _tuple(self, "detect_scale", self.detect_scale)
            if len(self.detect_scale) != 2:
                raise PlanError("detect_scale: must be [width, height].")
            _int(self.detect_scale[0], "detect_scale[0]", 32, _MAX_COORD)
            _int(self.detect_scale[1], "detect_scale[1]", 32, _MAX_COORD)


@dataclass(frozen=True)
class RedactionPlan:
    """Everything to redact in one video (see the module docstring for units)."""

    video: VideoFacts | None = None
    settings: PlanSettings = field(default_factory=PlanSettings)
    tracks: tuple[TrackDecision, ...] = ()
    manual: tuple[ManualBox, ...] = ()
    full_frame: tuple[FrameRange, ...] = ()
    audio: tuple[AudioRange, ...] = ()
    audio_track: AudioTrack = AudioTrack.keep

    def __post_init__(self) -> None:
        if self.video is not None and not isinstance(self.video, VideoFacts):
            raise PlanError(f"video: must be VideoFacts, not {_show(self.video)}.")
        if not isinstance(self.settings, PlanSettings):
            raise PlanError(f"settings: must be PlanSettings, not {_show(self.settings)}.")
        for name, kind in (
            ("tracks", TrackDecision),
            ("manual", ManualBox),
            ("full_frame", FrameRange),
            ("audio", AudioRange),
        ):
            _tuple(self, name, getattr(self, name))
            for i, item in enumerate(getattr(self, name)):
                if not isinstance(item, kind):
                    raise PlanError(f"{name}[{i}]: must be a {kind.__name__}, not {_show(item)}.")
        object.__setattr__(self, "audio_track", _enum(AudioTrack, self.audio_track, "audio_track"))
        seen: set[int] = set()
        for i, track in enumerate(self.tracks):
            if track.track_id in seen:
                raise PlanError(f"tracks[{i}].id: track {track.track_id} is listed twice.")
            seen.add(track.track_id)
        if self.video is not None:
            self._check_frames(self.video.frames)

    def _check_frames(self, frames: int) -> None:
        """Refuse a frame position past the video's end."""

        def check(name: str, frame: int) -> None:
            if frame >= frames:
                raise PlanError(f"{name}: frame {frame} is past the video's {frames} frames.")

        for i, track in enumerate(self.tracks):
            check(f"tracks[{i}].boxes[{len(track.boxes) - 1}]", track.last_frame)
        for i, manual in enumerate(self.manual):
            check(f"manual[{i}].keyframes[{len(manual.keyframes) - 1}]", manual.last_frame)
        for i, span in enumerate(self.full_frame):
            check(f"full_frame[{i}].start_frame", span.start_frame)
            if span.end_frame is not None and span.end_frame > frames:
                raise PlanError(
                    f"full_frame[{i}].end_frame: frame {span.end_frame} is past the end "
                    f"of the video's {frames} frames (null runs to the end)."
                )

    @classmethod
    def bulk(
        cls,
        *,
        audio: AudioTrack = AudioTrack.remove,
        style: Style = Style.blur,
        reason: ReasonCode = ReasonCode.other,
        note: str = "bulk redaction: the whole picture, and the audio",
        video: VideoFacts | None = None,
    ) -> RedactionPlan:
        """Redact the whole recording: every frame blurred (or `style`) and the audio
        removed or muted (`audio`)."""
        return cls(
            video=video,
            settings=PlanSettings(style=style),
            full_frame=(FrameRange(0, None, reason, note),),
            audio_track=audio,
        )

    def included_tracks(self) -> list[TrackDecision]:
        """The tracks to redact."""
        return [t for t in self.tracks if t.include]

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (every field written, defaults included)."""
        video = self.video
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "video": None
            if video is None
            else {
                "width": video.width,
                "height": video.height,
                "frames": video.frames,
                "fps": [video.fps_num, video.fps_den],
                "sha256": video.sha256,
            },
            "settings": {
                "style": self.settings.style.value,
                "mask_scale_percent": self.settings.mask_scale_percent,
                "detect_scale": None
                if self.settings.detect_scale is None
                else list(self.settings.detect_scale),
            },
            "audio_track": self.audio_track.value,
            "tracks": [
                {
                    "id": t.track_id,
                    "label": t.label,
                    "include": t.include,
                    "reason": None if t.reason is None else t.reason.value,
                    "note": t.note,
                    "boxes": [b.to_row() for b in t.boxes],
                }
                for t in self.tracks
            ],
            "manual": [
                {
                    "reason": m.reason.value,
                    "note": m.note,
                    "keyframes": [k.to_row() for k in m.keyframes],
                }
                for m in self.manual
            ],
            "full_frame": [
                {
                    "start_frame": r.start_frame,
                    "end_frame": r.end_frame,
                    "reason": r.reason.value,
                    "note": r.note,
                }
                for r in self.full_frame
            ],
            "audio": [
                {
                    "start_ms": a.start_ms,
                    "end_ms": a.end_ms,
                    "mode": a.mode.value,
                    "reason": a.reason.value,
                    "note": a.note,
                }
                for a in self.audio
            ],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The plan as JSON: canonical (sorted keys, compact, ASCII) unless `indent`."""
        if indent is None:
            return json.dumps(
                self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
            )
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, ensure_ascii=True)

    def plan_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON: what a derivative names as its plan."""
        return hashlib.sha256(self.to_json().encode("ascii")).hexdigest()

    @classmethod
    def from_json(cls, text: str | bytes) -> RedactionPlan:
        """Parse and check a plan; raises `PlanError` naming the first bad field."""
        from bodycam.redaction.plan_json import plan_from_json

        return plan_from_json(text)

    @classmethod
    def from_dict(cls, data: object) -> RedactionPlan:
        """Check JSON-shaped data and build the plan; raises `PlanError`."""
        from bodycam.redaction.plan_json import plan_from_dict

        return plan_from_dict(data)
