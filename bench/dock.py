"""Benchmark: 20 docked cameras uploading through the dock agent, against copy + sha256sum.

Generates about ``--size-gb`` GB (default 1; ``--quick``: 0.1) of real H.264 + AAC MP4
files (1280x720, 30 fps, as a body camera records; the packets of three base clips drawn
by ``bodycam.synth.video.make_clip``, looped by stream copy as ``bench/ingest.py`` does),
spread over ``--cameras`` dock folders (default 20), two files per camera. Generation
is not timed. Then, in the same run, on the same files:

* reference: for every camera at once (one thread each), ``sha256sum FILE`` then
  ``cp FILE DIR/`` for each of its files, then one ``sync``: what a shell script copying
  the docks to a local disk would do, as concurrently as the agents (for scale, the same
  one camera after another is timed and printed too, not used in the ratio);
* bodycam: a real server (``bodycam serve``, uvicorn, a fresh embedded deployment in a
  temporary home: SQLite + local blob store) on loopback, and one
  :class:`bodycam.fleet.dock_agent.DockAgent` per camera (threads of this process), each
  uploading its folder with ``--once`` semantics: SHA-256 of the file, tus create,
  8 MiB PATCHes (each appended and fsynced), and at the last byte the server's full-file
  hash check and ``ingest_file`` (deep probe, hash while copying into the store, fsync,
  commit, audit); a file is deleted from its dock only on the acknowledgement.

The dock folders hold hard links to the generated files, so both sides read the same
bytes. As root the page cache is dropped before each side. The script checks that every
file was acknowledged, deleted from its dock, and stored once with its own SHA-256.
Last line: ``dock: bodycam X MB/s, reference Y MB/s, ratio R (bodycam / reference)``
(MB = 10^6 bytes).

    .venv/bin/python bench/dock.py            # about 1 GB
    .venv/bin/python bench/dock.py --quick    # about 0.1 GB
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_common_args, drop_page_cache, log, machine, scratch, timed
from ingest import BASE_SECONDS, EPOCH, FPS, HEIGHT, WIDTH, loop_clip
from sqlalchemy import select

from bodycam.auth.service import actor_for, create_user, issue_token
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.fleet.dock_agent import AgentOptions, DockAgent, FileOutcome
from bodycam.synth.video import make_clip
from bodycam.system_cli import initialise

BASE_CLIPS = 3


def make_docks(
    work: Path, cameras: int, per_camera: int, total_bytes: int
) -> tuple[list[Path], dict[Path, str]]:
    """``cameras`` folders of distinct MP4 files adding up to about ``total_bytes``."""
    footage = work / "footage"
    footage.mkdir(parents=True)
    bases = []
    for seed in range(BASE_CLIPS):
        path = work / f"base-{seed}.mp4"
        make_clip(
            path,
            seconds=BASE_SECONDS,
            width=WIDTH,
            height=HEIGHT,
            fps=FPS,
            seed=seed + 31,
            creation_time=EPOCH,
            label=f"dock {seed}",
        )
        bases.append(path)
    per_file = total_bytes // (cameras * per_camera)
    docks: list[Path] = []
    hashes: dict[Path, str] = {}
    n = 0
    for cam in range(cameras):
        dock = work / "docks" / f"cam-{cam:02d}"
        dock.mkdir(parents=True)
        docks.append(dock)
        for k in range(per_camera):
            # Sizes vary by a factor of two around the mean, as shift recordings do.
            want = int(per_file * (0.67 + 0.66 * ((n * 7) % 11) / 10))
            src = footage / f"CAM{cam:02d}_{k:03d}.mp4"
            loop_clip(bases[n % len(bases)], src, want, EPOCH + timedelta(minutes=5 * n))
            os.link(src, dock / src.name)
            hashes[src] = hashlib.sha256(src.read_bytes()).hexdigest()
            n += 1
    for path in bases:
        path.unlink()
    return docks, hashes


def reference(docks: list[Path], dest: Path, at_once: int) -> None:
    """``at_once`` cameras at a time: sha256sum and cp each file; then one sync."""

    def one(dock: Path) -> None:
        target = dest / dock.name
        target.mkdir(parents=True)
        for path in sorted(dock.iterdir()):
            subprocess.run(["sha256sum", str(path)], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["cp", str(path), str(target) + "/"], check=True)

    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(one, docks))
    subprocess.run(["sync"], check=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deployment(home: Path, cameras: int) -> tuple[Settings, list[tuple[str, str]]]:
    """A fresh embedded deployment with one officer (badge, token) per camera."""
    settings = Settings(home=home)
    initialise(settings)
    ctx = Context.from_settings(settings)
    officers = []
    try:
        with transaction(ctx.sessions) as s:
            for cam in range(cameras):
                badge = str(7100 + cam)
                user = create_user(s, None, f"dock.officer{cam}", "officer", badge=badge)
                token = issue_token(s, actor_for(user, "cli"), f"dock {cam}").secret
                officers.append((badge, token))
    finally:
        ctx.close()
    return settings, officers


def start_server(home: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """``bodycam serve`` on loopback; returns once it answers."""
    env = os.environ | {"BODYCAM_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bodycam.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited; see {log_path}") from None
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def bodycam_side(
    docks: list[Path], server: str, officers: list[tuple[str, str]], chunk: int
) -> list[FileOutcome]:
    """One dock agent per camera, all at once; every outcome."""
    outcomes: list[FileOutcome] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        badge, token = officers[i]
        options = AgentOptions(
            server=server,
            token=token,
            officer=badge,
            camera=f"BENCH-{i:02d}",
            chunk_size=chunk,
            settle_s=0.0,
            backoff_s=0.2,
            max_backoff_s=2.0,
        )
        for o in DockAgent(docks[i], options).run_once():
            with lock:
                outcomes.append(o)

    with ThreadPoolExecutor(len(docks)) as pool:
        list(pool.map(one, range(len(docks))))
    return outcomes


def check(
    outcomes: list[FileOutcome], docks: list[Path], hashes: dict[Path, str], settings: Settings
) -> None:
    """Every file acknowledged with its own hash, gone from its dock, stored exactly once."""
    by_name = {p.name: h for p, h in hashes.items()}
    problems = [f"{o.file}: {o.status} {o.error}" for o in outcomes if o.status != "uploaded"]
    problems += [
        f"{o.file}: acknowledged {o.sha256}, generated {by_name[Path(o.file).name]}"
        for o in outcomes
        if o.sha256 != by_name[Path(o.file).name]
    ]
    left = [p for d in docks for p in d.iterdir() if not p.name.startswith(".")]
    problems += [f"{p}: still in the dock" for p in left]
    if len(outcomes) != len(hashes):
        problems.append(f"{len(outcomes)} outcomes for {len(hashes)} files")
    ctx = Context.from_settings(settings)
    try:
        with ctx.sessions() as s:
            stored = sorted(s.scalars(select(Recording.sha256)))
        if stored != sorted(hashes.values()):
            problems.append(f"{len(stored)} recordings stored for {len(hashes)} files")
    finally:
        ctx.close()
    if problems:
        raise SystemExit("the bodycam side went wrong:\n" + "\n".join(problems[:20]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gb", type=float, default=1.0, help="data to upload (GB)")
    parser.add_argument("--quick", action="store_true", help="about 0.1 GB (smoke run)")
    parser.add_argument("--cameras", type=int, default=20, help="dock folders and agents")
    parser.add_argument("--files", type=int, default=None, help="files per camera (2; quick: 1)")
    parser.add_argument("--chunk-mib", type=float, default=8.0, help="agent chunk size (MiB)")
    add_common_args(parser)
    args = parser.parse_args()
    size_gb = 0.1 if args.quick else args.size_gb
    per_camera = args.files or (1 if args.quick else 2)
    log(f"machine: {machine()}")

    with scratch(args.workdir, args.keep, "bench-dock-") as work:
        gen_s, (docks, hashes) = timed(
            lambda: make_docks(work, args.cameras, per_camera, int(size_gb * 10**9))
        )
        total = sum(p.stat().st_size for p in hashes)
        log(
            f"generated {len(hashes)} files in {len(docks)} dock folders, {total / 1e6:,.0f} MB "
            f"in {gen_s:.0f} s ({WIDTH}x{HEIGHT} {FPS} fps H.264 + AAC)"
        )

        dropped = drop_page_cache()
        log(
            "page cache: dropped before each side"
            if dropped
            else "page cache: NOT dropped (needs root); both sides start warm"
        )
        ref_s, _ = timed(lambda: reference(docks, work / "copies", len(docks)))
        log(f"reference: sha256sum + cp per file, {len(docks)} cameras at once: {ref_s:.1f} s")
        shutil.rmtree(work / "copies")
        drop_page_cache()
        serial_s, _ = timed(lambda: reference(docks, work / "copies", 1))
        log(f"  (for scale: one camera after another, as bench/ingest.py does: {serial_s:.1f} s)")
        shutil.rmtree(work / "copies")

        settings, officers = deployment(work / "home", len(docks))
        port = free_port()
        server = start_server(work / "home", port, work / "server.log")
        try:
            drop_page_cache()
            chunk = int(args.chunk_mib * (1 << 20))
            server_cpu, agents_cpu = cpu_seconds(server.pid), time.process_time()
            mine_s, outcomes = timed(
                lambda: bodycam_side(docks, f"http://127.0.0.1:{port}", officers, chunk)
            )
            server_cpu = cpu_seconds(server.pid) - server_cpu
            agents_cpu = time.process_time() - agents_cpu
        finally:
            server.terminate()
            server.wait(30)
        check(outcomes, docks, hashes, settings)
        retries = sum(o.attempts - 1 for o in outcomes)
        log(
            f"bodycam: {len(docks)} dock agents -> bodycam serve on loopback, "
            f"{args.chunk_mib:g} MiB chunks: {mine_s:.1f} s; all {len(outcomes)} files "
            f"acknowledged, deleted from their docks and stored once ({retries} retries)"
        )
        log(
            f"  CPU: server {server_cpu:.1f} s ({server_cpu / total * 1e9:.2f} s per GB), "
            f"agents {agents_cpu:.1f} s, in {mine_s:.1f} s on {os.cpu_count()} cores"
        )

    mine = total / 1e6 / mine_s
    ref = total / 1e6 / ref_s
    log(f"  (against the one-camera-at-a-time reference: ratio {serial_s / mine_s:.3f})")
    print(
        f"dock: bodycam {mine:,.1f} MB/s, reference {ref:,.1f} MB/s, "
        f"ratio {mine / ref:.3f} (bodycam / reference)"
    )


if __name__ == "__main__":
    main()
