"""The watermarked derivatives of shared items: rendered once, kept while the share lives.

Each (share, item) gets one file, ``<folder>/<share id>/<position>.mp4``, beside a small
JSON sidecar written after it (its SHA-256, size, frame count, the source's SHA-256 and
the watermark's version): a file without its sidecar is not ready. These are temporary
derivatives under the deployment's home, never vault blobs: they are deleted when their
share is revoked, expires or its recording is destroyed (:func:`sweep`, :func:`discard`),
and made again from the vault if they are missing.

They are made by ``share.watermark`` jobs (:mod:`bodycam.disclosure.jobs`), never inside
a web request; the job's row carries the progress the share page shows. Rendering takes
an exclusive lock (``fcntl.flock``) on ``<position>.lock``, so two runners given the same
item (a job queued twice) render it once and the other finds it ready. In a cluster the
folder (``BODYCAM_HOME/shares``) must be one shared by the web servers and the workers.
The video modules are imported only when a file is made.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bodycam.storage import BlobStore
from bodycam.storage.interface import local_path, sha256_file, validate_sha256

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Derivative:
    """A ready watermarked file and what its sidecar says."""

    path: Path
    sha256: str
    size: int
    frames: int
    source_sha256: str


@dataclass(frozen=True)
class RenderOrder:
    """What to render: the item's blob and the watermark's lines, and where."""

    folder: Path
    share_id: str
    position: int
    source_sha256: str
    lines: tuple[str, ...]


def _dir(folder: Path, share_id: str) -> Path:
    if not share_id.isalnum():  # ids are ULIDs; never let one name another folder
        raise ValueError(f"{share_id!r} is not a share id.")
    return folder / share_id


def _paths(folder: Path, share_id: str, position: int) -> tuple[Path, Path, Path]:
    d = _dir(folder, share_id)
    stem = str(int(position))
    return d / f"{stem}.mp4", d / f"{stem}.json", d / f"{stem}.lock"


def ready(folder: Path, share_id: str, position: int, source_sha256: str) -> Derivative | None:
    """The item's watermarked file, when it is complete and made from ``source_sha256``."""
    from bodycam.disclosure.watermark import WATERMARK_VERSION

    video, meta, _ = _paths(folder, share_id, position)
    try:
        facts = json.loads(meta.read_text(encoding="utf-8"))
        size = video.stat().st_size
    except (OSError, ValueError):
        return None
    if (
        facts.get("version") != WATERMARK_VERSION
        or facts.get("source_sha256") != source_sha256
        or facts.get("size") != size
    ):
        return None
    return Derivative(video, str(facts["sha256"]), size, int(facts["frames"]), source_sha256)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(store: BlobStore, order: RenderOrder, progress: Progress | None = None) -> Derivative:
    """The item's watermarked file, rendered from the vault now unless it is ready.

    Raises `RedactionError` (a sentence) when the source cannot be rendered.
    """
    from bodycam.disclosure.watermark import WATERMARK_VERSION, watermark_video

    validate_sha256(order.source_sha256)
    found = ready(order.folder, order.share_id, order.position, order.source_sha256)
    if found is not None:
        return found
    video, meta, lock = _paths(order.folder, order.share_id, order.position)
    video.parent.mkdir(parents=True, exist_ok=True)
    with _locked(lock):
        found = ready(order.folder, order.share_id, order.position, order.source_sha256)
        if found is not None:  # rendered by whoever held the lock before us
            return found
        meta.unlink(missing_ok=True)
        with local_path(store, order.source_sha256) as src:
            result = watermark_video(src, video, list(order.lines), progress)
        sha, size = sha256_file(video)
        facts = {
            "version": WATERMARK_VERSION,
            "sha256": sha,
            "size": size,
            "frames": result.frames,
            "source_sha256": order.source_sha256,
            "lines": list(order.lines),
        }
        tmp = meta.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(facts), encoding="utf-8")
        os.replace(tmp, meta)
        return Derivative(video, sha, size, result.frames, order.source_sha256)


def discard(folder: Path, share_id: str) -> None:
    """Delete every watermarked file of a share."""
    shutil.rmtree(_dir(folder, share_id), ignore_errors=True)


def discard_item(folder: Path, share_id: str, position: int) -> None:
    """Delete one item's watermarked file."""
    video, meta, _ = _paths(folder, share_id, position)
    meta.unlink(missing_ok=True)
    video.unlink(missing_ok=True)


def cached_shares(folder: Path) -> list[str]:
    """The shares that have a folder of watermarked files on this host."""
    try:
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.isalnum())
    except FileNotFoundError:
        return []


def sweep(folder: Path, live: set[str]) -> list[str]:
    """Delete the watermarked files of every share not in ``live``; return those deleted."""
    gone = [sid for sid in cached_shares(folder) if sid not in live]
    for sid in gone:
        discard(folder, sid)
    return gone
