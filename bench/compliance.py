"""Benchmark: matching recordings to officer-events, against a SQL join.

Generates a month (``--days``, default 30) of a department (``--officers``, default 24,000)
in shifts: each officer works 5 shifts of 8 hours in 7, answers about 5 events a shift,
and records about 30% of them (some late, some cut short, some in pieces), which gives
about 600,000 officer-events and 180,000 recordings for the defaults. Both sides read the
same SQLite file and produce every (officer-event, overlapping recording) pair:

* reference: one straightforward SQL join on badge and time overlap, with an index on
  ``recordings(officer_id, start)``;
* bodycam: ``bodycam.compliance.matching.match_arrays`` on the events and recordings
  loaded as arrays (loading is timed and reported apart): it also computes every
  verdict (status, coverage, late and early seconds, gaps). The test suite checks that
  it agrees with ``judge``, the reference implementation, on random shifts.

The matcher is compiled (numba): one call on a tiny input before the timed runs imports
numba and compiles the kernels or loads them from numba's cache; that time is printed on
its own line and not counted, and so is a cold compile (empty cache, in a subprocess).

After the timed runs, the same period is matched again slice by slice straight from
SQLite (``bodycam.compliance.matching.match_windows``, ``--slice-days``) and must give
the same pairs and verdicts. ``--skip-reference`` does only that, for periods too large
to hold in memory at once: ``--days 365 --skip-reference`` is a year of the department.

Last line: ``compliance: bodycam N s, reference M s, ratio R (reference / bodycam), peak P MiB``
(peak: the whole process's maximum resident memory), or with ``--skip-reference``:
``compliance: D days sliced by S days: E officer-events, P pairs, verdicts ..., matcher N s,
load M s, peak P MiB``.

    .venv/bin/python bench/compliance.py            # 24,000 officers, 30 days
    .venv/bin/python bench/compliance.py --quick    # 2,400 officers
    .venv/bin/python bench/compliance.py --days 365 --skip-reference   # a year, memory
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _common import add_common_args, log, machine, scratch

from bodycam.compliance.matching import (
    STATUS_CODES,
    ArrayVerdicts,
    ClipArrays,
    EventArrays,
    match_arrays,
    match_windows,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
EPOCH = START.timestamp()
DAY = 86400.0
GRACES = {"start_grace": 120.0, "end_grace": 120.0, "gap_grace": 60.0}
BUFFER = 300.0  # self-initiated events: a recording may start this early
# One event and two recordings out of order: a call on it runs every compiled kernel.
TINY = (
    np.zeros(1, dtype=np.int64),
    np.zeros(1),
    np.full(1, 600.0),
    np.zeros(1),
    np.zeros(2, dtype=np.int64),
    np.array([300.0, 0.0]),
    np.array([600.0, 300.0]),
)


def progress(message: str) -> None:
    """Progress of the long steps, on standard error."""
    print(message, file=sys.stderr, flush=True)


def build(db: Path, officers: int, days: int, seed: int = 11) -> tuple[int, int]:
    """Write events and recordings (times as UNIX seconds) into a fresh SQLite file.

    Rows go in one officer at a time (one ``executemany`` each), so memory stays that of
    one officer's rows whatever the period.
    """
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    con.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE events (key TEXT, officer_id INTEGER, created REAL, arrived REAL,
                             cleared REAL, self_initiated INTEGER);
        CREATE TABLE recordings (id TEXT, officer_id INTEGER, start REAL, end REAL);
        """
    )
    n_events = n_recs = 0
    t_start = last_report = time.perf_counter()
    for officer in range(officers):
        events, recs = [], []
        shift_start = rng.choice((6, 14, 22)) * 3600
        for day in range(days):
            if day % 7 in (rng.randrange(7), (day + officer) % 7):  # 2 days off a week
                continue
            t = EPOCH + day * 86400 + shift_start + rng.randrange(0, 1800)
            end_of_shift = t + 8 * 3600
            while t < end_of_shift:
                t += rng.expovariate(1 / 57000)  # about 25 events an officer-month
                arrived = t + rng.choice((0, 0, rng.randrange(120, 900)))
                cleared = arrived + rng.randrange(600, 3600)
                key = f"e{n_events}"
                n_events += 1
                events.append((key, officer, t, arrived, cleared, int(arrived == t)))
                if rng.random() < 0.3:
                    start = arrived + rng.choice((-60, 0, 30, 400))
                    stop = cleared - rng.choice((0, 0, 120, 900))
                    if rng.random() < 0.1:  # in two pieces
                        mid = (start + stop) / 2
                        recs.append((f"r{n_recs}", officer, start, mid - 200))
                        n_recs += 1
                        start = mid
                    recs.append((f"r{n_recs}", officer, start, max(stop, start + 30)))
                    n_recs += 1
                t = cleared
        con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)", events)
        con.executemany("INSERT INTO recordings VALUES (?,?,?,?)", recs)
        if time.perf_counter() - last_report > 10:
            last_report = time.perf_counter()
            progress(
                f"  generating: {officer + 1:,} of {officers:,} officers, {n_events:,} "
                f"officer-events, {last_report - t_start:.0f} s"
            )
    con.execute("CREATE INDEX ix_rec ON recordings (officer_id, start)")
    con.commit()
    con.close()
    return n_events, n_recs


