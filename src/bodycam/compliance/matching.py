"""Matching recordings to officer-events, and the verdict on each: a sweep, not a join.

For every officer-event (an officer's assignment to a dispatch event) the policy in force
on the event's day says whether it must be recorded, and over which window (arrival or
dispatch until clear). The officer's recordings are sorted once by start, and for each
event only the few that can overlap its window are looked at (those that start after the
window start less the officer's longest recording): :func:`judge` finds them by binary
search; :func:`match_arrays`, the fast path, by a pointer per officer that moves along
with the events, in one compiled pass (numba). The whole match is O((E + R) log R)
instead of a join, and :func:`match_windows` runs it over a long period one time slice
at a time, in memory bounded by a slice.

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
import functools
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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

# The codes as the compiled kernel writes them (module constants are frozen into it).
_RECORDED, _LATE_START, _EARLY_STOP, _GAPS, _NOT_RECORDED = range(len(STATUS_CODES))


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

    Windows must be non-empty (``ev_end > ev_start``). A recording overlaps an event when
    it is the same officer's, starts before the window ends and ends after the window's
    start less the event's buffer. The pairs come in event order and, for each event, in
    the order of the recordings' starts (ties: input order). ``coverage`` is rounded to
    4 places as Python's ``round`` does it (ties to even), like :func:`judge`.

    The recordings are sorted by (officer, start), unless they already are (one check);
    then one compiled pass (numba) walks the events in the order given, keeping for each
    officer a pointer into that officer's recordings at the window start less the
    officer's longest recording. Events grouped by officer in time order (the usual order
    of an export, or an index's) make it a merge of the two streams; any other order is
    as right, with a lookup (a table, or a binary search for far-apart officer ids) where
    the officer changes, and the pointer taken up where that officer's last event left
    it. For each event the pass forms the union of the overlapping recordings within the
    window and writes the verdict into arrays allocated beforehand.

    The first call in a process imports numba and loads the compiled kernels from
    numba's cache, or compiles them (seconds) where the cache is empty or stale, or where
    no cache folder is writable (then in every process).
    """
    kernels = _kernels()
    ev_officer = np.ascontiguousarray(ev_officer, dtype=np.int64)
    ev_start = np.ascontiguousarray(ev_start, dtype=np.float64)
    ev_end = np.ascontiguousarray(ev_end, dtype=np.float64)
    ev_buffer = np.ascontiguousarray(ev_buffer, dtype=np.float64)
    c_off = np.ascontiguousarray(clip_officer, dtype=np.int64)
    c_start = np.ascontiguousarray(clip_start, dtype=np.float64)
    c_end = np.ascontiguousarray(clip_end, dtype=np.float64)
    n = len(ev_start)
    if not len(ev_officer) == len(ev_end) == len(ev_buffer) == n:
        raise ValueError("the event arrays differ in length")
    if not len(c_start) == len(c_end) == len(c_off):
        raise ValueError("the recording arrays differ in length")
    if kernels.is_sorted(c_off, c_start):
        order = np.arange(len(c_start), dtype=np.int64)
    else:  # np.lexsort((c_start, c_off)), faster on input that is nearly in order
        order = np.argsort(c_off, kind="stable")
        kernels.sort_runs(c_start, c_off[order], order)
        c_off, c_start, c_end = c_off[order], c_start[order], c_end[order]
    # The outputs come from numpy, not from inside the kernel: numba's own allocations
    # fault their pages in afresh on every call (7 arrays of 765,392: 16 ms against 2 ms).
    status = np.empty(n, dtype=np.int8)
    coverage, late, early, gaps = (np.empty(n, dtype=np.float64) for _ in range(4))
    count = np.empty(n, dtype=np.int64)
    # Officer ids in a compact range (badge numbers, row ids): a table finds an officer's
    # recordings at once, for events that are not grouped by officer; else binary search.
    ids = int(c_off[-1]) - int(c_off[0]) + 1 if len(c_off) else 0
    table = np.empty(ids if 0 < ids <= 4 * len(c_off) + 4096 else 0, dtype=np.int64)
    pair_event = pair_clip = np.empty(0, dtype=np.int64)
    pairs = len(c_start) + n // 8 + 16  # enough for nearly every input; else a second pass
    while len(pair_event) < pairs:
        pair_event = np.empty(pairs, dtype=np.int64)
        pair_clip = np.empty(pairs, dtype=np.int64)
        pairs = kernels.match(
            ev_officer,
            ev_start,
            ev_end,
            ev_buffer,
            c_off,
            c_start,
            c_end,
            order,
            float(start_grace),
            float(end_grace),
            float(gap_grace),
            table,
            (status, coverage, late, early, gaps, count),
            pair_event,
            pair_clip,
        )
    return ArrayVerdicts(
        status, coverage, late, early, gaps, count, pair_event[:pairs], pair_clip[:pairs]
    )


