"""Redaction plans: JSON round trip, a stable canonical hash, strict validation, units."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bodycam.redaction.plan import (
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
)
from bodycam.redaction.plan_render import boxes_by_frame
from bodycam.redaction.styles import Style

DOCS = Path(__file__).resolve().parents[2] / "docs"


def sample_plan() -> RedactionPlan:
    """A plan with one of everything."""
    return RedactionPlan(
        video=VideoFacts(320, 180, 45, 15, 1, "ab" * 32),
        settings=PlanSettings(Style.pixelate, 120, (640, 360)),
        tracks=(
            TrackDecision(
                1, (FrameBox(0, 10, 20, 60, 80), FrameBox(1, 12, 20, 62, 80)), True, "victim"
            ),
            TrackDecision(2, (FrameBox(3, 200, 20, 250, 80),), False, ReasonCode.officer, "4105"),
        ),
        manual=(ManualBox((FrameBox(10, 0, 0, 40, 40), FrameBox(20, 100, 50, 160, 110)), "minor"),),
        full_frame=(FrameRange(30, 40, ReasonCode.home_interior, "bedroom"),),
        audio=(
            AudioRange(1000, 1500, AudioMode.mute, ReasonCode.personal_data),
            AudioRange(2000, 2250, "bleep", ReasonCode.personal_data, "phone number"),
        ),
    )


SAMPLE_HASH = "d97f0a6c8125cb721f5bcfe700801ce625a17cf153d3a34c434afbba80404887"
"""`sample_plan().plan_hash()`: changes only when the canonical form changes (a new
plan version), which would make every stored plan hash unverifiable."""


def test_json_round_trip_keeps_everything() -> None:
    plan = sample_plan()
    again = RedactionPlan.from_json(plan.to_json())
    assert again == plan
    assert RedactionPlan.from_json(plan.to_json(indent=2)) == plan
    assert again.plan_hash() == plan.plan_hash()


def test_the_hash_is_pinned_and_ignores_formatting_and_key_order() -> None:
    plan = sample_plan()
    assert plan.plan_hash() == SAMPLE_HASH
    data = plan.to_dict()
    canonical_bytes = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    assert hashlib.sha256(canonical_bytes).hexdigest() == SAMPLE_HASH
    shuffled = json.dumps(dict(reversed(list(data.items()))), indent=3)
    assert RedactionPlan.from_json(shuffled).plan_hash() == SAMPLE_HASH
    canonical = plan.to_json()
    assert " " not in canonical.replace("bedroom", "").replace("phone number", "")
    assert re.search(r"\d\.\d", canonical) is None  # no float anywhere
    assert canonical.isascii()


def test_omitted_optional_fields_get_their_defaults_and_the_same_hash() -> None:
    short = {"format": "bodycam-redaction-plan", "version": 1}
    plan = RedactionPlan.from_dict(short)
    assert plan == RedactionPlan()
    assert plan.plan_hash() == RedactionPlan().plan_hash()
    assert plan.settings.style is Style.blur and plan.audio_track is AudioTrack.keep


@pytest.mark.parametrize(
    "change",
    [
        lambda p: replace(p, tracks=(replace(p.tracks[0], include=False), p.tracks[1])),
        lambda p: replace(
            p,
            tracks=(replace(p.tracks[0], boxes=(FrameBox(0, 10, 20, 60, 81),)), p.tracks[1]),
        ),
        lambda p: replace(p, tracks=(replace(p.tracks[0], note="x"), p.tracks[1])),
        lambda p: replace(p, tracks=(replace(p.tracks[0], reason="witness"), p.tracks[1])),
        lambda p: replace(p, settings=replace(p.settings, style=Style.blur)),
        lambda p: replace(p, settings=replace(p.settings, mask_scale_percent=121)),
        lambda p: replace(p, audio=(replace(p.audio[0], mode="bleep"), p.audio[1])),
        lambda p: replace(p, audio=(replace(p.audio[0], end_ms=1501), p.audio[1])),
        lambda p: replace(p, full_frame=(replace(p.full_frame[0], end_frame=None),)),
        lambda p: replace(p, audio_track=AudioTrack.mute),
        lambda p: replace(p, video=replace(p.video, sha256="cd" * 32)),
        lambda p: replace(p, tracks=p.tracks[::-1]),
        lambda p: replace(p, manual=()),
    ],
)
def test_any_change_changes_the_hash(change: Any) -> None:
    plan = sample_plan()
    changed = change(plan)
    assert changed != plan
    assert changed.plan_hash() != plan.plan_hash()


def mutate(path: str, value: Any) -> dict[str, Any]:
    """`sample_plan()` as JSON data with the value at `path` (dots and indices) replaced;
    the value `...` deletes the key."""
    data = json.loads(sample_plan().to_json())
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = data
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", "other", "format: must be 'bodycam-redaction-plan'"),
        ("version", 2, "version: this bodycam reads version 1, not 2"),
        ("version", True, "version: this bodycam reads version 1, not true"),
        ("extra", 1, "plan: unknown field 'extra'"),
        ("tracks.0.boxes.1.3", 62.5, "tracks[0].boxes[1].x2: must be an integer, not 62.5"),
        ("tracks.0.boxes.1.3", 5, "tracks[0].boxes[1].x2: 5 must exceed x1 = 12"),
        ("tracks.0.boxes.1", [0, 1, 2, 3, 4], "tracks[0].boxes[1]: frame 0 does not come after"),
        ("tracks.0.boxes.1", [1, 2, 3], "tracks[0].boxes[1]: must be a row [frame, x1"),
        ("tracks.0.boxes.1", [50, 12, 20, 62, 80], "tracks[0].boxes[1]: frame 50 is past"),
        ("tracks.0.boxes", [], "tracks[0].boxes: needs at least 1 row"),
        ("tracks.0.include", 1, "tracks[0].include: must be true or false, not 1"),
        ("tracks.0.reason", None, "tracks[0].reason: an included track needs a reason code"),
        ("tracks.0.reason", "vip", "tracks[0].reason: 'vip' is not one of victim, witness"),
        ("tracks.0.id", ..., "tracks[0]: the field 'id' is missing"),
        ("tracks.1.id", 1, "tracks[1].id: track 1 is listed twice"),
        ("tracks.0.label", "Face!", "tracks[0].label: must be a short lower-case word"),
        ("tracks.0.note", "x" * 1001, "tracks[0].note: is 1001 characters long"),
        ("tracks", {}, "tracks: must be a list"),
        ("manual.0.keyframes.1.0", 10, "manual[0].keyframes[1]: frame 10 does not come after"),
        ("manual.0.colour", "red", "manual[0]: unknown field 'colour'"),
        ("full_frame.0.end_frame", 30, "full_frame[0].end_frame: 30 must come after"),
        ("full_frame.0.end_frame", 46, "full_frame[0].end_frame: frame 46 is past the end"),
        ("full_frame.0.start_frame", -1, "full_frame[0].start_frame: -1 is outside"),
        ("audio.0.mode", "loud", "audio[0].mode: 'loud' is not one of mute, bleep"),
        ("audio.0.end_ms", 1000, "audio[0].end_ms: 1000 must come after start_ms 1000"),
        ("audio.1.start_ms", "2s", "audio[1].start_ms: must be an integer, not '2s'"),
        ("audio_track", "drop", "audio_track: 'drop' is not one of keep, mute, remove"),
        ("settings.style", "smear", "settings.style: 'smear' is not one of blur, pixelate, box"),
        ("settings.mask_scale_percent", 50, "settings.mask_scale_percent: 50 is outside"),
        ("settings.detect_scale", [640], "settings.detect_scale: must be [width, height]"),
        ("video.fps", [15, 0], "video.fps[1]: 0 is outside"),
        ("video.fps", 15, "video.fps: must be [numerator, denominator], not 15"),
        ("video.sha256", "ABC", "video.sha256: must be 64 lower-case hex digits"),
        ("video.width", ..., "video: the field 'width' is missing"),
    ],
)
def test_bad_plans_are_refused_naming_the_field(path: str, value: Any, message: str) -> None:
    data = mutate(path, value)
    with pytest.raises(PlanError) as caught:
        RedactionPlan.from_dict(data)
    assert str(caught.value).startswith(message), str(caught.value)
    with pytest.raises(PlanError):
        RedactionPlan.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "The plan is not valid JSON"),
        ("[]", "plan: must be a JSON object, not a list"),
        ('{"format": "bodycam-redaction-plan", "format": "x"}', "The plan names the key 'format'"),
        ('{"format": "bodycam-redaction-plan", "version": NaN}', "The plan holds NaN"),
        (b"\xff\xfe\x00", "The plan is not valid JSON"),
    ],
)
def test_bad_json_is_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(PlanError, match=re.escape(message)):
        RedactionPlan.from_json(text)


def test_direct_construction_is_checked_too() -> None:
    with pytest.raises(PlanError, match="x2: 5 must exceed x1 = 5"):
        FrameBox(0, 5, 5, 5, 10)
    with pytest.raises(PlanError, match="reason: an included track needs a reason"):
        TrackDecision(1, (FrameBox(0, 0, 0, 5, 5),), True)
    with pytest.raises(PlanError, match="boxes\\[1\\]: frame 0 does not come after frame 3"):
        TrackDecision(1, (FrameBox(3, 0, 0, 5, 5), FrameBox(0, 0, 0, 5, 5)), False)
    with pytest.raises(PlanError, match="keyframes: needs at least 1 row"):
        ManualBox((), ReasonCode.other)
    with pytest.raises(PlanError, match=r"tracks\[1\]\.id: track 1 is listed twice"):
        box = (FrameBox(0, 0, 0, 5, 5),)
        RedactionPlan(tracks=(TrackDecision(1, box, False), TrackDecision(1, box, False)))
    with pytest.raises(PlanError, match="tracks\\[0\\]: must be a TrackDecision"):
        RedactionPlan(tracks=("track",))  # type: ignore[arg-type]
    with pytest.raises(PlanError, match="frame: must be an integer, not true"):
        FrameBox(True, 0, 0, 5, 5)
    # A list is taken, and stored as a tuple (the plan stays immutable and hashable).
    track = TrackDecision(1, [FrameBox(0, 0, 0, 5, 5)], False)  # type: ignore[arg-type]
    assert isinstance(track.boxes, tuple)


def test_manual_boxes_interpolate_linearly_between_keyframes() -> None:
    manual = sample_plan().manual[0]
    assert manual.box_at(9) is None and manual.box_at(21) is None
    assert manual.box_at(10) == (0, 0, 40, 40)
    assert manual.box_at(15) == (50, 25, 100, 75)
    assert manual.box_at(20) == (100, 50, 160, 110)
    single = ManualBox((FrameBox(7, 1, 2, 3, 4),), ReasonCode.other)
    assert single.box_at(7) == (1, 2, 3, 4) and single.box_at(8) is None


def test_boxes_by_frame_takes_included_tracks_and_manual_boxes_scaled() -> None:
    plan = replace(sample_plan(), settings=PlanSettings(mask_scale_percent=100))
    at = boxes_by_frame(plan)
    assert at(0) == [(10, 20, 60, 80)]
    assert at(3) == []  # track 2 is excluded
    assert at(15) == [(50, 25, 100, 75)]
    bigger = boxes_by_frame(replace(plan, settings=PlanSettings(mask_scale_percent=200)))
    assert bigger(0) == [(-15, -10, 85, 110)]


def test_frame_ranges_and_units() -> None:
    span = FrameRange(30, 40, ReasonCode.medical)
    assert [span.covers(f) for f in (29, 30, 39, 40)] == [False, True, True, False]
    assert FrameRange(5, None, ReasonCode.medical).covers(10**6)
    ntsc = VideoFacts(1280, 720, 900, 30000, 1001)
    assert ntsc.fps == Fraction(30000, 1001)
    assert ntsc.frame_at_ms(1001) == 30 and ntsc.ms_at_frame(30) == 1001
    assert FrameBox.around(4, (10.2, 5.9, 20.0, 30.01)) == FrameBox(4, 10, 5, 20, 31)


def test_bulk_preset() -> None:
    plan = RedactionPlan.bulk(audio=AudioTrack.mute, style=Style.pixelate)
    assert plan.full_frame == (
        FrameRange(0, None, ReasonCode.other, "bulk redaction: the whole picture, and the audio"),
    )
    assert plan.audio_track is AudioTrack.mute and plan.settings.style is Style.pixelate
    assert not plan.tracks and not plan.manual and not plan.audio
    assert RedactionPlan.bulk().audio_track is AudioTrack.remove
    assert RedactionPlan.from_json(plan.to_json()) == plan


def test_every_reason_code_is_documented_for_clerks() -> None:
    text = (DOCS / "records-clerk.md").read_text(encoding="utf-8")
    missing = [r.value for r in ReasonCode if f"| `{r.value}` |" not in text]
    assert not missing, f"docs/records-clerk.md does not document: {', '.join(missing)}"
    assert all(r.description for r in ReasonCode)


_rows = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(-50, 300),
        st.integers(-50, 300),
        st.integers(1, 80),
        st.integers(1, 80),
    ),
    min_size=1,
    max_size=6,
)


def _boxes(rows: list[tuple[int, int, int, int, int]]) -> tuple[FrameBox, ...]:
    out, frame = [], -1
    for step, x, y, w, h in rows:
        frame += step + 1
        out.append(FrameBox(frame, x, y, x + w, y + h))
    return tuple(out)


@settings(max_examples=60, deadline=None)
@given(
    tracks=st.lists(st.tuples(_rows, st.booleans(), st.sampled_from(ReasonCode)), max_size=4),
    manual=st.lists(_rows, max_size=2),
    audio=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(1, 10**5), st.sampled_from(AudioMode)),
        max_size=3,
    ),
    note=st.text(max_size=20),
    style=st.sampled_from(Style),
)
def test_any_valid_plan_round_trips_with_the_same_hash(
    tracks: list[tuple[list[tuple[int, int, int, int, int]], bool, ReasonCode]],
    manual: list[list[tuple[int, int, int, int, int]]],
    audio: list[tuple[int, int, AudioMode]],
    note: str,
    style: Style,
) -> None:
    plan = RedactionPlan(
        settings=PlanSettings(style=style),
        tracks=tuple(
            TrackDecision(i + 1, _boxes(rows), inc, reason, note)
            for i, (rows, inc, reason) in enumerate(tracks)
        ),
        manual=tuple(ManualBox(_boxes(rows), ReasonCode.other, note) for rows in manual),
        audio=tuple(
            AudioRange(start, start + length, mode, ReasonCode.personal_data)
            for start, length, mode in audio
        ),
    )
    again = RedactionPlan.from_json(plan.to_json())
    assert again == plan
    assert again.plan_hash() == plan.plan_hash()
    assert RedactionPlan.from_json(plan.to_json(indent=1)).plan_hash() == plan.plan_hash()
