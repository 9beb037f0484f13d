"""Benchmark: verifying the whole audit log, against plain SHA-256 of the same bytes.

Builds a fresh embedded deployment (SQLite) in a scratch folder, bulk-inserts realistic
audit records (actors, actions, recording ids, small details) with SQLAlchemy Core, seals
them with ``bodycam.audit.service.seal`` (timed and reported), then times, side by side:

* bodycam: ``verify_log(ctx.sessions, public_key, key_name)`` - reads every sealed record
  from the database, recomputes its canonical bytes and leaf hash, rebuilds the Merkle tree
  and compares it with every signed checkpoint;
* reference: ``hashlib.sha256(b).digest()`` over each record's canonical bytes, all
  precomputed in memory before the clock starts (the floor: hashing alone).

The two alternate ``--repeat`` times; the medians make the ratio. Last line:
``verify: N records/s, reference M records/s, ratio R``.

    .venv/bin/python bench/verify.py            # 1,000,000 records
    .venv/bin/python bench/verify.py --quick    # 100,000 records
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_common_args, log, machine, median, open_deployment, scratch, timed
from sqlalchemy import insert, select

from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.models import AuditRecord, record_dict
from bodycam.audit.service import seal, verify_log

INSERT_BATCH = 20_000
_CROCKFORD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


def fast_ulid(rng: random.Random, moment: datetime | None = None) -> str:
    """A 26-character ULID (48-bit millisecond time + 80 random bits), fast enough for 1e6."""
    ms = int((moment or datetime.now(UTC)).timestamp() * 1000)
    value = (ms << 80) | rng.getrandbits(80)
    # 128 bits as 26 base-32 digits: shift into 160 bits, base32-encode, keep 26 digits.
    text = base64.b32encode((value << 30).to_bytes(20, "big"))[:26]
    return text.translate(_CROCKFORD).decode()


FIRST_NAMES = [
    "james",
    "maria",
    "li",
    "ahmed",
    "olga",
    "josé",
    "chloé",
    "kwame",
    "anna",
    "raj",
    "søren",
    "fatima",
    "tom",
    "yuki",
]
ROLES = ["officer"] * 14 + ["supervisor"] * 3 + ["records_clerk", "auditor", "administrator"]
CATEGORIES = ["Traffic Stop", "Arrest", "Domestic Violence", "Use of Force", "Uncategorized"]
TAGS = ["dui", "pursuit", "k9", "juvenile", "interview", "témoin"]


class Population:
    """Users, recordings and cameras that the generated records refer to."""

    def __init__(self, rng: random.Random, users: int = 600, recordings: int = 50_000) -> None:
        self.users = []
        for i in range(users):
            name = f"{rng.choice(FIRST_NAMES)}.{i:04d}"
            ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            self.users.append((fast_ulid(rng), name, rng.choice(ROLES), f"{1000 + i}", ip))
        self.recordings = [
            (fast_ulid(rng), rng.randbytes(32).hex(), rng.randrange(20_000_000, 2_000_000_000))
            for _ in range(recordings)
        ]
        self.cameras = [f"AX{rng.randrange(10**7):07d}" for _ in range(400)]


def _details(
    rng: random.Random,
    pop: Population,
    action: str,
    rec: tuple[str, str, int],
    user: tuple[str, str, str, str, str],
    at: datetime,
) -> tuple[str, str, dict[str, Any]]:
    """(object_type, object_id, details) for one record of ``action``."""
    rid, sha, size = rec
    if action == "evidence:recording:ingest":
        name = f"{rng.choice(pop.cameras)}_{at:%Y%m%d_%H%M%S}.mp4"
        return "recording", rid, {"sha256": sha, "size": size, "filename": name,
                                  "officer_id": user[0], "camera": rng.choice(pop.cameras),
                                  "blob_was_new": True}  # fmt: skip
    if action in ("evidence:recording:stream", "evidence:recording:download"):
        d: dict[str, Any] = {"sha256": sha}
        if rng.random() < 0.7:
            start = rng.randrange(0, size)
            d |= {"range_start": start, "range_end": min(size, start + (1 << 21))}
        return "recording", rid, d
    if action == "evidence:recording:view":
        return "recording", rid, {"sha256": sha}
    if action == "evidence:recording:search":
        d = {"officer": str(rng.randrange(1000, 1600)), "page": 1, "per_page": 50,
             "results": rng.randrange(0, 400)}  # fmt: skip
        if rng.random() < 0.5:
            d["category"] = rng.choice(CATEGORIES)
        if rng.random() < 0.3:
            d["start_from"] = (at - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return "recording", "*", d
    if action == "evidence:recording:edit":
        return "recording", rid, {"field": "tags", "old": [], "new": rng.sample(TAGS, 2)}
    if action == "access:request:denied":
        return "request", rid, {"attempted": f"download recording {rid}"}
    if action == "auth:login:failure":
        return "user", user[0], {"reason": "bad password"}
    return "user", user[0], {}


ACTIONS = (
    ["evidence:recording:stream"] * 30 + ["evidence:recording:view"] * 25
    + ["evidence:recording:ingest"] * 15 + ["evidence:recording:search"] * 10
    + ["evidence:recording:download"] * 5 + ["auth:login:success"] * 8
    + ["evidence:recording:edit"] * 3 + ["access:request:denied"] * 2
    + ["auth:login:failure"] * 2
)  # fmt: skip


class Generator:
    """Realistic audit records, in time order, over about 30 days for ``total`` of them."""

    def __init__(self, total: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.pop = Population(self.rng)
        self.start = datetime(2026, 1, 1, tzinfo=UTC)
        self.step_us = max(1, int(30 * 86400 * 1e6 / max(total, 1)))
        self.micros = 0


def build_records(ctx: Any, gen: Generator, count: int) -> None:
    """Insert ``count`` more unsealed audit records, in batches."""
    rng, pop, start, step_us = gen.rng, gen.pop, gen.start, gen.step_us
    micros = gen.micros
    table = AuditRecord.__table__
    vias = ["web"] * 6 + ["api"] * 3 + ["cli"]
    done = 0
    with ctx.engine.begin() as conn:
        while done < count:
            rows = []
            for _ in range(min(INSERT_BATCH, count - done)):
                micros += rng.randrange(1, 2 * step_us)
                at = start + timedelta(microseconds=micros)
                user = rng.choice(pop.users)
                action = rng.choice(ACTIONS)
                otype, oid, details = _details(rng, pop, action, rng.choice(pop.recordings),
                                               user, at)  # fmt: skip
                via = rng.choice(vias)
                fields = record_dict(fast_ulid(rng, at), None, at, user[0], user[1], user[2],
                                     via, user[4], action, otype, oid, details)  # fmt: skip
                rows.append({"body": canonical_bytes(fields).decode()})
            conn.execute(insert(table), rows)
            done += len(rows)
    gen.micros = micros


def canonical_records(ctx: Any) -> list[bytes]:
    """Every sealed record's canonical bytes, in log order (the reference's input)."""
    with ctx.sessions() as s:
        stmt = select(AuditRecord.body).where(AuditRecord.seq.is_not(None))
        stmt = stmt.order_by(AuditRecord.seq).execution_options(yield_per=20_000)
        return [body.encode() for body in s.scalars(stmt)]


def read_floor(ctx: Any) -> int:
    """Only read every sealed record's body through the raw sqlite3 cursor (a floor)."""
    n = 0
    with ctx.sessions() as s:
        cur = s.connection().connection.cursor()
        cur.execute("SELECT body FROM audit_records WHERE seq IS NOT NULL ORDER BY seq")
        while rows := cur.fetchmany(20_000):
            n += len(rows)
        cur.close()
    return n


