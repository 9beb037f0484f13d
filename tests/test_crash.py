"""Invariant 1 under SIGKILL: an acknowledged recording is never lost.

Each trial forks a child (cheap: the imports are already loaded) that ingests a
few new files, writing an acknowledgement to a pipe only after each ingest
returns, as the CLI prints its line. The child dies by SIGKILL, either at a
named step (armed fault point: temp file written, fsynced, linked, durable, row
flushed, committed, audit seal flushed) or at a random moment chosen by the
parent. After every trial the parent, like a restarted server, checks that every
acknowledged file is held intact and that no row points at a missing or partial
blob; at the end ``verify`` passes and ``verify --repair`` removes stray temp files.
"""

from __future__ import annotations

import os
import random
import signal
import struct
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bodycam import faults
from bodycam.audit.service import seal
from bodycam.context import Context
from bodycam.evidence import service as ev
from bodycam.evidence.models import Recording
from bodycam.verify import verify_all

ARMED_TRIALS = len(faults.POINTS) * 2 * 9  # every point, 1st and 2nd hit, 9 times each = 126
RANDOM_TRIALS = 84
FILES_PER_TRIAL = 3


def variant(base: bytes, folder: Path, n: int) -> Path:
    """A distinct valid MP4: the base clip plus a unique top-level 'free' box."""
    payload = f"crash-trial-{n:06d}".encode()
    path = folder / f"v{n:06d}.mp4"
    path.write_bytes(base + struct.pack(">I", 8 + len(payload)) + b"free" + payload)
    return path


def child(ctx: Context, files: list[Path], ack_fd: int, point: str | None, nth: int,
          actor, seal_too: bool) -> None:  # fmt: skip
    ctx.engine.dispose(close=False)  # never touch the parent's pooled connections
    fresh = Context.from_settings(ctx.settings)
    if point:
        faults.arm(point, nth)
    vault = ev.Vault(fresh.sessions, fresh.store)
    for path in files:
        res = ev.ingest_file(vault, actor, path, officer_badge="1001")
        os.write(ack_fd, f"{res.sha256} {res.id}\n".encode())
        if seal_too:
            seal(fresh.sessions, fresh.signer)
    os._exit(0)


def check_invariants(ctx: Context, acked: dict[str, str]) -> None:
    with ctx.sessions() as s:
        rows = {r.sha256: (r.id, r.size_bytes) for r in s.scalars(select(Recording))}
    for sha, rid in acked.items():
        assert sha in rows, f"acknowledged {sha} ({rid}) is missing after a crash"
        assert rows[sha][0] == rid
    for sha, (rid, size) in rows.items():
        assert ctx.store.exists(sha), f"row {rid} points at a missing blob"
        assert ctx.store.size(sha) == size, f"row {rid} points at a partial blob"
        assert ctx.store.rehash(sha) == sha, f"row {rid} points at a corrupt blob"


@pytest.mark.slow
def test_sigkill_at_every_step_loses_nothing_acknowledged(ctx, dept, clips, tmp_path):
    base = clips(41).read_bytes()
    actor = dept.actor("o1", "dock")
    rnd = random.Random(1234)
    plan: list[tuple[str | None, int]] = [
        (p, nth) for _ in range(9) for p in faults.POINTS for nth in (1, 2)
    ] + [(None, 0)] * RANDOM_TRIALS
    rnd.shuffle(plan)
    acked: dict[str, str] = {}
    kills_by_point: dict[str, int] = {}
    n = 0
    for trial, (point, nth) in enumerate(plan):
        files = [variant(base, tmp_path, n + i) for i in range(FILES_PER_TRIAL)]
        n += FILES_PER_TRIAL
        r, w = os.pipe()
        seal_too = point == "audit.seal_flushed" or rnd.random() < 0.3
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(r)
            try:
                child(ctx, files, w, point, nth, actor, seal_too)
            finally:
                os._exit(1)
        os.close(w)
        if point is None:
            time.sleep(rnd.uniform(0.0, 0.12))
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        with os.fdopen(r) as acks:
            for line in acks.read().splitlines():
                sha, rid = line.split()
                acked[sha] = rid
        if point is not None:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
                f"trial {trial}: the child passed {point} #{nth} without dying (status {status})"
            )
            kills_by_point[point] = kills_by_point.get(point, 0) + 1
        check_invariants(ctx, acked)
        for f in files:
            f.unlink()
    assert len(plan) >= 200
    assert set(kills_by_point) == set(faults.POINTS)
    assert len(acked) > 50  # the trials did acknowledge work before dying
    # The restarted system: seal what the crashes left pending, then verify.
    seal(ctx.sessions, ctx.signer)
    auditor = dept.actor("auditor")
    report = verify_all(ctx, auditor, repair_min_age_s=0)
    assert report.ok, report.problems
    strays = ctx.store.stray_temp_files()
    assert strays, "kills after the temp write should have left temp files"
    repaired = verify_all(ctx, auditor, repair=True, repair_min_age_s=0)
    assert repaired.ok and repaired.repaired
    assert ctx.store.stray_temp_files() == []
