"""Benchmark: a 24,000-officer department's metadata in PostgreSQL, queried by bodycam.

Seeds a fresh PostgreSQL database (``bodycam_scale_<pid>`` on ``--server``, created and
dropped by the script) through bodycam's own migrations (``bodycam.system_cli.initialise``,
which runs ``bodycam.db.upgrade``) with ``--scale`` times a department of 24,000 officers
over 20 months: 3.5 million recordings (with tags and case numbers), 20 million audit
records, 7 million officer-events (dispatch assignments, their dispatch events and one
compliance verdict each), and the officers, supervisors, squads, precincts and categories
they need. Rows are generated with numpy and loaded with PostgreSQL ``COPY``; secondary
indexes and constraints are dropped for the load and rebuilt after it, exactly as the
migrations declared them.

The audit records are the real thing: canonical JSON bodies in time order, numbered,
hashed into the RFC 6962 tree (``bodycam.audit.merkle``) and signed into checkpoints
(``bodycam.audit.signing``) as ``bodycam.audit.service.seal`` leaves them. A checkpoint
is made wherever a worker would have sealed (``--seal-seconds``, the worker's default
round of 5 s: one checkpoint per round that had new records). The script checks a
sample of bodies against ``canonical_bytes`` while it writes them.

Then it times bodycam's own functions on that database (p50 and p95 over ``--queries``
random calls each):

* ``search``: ``bodycam.evidence.service.search`` (behind ``/recordings`` and
  ``GET /api/v1/recordings``) with filters: an officer and a month, a category and a
  week, a tag, a case number or file name text, a camera; as an auditor, a records
  clerk, a supervisor (squad scope) and an officer (own recordings);
* ``list``: the same function with no filter (the first pages of everything);
* ``audit trail``: ``bodycam.audit.trail.recording_trail`` of a random recording;
* ``report``: ``bodycam.compliance.report.compliance_report`` by precinct for a month;
* ``incremental verify``: ``--new-records`` records written through
  ``bodycam.audit.service.record`` (one transaction each), sealed by ``seal`` (timed), then
  checked by ``bodycam.verify.verify_audit_since`` (``bodycam verify --incremental``) from
  the last verified tree head: every new body re-hashed and compared with its stored leaf,
  the tree extended from the verified frontier, every new checkpoint's signature and root
  checked. The seed stores the head a full verification of the seeded log would leave;
* ``ingest``: ``bodycam.evidence.service.ingest_file`` of small real clips (H.264 + AAC)
  into this database and a local blob store, by one worker process and then by two
  (alternating, ``--ingest-rounds``): scale-out = throughput(2) / throughput(1).

Last line: ``scale: S (R recordings, A audit records, E officer-events), search_p95_ms=...
list_p95_ms=... audit_trail_p95_ms=... report_ms=... seal_ms=... verify_incremental_ms=...
scaleout=...``.

    .venv/bin/python bench/scale.py --scale 0.01     # 35,000 recordings (about a minute)
    .venv/bin/python bench/scale.py                  # the whole department
"""

# ruff: noqa: UP031 - printf templates keep the audit bodies' JSON braces readable

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import psycopg
from _common import add_common_args, log, machine, scratch

from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.merkle import TreeBuilder, leaf_hash
from bodycam.audit.signing import Checkpoint, sign_checkpoint

FULL = {"officers": 24_000, "recordings": 3_500_000, "audit": 20_000_000, "events": 7_000_000}
START = datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 610  # 20 months: 2025-03-01 to 2026-10-31
START_US = int(START.timestamp() * 1_000_000)
SPAN_US = DAYS * 86_400 * 1_000_000
SQUAD_SIZE = 10
PRECINCTS = 20
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"

CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
FIRST = ["james", "maria", "li", "ahmed", "olga", "josé", "chloé", "kwame", "anna", "raj",
         "søren", "fatima", "tom", "yuki", "dana", "omar"]  # fmt: skip
LAST = ["smith", "garcia", "chen", "okafor", "novak", "silva", "brown", "kim", "patel",
        "müller", "jones", "nguyen", "cohen", "rossi"]  # fmt: skip
# (name, access class, retention, share of recordings)
CATEGORIES = [
    ("Uncategorized", "normal", None, 0.09),
    ("Traffic Stop", "normal", "3 years", 0.30),
    ("Call for Service", "normal", "3 years", 0.25),
    ("Accident", "normal", "3 years", 0.07),
    ("Arrest", "normal", "7 years", 0.08),
    ("Domestic Violence", "restricted", "7 years", 0.05),
    ("Interview", "restricted", "7 years", 0.05),
    ("Pursuit", "normal", "7 years", 0.03),
    ("Use of Force", "restricted", "until deleted", 0.02),
    ("Training", "normal", "1 year", 0.05),
    ("Sensitive", "confidential", "until deleted", 0.01),
]
TAGS = ["dui", "pursuit", "k9", "juvenile", "interview", "witness", "felony", "weapon",
        "injury", "complaint", "mental-health", "crash", "search", "vehicle", "narcotics",
        "domestic", "trespass", "theft", "assault", "missing-person", "fire", "ems",
        "school", "protest", "warrant", "fraud", "burglary", "shots-fired", "welfare",
        "noise"]  # fmt: skip
CALL_TYPES = ["TRAFFIC STOP", "DISTURBANCE", "DOMESTIC", "THEFT", "ALARM", "WELFARE CHECK",
              "SUSPICIOUS PERSON", "ACCIDENT", "ASSAULT", "BURGLARY", "NOISE", "TRESPASS",
              "SHOTS FIRED", "MENTAL HEALTH", "NARCOTICS", "FRAUD", "MISSING PERSON",
              "PARKING", "ROBBERY", "VANDALISM"]  # fmt: skip
STATUSES = ["recorded", "late_start", "early_stop", "gaps", "not_recorded", "exempt", "unknown"]
STATUS_P = [0.45, 0.12, 0.08, 0.03, 0.22, 0.07, 0.03]
# Audit actions on recordings besides ingest, with their share of those records.
VIEW_ACTIONS = [("evidence:recording:view", 0.40), ("evidence:recording:stream", 0.45),
                ("evidence:recording:download", 0.08), ("evidence:recording:edit", 0.05),
                ("access:request:denied", 0.02)]  # fmt: skip


def progress(message: str) -> None:
    """Progress of the long steps, on standard error."""
    print(message, file=sys.stderr, flush=True)


class Clock:
    """Seconds spent in each named step, printed as they end."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def step(self, name: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` and keep how long it took under ``name``."""
        start = time.perf_counter()
        result = fn()
        self.steps[name] = time.perf_counter() - start
        progress(f"  {name}: {self.steps[name]:.1f} s")
        return result


# --- vectorised values ----------------------------------------------------------------


