"""Helpers shared by the benchmarks: scratch folders, a fresh deployment, machine facts.

Only the standard library and bodycam itself: every benchmark runs with nothing but the
project's virtual environment.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--workdir`` and ``--keep``, the options every benchmark takes."""
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="Folder for scratch data (default: a new temporary folder, removed at the end).",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the scratch data instead of removing it."
    )


@contextlib.contextmanager
def scratch(workdir: Path | None, keep: bool, prefix: str) -> Iterator[Path]:
    """A new scratch folder (inside ``workdir`` when given), removed afterwards unless kept."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=workdir))
    try:
        yield path
    finally:
        if keep:
            log(f"scratch data kept in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def log(message: str) -> None:
    """Progress on standard output (the figure is always the last line)."""
    print(message, flush=True)


def drop_page_cache() -> bool:
    """Write back dirty pages and drop the page cache; False when not allowed (not root)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
    except OSError:
        return False
    return True


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call, on the monotonic performance clock."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    """The median (a single slow or lucky run does not move it)."""
    return statistics.median(values)


def machine() -> str:
    """One line naming the CPU, the cores, the memory and the file system of ``/tmp``."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024**2:.0f} GiB RAM"
                break
    disk = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = (
            subprocess.run(
                ["df", "-T", tempfile.gettempdir()], capture_output=True, text=True, check=True
            )
            .stdout.splitlines()[-1]
            .split()
        )
        disk = f", {tempfile.gettempdir()} on {out[0]} ({out[1]})"
    return f"{cpu}, {os.cpu_count()} cores{mem}{disk}, Python {platform.python_version()}"


def open_deployment(home: Path):  # type: ignore[no-untyped-def]
    """A fresh embedded deployment (SQLite + local blob store) under ``home``: its Context."""
    from bodycam.config import Settings
    from bodycam.context import Context
    from bodycam.system_cli import initialise

    settings = Settings(home=home)
    initialise(settings)
    return Context.from_settings(settings)
