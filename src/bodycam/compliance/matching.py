"""Matching recordings to officer-events, and the verdict on each: a sweep, not a join.

For every officer-event (an officer's assignment to a dispatch event) the policy in force
on the event's day says whether it must be recorded, and over which window (arrival or
dispatch until clear). The officer's recordings are sorted once by start; for each event
a binary search finds the few that can overlap its window (bounded by the officer's
longest recording), so the whole match is O((E + R) log R) instead of a join.

The verdict, with its evidence:

* ``exempt`` - the policy does not require this event (which rule says so);
* ``unknown`` - the event lacks the times to judge it (no start or no clear);
* ``not_recorded`` - no recording covers any of the window;
* ``late_start`` - the first covered moment is more than the start grace after the start;
* ``early_stop`` - the last covered moment is more than the end grace before the end;
* ``gaps`` - breaks inside the window longer than the gap grace;
* ``recorded`` - otherwise.

``coverage`` is the covered share of the window. On self-initiated events a recording
may start up to the policy's buffer before the window and still count.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from bodycam.compliance.rules import Rules


@dataclass(frozen=True)
class OfficerEvent:
    """One officer on one dispatch event, with the times that define the window."""

    key: str
    officer_id: str
    event_id: str
    call_type: str | None
    priority: str | None
    self_initiated: bool | None
    disposition: str | None
    created_at: datetime | None
    dispatched_at: datetime | None
    arrived_at: datetime | None
    cleared_at: datetime | None


@dataclass(frozen=True)
class Clip:
    """One recording of one officer."""

    recording_id: str
    officer_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Verdict:
    """The conclusion on one officer-event, and why."""

    key: str
    status: str
    coverage: float
    late_s: float
    early_s: float
    gaps_s: float
    policy: str | None
    reason: str
    recordings: tuple[str, ...]


class _Officer:
    """One officer's recordings, sorted by start, with the longest duration."""

    def __init__(self, clips: list[Clip]) -> None:
        self.clips = sorted(clips, key=lambda c: c.start)
        self.starts = [c.start for c in self.clips]
        self.longest = max((c.end - c.start for c in self.clips), default=timedelta(0))

    def overlapping(self, start: datetime, end: datetime) -> list[Clip]:
        lo = bisect.bisect_left(self.starts, start - self.longest)
        hi = bisect.bisect_left(self.starts, end)
        return [c for c in self.clips[lo:hi] if c.end > start]


def _window(ev: OfficerEvent, policy_start: str) -> tuple[datetime | None, datetime | None]:
    if policy_start == "dispatched":
        start = ev.dispatched_at or ev.arrived_at or ev.created_at
    else:
        start = ev.arrived_at or ev.dispatched_at or ev.created_at
    return start, ev.cleared_at


def judge(events: Iterable[OfficerEvent], clips: Iterable[Clip], rules: Rules) -> Iterator[Verdict]:
    """A verdict for every officer-event (in the order given)."""
    by_officer: dict[str, list[Clip]] = defaultdict(list)
    for clip in clips:
        by_officer[clip.officer_id].append(clip)
    officers = {oid: _Officer(cs) for oid, cs in by_officer.items()}
    empty = _Officer([])
    for ev in events:
        when = ev.created_at or ev.dispatched_at or ev.arrived_at
        policy = rules.in_force(when) if when else None
        if policy is None:
            yield Verdict(
                ev.key,
                "unknown",
                0.0,
                0,
                0,
                0,
                None,
                "no policy was in force (or the event has no time)",
                (),
            )
            continue
        reason = policy.exemption(ev.call_type, ev.priority, ev.self_initiated, ev.disposition)
        if reason is not None:
            yield Verdict(ev.key, "exempt", 0.0, 0, 0, 0, policy.version, reason, ())
            continue
        start, end = _window(ev, policy.window_start)
        if start is None or end is None or end <= start:
            yield Verdict(
                ev.key,
                "unknown",
                0.0,
                0,
                0,
                0,
                policy.version,
                "the event lacks a start or a clear time to judge it by",
                (),
            )
            continue
        early_ok = policy.buffer if ev.self_initiated else timedelta(0)
        found = officers.get(ev.officer_id, empty).overlapping(start - early_ok, end)
        yield _verdict(
            ev.key,
            policy.version,
            start,
            end,
            found,
            policy.start_grace,
            policy.end_grace,
            policy.gap_grace,
        )


def _verdict(
    key: str,
    version: str,
    start: datetime,
    end: datetime,
    clips: list[Clip],
    start_grace: timedelta,
    end_grace: timedelta,
    gap_grace: timedelta,
) -> Verdict:
    span = (end - start).total_seconds()
    # The union of the clips, clamped to the window.
    pieces = sorted((max(c.start, start), min(c.end, end)) for c in clips)
    merged: list[list[datetime]] = []
    for a, b in pieces:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    ids = tuple(c.recording_id for c in sorted(clips, key=lambda c: c.start))
    if not merged:
        return Verdict(
            key,
            "not_recorded",
            0.0,
            span,
            span,
            0.0,
            version,
            "no recording of this officer covers the window",
            ids,
        )
    covered = sum((b - a).total_seconds() for a, b in merged)
    late = (merged[0][0] - start).total_seconds()
    early = (end - merged[-1][1]).total_seconds()
    gaps = sum(
        (merged[i + 1][0] - merged[i][1]).total_seconds()
        for i in range(len(merged) - 1)
        if merged[i + 1][0] - merged[i][1] > gap_grace
    )
    coverage = round(covered / span, 4)
    if late > start_grace.total_seconds():
        status, why = "late_start", f"recording began {late / 60:.1f} min after the start"
    elif early > end_grace.total_seconds():
        status, why = "early_stop", f"recording ended {early / 60:.1f} min before the clear"
    elif gaps > 0:
        status, why = "gaps", f"{gaps / 60:.1f} min of breaks inside the window"
    else:
        status, why = "recorded", f"{coverage:.0%} of the window recorded"
    return Verdict(key, status, coverage, late, early, gaps, version, why, ids)