def index_for_slices(db: Path) -> None:
    """The indexes the sliced matcher reads by: events by window start, recordings by start.

    Made after the reference's timed runs, so they cannot change its query plan.
    """
    con = sqlite3.connect(db)
    con.execute("CREATE INDEX IF NOT EXISTS ix_ev_arrived ON events (arrived)")
    con.execute("CREATE INDEX IF NOT EXISTS ix_rec_start ON recordings (start)")
    con.commit()
    con.close()


def reference(db: Path) -> int:
    """Every (event, overlapping recording) pair by one SQL join."""
    con = sqlite3.connect(db)
    pairs = 0
    cur = con.execute(
        """
        SELECT e.key, r.id FROM events e JOIN recordings r
          ON r.officer_id = e.officer_id AND r.start < e.cleared
         AND r.end > e.arrived - CASE WHEN e.self_initiated THEN 300 ELSE 0 END
        """
    )
    while rows := cur.fetchmany(50_000):
        pairs += len(rows)
    con.close()
    return pairs


def columns(cur: sqlite3.Cursor, width: int) -> list[np.ndarray]:
    """A query's rows as one contiguous float64 array per column, read in chunks."""
    chunks: list[list[np.ndarray]] = [[] for _ in range(width)]
    while rows := cur.fetchmany(50_000):
        table = np.array(rows, dtype=np.float64).reshape(-1, width)
        for i in range(width):
            chunks[i].append(table[:, i].copy())
    return [np.concatenate(c) if c else np.empty(0) for c in chunks]


def load(db: Path) -> tuple[np.ndarray, ...]:
    """The events and recordings as arrays (what the matcher is fed), in table order."""
    con = sqlite3.connect(db)
    officer, arrived, cleared, self_init = columns(
        con.execute("SELECT officer_id, arrived, cleared, self_initiated FROM events"), 4
    )
    c_officer, c_start, c_end = columns(
        con.execute("SELECT officer_id, start, end FROM recordings"), 3
    )
    con.close()
    return (
        officer.astype(np.int64),
        arrived,
        cleared,
        np.where(self_init > 0, BUFFER, 0.0),
        c_officer.astype(np.int64),
        c_start,
        c_end,
    )


def bodycam(arrays: tuple[np.ndarray, ...]) -> tuple[int, ArrayVerdicts]:
    """Judge every officer-event with the array matcher: pairs found, and the verdicts."""
    got = match_arrays(*arrays, **GRACES)
    return int(got.clips.sum()), got


def warm_up() -> float:
    """Seconds of the first call (numba import, kernels compiled or loaded from cache)."""
    t0 = time.perf_counter()
    match_arrays(*TINY, **GRACES)
    return time.perf_counter() - t0