def ulids(ms: np.ndarray, rng: np.random.Generator) -> list[str]:
    """ULIDs (26 Crockford base-32 digits: 48-bit milliseconds + 80 random bits)."""
    n = len(ms)
    out = np.empty((n, 26), dtype=np.uint8)
    t = ms.astype(np.uint64)
    for i in range(9, -1, -1):
        out[:, i] = CROCKFORD[(t & np.uint64(31)).astype(np.intp)]
        t = t >> np.uint64(5)
    out[:, 10:] = CROCKFORD[rng.integers(0, 32, size=(n, 16))]
    return out.view("S26").ravel().astype(str).tolist()


def hexes(rng: np.random.Generator, n: int, digits: int = 64) -> list[str]:
    """Random lowercase hex strings (SHA-256-like)."""
    out = HEX[rng.integers(0, 16, size=(n, digits))]
    return np.ascontiguousarray(out).view(f"S{digits}").ravel().astype(str).tolist()


def stamps(us: np.ndarray) -> list[str]:
    """RFC 3339 UTC times with microseconds (``2026-01-02T03:04:05.123456Z``)."""
    text = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    return np.char.add(text, "Z").tolist()


def strs(values: np.ndarray) -> list[str]:
    """Numbers as text for COPY."""
    return [str(v) for v in values.tolist()]


def copy_columns(
    conn: psycopg.Connection[Any],
    table: str,
    n: int,
    columns: Callable[[slice], dict[str, Sequence[str]]],
    chunk: int = 100_000,
) -> int:
    """COPY ``n`` rows whose text columns ``columns(slice)`` builds a chunk at a time
    (``\\N`` is NULL), so only one chunk's strings are in memory; the row count."""
    first = columns(slice(0, min(n, chunk)))
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(first)}) FROM STDIN") as cp:
        for lo in range(0, n, chunk):
            cols = first if lo == 0 else columns(slice(lo, min(n, lo + chunk)))
            part = zip(*cols.values(), strict=True)
            cp.write(("\n".join(map("\t".join, part)) + "\n").encode())
    return n


def sliced(columns: dict[str, Sequence[str]]) -> Callable[[slice], dict[str, Sequence[str]]]:
    """A chunk builder for columns already made in full (small tables)."""
    return lambda sl: {name: values[sl] for name, values in columns.items()}


# --- the department -------------------------------------------------------------------


@dataclass
class Department:
    """What the generated rows refer to (ids as text, parallel lists by index)."""

    user_ids: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    officers: int = 0  # users 0 .. officers-1 are officers
    squads: int = 0  # users officers .. officers+squads-1 are their sergeants
    staff: dict[str, list[int]] = field(default_factory=dict)  # role -> user indexes
    category_ids: list[str] = field(default_factory=list)
    rec_ids: list[str] = field(default_factory=list)
    rec_sha: list[str] = field(default_factory=list)
    rec_size: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rec_officer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rec_ingested_us: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rec_names: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)


