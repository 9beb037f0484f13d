"""Verifying a large SQLite audit log on several cores.

The sealed log is cut into aligned chunks of ``2**chunk_bits`` records. Each chunk is a
perfect subtree of the RFC 6962 Merkle tree (the last one may be partial), so worker
processes can hash their chunks independently: each reads its records' bodies straight
from the database file (read-only), recomputes every leaf hash, compares it with the
stored one, and returns the chunk's root plus the roots of the chunk's prefixes that end
at a signed checkpoint. :func:`combine` then rebuilds the root of every checkpoint from
those pieces: the perfect subtrees of the earlier chunks, folded right with the prefix.

This module is the fast path only: it answers "every record and every checkpoint holds"
or "something is off". When anything is off, :func:`bodycam.audit.service.verify_log`
runs the sequential check, which names each problem. It imports only the standard
library, so worker processes start quickly.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle  # only our own worker processes' results  # nosec B403
import sqlite3
import subprocess  # starts copies of this module, no shell  # nosec B404
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

_FETCH = 20000
_NODE = b"\x01"


@dataclass(frozen=True)
class ChunkResult:
    """What one worker found in records ``lo`` to ``hi - 1``."""

    lo: int
    hi: int
    ok: bool
    root: bytes
    prefix_roots: dict[int, bytes]


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the chunk's tree, leaves first (an odd last node is carried up)."""
    sha = hashlib.sha256
    levels = [leaves]
    while len(levels[-1]) > 1:
        level = levels[-1]
        pairs = iter(level)
        upper = [sha(_NODE + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
        if len(level) & 1:
            upper.append(level[-1])
        levels.append(upper)
    return levels


def fold(subtrees: Sequence[bytes], tail: bytes) -> bytes:
    """Root of perfect subtrees (largest first) followed by ``tail``: the RFC 6962 shape."""
    acc = tail
    for left in reversed(subtrees):
        acc = hashlib.sha256(_NODE + left + acc).digest()
    return acc


def prefix_root(levels: list[list[bytes]], count: int) -> bytes:
    """Merkle root of the first ``count`` leaves (``1 <= count <= len(levels[0])``)."""
    parts: list[bytes] = []
    start = 0
    for k in range(count.bit_length() - 1, -1, -1):
        if count >> k & 1:
            parts.append(levels[k][start >> k])  # the perfect subtree [start, start + 2**k)
            start += 1 << k
    return fold(parts[:-1], parts[-1])


def scan_chunk(database: str, lo: int, hi: int, cuts: Sequence[int]) -> ChunkResult:
    """Hash sealed records ``lo`` to ``hi - 1`` of the SQLite file ``database``."""
    uri = f"file:{quote(database)}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    prefix = hashlib.sha256(b"\x00")  # every leaf hash starts with this byte
    leaves: list[bytes] = []
    ok = True
    try:
        cur = con.execute(
            "SELECT CAST(body AS BLOB), leaf_hash FROM audit_records "
            "WHERE seq >= ? AND seq < ? ORDER BY seq",
            (lo, hi),
        )
        while rows := cur.fetchmany(_FETCH):
            hashes = []
            for body, _ in rows:
                h = prefix.copy()
                h.update(body)
                hashes.append(h.digest())
            if hashes != [stored for _, stored in rows]:
                ok = False
            leaves += hashes
    finally:
        con.close()
    if len(leaves) != hi - lo:
        return ChunkResult(lo, hi, False, b"", {})
    levels = _levels(leaves)
    prefixes = {cut: prefix_root(levels, cut - lo) for cut in cuts if lo < cut < hi}
    return ChunkResult(lo, hi, ok, levels[-1][0], prefixes)


def combine(results: Sequence[ChunkResult], sizes: Sequence[int]) -> dict[int, bytes]:
    """The root at each checkpoint size, from chunk results in log order."""
    roots: dict[int, bytes] = {}
    wanted = set(sizes)
    done: list[bytes] = []  # roots of the full chunks so far, as a frontier (largest first)
    counts: list[int] = []
    for res in results:
        for cut, root in res.prefix_roots.items():
            if cut in wanted:
                roots[cut] = fold(done, root)
        if res.hi in wanted:
            roots[res.hi] = fold(done, res.root)
        # Merge the new chunk into the frontier like a binary counter.
        done.append(res.root)
        counts.append(res.hi - res.lo)
        while len(counts) > 1 and counts[-1] == counts[-2]:
            right, left = done.pop(), done.pop()
            done.append(hashlib.sha256(_NODE + left + right).digest())
            counts.append(counts.pop() + counts.pop())
    return roots


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _checkpoint_wal(database: str) -> None:
    """Copy committed WAL pages into the main file first (passive: blocks nobody).

    Readers find pages that are still only in a large write-ahead log about half as fast
    as pages in the database file. On a read-only copy this does nothing.
    """
    try:
        con = sqlite3.connect(database, timeout=1)
        try:
            con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        pass


def parallel_roots(
    database: str, size: int, sizes: Sequence[int], *, workers: int, chunk_bits: int
) -> dict[int, bytes] | None:
    """Roots at each checkpoint size for the first ``size`` sealed records, or None.

    None means some record's recomputed leaf differs from its stored one, a record is
    missing, or a worker failed: the caller then checks one record at a time.

    Workers are fresh ``python -m bodycam.audit.fastverify`` processes, not forks of this
    one (which may hold threads and locks) and not multiprocessing children (which would
    re-import the caller's main script); each takes every ``workers``-th chunk.
    """
    _checkpoint_wal(database)
    chunk = 1 << chunk_bits
    jobs = [
        (lo, min(lo + chunk, size), [s for s in sizes if lo < s <= min(lo + chunk, size)])
        for lo in range(0, size, chunk)
    ]
    procs = []
    for w in range(max(1, min(workers, len(jobs)))):
        spec = json.dumps({"database": database, "jobs": jobs[w :: max(1, workers)]})
        procs.append(
            subprocess.Popen(  # this interpreter and module, no shell  # nosec B603
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        )
        assert procs[-1].stdin is not None
        procs[-1].stdin.write(spec.encode())
        procs[-1].stdin.close()
    results: list[ChunkResult] = []
    failed = False
    for proc in procs:
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        if proc.wait() != 0:
            failed = True
            continue
        # Our own child's output, over a pipe only we hold.
        results += pickle.loads(out)  # noqa: S301  # nosec B301
    if failed or len(results) != len(jobs) or not all(r.ok for r in results):
        return None
    results.sort(key=lambda r: r.lo)
    return combine(results, sizes)


def _serve() -> None:
    """Worker entry point: read a job list as JSON on stdin, write results pickled."""
    # Run as __main__: use the importable module so results unpickle as its classes.
    from bodycam.audit.fastverify import scan_chunk as scan

    spec = json.loads(sys.stdin.buffer.read())
    out = [scan(spec["database"], lo, hi, cuts) for lo, hi, cuts in spec["jobs"]]
    sys.stdout.buffer.write(pickle.dumps(out))


if __name__ == "__main__":
    _serve()