def cold_compile() -> float | None:
    """Seconds of the first call in a fresh process with an empty numba cache."""
    code = (
        "import time; t0 = time.perf_counter(); import numpy as np; "
        "from bodycam.compliance.matching import match_arrays; "
        "e, c = np.zeros(1, dtype=np.int64), np.zeros(2, dtype=np.int64); "
        "match_arrays(e, e * 0.0, e + 600.0, e * 0.0, c, np.array([300.0, 0.0]), "
        "np.array([600.0, 300.0]), start_grace=1.0, end_grace=1.0, gap_grace=1.0); "
        "print(time.perf_counter() - t0)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-numba-cache-") as cache:
        try:
            out = subprocess.run(
                [sys.executable, "-c", code],
                env=os.environ | {"NUMBA_CACHE_DIR": cache},
                capture_output=True,
                text=True,
                check=True,
            )
        except subprocess.CalledProcessError as exc:
            log(f"cold compile failed: {exc.stderr.strip()[-500:]}")
            return None
    return float(out.stdout.split()[-1])


@dataclass
class Sliced:
    """What the sliced matcher found, and where its time went."""

    slices: int = 0
    events: int = 0
    clips_loaded: int = 0
    pairs: int = 0
    by_status: np.ndarray = field(default_factory=lambda: np.zeros(len(STATUS_CODES), int))
    load_s: float = 0.0
    match_s: float = 0.0


def sliced(db: Path, slice_days: float) -> Sliced:
    """Match the whole file slice by slice (``match_windows``), reading each slice by index."""
    con = sqlite3.connect(db)
    (longest,) = con.execute("SELECT max(end - start) FROM recordings").fetchone()
    first, last = con.execute("SELECT min(arrived), max(arrived) FROM events").fetchone()
    step = slice_days * DAY
    k0 = math.floor((first - EPOCH) / step)
    k1 = math.floor((last - EPOCH) / step) + 1
    edges = [EPOCH + k * step for k in range(k0, k1 + 1)]
    result = Sliced()

    def events_starting(a: float, b: float) -> EventArrays:
        t0 = time.perf_counter()
        ids, officer, arrived, cleared, self_init = columns(
            con.execute(
                "SELECT rowid, officer_id, arrived, cleared, self_initiated FROM events "
                "WHERE arrived >= ? AND arrived < ?",
                (a, b),
            ),
            5,
        )
        got = EventArrays(
            ids.astype(np.int64),
            officer.astype(np.int64),
            arrived,
            cleared,
            np.where(self_init > 0, BUFFER, 0.0),
        )
        result.load_s += time.perf_counter() - t0
        return got

    def clips_overlapping(lo: float, hi: float) -> ClipArrays:
        t0 = time.perf_counter()
        ids, officer, start, end = columns(
            con.execute(
                "SELECT rowid, officer_id, start, end FROM recordings "
                "WHERE start >= ? AND start < ? AND end > ?",
                (lo - (longest or 0.0), hi, lo),
            ),
            4,
        )
        got = ClipArrays(ids.astype(np.int64), officer.astype(np.int64), start, end)
        result.load_s += time.perf_counter() - t0
        return got

    t_all = time.perf_counter()
    for part in match_windows(edges, events_starting, clips_overlapping, **GRACES):
        v = part.verdicts
        result.slices += 1
        result.events += len(part.events.ids)
        result.clips_loaded += len(part.clips.ids)
        result.pairs += len(v.pair_event)
        result.by_status += np.bincount(v.status, minlength=len(STATUS_CODES))
        if len(edges) > 8:
            progress(
                f"  slice {result.slices} of {len(edges) - 1}: {len(part.events.ids):,} "
                f"officer-events, {len(part.clips.ids):,} recordings, "
                f"{len(v.pair_event):,} pairs, peak so far {peak_mib():.0f} MiB"
            )
        del part, v  # not held while the next slice loads
    result.match_s = time.perf_counter() - t_all - result.load_s
    con.close()
    return result


