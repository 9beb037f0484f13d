"""Benchmark: ingesting body-camera video, against hashing and copying the same files.

Generates about ``--size-gb`` GB of real H.264 + AAC MP4 files (1280x720, 30 fps, about
3.5 Mbit/s, as a body camera records) in a scratch folder. A few distinct base clips are
drawn with ``bodycam.synth.video.make_clip``; each benchmark file then loops one base
clip's packets (stream copy, continuous timestamps) to 60-140 MB, i.e. a 2-5 minute
recording, with its own creation time, so every file has different bytes (no dedupe).
Generation is not timed. Then, in the same run, on the same files:

* reference: ``sha256sum FILE`` then ``cp FILE DIR/`` for every file, then one ``sync``
  (three subprocesses per file, as a shell script would do it);
* bodycam: ``bodycam.evidence.service.ingest_file`` for every file into a fresh embedded
  deployment (SQLite + local blob store): deep probe (every packet read, every frame
  decoded), SHA-256 while copying into the store, fsync of the blob and its folders, then
  the database row and its audit record in one committed transaction.

As root the page cache is dropped before each side (the script says whether it could).
The time of each bodycam phase is printed too (probe, store, database). Last line:
``ingest throughput: bodycam X MB/s, reference Y MB/s, ratio Z`` (MB = 10^6 bytes).

    .venv/bin/python bench/ingest.py            # about 2 GB
    .venv/bin/python bench/ingest.py --quick    # about 0.2 GB
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import av
from _common import (
    add_common_args,
    drop_page_cache,
    log,
    machine,
    open_deployment,
    scratch,
    timed,
)

import bodycam.evidence.service as evidence
from bodycam.auth.service import actor_for, create_user
from bodycam.db import transaction
from bodycam.synth.video import make_clip

WIDTH, HEIGHT, FPS = 1280, 720, 30
BASE_SECONDS = 10.0
BASE_CLIPS = 3
FILE_SIZES_MB = (60, 100, 140, 80)
EPOCH = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)

Packet = tuple[int, bytes, int, int, int, bool]  # stream, data, pts, dts, duration, keyframe


def read_packets(path: Path) -> tuple[list[Packet], list[int]]:
    """Every video and audio packet of a clip, and each stream's length in its time base."""
    with av.open(str(path)) as src:
        streams = [src.streams.video[0], src.streams.audio[0]]
        packets = [
            (
                0 if p.stream is streams[0] else 1,
                bytes(p),
                p.pts,
                p.dts,
                p.duration or 0,
                p.is_keyframe,
            )
            for p in src.demux(*streams)
            if p.dts is not None
        ]
        spans = []
        for i in range(2):
            mine = [p for p in packets if p[0] == i]
            spans.append(max(p[2] + p[4] for p in mine) - min(max(p[2], 0) for p in mine))
        return packets, spans


def loop_clip(base: Path, dest: Path, target_bytes: int, created: datetime) -> int:
    """Write ``dest``: the packets of ``base`` repeated up to ``target_bytes``; its size."""
    packets, spans = read_packets(base)
    per_loop = sum(len(p[1]) for p in packets)
    loops = max(1, round(target_bytes / per_loop))
    tmp = dest.with_name(f".{dest.name}.partial")
    with av.open(str(base)) as src, av.open(str(tmp), "w", format="mp4") as out:
        out.metadata["creation_time"] = created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ins = [src.streams.video[0], src.streams.audio[0]]
        outs = [out.add_stream_from_template(s) for s in ins]
        bases: list[Fraction] = [s.time_base for s in ins]  # type: ignore[misc]
        for n in range(loops):
            for index, data, pts, dts, duration, key in packets:
                if n and pts < 0:
                    continue  # the AAC priming packet only opens the first loop
                packet = av.Packet(data)
                offset = n * spans[index]
                packet.pts, packet.dts = pts + offset, dts + offset
                packet.duration = duration
                packet.time_base = bases[index]
                packet.is_keyframe = key
                packet.stream = outs[index]
                out.mux(packet)
    tmp.rename(dest)
    return dest.stat().st_size


def make_files(folder: Path, total_bytes: int) -> list[Path]:
    """Distinct MP4 files adding up to about ``total_bytes``."""
    folder.mkdir(parents=True, exist_ok=True)
    bases = []
    for seed in range(BASE_CLIPS):
        path = folder / f"base-{seed}.mp4"
        make_clip(
            path,
            seconds=BASE_SECONDS,
            width=WIDTH,
            height=HEIGHT,
            fps=FPS,
            seed=seed + 11,
            creation_time=EPOCH,
            label=f"cam {seed}",
        )
        bases.append(path)
    files: list[Path] = []
    written = 0
    while written < total_bytes * 0.98:
        i = len(files)
        want = min(FILE_SIZES_MB[i % len(FILE_SIZES_MB)] * 10**6, total_bytes - written)
        want = max(want, 20 * 10**6)
        dest = folder / f"AXON_{i:03d}.mp4"
        written += loop_clip(bases[i % len(bases)], dest, want, EPOCH + timedelta(minutes=7 * i))
        files.append(dest)
    for path in bases:
        path.unlink()
    return files


