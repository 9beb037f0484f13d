"""LocalBlobStore specifics: layout, permissions, crash safety, stray temp files."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bodycam.storage import BlobStoreError, LocalBlobStore, open_store


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_outside_tmp(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and (root / "tmp") not in p.parents]


def test_layout_mode_and_url(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    data = b"body camera footage"
    digest = sha(data)
    info = store.put_stream(io.BytesIO(data))
    path = tmp_path / "blobs" / "sha256" / digest[0:2] / digest[2:4] / digest
    assert store.path_for(digest) == path
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert path.stat().st_nlink == 1  # the temp link is gone
    assert info.created
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    assert store.url == (tmp_path / "blobs").as_uri()
    assert store.url.startswith("file:///")


def test_relative_root_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = LocalBlobStore(Path("rel"))
    assert store.root == tmp_path / "rel"
    assert store.url == (tmp_path / "rel").as_uri()


def test_dedupe_keeps_the_original_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    source = tmp_path / "clip.bin"
    source.write_bytes(b"x" * 1000)
    first = store.put_file(source)
    stored = store.path_for(first.sha256)
    before = stored.stat()
    time.sleep(0.01)
    again = store.put_file(source)
    after = stored.stat()
    assert again.created is False
    assert (after.st_ino, after.st_mtime_ns, after.st_ctime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_ctime_ns,
    )
    assert source.exists() and source.stat().st_ino != after.st_ino


class FailingStream(io.RawIOBase):
    """Yields some data, then fails as a dropped upload connection would."""

    def __init__(self, chunks: int, error: BaseException) -> None:
        self.left = chunks
        self.error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left == 0:
            raise self.error
        self.left -= 1
        return b"z" * (1 << 20)


@pytest.mark.parametrize(
    "error", [OSError(104, "Connection reset by peer"), RuntimeError("client went away")]
)
def test_failed_write_leaves_nothing(tmp_path: Path, error: BaseException) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises((BlobStoreError, RuntimeError)):
        store.put_stream(FailingStream(3, error))  # type: ignore[arg-type]
    assert files_outside_tmp(tmp_path / "blobs") == []
    assert store.stray_temp_files() == []
    assert list(store.iter_hashes()) == []


CRASHING_WRITER = textwrap.dedent(
    """
    import sys, time
    from bodycam.storage import LocalBlobStore

    class Slow:
        def __init__(self):
            self.n = 0
        def read(self, size=-1):
            self.n += 1
            if self.n > 3:
                time.sleep(0.05)
            return b"v" * 65536

    LocalBlobStore(sys.argv[1]).put_stream(Slow())
    """
)


def test_killed_writer_leaves_only_a_temp_file(tmp_path: Path) -> None:
    """SIGKILL a process mid-write: no blob appears, the partial file is a stray in tmp/."""
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    good = store.put_stream(io.BytesIO(b"already safe")).sha256
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_WRITER, str(root)])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            partial = [p for p in (root / "tmp").iterdir() if p.stat().st_size > 0]
            if partial:
                break
            assert proc.poll() is None, "the writer exited early"
            time.sleep(0.01)
        else:
            pytest.fail("the writer never started writing")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert [p.name for p in files_outside_tmp(root)] == [good]
    assert list(store.iter_hashes()) == [good]
    strays = store.stray_temp_files()
    assert len(strays) == 1 and Path(strays[0]).parent == root / "tmp"
    assert store.clean_stray() == 1
    assert store.stray_temp_files() == []
    assert store.rehash(good) == good


def test_stray_temp_files_listed_and_cleaned(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    tmp = tmp_path / "blobs" / "tmp"
    old = tmp / "put-old.part"
    old.write_bytes(b"partial")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    fresh = tmp / "put-fresh.part"
    fresh.write_bytes(b"in progress")
    (tmp / "leftover-dir").mkdir()
    assert sorted(store.stray_temp_files()) == sorted(
        str(p) for p in (old, fresh, tmp / "leftover-dir")
    )
    assert store.stray_temp_files(min_age_s=600) == [str(old)]
    assert store.clean_stray(min_age_s=600) == 1
    assert fresh.exists() and not old.exists()
    assert store.clean_stray() == 2
    assert store.stray_temp_files() == []


def test_iter_hashes_ignores_foreign_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    digest = store.put_stream(io.BytesIO(b"real")).sha256
    fan = store.path_for(digest).parent
    (fan / "notes.txt").write_text("not a blob")
    misplaced = sha(b"elsewhere")
    (fan / misplaced).write_bytes(b"elsewhere")  # wrong fan-out folder for its name
    (tmp_path / "blobs" / "sha256" / "zz").mkdir()
    assert list(store.iter_hashes()) == [digest]


def test_delete_read_only_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    digest = store.put_stream(io.BytesIO(b"to purge")).sha256
    store.delete(digest)
    assert not store.path_for(digest).exists()


def test_unwritable_root_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("I am a file")
    with pytest.raises(BlobStoreError, match="Could not open the blob store folder"):
        LocalBlobStore(blocker / "blobs")


def test_open_store_file_url_with_space(tmp_path: Path) -> None:
    root = tmp_path / "with space"
    store = open_store(root.as_uri())
    assert isinstance(store, LocalBlobStore)
    assert store.root == root
