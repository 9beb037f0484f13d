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

import numpy as np
import numpy.typing as npt

from bodycam.compliance.rules import Policy, Rules


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


def _screen(ev: OfficerEvent, rules: Rules) -> Verdict | tuple[Policy, datetime, datetime]:
    """The verdict when no recording can change it, else the policy and the window."""
    when = ev.created_at or ev.dispatched_at or ev.arrived_at
    policy = rules.in_force(when) if when else None
    if policy is None:
        why = "no policy was in force (or the event has no time)"
        return Verdict(ev.key, "unknown", 0.0, 0, 0, 0, None, why, ())
    reason = policy.exemption(ev.call_type, ev.priority, ev.self_initiated, ev.disposition)
    if reason is not None:
        return Verdict(ev.key, "exempt", 0.0, 0, 0, 0, policy.version, reason, ())
    start, end = _window(ev, policy.window_start)
    if start is None or end is None or end <= start:
        why = "the event lacks a start or a clear time to judge it by"
        return Verdict(ev.key, "unknown", 0.0, 0, 0, 0, policy.version, why, ())
    return policy, start, end


def judge(events: Iterable[OfficerEvent], clips: Iterable[Clip], rules: Rules) -> Iterator[Verdict]:
    """A verdict for every officer-event (in the order given)."""
    by_officer: dict[str, list[Clip]] = defaultdict(list)
    for clip in clips:
        by_officer[clip.officer_id].append(clip)
    officers = {oid: _Officer(cs) for oid, cs in by_officer.items()}
    empty = _Officer([])
    for ev in events:
        screened = _screen(ev, rules)
        if isinstance(screened, Verdict):
            yield screened
            continue
        policy, start, end = screened
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
        why = _why("not_recorded", 0.0, span, span, 0.0)
        return Verdict(key, "not_recorded", 0.0, span, span, 0.0, version, why, ids)
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
        status = "late_start"
    elif early > end_grace.total_seconds():
        status = "early_stop"
    elif gaps > 0:
        status = "gaps"
    else:
        status = "recorded"
    why = _why(status, coverage, late, early, gaps)
    return Verdict(key, status, coverage, late, early, gaps, version, why, ids)


# --- the array matcher -------------------------------------------------------------------

STATUS_CODES = ("recorded", "late_start", "early_stop", "gaps", "not_recorded")
"""Status of each code :func:`match_arrays` returns (index = code)."""


@dataclass(frozen=True)
class ArrayVerdicts:
    """Per event: status code (index into STATUS_CODES), covered share, seconds, clips."""

    status: npt.NDArray[np.int8]
    coverage: npt.NDArray[np.float64]
    late: npt.NDArray[np.float64]
    early: npt.NDArray[np.float64]
    gaps: npt.NDArray[np.float64]
    clips: npt.NDArray[np.int64]  # how many recordings overlap the (buffered) window
    pair_event: npt.NDArray[np.int64]  # every (event, recording) overlap: the event ...
    pair_clip: npt.NDArray[np.int64]  # ... and the recording's index in the input arrays


