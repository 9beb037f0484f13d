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

Last line: ``compliance: bodycam N s, reference M s, ratio R (reference / bodycam), peak P MiB``
(peak: the whole process's maximum resident memory).

    .venv/bin/python bench/compliance.py            # 24,000 officers, 30 days
    .venv/bin/python bench/compliance.py --quick    # 2,400 officers
    .venv/bin/python bench/compliance.py --days 365 --skip-reference   # a year, memory
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _common import add_common_args, log, machine, scratch

from bodycam.compliance.matching import match_arrays

START = datetime(2026, 1, 1, tzinfo=UTC)
EPOCH = START.timestamp()


def build(db: Path, officers: int, days: int, seed: int = 11) -> tuple[int, int]:
    """Write events and recordings (times as UNIX seconds) into a fresh SQLite file."""
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
    con.execute("CREATE INDEX ix_rec ON recordings (officer_id, start)")
    con.commit()
    con.close()
    return n_events, n_recs


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


def load(db: Path) -> tuple[np.ndarray, ...]:
    """The events and recordings as arrays (what the matcher is fed)."""
    con = sqlite3.connect(db)
    ev = np.array(
        con.execute("SELECT officer_id, arrived, cleared, self_initiated FROM events").fetchall(),
        dtype=np.float64,
    ).reshape(-1, 4)
    cl = np.array(
        con.execute("SELECT officer_id, start, end FROM recordings").fetchall(), dtype=np.float64
    ).reshape(-1, 3)
    con.close()
    return (
        ev[:, 0].astype(np.int64),
        ev[:, 1],
        ev[:, 2],
        np.where(ev[:, 3] > 0, 300.0, 0.0),
        cl[:, 0].astype(np.int64),
        cl[:, 1],
        cl[:, 2],
    )


def bodycam(arrays: tuple[np.ndarray, ...]) -> int:
    """Judge every officer-event with the array matcher; count the pairs found."""
    got = match_arrays(*arrays, start_grace=120.0, end_grace=120.0, gap_grace=60.0)
    return int(got.clips.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=24_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="2,400 officers")
    parser.add_argument("--skip-reference", action="store_true", help="time bodycam only")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side")
    add_common_args(parser)
    args = parser.parse_args()
    officers = 2_400 if args.quick else args.officers
    log(f"machine: {machine()}")
    with scratch(args.workdir, args.keep, "bench-compliance-") as work:
        db = work / "cad.db"
        t0 = time.perf_counter()
        n_events, n_recs = build(db, officers, args.days)
        log(
            f"generated {n_events:,} officer-events and {n_recs:,} recordings for "
            f"{officers:,} officers over {args.days} days in {time.perf_counter() - t0:.1f} s"
        )
        t0 = time.perf_counter()
        arrays = load(db)
        log(f"loading the arrays from SQLite (not timed below): {time.perf_counter() - t0:.2f} s")
        mine_times, ref_times = [], []
        for run in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            mine = bodycam(arrays)
            mine_times.append(time.perf_counter() - t0)
            if not args.skip_reference:
                t0 = time.perf_counter()
                ref = reference(db)
                ref_times.append(time.perf_counter() - t0)
                log(
                    f"run {run + 1}: bodycam {mine_times[-1]:.3f} s, reference "
                    f"{ref_times[-1]:.3f} s"
                )
        mine_s = sorted(mine_times)[len(mine_times) // 2]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log(f"bodycam: {mine_s:.3f} s, {mine:,} pairs, {n_events / mine_s:,.0f} events/s")
        if args.skip_reference:
            print(
                f"compliance: bodycam {mine_s:.2f} s for {n_events:,} officer-events, "
                f"peak {peak:.0f} MiB"
            )
            return
        ref_s = sorted(ref_times)[len(ref_times) // 2]
        log(f"reference: {ref_s:.3f} s, {ref:,} pairs")
        if ref != mine:
            raise SystemExit(f"the two sides disagree: {mine} pairs against {ref}")
    print(
        f"compliance: bodycam {mine_s:.2f} s, reference {ref_s:.2f} s, "
        f"ratio {ref_s / mine_s:.2f} (reference / bodycam), peak {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
