"""The blob-store contract shared by every backend.

Blobs are immutable byte strings addressed by the lowercase hex SHA-256 of their
content. A store never overwrites a blob, never exposes a partial one, and reports
every provider failure as a :class:`BlobStoreError` whose message is a sentence.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

#: Bytes read per chunk while hashing or copying (1 MiB: bounded memory, full speed).
HASH_CHUNK_SIZE = 1 << 20

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BlobInfo:
    """What a store reports after a write."""

    sha256: str
    """Lowercase hex SHA-256 of the content."""
    size: int
    """Size in bytes."""
    created: bool
    """False when the blob already existed (deduplicated; nothing was rewritten)."""


class BlobStoreError(Exception):
    """A blob store operation failed; the message is a sentence naming the problem."""


class BlobNotFound(BlobStoreError):
    """The requested blob does not exist in the store."""


class BlobIntegrityError(BlobStoreError):
    """Content does not match the expected or declared SHA-256."""


@runtime_checkable
class BlobStore(Protocol):
    """A content-addressed, write-once store of immutable blobs."""

    url: str
    """Where the store lives (``file:///...`` or ``s3://bucket?...``); never holds secrets."""

    def put_file(self, path: Path, expected_sha256: str | None = None) -> BlobInfo:
        """Store a copy of the file at ``path``; durable when it returns, never overwrites."""
        ...

    def put_stream(self, stream: BinaryIO, expected_sha256: str | None = None) -> BlobInfo:
        """Store everything read from ``stream`` (spooled to a temp file, bounded memory)."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether a blob with this hash is stored."""
        ...

    def size(self, sha256: str) -> int:
        """The blob's size in bytes; raises BlobNotFound if it is missing."""
        ...

    def iter_bytes(
        self, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        """Yield the bytes in ``[start, end)`` (``end=None``: to the end) in chunks."""
        ...

    def rehash(self, sha256: str) -> str:
        """Re-read every stored byte and return the content's actual SHA-256 hex."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove the blob (for purge); a missing blob is not an error."""
        ...

    def iter_hashes(self) -> Iterator[str]:
        """Yield the hash of every stored blob."""
        ...

    def stray_temp_files(self, min_age_s: float = 0.0) -> list[str]:
        """List leftovers of interrupted writes older than ``min_age_s`` seconds."""
        ...

    def clean_stray(self, min_age_s: float = 0.0) -> int:
        """Remove leftovers of interrupted writes older than ``min_age_s``; return the count."""
        ...


def validate_sha256(value: object) -> str:
    """Return ``value`` if it is 64 lowercase hex characters, else raise ValueError."""
    if not isinstance(value, str) or _SHA256_RE.fullmatch(value) is None:
        raise ValueError(
            f"{value!r} is not a SHA-256 blob hash (expected 64 lowercase hex characters)."
        )
    return value


def check_range(start: int, end: int | None, chunk_size: int) -> None:
    """Raise ValueError for a negative start, an end before the start or a chunk size < 1."""
    if start < 0:
        raise ValueError(f"The range start {start} is negative.")
    if end is not None and end < start:
        raise ValueError(f"The range end {end} is before its start {start}.")
    if chunk_size <= 0:
        raise ValueError(f"The chunk size {chunk_size} must be positive.")


def sha256_file(path: Path) -> tuple[str, int]:
    """Hash a file by streaming it; return ``(sha256 hex, size)``."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(HASH_CHUNK_SIZE)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            size += count
    return digest.hexdigest(), size


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file, streamed."""
    return sha256_file(path)[0]


@contextmanager
def local_path(store: BlobStore, sha256: str) -> Iterator[Path]:
    """A readable local path holding blob ``sha256`` (the blob itself when local)."""
    path_for = getattr(store, "path_for", None)
    if path_for is not None:
        path = Path(path_for(sha256))
        if path.is_file():
            yield path
            return
    with tempfile.TemporaryDirectory(prefix="bodycam-src-") as tmp:
        path = Path(tmp) / f"{sha256}.mp4"
        with path.open("wb") as f:
            for chunk in store.iter_bytes(sha256):
                f.write(chunk)
        yield path


def integrity_error(expected: str, actual: str, what: str) -> BlobIntegrityError:
    """Build the error for content whose hash differs from the one the caller declared."""
    return BlobIntegrityError(
        f"The content of {what} has SHA-256 {actual}, not the expected {expected}; "
        "nothing was stored."
    )