def match_arrays(
    ev_officer: npt.NDArray[np.int64],
    ev_start: npt.NDArray[np.float64],
    ev_end: npt.NDArray[np.float64],
    ev_buffer: npt.NDArray[np.float64],
    clip_officer: npt.NDArray[np.int64],
    clip_start: npt.NDArray[np.float64],
    clip_end: npt.NDArray[np.float64],
    *,
    start_grace: float,
    end_grace: float,
    gap_grace: float,
) -> ArrayVerdicts:
    """The verdicts of :func:`judge` for required events, on arrays of UNIX seconds.

    Windows must be non-empty (``ev_end > ev_start``). The recordings are sorted once by
    (officer, start); one ``searchsorted`` per bound finds each event's candidates. Events
    with up to two overlapping recordings (nearly all) are judged with array arithmetic;
    the few with more go through the same interval union as :func:`judge`.
    """
    n = len(ev_start)
    order = np.lexsort((clip_start, clip_officer))
    c_off, c_start, c_end = clip_officer[order], clip_start[order], clip_end[order]
    longest = float((c_end - c_start).max()) if len(c_start) else 0.0
    # Sort keys: officer-major, then time since the earliest moment, so that float64 keeps
    # sub-millisecond resolution. The bounds are widened by a second and made exact by the
    # overlap test below, so rounding can neither drop nor add a pair.
    t0 = (
        min(float(c_start.min()) if len(c_start) else 0.0, float(ev_start.min()) if n else 0.0)
        - longest
        - float(ev_buffer.max(initial=0.0))
    )
    t1 = max(float(c_end.max()) if len(c_end) else 0.0, float(ev_end.max()) if n else 0.0)
    scale = (t1 - t0) + 4.0
    keys = c_off.astype(np.float64) * scale + (c_start - t0)
    base = ev_officer.astype(np.float64) * scale - t0
    lo = np.searchsorted(keys, base + ev_start - ev_buffer - longest - 1.0, side="left")
    hi = np.searchsorted(keys, base + ev_end + 1.0, side="left")
    status = np.full(n, STATUS_CODES.index("not_recorded"), dtype=np.int8)
    coverage = np.zeros(n)
    late = ev_end - ev_start
    early = ev_end - ev_start
    gaps = np.zeros(n)
    span = ev_end - ev_start
    # Expand every candidate, keep those whose end reaches the buffered window start,
    # and count the real overlaps per event (all in array operations).
    m = hi - lo
    has = np.nonzero(m > 0)[0]
    reps = m[has]
    ev_rep = np.repeat(has, reps)
    first = np.cumsum(reps) - reps
    cand = lo[ev_rep] + (np.arange(int(reps.sum())) - np.repeat(first, reps))
    real = (c_end[cand] > (ev_start - ev_buffer)[ev_rep]) & (c_start[cand] < ev_end[ev_rep])
    ev_real, cand_real = ev_rep[real], cand[real]
    count = np.bincount(ev_real, minlength=n).astype(np.int64)
    only = np.full(n, -1, dtype=np.int64)
    only[ev_real] = cand_real  # the clip, for events with exactly one
    idx = np.nonzero(count == 1)[0]
    if len(idx):
        j = only[idx]
        a = np.maximum(c_start[j], ev_start[idx])
        b = np.minimum(c_end[j], ev_end[idx])
        covered = b > a
        k, aa, bb = idx[covered], a[covered], b[covered]
        coverage[k] = np.round((bb - aa) / span[k], 4)
        late[k] = aa - ev_start[k]
        early[k] = ev_end[k] - bb
        st = np.full(len(k), STATUS_CODES.index("recorded"), dtype=np.int8)
        st[early[k] > end_grace] = STATUS_CODES.index("early_stop")
        st[late[k] > start_grace] = STATUS_CODES.index("late_start")
        status[k] = st
    two = np.nonzero(count == 2)[0]
    if len(two):
        pos = np.searchsorted(ev_real, two)  # each event's first real candidate
        j1, j2 = cand_real[pos], cand_real[pos + 1]
        s0, e0 = ev_start[two], ev_end[two]
        a1, b1 = np.maximum(c_start[j1], s0), np.minimum(c_end[j1], e0)
        a2, b2 = np.maximum(c_start[j2], s0), np.minimum(c_end[j2], e0)
        v1, v2 = b1 > a1, b2 > a2
        # An empty piece takes the other's place, so (a1, b1) is always the first one kept.
        a1, b1 = np.where(v1, a1, a2), np.where(v1, b1, b2)
        both = v1 & v2
        joined = both & (a2 <= b1)
        apart = both & ~joined
        last_end = np.where(joined, np.maximum(b1, b2), np.where(apart, b2, b1))
        covered = np.where(apart, (b1 - a1) + (b2 - a2), last_end - a1)
        gap = np.where(apart, a2 - b1, 0.0)
        gap = np.where(gap > gap_grace, gap, 0.0)
        some = v1 | v2
        k = two[some]
        coverage[k] = np.round(covered[some] / span[k], 4)
        late[k] = a1[some] - s0[some]
        early[k] = e0[some] - last_end[some]
        gaps[k] = gap[some]
        st = np.full(len(k), STATUS_CODES.index("recorded"), dtype=np.int8)
        st[gaps[k] > 0] = STATUS_CODES.index("gaps")
        st[early[k] > end_grace] = STATUS_CODES.index("early_stop")
        st[late[k] > start_grace] = STATUS_CODES.index("late_start")
        status[k] = st
    for i in np.nonzero(count > 2)[0]:
        s0, e0, buf = ev_start[i], ev_end[i], ev_buffer[i]
        pieces = sorted(
            (max(c_start[j], s0), min(c_end[j], e0))
            for j in range(lo[i], hi[i])
            if c_end[j] > s0 - buf and c_start[j] < e0
        )
        merged: list[list[float]] = []
        for a0, b0 in pieces:
            if b0 <= a0:
                continue
            if merged and a0 <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b0)
            else:
                merged.append([a0, b0])
        if not merged:
            continue
        late[i] = merged[0][0] - s0
        early[i] = e0 - merged[-1][1]
        gaps[i] = sum(
            merged[m + 1][0] - merged[m][1]
            for m in range(len(merged) - 1)
            if merged[m + 1][0] - merged[m][1] > gap_grace
        )
        coverage[i] = round(sum(b0 - a0 for a0, b0 in merged) / (e0 - s0), 4)
        if late[i] > start_grace:
            status[i] = STATUS_CODES.index("late_start")
        elif early[i] > end_grace:
            status[i] = STATUS_CODES.index("early_stop")
        elif gaps[i] > 0:
            status[i] = STATUS_CODES.index("gaps")
        else:
            status[i] = STATUS_CODES.index("recorded")
    return ArrayVerdicts(status, coverage, late, early, gaps, count, ev_real, order[cand_real])


