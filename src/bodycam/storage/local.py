"""A content-addressed blob store in a local folder.

Layout: ``root/sha256/ab/cd/<hash>`` for blobs (``ab`` and ``cd`` are the first two
byte pairs of the hash) and ``root/tmp/`` for writes in progress. A write streams
into ``tmp/`` while hashing, fsyncs, then hard-links the file into place (a link
never replaces an existing name, so a blob is never overwritten) and fsyncs the
directories. A crash at any point leaves either no blob or a complete one; only
``tmp/`` can hold partial files, and :meth:`LocalBlobStore.clean_stray` removes them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from bodycam import faults
from bodycam.storage.interface import (
    HASH_CHUNK_SIZE,
    BlobInfo,
    BlobNotFound,
    BlobStoreError,
    check_range,
    integrity_error,
    validate_sha256,
)

_HEX = frozenset("0123456789abcdef")
_BLOB_MODE = 0o444
_TMP_PREFIX = "put-"
_TMP_SUFFIX = ".part"


def _fsync_dir(path: Path) -> None:
    """Make a directory's entries durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_fanout(name: str) -> bool:
    return len(name) == 2 and set(name) <= _HEX


class LocalBlobStore:
    """Blobs in a local folder, addressed by SHA-256, written crash-safely."""

    def __init__(self, root: Path | str) -> None:
        """Open (creating if needed) the store rooted at ``root``."""
        self.root = Path(root).absolute()
        self.blob_dir = self.root / "sha256"
        self.tmp_dir = self.root / "tmp"
        self.url = self.root.as_uri()
        try:
            created_root = not self.root.exists()
            self.root.mkdir(parents=True, exist_ok=True)
            if created_root:
                _fsync_dir(self.root.parent)
            for sub in (self.blob_dir, self.tmp_dir):
                if not sub.is_dir():
                    sub.mkdir(exist_ok=True)
                    _fsync_dir(self.root)
        except OSError as exc:
            raise BlobStoreError(
                f"Could not open the blob store folder {self.root}: {exc.strerror or exc}."
            ) from exc

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------

    def path_for(self, sha256: str) -> Path:
        """The file that holds (or would hold) the blob; validates the hash."""
        validate_sha256(sha256)
        return self.blob_dir / sha256[0:2] / sha256[2:4] / sha256

    # -- writing -----------------------------------------------------------------------

    def put_file(self, path: Path, expected_sha256: str | None = None) -> BlobInfo:
        """Copy the file at ``path`` into the store (the caller's file is left alone)."""
        if expected_sha256 is not None:
            validate_sha256(expected_sha256)
        source = Path(path)
        try:
            handle = source.open("rb")
        except FileNotFoundError as exc:
            raise BlobStoreError(f"The file {source} does not exist.") from exc
        except IsADirectoryError as exc:
            raise BlobStoreError(f"{source} is a folder, not a file.") from exc
        except OSError as exc:
            raise BlobStoreError(f"Could not open {source}: {exc.strerror or exc}.") from exc
        with handle:
            return self._put(handle, expected_sha256, what=f"the file {source}")

    def put_stream(self, stream: BinaryIO, expected_sha256: str | None = None) -> BlobInfo:
        """Store everything read from ``stream``, spooling through ``tmp/``."""
        if expected_sha256 is not None:
            validate_sha256(expected_sha256)
        return self._put(stream, expected_sha256, what="the uploaded stream")

    def _put(self, source: BinaryIO, expected: str | None, what: str) -> BlobInfo:
        tmp_path: Path | None = None
        try:
            fd, tmp_name = tempfile.mkstemp(
                dir=self.tmp_dir, prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX
            )
            tmp_path = Path(tmp_name)
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                while True:
                    try:
                        chunk = source.read(HASH_CHUNK_SIZE)
                    except OSError as exc:
                        raise BlobStoreError(
                            f"Could not read {what}: {exc.strerror or exc}."
                        ) from exc
                    if not chunk:
                        break
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                faults.point("store.tmp_written")
                os.fchmod(out.fileno(), _BLOB_MODE)
                os.fsync(out.fileno())
                faults.point("store.tmp_fsynced")
            sha256 = digest.hexdigest()
            if expected is not None and sha256 != expected:
                raise integrity_error(expected, sha256, what)
            created = self._commit(tmp_path, sha256)
            return BlobInfo(sha256=sha256, size=size, created=created)
        except OSError as exc:
            raise BlobStoreError(
                f"Could not write {what} into the blob store at {self.root}: {exc.strerror or exc}."
            ) from exc
        finally:
            if tmp_path is not None:
                with contextlib.suppress(FileNotFoundError):
                    tmp_path.unlink()

    def _commit(self, tmp_path: Path, sha256: str) -> bool:
        """Link the fsynced temp file into place; False when the blob already existed."""
        final = self.path_for(sha256)
        fan1 = final.parent.parent
        fan2 = final.parent
        for directory in (fan1, fan2):
            with contextlib.suppress(FileExistsError):
                directory.mkdir()
        try:
            os.link(tmp_path, final)
            faults.point("store.linked")
        except FileExistsError:
            return False
        except OSError as exc:
            # Filesystems without hard links: rename instead. The name is the content's
            # hash, so even a racing writer could only put identical bytes there.
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if final.exists():
                return False
            os.rename(tmp_path, final)
        # Make the new name durable, and the fan-out folders' names as well (cheap next
        # to the blob itself, and covers folders left un-synced by an earlier crash).
        _fsync_dir(fan2)
        _fsync_dir(fan1)
        _fsync_dir(self.blob_dir)
        faults.point("store.done")
        return True

    # -- reading -----------------------------------------------------------------------

    def exists(self, sha256: str) -> bool:
        """Whether a blob with this hash is stored."""
        return self.path_for(sha256).is_file()

    def size(self, sha256: str) -> int:
        """The blob's size in bytes; raises BlobNotFound if it is missing."""
        path = self.path_for(sha256)
        try:
            return path.stat().st_size
        except FileNotFoundError as exc:
            raise self._not_found(sha256) from exc
        except OSError as exc:
            raise self._os_error("read the size of", sha256, exc) from exc

    def iter_bytes(
        self, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        """Yield the bytes in ``[start, end)``; BlobNotFound is raised before iterating."""
        check_range(start, end, chunk_size)
        total = self.size(sha256)
        stop = total if end is None else min(end, total)
        return self._read_range(sha256, start, stop, chunk_size)

    def _read_range(self, sha256: str, start: int, stop: int, chunk_size: int) -> Iterator[bytes]:
        remaining = stop - start
        if remaining <= 0:
            return
        try:
            with self.path_for(sha256).open("rb") as handle:
                handle.seek(start)
                while remaining > 0:
                    chunk = handle.read(min(chunk_size, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    yield chunk
        except FileNotFoundError as exc:
            raise self._not_found(sha256) from exc
        except OSError as exc:
            raise self._os_error("read", sha256, exc) from exc

    def rehash(self, sha256: str) -> str:
        """Re-read every stored byte and return the content's actual SHA-256 hex."""
        digest = hashlib.sha256()
        for chunk in self.iter_bytes(sha256, chunk_size=HASH_CHUNK_SIZE):
            digest.update(chunk)
        return digest.hexdigest()

    # -- removal and housekeeping ------------------------------------------------------

    def delete(self, sha256: str) -> None:
        """Remove the blob (for purge); a missing blob is not an error."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._os_error("delete", sha256, exc) from exc
        with contextlib.suppress(OSError):
            _fsync_dir(path.parent)

    def iter_hashes(self) -> Iterator[str]:
        """Yield the hash of every stored blob, in sorted order."""
        try:
            for fan1 in sorted(os.scandir(self.blob_dir), key=lambda e: e.name):
                if not (_is_fanout(fan1.name) and fan1.is_dir(follow_symlinks=False)):
                    continue
                for fan2 in sorted(os.scandir(fan1.path), key=lambda e: e.name):
                    if not (_is_fanout(fan2.name) and fan2.is_dir(follow_symlinks=False)):
                        continue
                    prefix = fan1.name + fan2.name
                    for entry in sorted(os.scandir(fan2.path), key=lambda e: e.name):
                        name = entry.name
                        if (
                            len(name) == 64
                            and name.startswith(prefix)
                            and set(name) <= _HEX
                            and entry.is_file(follow_symlinks=False)
                        ):
                            yield name
        except OSError as exc:
            raise BlobStoreError(
                f"Could not list the blobs under {self.blob_dir}: {exc.strerror or exc}."
            ) from exc

    def stray_temp_files(self, min_age_s: float = 0.0) -> list[str]:
        """Absolute paths of leftovers in ``tmp/`` older than ``min_age_s`` seconds.

        With the default of 0 this includes writes in progress; pass an age when other
        writers may be running.
        """
        cutoff = time.time() - min_age_s
        try:
            entries = sorted(os.scandir(self.tmp_dir), key=lambda e: e.name)
            return [
                entry.path
                for entry in entries
                if min_age_s <= 0 or entry.stat(follow_symlinks=False).st_mtime <= cutoff
            ]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise BlobStoreError(
                f"Could not list the temporary folder {self.tmp_dir}: {exc.strerror or exc}."
            ) from exc

    def clean_stray(self, min_age_s: float = 0.0) -> int:
        """Remove leftovers in ``tmp/`` older than ``min_age_s`` seconds; return the count."""
        removed = 0
        for name in self.stray_temp_files(min_age_s):
            path = Path(name)
            try:
                if stat.S_ISDIR(path.lstat().st_mode):
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise BlobStoreError(
                    f"Could not remove the stray temporary file {path}: {exc.strerror or exc}."
                ) from exc
            removed += 1
        return removed

    # -- errors ------------------------------------------------------------------------

    def _not_found(self, sha256: str) -> BlobNotFound:
        return BlobNotFound(f"The blob {sha256} is not in the store at {self.root}.")

    def _os_error(self, action: str, sha256: str, exc: OSError) -> BlobStoreError:
        return BlobStoreError(
            f"Could not {action} the blob {sha256} in the store at {self.root}: "
            f"{exc.strerror or exc}."
        )