@dataclass(frozen=True)
class _Kernels:
    is_sorted: Callable[..., bool]
    sort_runs: Callable[..., None]
    match: Callable[..., int]


@functools.cache
def _kernels() -> _Kernels:
    """The compiled kernels; numba is imported on first use (the CLI starts without it)."""
    import numba

    def jit(func: Callable[..., Any]) -> Any:
        try:
            return numba.njit(cache=True, nogil=True)(func)
        except RuntimeError:  # no writable cache folder: compile in every process instead
            return numba.njit(nogil=True)(func)

    return _Kernels(jit(_is_sorted_kernel), jit(_sort_runs_kernel), jit(_match_kernel))


def _is_sorted_kernel(officer: npt.NDArray[np.int64], start: npt.NDArray[np.float64]) -> bool:
    """Whether the recordings are sorted by (officer, start) (compiled by :func:`_kernels`)."""
    for i in range(1, len(start)):
        if officer[i] < officer[i - 1]:
            return False
        if officer[i] == officer[i - 1] and not start[i] >= start[i - 1]:
            return False
    return True


def _sort_runs_kernel(
    start: npt.NDArray[np.float64],
    officer: npt.NDArray[np.int64],
    order: npt.NDArray[np.int64],
) -> None:
    """Sort each officer's run of ``order`` by ``start[order]``, stably, in place.

    ``order`` sorts the recordings by officer (stably) and ``officer`` is already in that
    order (compiled by :func:`_kernels`).
    """
    m = len(order)
    i = 0
    while i < m:
        j = i + 1
        in_order = True
        while j < m and officer[j] == officer[i]:
            if not start[order[j]] >= start[order[j - 1]]:
                in_order = False
            j += 1
        if not in_order:
            run = order[i:j].copy()
            order[i:j] = run[np.argsort(start[run], kind="mergesort")]
        i = j