def reference(blobs: list[bytes]) -> int:
    """Plain SHA-256 of every record's bytes."""
    sha = hashlib.sha256
    for b in blobs:
        sha(b).digest()
    return len(blobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="audit records to build")
    parser.add_argument("--quick", action="store_true", help="100,000 records (smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side")
    parser.add_argument(
        "--checkpoints", type=int, default=10, help="seal in this many steps (checkpoints)"
    )
    add_common_args(parser)
    args = parser.parse_args()
    count = 100_000 if args.quick else args.records
    log(f"machine: {machine()}")

    with scratch(args.workdir, args.keep, "bench-verify-") as work:
        ctx = open_deployment(work / "home")
        try:
            steps = max(1, args.checkpoints)
            build_s = seal_s = 0.0
            per = -(-count // steps)
            gen = Generator(count)
            for i in range(steps):
                n = min(per, count - i * per)
                if n <= 0:
                    break
                dt, _ = timed(lambda n=n: build_records(ctx, gen, n))
                build_s += dt
                dt, _ = timed(lambda: seal(ctx.sessions, ctx.signer))
                seal_s += dt
            log(f"built {count:,} records in {build_s:.1f} s; sealed them in {steps} "
                f"checkpoints in {seal_s:.1f} s ({count / seal_s:,.0f} records/s)")  # fmt: skip
            blobs = canonical_records(ctx)
            assert len(blobs) == count, (len(blobs), count)
            avg = sum(map(len, blobs)) / count
            log(f"canonical records: {avg:.0f} bytes on average")

            ref_times, verify_times, floor_times = [], [], []
            for run in range(max(1, args.repeat)):
                dt, _ = timed(lambda: reference(blobs))
                ref_times.append(dt)
                dt, report = timed(
                    lambda: verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name)
                )
                verify_times.append(dt)
                floor_times.append(timed(lambda: read_floor(ctx))[0])
                if report.problems or report.records != count:
                    raise SystemExit(f"verify_log found problems: {report.problems[:3]}")
                log(
                    f"run {run + 1}: verify_log {dt:.2f} s ({count / dt:,.0f} records/s, "
                    f"{report.checkpoints} checkpoints), reference {ref_times[-1]:.3f} s"
                )
        finally:
            ctx.close()

    mine = count / median(verify_times)
    ref = count / median(ref_times)
    floor = count / median(floor_times)
    log(f"for scale: only reading the sealed rows through sqlite3: {floor:,.0f} records/s "
        f"(ratio {floor / ref:.3f} to the reference)")  # fmt: skip
    print(f"verify: {mine:,.0f} records/s, reference {ref:,.0f} records/s, ratio {mine / ref:.3f}")


if __name__ == "__main__":
    main()