def judge_fast(
    events: Iterable[OfficerEvent], clips: Iterable[Clip], rules: Rules
) -> Iterator[Verdict]:
    """What :func:`judge` yields, with the windows matched by :func:`match_arrays`."""
    clip_list = list(clips)
    officers: dict[str, int] = {}
    c_off = np.array(
        [officers.setdefault(c.officer_id, len(officers)) for c in clip_list], dtype=np.int64
    )
    c_start = np.array([c.start.timestamp() for c in clip_list], dtype=np.float64)
    c_end = np.array([c.end.timestamp() for c in clip_list], dtype=np.float64)
    decided: list[Verdict | None] = []
    required: dict[str, list[tuple[int, OfficerEvent, datetime, datetime, float]]] = {}
    policies = {}
    for ev in events:
        screened = _screen(ev, rules)
        if isinstance(screened, Verdict):
            decided.append(screened)
            continue
        policy, start, end = screened
        buffer = policy.buffer.total_seconds() if ev.self_initiated else 0.0
        policies[policy.version] = policy
        required.setdefault(policy.version, []).append((len(decided), ev, start, end, buffer))
        decided.append(None)
    for version, group in required.items():
        policy = policies[version]
        got = match_arrays(
            np.array([officers.get(g[1].officer_id, -1) for g in group], dtype=np.int64),
            np.array([g[2].timestamp() for g in group], dtype=np.float64),
            np.array([g[3].timestamp() for g in group], dtype=np.float64),
            np.array([g[4] for g in group], dtype=np.float64),
            c_off,
            c_start,
            c_end,
            start_grace=policy.start_grace.total_seconds(),
            end_grace=policy.end_grace.total_seconds(),
            gap_grace=policy.gap_grace.total_seconds(),
        )
        found: dict[int, list[int]] = {}
        for e, c in zip(got.pair_event.tolist(), got.pair_clip.tolist(), strict=True):
            found.setdefault(e, []).append(c)
        for n, (slot, ev, _, _, _) in enumerate(group):
            status = STATUS_CODES[int(got.status[n])]
            ids = tuple(
                clip_list[c].recording_id
                for c in sorted(found.get(n, []), key=lambda c: clip_list[c].start)
            )
            late, early, gaps, cov = (
                float(got.late[n]),
                float(got.early[n]),
                float(got.gaps[n]),
                float(got.coverage[n]),
            )
            decided[slot] = Verdict(
                ev.key,
                status,
                cov,
                late,
                early,
                gaps,
                version,
                _why(status, cov, late, early, gaps),
                ids,
            )
    for verdict in decided:
        assert verdict is not None
        yield verdict


def _why(status: str, coverage: float, late: float, early: float, gaps: float) -> str:
    """The sentence :func:`judge` gives for a verdict."""
    if status == "not_recorded":
        return "no recording of this officer covers the window"
    if status == "late_start":
        return f"recording began {late / 60:.1f} min after the start"
    if status == "early_stop":
        return f"recording ended {early / 60:.1f} min before the clear"
    if status == "gaps":
        return f"{gaps / 60:.1f} min of breaks inside the window"
    return f"{coverage:.0%} of the window recorded"