def _match_kernel(
    ev_officer: npt.NDArray[np.int64],
    ev_start: npt.NDArray[np.float64],
    ev_end: npt.NDArray[np.float64],
    ev_buffer: npt.NDArray[np.float64],
    c_off: npt.NDArray[np.int64],
    c_start: npt.NDArray[np.float64],
    c_end: npt.NDArray[np.float64],
    order: npt.NDArray[np.int64],
    start_grace: float,
    end_grace: float,
    gap_grace: float,
    table: npt.NDArray[np.int64],
    out: tuple[npt.NDArray[Any], ...],
    pair_event: npt.NDArray[np.int64],
    pair_clip: npt.NDArray[np.int64],
) -> int:
    """The whole match in one pass (compiled by :func:`_kernels`; see :func:`match_arrays`).

    The recordings are sorted by (officer, start); ``order`` maps them to the input index.
    ``table`` has one slot per officer id from the first recording's (or is empty). The
    verdicts go into ``out`` and the pairs into ``pair_event`` and ``pair_clip`` as far
    as they hold; the number of pairs is returned (more than they hold: call again).
    """
    status, coverage, late, early, gaps, count = out
    n = len(ev_start)
    m = len(c_start)
    cap = len(pair_event)
    # Each officer's run of recordings [run_first, run_end), its longest recording, and
    # the pointer where the officer's last event left off.
    runs = 0
    for i in range(m):
        if i == 0 or c_off[i] != c_off[i - 1]:
            runs += 1
    run_officer = np.empty(runs, dtype=np.int64)
    run_first = np.empty(runs, dtype=np.int64)
    run_end = np.empty(runs, dtype=np.int64)
    run_longest = np.empty(runs, dtype=np.float64)
    run_pointer = np.empty(runs, dtype=np.int64)
    r = -1
    for i in range(m):
        if i == 0 or c_off[i] != c_off[i - 1]:
            r += 1
            run_officer[r] = c_off[i]
            run_first[r] = i
            run_pointer[r] = i
            run_longest[r] = 0.0
        run_end[r] = i + 1
        run_longest[r] = max(run_longest[r], c_end[i] - c_start[i])
    if len(table):
        table[:] = -1
        for r in range(runs):
            table[run_officer[r] - run_officer[0]] = r
    pairs = 0
    officer = 0
    r = -1  # the officer's run, if any: recordings [first, last)
    first = 0
    last = 0
    longest = 0.0
    p = 0
    for k in range(n):
        s0 = ev_start[k]
        e0 = ev_end[k]
        lo = s0 - ev_buffer[k]
        if k == 0 or ev_officer[k] != officer:
            if r >= 0:
                run_pointer[r] = p
            officer = ev_officer[k]
            r = -1
            if len(table):
                if run_officer[0] <= officer <= run_officer[runs - 1]:
                    r = table[officer - run_officer[0]]  # -1: no recordings
            else:
                a, b = 0, runs
                while a < b:
                    mid = (a + b) >> 1
                    if run_officer[mid] < officer:
                        a = mid + 1
                    else:
                        b = mid
                if a < runs and run_officer[a] == officer:
                    r = a
            if r >= 0:
                first = run_first[r]
                last = run_end[r]
                longest = run_longest[r]
                p = run_pointer[r]
            else:
                first = last = p = 0
                longest = 0.0
        # p: the officer's first recording that starts at or after lo - longest (no
        # earlier one can reach lo); move it from where the officer's last event left it.
        floor = lo - longest
        while p < last and c_start[p] < floor:
            p += 1
        while p > first and c_start[p - 1] >= floor:
            p -= 1
        found = 0
        covered = 0.0
        gap_sum = 0.0
        first_a = 0.0
        cur_a = 0.0
        cur_b = 0.0
        any_piece = False
        j = p
        while j < last and c_start[j] < e0:
            if c_end[j] > lo:
                if pairs < cap:
                    pair_event[pairs] = k
                    pair_clip[pairs] = order[j]
                pairs += 1
                found += 1
                # The piece inside the window; pieces come by start, so merge as judge does.
                a_t = max(c_start[j], s0)
                b_t = min(c_end[j], e0)
                if b_t > a_t:
                    if not any_piece:
                        any_piece = True
                        first_a = a_t
                        cur_a = a_t
                        cur_b = b_t
                    elif a_t <= cur_b:
                        cur_b = max(cur_b, b_t)
                    else:
                        covered += cur_b - cur_a
                        if a_t - cur_b > gap_grace:
                            gap_sum += a_t - cur_b
                        cur_a = a_t
                        cur_b = b_t
            j += 1
        count[k] = found
        span = e0 - s0
        if not any_piece:
            status[k] = _NOT_RECORDED
            coverage[k] = 0.0
            late[k] = span
            early[k] = span
            gaps[k] = 0.0
            continue
        covered += cur_b - cur_a
        late_s = first_a - s0
        early_s = e0 - cur_b
        # round(covered / span, 4) as judge has it: to nearest, exact ties to even. The
        # product by 10,000 may itself round onto a tie; its exact error (Dekker's
        # product, 10,000 having few bits) then says which side the true value lies.
        share = covered / span
        scaled = share * 10000.0
        rounded = np.rint(scaled)
        if abs(scaled - rounded) == 0.5:
            split = 134217729.0 * share  # 2**27 + 1
            high = split - (split - share)
            error = (high * 10000.0 - scaled) + (share - high) * 10000.0
            if error > 0:
                rounded = np.ceil(scaled)
            elif error < 0:
                rounded = np.floor(scaled)
        coverage[k] = rounded / 10000.0
        late[k] = late_s
        early[k] = early_s
        gaps[k] = gap_sum
        if late_s > start_grace:
            status[k] = _LATE_START
        elif early_s > end_grace:
            status[k] = _EARLY_STOP
        elif gap_sum > 0:
            status[k] = _GAPS
        else:
            status[k] = _RECORDED
    return pairs