def counts(by_status: np.ndarray) -> str:
    return ", ".join(f"{name} {int(c):,}" for name, c in zip(STATUS_CODES, by_status, strict=True))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=24_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="2,400 officers")
    parser.add_argument(
        "--skip-reference",
        action="store_true",
        help="no reference and no whole-period call: only the sliced matcher (for a year)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side")
    parser.add_argument(
        "--slice-days",
        type=float,
        default=None,
        help="days in a slice of the sliced matcher (default 30; 7 up to 60 days, so that "
        "the check crosses slice boundaries)",
    )
    add_common_args(parser)
    args = parser.parse_args()
    officers = 2_400 if args.quick else args.officers
    slice_days = args.slice_days or (7.0 if args.days <= 60 else 30.0)
    log(f"machine: {machine()}")
    warm_s = warm_up()
    log(f"matcher warm-up (numba import, kernels compiled or loaded from cache): {warm_s:.2f} s")
    cold_s = cold_compile()
    if cold_s is not None:
        log(
            "matcher cold compile (fresh process with an empty numba cache, imports "
            f"included): {cold_s:.2f} s"
        )
    with scratch(args.workdir, args.keep, "bench-compliance-") as work:
        db = work / "cad.db"
        t0 = time.perf_counter()
        n_events, n_recs = build(db, officers, args.days)
        log(
            f"generated {n_events:,} officer-events and {n_recs:,} recordings for "
            f"{officers:,} officers over {args.days} days in {time.perf_counter() - t0:.1f} s "
            f"(peak so far {peak_mib():.0f} MiB)"
        )
        if args.skip_reference:
            t0 = time.perf_counter()
            index_for_slices(db)
            log(f"indexes for the slices: {time.perf_counter() - t0:.1f} s")
            got = sliced(db, slice_days)
            peak = peak_mib()
            if got.events != n_events:
                raise SystemExit(f"the slices judged {got.events} events of {n_events}")
            log(
                f"sliced: {got.slices} slices of {slice_days:g} days, {got.events:,} "
                f"officer-events, {got.clips_loaded:,} recordings loaded "
                f"({n_recs:,} in the file), {got.pairs:,} pairs"
            )
            log(f"verdicts: {counts(got.by_status)}")
            print(
                f"compliance: {args.days} days sliced by {slice_days:g} days: "
                f"{got.events:,} officer-events, {got.pairs:,} pairs, verdicts "
                f"{counts(got.by_status)}, matcher {got.match_s:.2f} s, load {got.load_s:.1f} s, "
                f"peak {peak:.0f} MiB"
            )
            return
        t0 = time.perf_counter()
        arrays = load(db)
        log(f"loading the arrays from SQLite (not timed below): {time.perf_counter() - t0:.2f} s")
        mine_times, ref_times = [], []
        for run in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            mine, verdicts = bodycam(arrays)
            mine_times.append(time.perf_counter() - t0)
            by_status = np.bincount(verdicts.status, minlength=len(STATUS_CODES))
            del verdicts
            t0 = time.perf_counter()
            ref = reference(db)
            ref_times.append(time.perf_counter() - t0)
            log(f"run {run + 1}: bodycam {mine_times[-1]:.3f} s, reference {ref_times[-1]:.3f} s")
        mine_s = sorted(mine_times)[len(mine_times) // 2]
        ref_s = sorted(ref_times)[len(ref_times) // 2]
        peak = peak_mib()
        log(f"bodycam: {mine_s:.3f} s, {mine:,} pairs, {n_events / mine_s:,.0f} events/s")
        log(f"verdicts: {counts(by_status)}")
        log(f"reference: {ref_s:.3f} s, {ref:,} pairs")
        if ref != mine:
            raise SystemExit(f"the two sides disagree: {mine} pairs against {ref}")
        del arrays
        index_for_slices(db)
        got = sliced(db, slice_days)
        log(
            f"check, sliced by {slice_days:g} days from SQLite: {got.slices} slices, "
            f"{got.pairs:,} pairs, matcher {got.match_s:.3f} s, load {got.load_s:.2f} s"
        )
        if got.pairs != ref or got.events != n_events or (got.by_status != by_status).any():
            raise SystemExit(
                f"the sliced matcher disagrees: {got.pairs} pairs, {got.events} events, "
                f"verdicts {counts(got.by_status)}"
            )
    print(
        f"compliance: bodycam {mine_s:.3f} s, reference {ref_s:.3f} s, "
        f"ratio {ref_s / mine_s:.2f} (reference / bodycam), peak {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