def reference(files: list[Path], dest: Path) -> None:
    """sha256sum and cp each file, then sync: what a shell script would do."""
    dest.mkdir()
    for path in files:
        subprocess.run(["sha256sum", str(path)], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cp", str(path), str(dest) + "/"], check=True)
    subprocess.run(["sync"], check=True)


class PhaseClock:
    """Adds up the time spent in named functions while it is installed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed_call


def bodycam_ingest(files: list[Path], home: Path, profile: Path | None) -> dict[str, float]:
    """Ingest every file into a fresh deployment (set-up untimed); per-phase seconds."""
    ctx = open_deployment(home)
    try:
        with transaction(ctx.sessions) as s:
            user = create_user(s, None, "bench.officer", "officer", badge="7001", squad="Bench")
            actor = actor_for(user, "cli")
        vault = evidence.Vault(ctx.sessions, ctx.store, ctx.settings.officer_sees_own)
        clock = PhaseClock()
        originals = (evidence.probe, evidence._commit_ingest, ctx.store.put_file)
        evidence.probe = clock.wrap("probe (deep: demux + decode)", evidence.probe)
        evidence._commit_ingest = clock.wrap(
            "database (row + audit record)", evidence._commit_ingest
        )
        vault.store.put_file = clock.wrap(
            "store (SHA-256 + copy + fsync)",  # type: ignore[method-assign]
            ctx.store.put_file,
        )
        drop_page_cache()
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        for path in files:
            result = evidence.ingest_file(vault, actor, path, officer_badge="7001")
            assert not result.duplicate, f"{path.name} was taken for a duplicate"
        if profiler:
            profiler.disable()
        total = time.perf_counter() - start
        evidence.probe, evidence._commit_ingest = originals[0], originals[1]
        if profiler and profile:
            profiler.dump_stats(profile)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
        return {"total": total, **clock.seconds}
    finally:
        ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gb", type=float, default=2.0, help="data to ingest (GB)")
    parser.add_argument("--quick", action="store_true", help="about 0.2 GB (smoke run)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write a cProfile of the bodycam side to this file",
    )
    add_common_args(parser)
    args = parser.parse_args()
    size_gb = 0.2 if args.quick else args.size_gb
    log(f"machine: {machine()}")

    with scratch(args.workdir, args.keep, "bench-ingest-") as work:
        gen_s, files = timed(lambda: make_files(work / "footage", int(size_gb * 10**9)))
        total = sum(p.stat().st_size for p in files)
        with av.open(str(files[0])) as c:
            rate = c.bit_rate / 1e6
            minutes = c.duration / 1e6 / 60
        log(
            f"generated {len(files)} files, {total / 1e6:,.0f} MB in {gen_s:.0f} s "
            f"(first: {files[0].stat().st_size / 1e6:.0f} MB, {minutes:.1f} min, "
            f"{rate:.1f} Mbit/s, {WIDTH}x{HEIGHT} {FPS} fps H.264 + AAC)"
        )

        dropped = drop_page_cache()
        log(
            "page cache: dropped before each side"
            if dropped
            else "page cache: NOT dropped (needs root); both sides start warm"
        )
        ref_s, _ = timed(lambda: reference(files, work / "copies"))
        log(f"reference: sha256sum + cp each file, then sync: {ref_s:.1f} s")
        subprocess.run(["rm", "-rf", str(work / "copies")], check=True)

        phases = bodycam_ingest(files, work / "home", args.profile)
        mine_s = phases.pop("total")
        log(f"bodycam: ingest_file x {len(files)}: {mine_s:.1f} s")
        for name, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
            log(
                f"  {name}: {seconds:.1f} s ({100 * seconds / mine_s:.0f}%, "
                f"{total / 1e6 / seconds:,.0f} MB/s alone)"
            )

    mine = total / 1e6 / mine_s
    ref = total / 1e6 / ref_s
    print(
        f"ingest throughput: bodycam {mine:,.1f} MB/s, reference {ref:,.1f} MB/s, "
        f"ratio {mine / ref:.3f}"
    )


if __name__ == "__main__":
    main()
