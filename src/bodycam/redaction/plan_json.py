"""Read a redaction plan from JSON: every field checked, the first bad one named.

`plan_from_json` refuses what `RedactionPlan` does not describe: unknown keys, missing
ones, floats and booleans where integers belong, NaN, duplicate keys in one object, and
every rule of the dataclasses themselves (boxes that are empty, frames out of order, an
included track without a reason, ...). Each error is a `PlanError` whose message starts
with the path of the field, e.g. ``tracks[2].boxes[5].x2: must be an integer, not 10.5.``
Nothing is built until every part has passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bodycam.redaction.plan import (
    PLAN_FORMAT,
    PLAN_VERSION,
    AudioMode,
    AudioRange,
    AudioTrack,
    FrameBox,
    FrameRange,
    ManualBox,
    PlanError,
    PlanSettings,
    ReasonCode,
    RedactionPlan,
    TrackDecision,
    VideoFacts,
    _enum,
    _show,
)
from bodycam.redaction.styles import Style

__all__ = ["plan_from_dict", "plan_from_json"]


def plan_from_json(text: str | bytes) -> RedactionPlan:
    """Parse and check a plan; raises `PlanError` naming the first bad field."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except PlanError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise PlanError(f"The plan is not valid JSON ({exc}).") from None
    return plan_from_dict(data)


def plan_from_dict(data: object) -> RedactionPlan:
    """Check JSON-shaped data and build the plan; raises `PlanError`."""
    top = _object(
        data,
        "plan",
        required={"format", "version"},
        optional={"video", "settings", "audio_track", "tracks", "manual", "full_frame", "audio"},
    )
    if top["format"] != PLAN_FORMAT:
        raise PlanError(f"format: must be {PLAN_FORMAT!r}, not {_show(top['format'])}.")
    if top["version"] != PLAN_VERSION or isinstance(top["version"], bool):
        raise PlanError(
            f"version: this bodycam reads version {PLAN_VERSION}, not {_show(top['version'])}."
        )
    video = None if top.get("video") is None else _section("video", top["video"], _video)
    settings = (
        PlanSettings()
        if top.get("settings") is None
        else _section("settings", top["settings"], _settings)
    )
    return RedactionPlan(
        video=video,
        settings=settings,
        tracks=_items(top, "tracks", _track),
        manual=_items(top, "manual", _manual),
        full_frame=_items(top, "full_frame", _frame_range),
        audio=_items(top, "audio", _audio_range),
        audio_track=_enum(AudioTrack, top.get("audio_track", "keep"), "audio_track"),
    )


T = TypeVar("T")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PlanError(f"The plan names the key {key!r} twice in one object.")
        out[key] = value
    return out


def _no_constant(name: str) -> None:
    raise PlanError(f"The plan holds {name}, which is not a number.")


def _join(where: str, message: str) -> str:
    """`message` of a part, prefixed with where the part is (``tracks[2]`` ...)."""
    if message.startswith("_:"):  # said of the part itself
        return f"{where}{message[1:]}"
    if message.startswith(("[", ":")):
        return f"{where}{message}"
    return f"{where}.{message}"


def _object(
    data: object, where: str, *, required: set[str], optional: set[str]
) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise PlanError(f"{where}: must be a JSON object, not {_show(data)}.")
    missing = sorted(required - data.keys())
    if missing:
        raise PlanError(f"{where}: the field {missing[0]!r} is missing.")
    unknown = sorted(data.keys() - required - optional)
    if unknown:
        raise PlanError(f"{where}: unknown field {unknown[0]!r}.")
    return data


def _section(where: str, data: object, parse: Callable[[object], T]) -> T:
    try:
        return parse(data)
    except PlanError as exc:
        raise PlanError(_join(where, str(exc))) from None


def _items(top: Mapping[str, Any], name: str, parse: Callable[[object], T]) -> tuple[T, ...]:
    value = top.get(name, [])
    if not isinstance(value, list):
        raise PlanError(f"{name}: must be a list, not {_show(value)}.")
    return tuple(_section(f"{name}[{i}]", item, parse) for i, item in enumerate(value))


def _rows(data: Mapping[str, Any], name: str) -> tuple[FrameBox, ...]:
    value = data[name]
    if not isinstance(value, list):
        raise PlanError(f"{name}: must be a list of rows, not {_show(value)}.")
    return tuple(_section(f"{name}[{i}]", row, FrameBox.from_row) for i, row in enumerate(value))


def _video(data: object) -> VideoFacts:
    d = _object(data, "_", required={"width", "height", "frames", "fps"}, optional={"sha256"})
    fps = d["fps"]
    if not isinstance(fps, list) or len(fps) != 2:
        raise PlanError(f"fps: must be [numerator, denominator], not {_show(fps)}.")
    return VideoFacts(d["width"], d["height"], d["frames"], fps[0], fps[1], d.get("sha256"))


def _settings(data: object) -> PlanSettings:
    d = _object(data, "_", required=set(), optional={"style", "mask_scale_percent", "detect_scale"})
    scale = d.get("detect_scale")
    if scale is not None and (not isinstance(scale, list) or len(scale) != 2):
        raise PlanError(f"detect_scale: must be [width, height] or null, not {_show(scale)}.")
    return PlanSettings(
        style=_enum(Style, d.get("style", "blur"), "style"),
        mask_scale_percent=d.get("mask_scale_percent", 100),
        detect_scale=None if scale is None else (scale[0], scale[1]),
    )


def _track(data: object) -> TrackDecision:
    d = _object(
        data, "_", required={"id", "include", "boxes"}, optional={"reason", "note", "label"}
    )
    reason = d.get("reason")
    return TrackDecision(
        track_id=d["id"],
        boxes=_rows(d, "boxes"),
        include=d["include"],
        reason=None if reason is None else _enum(ReasonCode, reason, "reason"),
        note=d.get("note", ""),
        label=d.get("label", "face"),
    )


def _manual(data: object) -> ManualBox:
    d = _object(data, "_", required={"keyframes", "reason"}, optional={"note"})
    return ManualBox(
        keyframes=_rows(d, "keyframes"),
        reason=_enum(ReasonCode, d["reason"], "reason"),
        note=d.get("note", ""),
    )


def _frame_range(data: object) -> FrameRange:
    d = _object(data, "_", required={"start_frame", "end_frame", "reason"}, optional={"note"})
    return FrameRange(
        d["start_frame"],
        d["end_frame"],
        _enum(ReasonCode, d["reason"], "reason"),
        d.get("note", ""),
    )


def _audio_range(data: object) -> AudioRange:
    d = _object(data, "_", required={"start_ms", "end_ms", "mode", "reason"}, optional={"note"})
    return AudioRange(
        d["start_ms"],
        d["end_ms"],
        _enum(AudioMode, d["mode"], "mode"),
        _enum(ReasonCode, d["reason"], "reason"),
        d.get("note", ""),
    )