def seed_people(
    conn: psycopg.Connection[Any], dept: Department, officers: int, rng: np.random.Generator
) -> None:
    """Squads in precincts, officers (10 a squad), a sergeant a squad, staff, categories."""
    squads = max(1, officers // SQUAD_SIZE)
    precincts = min(PRECINCTS, squads)
    squad_ids = ulids(np.full(squads, START_US // 1000), rng)
    copy_columns(
        conn,
        "squads",
        squads,
        sliced(
            {
                "id": squad_ids,
                "name": [
                    f"P{i % precincts + 1:02d}-{i // precincts + 1:03d}" for i in range(squads)
                ],
                "precinct": [f"Precinct {i % precincts + 1}" for i in range(squads)],
            }
        ),
    )
    staff_counts = {"records_clerk": 40, "auditor": 12, "administrator": 6, "analyst": 4}
    n_staff = sum(staff_counts.values())
    n = officers + squads + n_staff
    ids = ulids(np.full(n, START_US // 1000), rng)
    roles = ["officer"] * officers + ["supervisor"] * squads
    squad_of: list[str] = [squad_ids[min(i // SQUAD_SIZE, squads - 1)] for i in range(officers)]
    squad_of += squad_ids
    for role, count in staff_counts.items():
        dept.staff[role] = list(range(len(roles), len(roles) + count))
        roles += [role] * count
        squad_of += [""] * count
    names = [f"{FIRST[i % len(FIRST)]}.{LAST[(i // len(FIRST)) % len(LAST)]}{i}" for i in range(n)]
    badges = [str(10_000 + i) if i < officers + squads else "\\N" for i in range(n)]
    octets = rng.integers(1, 255, size=(n, 2))
    dept.ips = [f"10.{i % 250}.{a}.{b}" for i, (a, b) in enumerate(octets.tolist())]
    copy_columns(
        conn,
        "users",
        n,
        sliced(
            {
                "id": ids,
                "username": names,
                "display_name": [nm.replace(".", " ").title() for nm in names],
                "role": roles,
                "badge": badges,
                "squad_id": [s or "\\N" for s in squad_of],
                "active": ["t"] * n,
                "created_at": [START.isoformat()] * n,
            }
        ),
    )
    dept.user_ids, dept.usernames, dept.roles = ids, names, roles
    dept.officers, dept.squads = officers, squads
    dept.staff["supervisor"] = list(range(officers, officers + squads))
    dept.cameras = [f"X6{c:08d}" for c in rng.choice(10**8, size=officers, replace=False)]
    with conn.cursor() as cur:
        for name, access, retention, _ in CATEGORIES:
            cur.execute(
                "INSERT INTO categories (id, name, access_class, description, retention) "
                "VALUES (%s, %s, %s, '', %s) ON CONFLICT (name) DO UPDATE "
                "SET access_class = EXCLUDED.access_class, retention = EXCLUDED.retention",
                (ulids(np.array([START_US // 1000]), rng)[0], name, access, retention),
            )
        cur.execute("SELECT name, id FROM categories")
        by_name = dict(cur.fetchall())
    dept.category_ids = [by_name[c[0]] for c in CATEGORIES]


def seed_recordings(
    conn: psycopg.Connection[Any], dept: Department, count: int, rng: np.random.Generator
) -> None:
    """Recordings over 20 months (in ingest order, ids by it), tags and case numbers."""
    officer = rng.integers(0, dept.officers, size=count)
    start = START_US + rng.integers(0, SPAN_US - 86_400 * 10**6, size=count)
    duration = np.clip(rng.lognormal(np.log(480), 0.8, size=count), 20, 7200)  # seconds
    end = start + (duration * 1e6).astype(np.int64)
    late = rng.random(count) < 0.05
    delay_h = np.where(late, rng.uniform(12, 72, count), rng.uniform(0.3, 10, count))
    ingested = end + (delay_h * 3.6e9).astype(np.int64)
    order = np.argsort(ingested, kind="stable")
    officer, start, duration = officer[order], start[order], duration[order]
    end, ingested = end[order], ingested[order]
    ids = ulids(ingested // 1000, rng)
    shares = np.array([c[3] for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=count, p=shares / shares.sum())
    size = (duration * 412_500).astype(np.int64)  # about 3.3 Mbit/s
    start_text = np.datetime_as_string(start.astype("datetime64[s]"), unit="s").tolist()
    names = [
        f"{dept.cameras[o]}_{t[:4]}{t[5:7]}{t[8:10]}_{t[11:13]}{t[14:16]}{t[17:19]}.mp4"
        for o, t in zip(officer.tolist(), start_text, strict=True)
    ]
    del start_text
    periods = {None: 0, "1 year": 365, "3 years": 1095, "7 years": 2555, "until deleted": 0}
    days = np.array([periods[c[2]] for c in CATEGORIES], dtype=np.int64)[category]
    archived = start < START_US + 180 * 86_400 * 10**6
    purged = rng.random(count) < 0.005
    sha = hexes(rng, count)

    def columns(sl: slice) -> dict[str, Sequence[str]]:
        n = sl.stop - sl.start
        officers = [dept.user_ids[o] for o in officer[sl].tolist()]
        due = stamps(start[sl] + days[sl] * 86_400 * 10**6)
        done = stamps(ingested[sl] + 86_400 * 10**6 * 1000)
        return {
            "id": ids[sl],
            "sha256": sha[sl],
            "size_bytes": strs(size[sl]),
            "original_filename": names[sl],
            "officer_id": officers,
            "camera_serial": [dept.cameras[o] for o in officer[sl].tolist()],
            "category_id": [dept.category_ids[c] for c in category[sl].tolist()],
            "title": [nm[:-4] for nm in names[sl]],
            "notes": [""] * n,
            "recorded_start": stamps(start[sl]),
            "recorded_end": stamps(end[sl]),
            "ingested_at": stamps(ingested[sl]),
            "ingested_by": officers,
            "container": ["mp4"] * n,
            "video_codec": ["h264"] * n,
            "audio_codec": ["aac"] * n,
            "duration_s": [f"{d:.3f}" for d in duration[sl].tolist()],
            "width": ["1280"] * n,
            "height": ["720"] * n,
            "fps": ["30.0"] * n,
            "has_audio": ["t"] * n,
            "frame_count": strs((duration[sl] * 30).astype(np.int64)),
            "creation_time": stamps(start[sl]),
            "retain_until": [
                t if d else "\\N" for d, t in zip(days[sl].tolist(), due, strict=True)
            ],
            "retention_basis": [""] * n,
            "tier": np.where(archived[sl], "archive", "hot").tolist(),
            "purged_at": [
                t if p else "\\N" for p, t in zip(purged[sl].tolist(), done, strict=True)
            ],
        }

    copy_columns(conn, "recordings", count, columns)
    dept.rec_ids, dept.rec_sha, dept.rec_size = ids, sha, size
    dept.rec_officer, dept.rec_ingested_us, dept.rec_names = officer, ingested, names
    # Tags: a quarter of recordings get one, some of those a second; case numbers: a fifth.
    tagged = np.flatnonzero(rng.random(count) < 0.25)
    first_tag = rng.integers(0, len(TAGS), size=len(tagged))
    again = rng.random(len(tagged)) < 0.3
    second_tag = (first_tag[again] + rng.integers(1, len(TAGS), size=int(again.sum()))) % len(TAGS)
    tag_rec = np.concatenate([tagged, tagged[again]])
    tag_idx = np.concatenate([first_tag, second_tag])
    tag_ids = ulids(ingested[tag_rec] // 1000, rng)
    copy_columns(
        conn,
        "recording_tags",
        len(tag_rec),
        lambda sl: {
            "id": tag_ids[sl],
            "recording_id": [ids[i] for i in tag_rec[sl].tolist()],
            "tag": [TAGS[t] for t in tag_idx[sl].tolist()],
        },
    )
    cased = np.flatnonzero(rng.random(count) < 0.2)
    year = np.datetime_as_string(start[cased].astype("datetime64[Y]")).tolist()
    numbers = rng.integers(0, 1_000_000, size=len(cased)).tolist()
    case_numbers = [f"{y}-{n:06d}" for y, n in zip(year, numbers, strict=True)]
    case_ids = ulids(ingested[cased] // 1000, rng)
    copy_columns(
        conn,
        "recording_cases",
        len(cased),
        lambda sl: {
            "id": case_ids[sl],
            "recording_id": [ids[i] for i in cased[sl].tolist()],
            "case_number": case_numbers[sl],
        },
    )


def seed_dispatch(
    conn: psycopg.Connection[Any], dept: Department, officer_events: int, rng: np.random.Generator
) -> None:
    """Dispatch events, their officers (1 to 3 from the event's precinct) and verdicts."""
    events = max(1, int(officer_events / 1.5))
    squads = dept.squads
    precincts = min(PRECINCTS, squads)
    officer_precinct = (np.arange(dept.officers) // SQUAD_SIZE).clip(max=squads - 1) % precincts
    by_precinct = np.argsort(officer_precinct, kind="stable")
    first = np.searchsorted(officer_precinct[by_precinct], np.arange(precincts))
    sizes = np.bincount(officer_precinct, minlength=precincts)
    created = np.sort(START_US + rng.integers(0, SPAN_US, size=events))
    precinct = rng.integers(0, precincts, size=events)
    self_init = rng.random(events) < 0.2
    dispatched = created + np.where(self_init, 0, rng.integers(10, 300, size=events)) * 10**6
    arrived = dispatched + np.where(self_init, 0, rng.integers(120, 900, size=events)) * 10**6
    cleared = arrived + rng.integers(600, 3600, size=events) * 10**6
    year = created.astype("datetime64[us]").astype("datetime64[Y]").astype(np.int64) + 1970
    event_ids = [f"{y}-{i:09d}" for i, y in enumerate(year.tolist())]
    call = rng.integers(0, len(CALL_TYPES), size=events)
    priority = rng.integers(1, 5, size=events)
    sector = rng.integers(1, 6, size=events)
    beat = rng.integers(100, 999, size=events)
    address = rng.integers(1, 9999, size=events)
    batch = ulids(np.array([START_US // 1000]), rng)[0]
    admin = dept.user_ids[dept.staff["administrator"][0]]
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO cad_imports (id, file_name, sha256, mapping, rows, report, imported_by, "
            "imported_at) VALUES (%s, 'cad-export.csv', %s, 'generic', %s, '{}', %s, %s)",
            (batch, hexes(rng, 1)[0], events, admin, START),
        )

    def event_columns(sl: slice) -> dict[str, Sequence[str]]:
        n = sl.stop - sl.start
        calls = [CALL_TYPES[c] for c in call[sl].tolist()]
        places = precinct[sl].tolist()
        return {
            "id": ulids(created[sl] // 1000, rng),
            "event_id": event_ids[sl],
            "call_type": calls,
            "initial_call_type": calls,
            "priority": strs(priority[sl]),
            "self_initiated": np.where(self_init[sl], "t", "f").tolist(),
            "precinct": [f"Precinct {p + 1}" for p in places],
            "sector": [f"S{p + 1}-{x}" for p, x in zip(places, sector[sl].tolist(), strict=True)],
            "beat": strs(beat[sl]),
            "location": [f"{a} Main St" for a in address[sl].tolist()],
            "created_at": stamps(created[sl]),
            "dispatched_at": stamps(dispatched[sl]),
            "arrived_at": stamps(arrived[sl]),
            "cleared_at": stamps(cleared[sl]),
            "disposition": ["REPORT TAKEN"] * n,
            "batch_id": [batch] * n,
        }

    copy_columns(conn, "dispatch_events", events, event_columns)
    # Officers per event: 1 (60%), 2 (30%), 3 (10%), the same officer at most once.
    per = rng.choice([1, 2, 3], size=events, p=[0.6, 0.3, 0.1])
    ev = np.repeat(np.arange(events), per)
    nth = np.arange(len(ev)) - np.repeat(np.cumsum(per) - per, per)
    p = precinct[ev]
    pick = np.repeat(rng.integers(0, 1 << 30, size=events), per)
    officer = by_precinct[first[p] + (pick + nth) % np.maximum(sizes[p], 1)]
    n = len(ev)
    ids = ulids(created[ev] // 1000, rng)

    def assignment_columns(sl: slice) -> dict[str, Sequence[str]]:
        e = ev[sl]
        return {
            "id": ids[sl],
            "event_id": [event_ids[i] for i in e.tolist()],
            "badge": [str(10_000 + o) for o in officer[sl].tolist()],
            "officer_id": [dept.user_ids[o] for o in officer[sl].tolist()],
            "dispatched_at": stamps(dispatched[e]),
            "arrived_at": stamps(arrived[e]),
            "cleared_at": stamps(cleared[e]),
        }

    copy_columns(conn, "dispatch_assignments", n, assignment_columns)
    # One verdict per officer-event; an activated one names that officer's recording
    # nearest in time (recordings sorted by officer, then ingest time).
    status = rng.choice(len(STATUSES), size=n, p=STATUS_P)
    key = dept.rec_officer * (1 << 40) + (dept.rec_ingested_us - START_US) // 10**6
    rec_order = np.argsort(key, kind="stable")
    want = officer * (1 << 40) + (cleared[ev] - START_US) // 10**6
    pos = np.clip(np.searchsorted(key[rec_order], want), 0, len(rec_order) - 1)
    nearest = rec_order[pos]
    del key, rec_order, want, pos
    has = (status <= 3) & (dept.rec_officer[nearest] == officer)
    coverage = np.where(status == 0, 1.0, np.where(status <= 3, rng.uniform(0.4, 0.95, n), 0.0))
    late = np.where(status == 1, rng.integers(60, 600, n), 0)
    early = np.where(status == 2, rng.integers(60, 900, n), 0)
    gaps = np.where(status == 3, rng.integers(60, 300, n), 0)
    computed = stamps(np.array([START_US + SPAN_US]))[0]

    def result_columns(sl: slice) -> dict[str, Sequence[str]]:
        m = sl.stop - sl.start
        return {
            "id": ulids(cleared[ev[sl]] // 1000, rng),
            "assignment_id": ids[sl],
            "event_id": [event_ids[i] for i in ev[sl].tolist()],
            "officer_id": [dept.user_ids[o] for o in officer[sl].tolist()],
            "status": [STATUSES[x] for x in status[sl].tolist()],
            "coverage": [f"{c:.4f}" for c in coverage[sl].tolist()],
            "late_s": strs(late[sl]),
            "early_s": strs(early[sl]),
            "gaps_s": strs(gaps[sl]),
            "policy": ["department"] * m,
            "reason": [""] * m,
            "recordings": [
                f'["{dept.rec_ids[r]}"]' if h else "[]"
                for r, h in zip(nearest[sl].tolist(), has[sl].tolist(), strict=True)
            ],
            "computed_at": [computed] * m,
        }

    copy_columns(conn, "compliance_results", n, result_columns)


# --- the audit log --------------------------------------------------------------------

BODY = (
    '{"action":"%s","actor":"%s","actor_id":"%s","at":"%s","details":%s,"id":"%s","ip":"%s",'
    '"object_id":"%s","object_type":"%s","role":"%s","seq":%d,"via":"%s"}'
)


def same_as_writer(data: bytes, seq: int) -> bool:
    """Whether ``data`` is what bodycam's writer and sealer make of the same fields."""
    from bodycam.audit.models import AuditRecord

    f = json.loads(data)
    rec = AuditRecord.new(
        actor_id=f["actor_id"], actor=f["actor"], role=f["role"], via=f["via"], ip=f["ip"],
        action=f["action"], object_type=f["object_type"], object_id=f["object_id"],
        details=f["details"], at=datetime.fromisoformat(f["at"]), id_=f["id"],
    )  # fmt: skip
    fields = rec.as_hashed_dict() | {"seq": seq}
    return canonical_bytes(fields) == data


@dataclass
class LogState:
    """Where the seeded log ends: its size and frontier, as a verifier last saw them."""

    size: int
    frontier: list[bytes]
    checkpoints: int


def seed_audit(
    conn: psycopg.Connection[Any],
    dept: Department,
    total: int,
    rng: np.random.Generator,
    signer: Any,
    seal_seconds: float,
) -> LogState:
    """``total`` sealed records in time order, leaf-hashed, with signed checkpoints.

    One ingest record per recording (at its ingest time, by its officer through the
    dock's API); views, streams, downloads, edits and refusals of recordings (most
    recordings never opened, a few many times); searches, logins and trail views.
    """
    n_rec = len(dept.rec_ids)
    n_other = max(0, total - n_rec)
    n_search, n_login, n_trail = int(n_other * 0.18), int(n_other * 0.10), int(n_other * 0.01)
    n_view = n_other - n_search - n_login - n_trail
    # kind: 0 ingest, 1.. view actions, then search, login, trail
    k_search, k_login, k_trail = len(VIEW_ACTIONS) + 1, len(VIEW_ACTIONS) + 2, len(VIEW_ACTIONS) + 3
    shares = np.array([v[1] for v in VIEW_ACTIONS])
    # Which recording each view touches: a Zipf-like popularity over a random order.
    popular = rng.permutation(n_rec)
    touched = popular[
        np.minimum((rng.pareto(1.2, size=n_view) * n_rec / 20).astype(np.int64), n_rec - 1)
    ]
    after = (rng.exponential(3 * 86_400, size=n_view) * 1e6).astype(np.int64)
    view_at = np.minimum(dept.rec_ingested_us[touched] + 60 * 10**6 + after, START_US + SPAN_US)
    other_at = START_US + rng.integers(0, SPAN_US, size=n_search + n_login + n_trail)
    at = np.concatenate([dept.rec_ingested_us, view_at, other_at])
    kind = np.concatenate([
        np.zeros(n_rec, np.int8),
        (1 + rng.choice(len(VIEW_ACTIONS), size=n_view, p=shares / shares.sum())).astype(np.int8),
        np.repeat(np.array([k_search, k_login, k_trail], np.int8), [n_search, n_login, n_trail]),
    ])  # fmt: skip
    obj = np.concatenate([np.arange(n_rec), touched, rng.integers(0, n_rec, size=len(other_at))])
    n_users = len(dept.user_ids)
    # Who acts: ingest by the recording's officer; views mostly by the officer or a
    # sergeant, sometimes clerks and auditors; searches and logins by anyone.
    sergeant = (dept.rec_officer[touched[n_view // 2 :]] // SQUAD_SIZE).clip(max=dept.squads - 1)
    viewers = np.concatenate([dept.rec_officer[touched[: n_view // 2]], dept.officers + sergeant])
    staff = np.array(dept.staff["records_clerk"] + dept.staff["auditor"])
    swap = rng.random(n_view) < 0.15
    viewers = np.where(swap, staff[rng.integers(0, len(staff), size=n_view)], viewers)
    auditors = np.array(dept.staff["auditor"])
    actor = np.concatenate([
        dept.rec_officer,
        viewers,
        rng.integers(0, n_users, size=n_search + n_login),
        auditors[rng.integers(0, len(auditors), size=n_trail)],
    ])  # fmt: skip
    order = np.argsort(at, kind="stable")
    at, kind, obj, actor = at[order], kind[order], obj[order], actor[order]
    del order, touched, view_at, other_at
    extra = rng.integers(0, 1 << 31, size=total)

    vias = ["web", "api", "cli"]
    tree = TreeBuilder()
    cp_rows: list[str] = []
    window = (at // int(seal_seconds * 1e6)).astype(np.int64)
    last_in_window = np.append(window[1:] != window[:-1], True)
    base = hashlib.sha256(b"\x00")
    chunk = 200_000
    checked = 0
    t0 = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy("COPY audit_records (pk, seq, body, leaf_hash) FROM STDIN") as cp,
    ):
        for lo in range(0, total, chunk):
            hi = min(total, lo + chunk)
            at_text = stamps(at[lo:hi])
            ids = ulids(at[lo:hi] // 1000, rng)
            lines = []
            for i in range(lo, hi):
                k = kind[i]
                o = int(obj[i])
                u = int(actor[i])
                x = int(extra[i])
                otype, oid = "recording", dept.rec_ids[o]
                role = dept.roles[u]
                via = vias[0] if role != "officer" else vias[x % 2]
                if k == 0:
                    via = "api"
                    details = (
                        '{"blob_was_new":true,"camera":"%s","filename":"%s","officer_id":"%s",'
                        '"sha256":"%s","size":%d}'
                        % (dept.rec_names[o][:10], dept.rec_names[o], dept.user_ids[u],
                           dept.rec_sha[o], int(dept.rec_size[o]))
                    )  # fmt: skip
                    action = "evidence:recording:ingest"
                elif k <= len(VIEW_ACTIONS):
                    action = VIEW_ACTIONS[k - 1][0]
                    size = int(dept.rec_size[o])
                    if action == "evidence:recording:edit":
                        details = '{"field":"tags","new":["%s"],"old":[]}' % TAGS[x % len(TAGS)]
                    elif action == "access:request:denied":
                        otype = "request"
                        details = '{"attempted":"download recording %s"}' % oid
                    elif action != "evidence:recording:view" and x % 10 < 7:
                        first = x % size
                        details = '{"range_end":%d,"range_start":%d,"sha256":"%s"}' % (
                            min(size, first + (1 << 21)),
                            first,
                            dept.rec_sha[o],
                        )
                    else:
                        details = '{"sha256":"%s"}' % dept.rec_sha[o]
                elif k == k_search:
                    action, oid = "evidence:recording:search", "*"
                    details = '{"officer":"%d","page":1,"per_page":50,"results":%d}' % (
                        10_000 + x % max(dept.officers, 1),
                        x % 400,
                    )
                elif k == k_login:
                    action, otype, oid = "auth:login:success", "user", dept.user_ids[u]
                    details = "{}"
                else:
                    action = "audit:trail:view"
                    details = '{"entries":%d,"format":"view"}' % (2 + x % 9)
                body = BODY % (action, dept.usernames[u], dept.user_ids[u], at_text[i - lo],
                               details,
                               ids[i - lo], dept.ips[u], oid, otype, role, i, via)  # fmt: skip
                data = body.encode()
                h = base.copy()
                h.update(data)
                leaf = h.digest()
                tree.append(leaf)
                if i % 9973 == 0:  # the generator writes exactly what bodycam would
                    assert same_as_writer(data, i), body
                    assert leaf == leaf_hash(data)
                    checked += 1
                lines.append(f"{i + 1}\t{i}\t{body}\t\\\\x{leaf.hex()}\n")
                if last_in_window[i]:
                    moment = datetime.fromtimestamp((int(window[i]) + 1) * seal_seconds, UTC)
                    cpt = Checkpoint(signer.origin, tree.size, tree.root(), moment)
                    note = sign_checkpoint(cpt, signer.private_key, signer.key_name)
                    cp_rows.append(
                        f"{tree.size}\t\\\\x{cpt.root.hex()}\t{moment.isoformat()}\t"
                        + note.replace("\\", "\\\\").replace("\n", "\\n")
                        + "\n"
                    )
            cp.write("".join(lines).encode())
            if hi % 1_000_000 < chunk:
                rate = hi / (time.perf_counter() - t0)
                progress(f"  audit records: {hi:,} of {total:,} ({rate:,.0f}/s)")
    with (
        conn.cursor() as cur,
        cur.copy("COPY audit_checkpoints (tree_size, root_hash, at, signed_note) FROM STDIN") as cp,
    ):
        for lo in range(0, len(cp_rows), 100_000):
            cp.write("".join(cp_rows[lo : lo + 100_000]).encode())
    size, frontier = tree.state()
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO audit_tree_state (id, tree_size, frontier, updated_at) "
            "VALUES (1, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET tree_size = EXCLUDED.tree_size,"
            " frontier = EXCLUDED.frontier, updated_at = EXCLUDED.updated_at",
            (size, json.dumps([f.hex() for f in frontier]), datetime.now(UTC)),
        )
        cur.execute("SELECT setval('audit_records_pk_seq', %s)", (total,))
        # The tree head a full verification of the seeded log would store (every body
        # was hashed here): the next incremental verification resumes from it.
        cur.execute(
            "INSERT INTO audit_verified_states "
            "(tree_size, root_hash, frontier, verified_at, records_checked) "
            "VALUES (%s, %s, %s, %s, %s)",
            (size, tree.root(), json.dumps([f.hex() for f in frontier]), datetime.now(UTC),
             size),
        )  # fmt: skip
    progress(f"  {checked} sampled bodies matched canonical_bytes; {len(cp_rows):,} checkpoints")
    return LogState(size, frontier, len(cp_rows))


# --- loading ------------------------------------------------------------------------

SEEDED = ["recordings", "recording_tags", "recording_cases", "dispatch_events",
          "dispatch_assignments", "compliance_results", "audit_records",
          "audit_checkpoints"]  # fmt: skip


def drop_secondary(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the seeded tables' foreign keys, unique constraints and indexes (not primary
    keys); return the statements that put each back, in a workable order."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c WHERE c.contype IN ('f', 'u')"
            " AND (c.conrelid::regclass::text = ANY(%s) OR c.confrelid::regclass::text = ANY(%s))",
            (SEEDED, SEEDED),
        )
        cons = cur.fetchall()
        cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            (SEEDED,),
        )
        idx = cur.fetchall()
        for table, name, _kind, _ in sorted(cons, key=lambda c: c[2] != "f"):
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in idx:
            cur.execute(f"DROP INDEX {name}")
    restore = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, k, d in cons if k == "u"]
    restore += [d for _, d in idx]
    restore += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, k, d in cons if k == "f"]
    return restore


def database_url(server: str, name: str) -> str:
    """SQLAlchemy URL of database ``name`` on ``server``."""
    return f"{server.rstrip('/')}/{name}"


def libpq(url: str) -> str:
    """The libpq form of a ``postgresql+psycopg://`` URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def seed(
    url: str, home: Path, scale: float, seed_value: int, seal_seconds: float
) -> dict[str, Any]:
    """Create the schema through bodycam's migrations and load the department."""
    from bodycam.config import Settings
    from bodycam.context import Context
    from bodycam.system_cli import initialise

    clock = Clock()
    settings = Settings(home=home, database_url=url, storage_url=f"file://{home / 'blobs'}")
    clock.step(
        "schema (bodycam initialise: migrations, key, built-in rows)", lambda: initialise(settings)
    )
    ctx = Context.from_settings(settings)
    signer = ctx.signer
    ctx.close()
    rng = np.random.default_rng(seed_value)
    officers = max(SQUAD_SIZE * 2, round(FULL["officers"] * scale))
    n_rec = max(100, round(FULL["recordings"] * scale))
    n_audit = max(n_rec + 100, round(FULL["audit"] * scale))
    n_events = max(100, round(FULL["events"] * scale))
    dept = Department()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        restore = clock.step("drop secondary indexes and constraints", lambda: drop_secondary(conn))
        clock.step(
            "officers, squads, staff, categories", lambda: seed_people(conn, dept, officers, rng)
        )
        clock.step(
            f"{n_rec:,} recordings, tags, case numbers",
            lambda: seed_recordings(conn, dept, n_rec, rng),
        )
        clock.step(
            f"{n_events:,} officer-events, events, verdicts",
            lambda: seed_dispatch(conn, dept, n_events, rng),
        )
        state = clock.step(
            f"{n_audit:,} audit records (bodies, hashes, tree, checkpoints)",
            lambda: seed_audit(conn, dept, n_audit, rng, signer, seal_seconds),
        )
        conn.execute("SET session_replication_role = origin")

        def rebuild() -> None:
            for statement in restore:
                conn.execute(statement)

        clock.step(f"rebuild {len(restore)} indexes and constraints", rebuild)
        clock.step("VACUUM ANALYZE", lambda: conn.execute("VACUUM ANALYZE"))
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return {
        "steps": clock.steps,
        "officers": officers,
        "recordings": n_rec,
        "audit": n_audit,
        "events": n_events,
        "checkpoints": state.checkpoints,
        "log": state,
        "bytes": int(size[0]) if size else 0,
    }


# --- measuring ------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values: Sequence[float]) -> str:
    """``p50 X ms, p95 Y ms, max Z ms (n calls)``."""
    return (
        f"p50 {pct(values, 50):.1f} ms, p95 {pct(values, 95):.1f} ms, "
        f"max {1000 * max(values):.1f} ms ({len(values)} calls)"
    )


BUDGET_S = 90.0
"""Seconds one measurement may take: after that (and at least 5 calls) it stops early."""


def timed_calls(fn: Callable[[int], Any], n: int) -> list[float]:
    """Seconds of each of ``n`` calls ``fn(i)`` (fewer when they exceed ``BUDGET_S``)."""
    out: list[float] = []
    began = time.perf_counter()
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
        if len(out) >= 5 and time.perf_counter() - began > BUDGET_S:
            break
    return out


def actors(ctx: Any) -> dict[str, Any]:
    """One administrator, records clerk, auditor, analyst, supervisor and officer."""
    from sqlalchemy import select

    from bodycam.auth.models import User
    from bodycam.auth.service import actor_for

    out = {}
    with ctx.sessions() as s:
        for role in (
            "administrator",
            "records_clerk",
            "auditor",
            "analyst",
            "supervisor",
            "officer",
        ):
            user = s.scalars(
                select(User).where(User.role == role).order_by(User.username).limit(1)
            ).one()
            out[role] = actor_for(user, "web", "10.0.0.1")
    return out


def measure_search(
    ctx: Any, people: dict[str, Any], n: int, rng: random.Random
) -> dict[str, list[float]]:
    """Random searches and plain lists through ``bodycam.evidence.service.search``."""
    from sqlalchemy import func, select

    from bodycam.auth.models import User
    from bodycam.auth.service import actor_for
    from bodycam.evidence.models import Category, Recording, RecordingCase, RecordingTag
    from bodycam.evidence.service import SearchQuery, Vault, search

    vault = Vault.from_context(ctx)
    with ctx.sessions() as s:
        sample = s.execute(
            select(Recording.recorded_start, User.badge, Recording.camera_serial,
                   Recording.original_filename)
            .join(User, User.id == Recording.officer_id)
            .order_by(func.random()).limit(400)
        ).all()  # fmt: skip
        cats = list(s.scalars(select(Category.name)))
        cases = list(
            s.scalars(select(RecordingCase.case_number).order_by(func.random()).limit(200))
        )
        tags = sorted(set(s.scalars(select(RecordingTag.tag).limit(5000))))
        sergeants = [
            actor_for(u, "web")
            for u in s.scalars(
                select(User).where(User.role == "supervisor").order_by(func.random()).limit(50)
            )
        ]
        officers = [
            actor_for(u, "web")
            for u in s.scalars(
                select(User).where(User.role == "officer").order_by(func.random()).limit(50)
            )
        ]

    def query(i: int) -> tuple[Any, SearchQuery]:
        start, badge, camera, name = sample[rng.randrange(len(sample))]
        month = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        kind = i % 8
        if kind == 0:
            return people["records_clerk"], SearchQuery(
                officer=badge, start_from=month, start_to=month + timedelta(days=31)
            )
        if kind == 1:
            return people["auditor"], SearchQuery(
                category=rng.choice(cats), start_from=start - timedelta(days=7), start_to=start
            )
        if kind == 2:
            return people["records_clerk"], SearchQuery(
                tag=rng.choice(tags), start_from=month, start_to=month + timedelta(days=31)
            )
        if kind == 3:
            return people["records_clerk"], SearchQuery(text=rng.choice(cases))
        if kind == 4:
            return people["auditor"], SearchQuery(camera=camera)
        if kind == 5:
            return rng.choice(sergeants), SearchQuery(
                start_from=month, start_to=month + timedelta(days=31)
            )
        if kind == 6:
            return rng.choice(officers), SearchQuery(
                start_from=start - timedelta(days=30), start_to=start
            )
        return people["records_clerk"], SearchQuery(
            text=name[:10], start_from=month, start_to=month + timedelta(days=31)
        )

    kinds = ["officer+month", "category+week", "tag+month", "case number", "camera",
             "sergeant: squad month", "officer: own month", "file name+month"]  # fmt: skip
    per_kind: dict[str, list[float]] = {k: [] for k in kinds}
    searches: list[float] = []

    def one_search(i: int) -> None:
        who, q = query(i)
        t = time.perf_counter()
        search(vault, who, q)
        per_kind[kinds[i % 8]].append(time.perf_counter() - t)

    searches = timed_calls(one_search, n)
    list_who = [people["auditor"], people["records_clerk"]]
    lists = timed_calls(lambda i: search(vault, list_who[i % 2], SearchQuery(page=1 + i % 5)), n)
    own = timed_calls(lambda i: search(vault, rng.choice(officers), SearchQuery()), n)
    return {"search": searches, "list": lists, "list (officer: own)": own, **per_kind}


def measure_trail(ctx: Any, people: dict[str, Any], n: int) -> list[float]:
    """``recording_trail`` of random recordings, as an auditor."""
    from sqlalchemy import func, select

    from bodycam.audit.trail import recording_trail
    from bodycam.evidence.models import Recording

    with ctx.sessions() as s:
        ids = list(s.scalars(select(Recording.id).order_by(func.random()).limit(n)))
    return timed_calls(lambda i: recording_trail(ctx.sessions, people["auditor"], ids[i]), len(ids))


def measure_report(
    ctx: Any, people: dict[str, Any], runs: int, rng: random.Random
) -> tuple[list[float], int]:
    """``compliance_report`` by precinct for random months, as an analyst; its lines."""
    from bodycam.compliance.report import compliance_report

    lines = 0

    def one(i: int) -> None:
        nonlocal lines
        month = rng.randrange(1, 19)
        start = datetime(2025 + (2 + month) // 12, (2 + month) % 12 + 1, 1, tzinfo=UTC)
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
        rates = compliance_report(
            ctx.sessions, people["analyst"], by="precinct", start=start, end=end
        )
        lines = len(rates)
        assert rates and sum(r.required for r in rates) > 0

    return timed_calls(one, runs), lines


def measure_incremental(
    ctx: Any, people: dict[str, Any], state: LogState, new: int, rounds: int
) -> tuple[list[float], list[float], list[float]]:
    """Write ``new`` records (one transaction each), seal them, verify the new part with
    bodycam's incremental verification (``bodycam verify --incremental``)."""
    from sqlalchemy import func, select

    from bodycam.audit.actions import AuditAction
    from bodycam.audit.service import record, seal
    from bodycam.db import transaction
    from bodycam.evidence.models import Recording
    from bodycam.verify import verify_audit_since

    def verify_new(size: int) -> int:
        report = verify_audit_since(ctx, people["auditor"])
        assert report.ok, report.problems
        assert report.log is not None and report.log.since == size, (report.log, size)
        return report.log.tree_size

    with ctx.sessions() as s:
        ids = list(s.scalars(select(Recording.id).order_by(func.random()).limit(200)))
    writes, seals, verifies = [], [], []
    # Whatever the measurements before wrote (searches, trail views) is sealed and
    # verified first, so each round below sees exactly its own records.
    seal(ctx.sessions, ctx.signer)
    size = verify_new(state.size)
    for _ in range(rounds):
        t = time.perf_counter()
        for i in range(new):
            with transaction(ctx.sessions) as s:
                record(
                    s,
                    people["records_clerk"],
                    AuditAction.RECORDING_VIEW,
                    "recording",
                    ids[i % len(ids)],
                    {"sha256": "0" * 64},
                )
        writes.append(time.perf_counter() - t)
        t = time.perf_counter()
        cp = seal(ctx.sessions, ctx.signer)
        seals.append(time.perf_counter() - t)
        # The sealed records: these and the previous verification's own audit record.
        assert cp is not None and cp.tree_size == size + new + 1, (cp, size)
        t = time.perf_counter()
        verified = verify_new(size)
        verifies.append(time.perf_counter() - t)
        assert verified == cp.tree_size
        size = verified
    return writes, seals, verifies


# --- ingest with one and two workers -----------------------------------------------------


def make_clips(folder: Path, count: int, seconds: float) -> list[Path]:
    """``count`` distinct small MP4 clips (H.264 + AAC, 640x360): three drawn clips,
    each copy remuxed with its own creation time."""
    from ingest import loop_clip

    from bodycam.synth.video import make_clip

    folder.mkdir(parents=True, exist_ok=True)
    bases = [
        make_clip(folder / f"base-{i}.mp4", seconds=seconds, width=640, height=360, fps=30,
                  seed=i + 3, creation_time=START, label=f"cam {i}")
        for i in range(3)
    ]  # fmt: skip
    files = []
    for i in range(count):
        dest = folder / f"CLIP_{i:04d}.mp4"
        loop_clip(bases[i % 3], dest, 1, START + timedelta(seconds=97 * i))
        files.append(dest)
    for b in bases:
        b.unlink()
    return files


def _ingest_worker(
    settings: dict[str, Any], jobs: list[tuple[str, str]], barrier: Any, out: Any
) -> None:
    """A worker process: open the deployment, wait for the start, ingest its files."""
    from sqlalchemy import select

    from bodycam.auth.models import User
    from bodycam.auth.service import actor_for
    from bodycam.config import Settings
    from bodycam.context import Context
    from bodycam.evidence.service import Vault, ingest_file

    ctx = Context.from_settings(Settings(**settings))
    vault = Vault.from_context(ctx)
    with ctx.sessions() as s:
        users = {
            u.badge: actor_for(u, "api")
            for u in s.scalars(select(User).where(User.badge.in_({b for _, b in jobs})))
        }
    barrier.wait()
    start = time.monotonic()
    size = 0
    for path, badge in jobs:
        result = ingest_file(vault, users[badge], Path(path), officer_badge=badge)
        assert not result.duplicate
        size += result.size_bytes
    out.put((start, time.monotonic(), len(jobs), size))
    ctx.close()


def ingest_round(
    settings: dict[str, Any], files: list[Path], badges: list[str], workers: int
) -> float:
    """Files per second ingesting ``files`` with ``workers`` processes (start-up not timed)."""
    spawn = mp.get_context("spawn")
    barrier = spawn.Barrier(workers + 1)
    out = spawn.Queue()
    jobs = [(str(f), badges[i % len(badges)]) for i, f in enumerate(files)]
    procs = [
        spawn.Process(target=_ingest_worker, args=(settings, jobs[w::workers], barrier, out))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
        assert p.exitcode == 0, f"an ingest worker failed ({p.exitcode})"
    begin = min(r[0] for r in results)
    end = max(r[1] for r in results)
    return sum(r[2] for r in results) / (end - begin)


def measure_ingest(
    settings: dict[str, Any], folder: Path, clips: int, rounds: int, seconds: float
) -> tuple[list[float], list[float], int]:
    """Alternating rounds of one and two workers, each on its own distinct clips."""
    from sqlalchemy import select

    from bodycam.auth.models import User
    from bodycam.config import Settings
    from bodycam.context import Context

    ctx = Context.from_settings(Settings(**settings))
    with ctx.sessions() as s:
        badges = list(s.scalars(select(User.badge).where(User.role == "officer").limit(20)))
    ctx.close()
    files = make_clips(folder, clips * rounds * 2, seconds)
    size = files[0].stat().st_size
    one, two = [], []
    for r in range(rounds):
        batch = files[r * 2 * clips : (r * 2 + 2) * clips]
        one.append(ingest_round(settings, batch[:clips], badges, 1))
        two.append(ingest_round(settings, batch[clips:], badges, 2))
        progress(
            f"  ingest round {r + 1}: 1 worker {one[-1]:.1f} files/s, "
            f"2 workers {two[-1]:.1f} files/s"
        )
    return one, two, size


# --- main ---------------------------------------------------------------------------


def loadavg() -> str:
    """The 1-minute load average now."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    global BUDGET_S
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="Fraction of the full department (default 1.0)."
    )
    parser.add_argument(
        "--server", default=SERVER, help=f"PostgreSQL server URL, no database (default {SERVER})."
    )
    parser.add_argument(
        "--queries", type=int, default=200, help="Random calls per measurement (default 200)."
    )
    parser.add_argument(
        "--report-runs", type=int, default=5, help="Compliance reports timed (default 5)."
    )
    parser.add_argument(
        "--new-records",
        type=int,
        default=1000,
        help="Audit records per incremental verify (default 1000).",
    )
    parser.add_argument(
        "--verify-rounds", type=int, default=3, help="Incremental verifications timed (default 3)."
    )
    parser.add_argument(
        "--seal-seconds",
        type=float,
        default=5.0,
        help="A checkpoint per this many seconds of log time with records "
        "(default 5, a worker's round).",
    )
    parser.add_argument(
        "--clips", type=int, default=24, help="Clips per ingest round (default 24)."
    )
    parser.add_argument(
        "--clip-seconds", type=float, default=4.0, help="Length of each clip (default 4 s)."
    )
    parser.add_argument(
        "--ingest-rounds", type=int, default=2, help="Rounds of one then two workers (default 2)."
    )
    parser.add_argument(
        "--budget", type=float, default=BUDGET_S,
        help=f"Seconds one measurement may take before it stops early (default {BUDGET_S:g}).",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=11)
    add_common_args(parser)
    args = parser.parse_args()
    BUDGET_S = args.budget
    if not 0 < args.scale <= 1.5:
        parser.error("--scale must be above 0 and at most 1.5.")
    name = f"bodycam_scale_{os.getpid()}"
    url = database_url(args.server, name)
    log(f"machine: {machine()}")
    with psycopg.connect(libpq(database_url(args.server, "postgres")), autocommit=True) as admin:
        version = admin.execute("SHOW server_version").fetchone()
        admin.execute(f'CREATE DATABASE "{name}"')
    log(f"PostgreSQL {version[0] if version else '?'}, database {name}, load average {loadavg()}")
    try:
        with scratch(args.workdir, args.keep, "bodycam-scale-") as work:
            run(args, url, work)
    finally:
        if args.keep:
            log(f"database {name} kept")
        else:
            with psycopg.connect(
                libpq(database_url(args.server, "postgres")), autocommit=True
            ) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: argparse.Namespace, url: str, work: Path) -> None:
    """Seed, then measure; print the figures."""
    from bodycam.config import Settings
    from bodycam.context import Context

    home = work / "home"
    t = time.perf_counter()
    seeded = seed(url, home, args.scale, args.seed, args.seal_seconds)
    seed_s = time.perf_counter() - t
    log(
        f"seeded scale {args.scale:g}: {seeded['officers']:,} officers, "
        f"{seeded['recordings']:,} recordings, "
        f"{seeded['audit']:,} audit records ({seeded['checkpoints']:,} checkpoints), "
        f"{seeded['events']:,} officer-events in {seed_s:.0f} s; "
        f"database {seeded['bytes'] / 2**30:.1f} GiB"
    )
    for step, seconds in seeded["steps"].items():
        log(f"  {seconds:7.1f} s  {step}")
    settings = {"home": home, "database_url": url, "storage_url": f"file://{home / 'blobs'}"}
    ctx = Context.from_settings(Settings(**settings))
    rng = random.Random(args.seed)
    people = actors(ctx)
    log(f"measuring (load average {loadavg()})")
    found = measure_search(ctx, people, args.queries, rng)
    for kind, values in found.items():
        log(f"  search {kind}: {summary(values)}")
    trail = measure_trail(ctx, people, args.queries)
    log(f"  audit trail: {summary(trail)}")
    report, lines = measure_report(ctx, people, args.report_runs, rng)
    log(f"  compliance report by precinct, one month ({lines} lines): {summary(report)}")
    writes, seals, verifies = measure_incremental(
        ctx, people, seeded["log"], args.new_records, args.verify_rounds
    )
    log(f"  {args.new_records} new audit records: written in {statistics.median(writes):.2f} s, "
        f"sealed in {1000 * statistics.median(seals):.0f} ms, "
        f"verified in {1000 * statistics.median(verifies):.0f} ms "
        f"(medians of {len(seals)})")  # fmt: skip
    ctx.close()
    log(f"ingest (load average {loadavg()})")
    one, two, clip_size = measure_ingest(
        settings, work / "clips", args.clips, args.ingest_rounds, args.clip_seconds
    )
    ratio = statistics.median(two) / statistics.median(one)
    log(f"  {args.clips} clips of {clip_size / 1e6:.2f} MB a round: "
        f"1 worker {statistics.median(one):.1f} files/s, "
        f"2 workers {statistics.median(two):.1f} files/s (medians of {len(one)}), "
        f"load average {loadavg()}")  # fmt: skip
    print(
        f"scale: {args.scale:g} ({seeded['recordings']:,} recordings, "
        f"{seeded['audit']:,} audit records, "
        f"{seeded['events']:,} officer-events), search_p95_ms={pct(found['search'], 95):.0f} "
        f"list_p95_ms={pct(found['list'], 95):.0f} audit_trail_p95_ms={pct(trail, 95):.0f} "
        f"report_ms={1000 * statistics.median(report):.0f} "
        f"seal_ms={1000 * statistics.median(seals):.0f} "
        f"verify_incremental_ms={1000 * statistics.median(verifies):.0f} scaleout={ratio:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