# --- matching slice by slice ---------------------------------------------------------------


@dataclass(frozen=True)
class EventArrays:
    """Officer-events as :func:`match_arrays` takes them, with the caller's ids."""

    ids: npt.NDArray[np.int64]  # whatever names each event to the caller (row id, index)
    officer: npt.NDArray[np.int64]
    start: npt.NDArray[np.float64]  # window start, UNIX seconds
    end: npt.NDArray[np.float64]  # window end
    buffer: npt.NDArray[np.float64]  # how early a recording may start and still count


@dataclass(frozen=True)
class ClipArrays:
    """Recordings as :func:`match_arrays` takes them, with the caller's ids."""

    ids: npt.NDArray[np.int64]
    officer: npt.NDArray[np.int64]
    start: npt.NDArray[np.float64]
    end: npt.NDArray[np.float64]


@dataclass(frozen=True)
class SliceVerdicts:
    """The verdicts on the events whose window starts in one slice ``[start, end)``.

    ``verdicts`` is indexed like ``events``; its ``pair_clip`` indexes ``clips``.
    """

    start: float
    end: float
    events: EventArrays
    clips: ClipArrays
    verdicts: ArrayVerdicts


def match_windows(
    edges: Sequence[float],
    events_starting: Callable[[float, float], EventArrays],
    clips_overlapping: Callable[[float, float], ClipArrays],
    *,
    start_grace: float,
    end_grace: float,
    gap_grace: float,
) -> Iterator[SliceVerdicts]:
    """:func:`match_arrays` over a long period, one time slice at a time.

    ``edges`` are increasing times; slice ``i`` is ``[edges[i], edges[i + 1])``. For each
    slice, ``events_starting(a, b)`` gives every event whose window starts in ``[a, b)``
    (so each event is judged once, in the slice its window starts in) and
    ``clips_overlapping(lo, hi)`` must give at least every recording that starts before
    ``hi`` and ends after ``lo``, where ``lo`` is the earliest buffered window start and
    ``hi`` the latest window end of the slice's events (so recordings that cross a slice
    boundary are loaded again for the next slice; more recordings than asked for are
    harmless). Events whose window starts outside ``[edges[0], edges[-1])`` are not
    asked for. Each event's verdict and pairs are exactly those of one
    :func:`match_arrays` call on the whole period, and the driver holds one slice's
    events, recordings and verdicts at a time: memory depends on the slice, not on the
    period (as long as the caller keeps only what it needs of each slice).
    """
    for a, b in itertools.pairwise(edges):
        if not b > a:
            raise ValueError(f"slice edges must increase: {a} then {b}")
        events = events_starting(a, b)
        if len(events.start) and not (events.start.min() >= a and events.start.max() < b):
            raise ValueError(f"events_starting({a}, {b}) gave an event starting outside it")
        if len(events.start):
            clips = clips_overlapping(
                float((events.start - events.buffer).min()), float(events.end.max())
            )
        else:
            clips = ClipArrays(*(np.empty(0, dtype=d) for d in (np.int64, np.int64, float, float)))
        verdicts = match_arrays(
            events.officer,
            events.start,
            events.end,
            events.buffer,
            clips.officer,
            clips.start,
            clips.end,
            start_grace=start_grace,
            end_grace=end_grace,
            gap_grace=gap_grace,
        )
        yield SliceVerdicts(a, b, events, clips, verdicts)
        del events, clips, verdicts  # not held while the next slice loads


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
