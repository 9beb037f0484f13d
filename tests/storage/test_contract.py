"""The blob-store contract, run against every backend (local folder and real S3 server)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from bodycam.storage import (
    BlobIntegrityError,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    LocalBlobStore,
    S3BlobStore,
    open_store,
)
from tests.fixtures.s3_server import S3Server

StoreFactory = Callable[[], BlobStore]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each backend in turn: a local folder, then a fresh bucket on the real S3 server."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    s3_store: S3BlobStore = request.getfixturevalue("s3_store")
    return s3_store


def corrupt(store: BlobStore, digest: str, offset: int) -> None:
    """Flip one stored byte behind the store's back (as bit rot or tampering would)."""
    if isinstance(store, LocalBlobStore):
        path = store.path_for(digest)
        path.chmod(0o644)
        with path.open("r+b") as handle:
            handle.seek(offset)
            byte = handle.read(1)
            handle.seek(offset)
            handle.write(bytes([byte[0] ^ 0xFF]))
        path.chmod(0o444)
    else:
        assert isinstance(store, S3BlobStore)
        key = store.key_for(digest)
        data = bytearray(store.client.get_object(Bucket=store.bucket, Key=key)["Body"].read())
        data[offset] ^= 0xFF
        store.client.put_object(Bucket=store.bucket, Key=key, Body=bytes(data))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_satisfies_protocol(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)
    assert store.url.startswith(("file:///", "s3://"))


def test_put_file_roundtrip(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    source = write(tmp_path / "clip.mp4", data)
    info = store.put_file(source)
    assert info.sha256 == sha(data)
    assert info.size == len(data)
    assert info.created is True
    assert store.exists(info.sha256)
    assert store.size(info.sha256) == len(data)
    assert b"".join(store.iter_bytes(info.sha256)) == data
    assert store.rehash(info.sha256) == info.sha256
    assert source.read_bytes() == data  # the caller's file is copied, not moved


def test_put_stream_roundtrip_multi_chunk(store: BlobStore) -> None:
    data = os.urandom(9 * (1 << 20) + 123)  # more than two 4 MiB hashing chunks
    info = store.put_stream(io.BytesIO(data))
    assert (info.sha256, info.size, info.created) == (sha(data), len(data), True)
    assert b"".join(store.iter_bytes(info.sha256)) == data


def test_empty_blob(store: BlobStore) -> None:
    info = store.put_stream(io.BytesIO(b""))
    assert info.sha256 == sha(b"")
    assert store.size(info.sha256) == 0
    assert list(store.iter_bytes(info.sha256)) == []
    assert list(store.iter_bytes(info.sha256, 0, 0)) == []
    assert store.rehash(info.sha256) == sha(b"")


def test_dedupe_does_not_rewrite(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(50_000)
    first = store.put_file(write(tmp_path / "a.bin", data))
    before = _stored_identity(store, first.sha256)
    again = store.put_file(write(tmp_path / "b.bin", data))
    streamed = store.put_stream(io.BytesIO(data), expected_sha256=sha(data))
    assert first.created is True
    assert (again.sha256, again.size, again.created) == (first.sha256, len(data), False)
    assert (streamed.sha256, streamed.created) == (first.sha256, False)
    assert _stored_identity(store, first.sha256) == before
    assert list(store.iter_hashes()) == [first.sha256]


def _stored_identity(store: BlobStore, digest: str) -> object:
    """Something that changes if the stored blob were rewritten."""
    if isinstance(store, LocalBlobStore):
        st = store.path_for(digest).stat()
        return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    assert isinstance(store, S3BlobStore)
    head = store.client.head_object(Bucket=store.bucket, Key=store.key_for(digest))
    return (head["ETag"], head["LastModified"])


def test_expected_hash_mismatch_stores_nothing(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(10_000)
    wrong = sha(b"something else")
    with pytest.raises(BlobIntegrityError, match="expected"):
        store.put_file(write(tmp_path / "x.bin", data), expected_sha256=wrong)
    with pytest.raises(BlobIntegrityError):
        store.put_stream(io.BytesIO(data), expected_sha256=wrong)
    assert not store.exists(sha(data))
    assert not store.exists(wrong)
    assert list(store.iter_hashes()) == []
    assert store.stray_temp_files() == []
    info = store.put_stream(io.BytesIO(data), expected_sha256=sha(data))
    assert info.created is True


RANGES = [
    (0, None),
    (0, 1),
    (0, 1000),
    (10, 20),
    (999, 1000),  # last byte
    (999, None),  # last byte, open end
    (1000, None),  # empty tail
    (1000, 1000),
    (500, 500),
    (400, 5000),  # end past EOF is clamped
    (1500, None),  # start past EOF: nothing
]


def test_range_reads(store: BlobStore) -> None:
    data = os.urandom(1000)
    digest = store.put_stream(io.BytesIO(data)).sha256
    for start, end in RANGES:
        got = b"".join(store.iter_bytes(digest, start, end))
        assert got == data[start:end], (start, end)
    chunks = list(store.iter_bytes(digest, 3, 900, chunk_size=64))
    assert b"".join(chunks) == data[3:900]
    assert len(chunks) >= (900 - 3) // 64
    assert all(0 < len(c) <= 64 for c in chunks)


def test_bad_ranges_are_refused(store: BlobStore) -> None:
    digest = store.put_stream(io.BytesIO(b"0123456789")).sha256
    for start, end, chunk in [(-1, None, 10), (5, 4, 10), (0, None, 0)]:
        with pytest.raises(ValueError):
            store.iter_bytes(digest, start, end, chunk_size=chunk)


def test_rehash_detects_a_changed_byte(store: BlobStore) -> None:
    data = os.urandom(4096)
    digest = store.put_stream(io.BytesIO(data)).sha256
    corrupt(store, digest, 2048)
    actual = store.rehash(digest)
    assert actual != digest
    assert actual == sha(data[:2048] + bytes([data[2048] ^ 0xFF]) + data[2049:])


def test_delete(store: BlobStore) -> None:
    keep = store.put_stream(io.BytesIO(b"keep me")).sha256
    gone = store.put_stream(io.BytesIO(b"purge me")).sha256
    store.delete(gone)
    assert not store.exists(gone)
    with pytest.raises(BlobNotFound):
        store.size(gone)
    with pytest.raises(BlobNotFound):
        store.iter_bytes(gone)
    with pytest.raises(BlobNotFound):
        store.rehash(gone)
    store.delete(gone)  # a missing blob is not an error
    assert list(store.iter_hashes()) == [keep]
    # and it can be stored again
    assert store.put_stream(io.BytesIO(b"purge me")).created is True


def test_missing_blob(store: BlobStore) -> None:
    missing = sha(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(BlobNotFound, match=missing):
        store.size(missing)
    with pytest.raises(BlobNotFound):
        store.iter_bytes(missing, 0, 10)
    with pytest.raises(BlobNotFound):
        store.iter_bytes(missing, 5, 5)
    with pytest.raises(BlobNotFound):
        store.rehash(missing)


def test_iter_hashes(store: BlobStore) -> None:
    digests = {store.put_stream(io.BytesIO(f"blob {i}".encode())).sha256 for i in range(5)}
    assert sorted(store.iter_hashes()) == sorted(digests)


BAD_HASHES = [
    "",
    "abc",
    "../../../etc/passwd",
    "a" * 63,
    "a" * 65,
    "A" * 64,
    "g" * 64,
    "../" + "a" * 61,
    "a" * 62 + "/x",
    " " + "a" * 63,
]


def test_invalid_hash_is_refused(store: BlobStore, tmp_path: Path) -> None:
    source = write(tmp_path / "f", b"x")
    for bad in BAD_HASHES:
        calls: list[Callable[[], object]] = [
            lambda: store.exists(bad),
            lambda: store.size(bad),
            lambda: store.iter_bytes(bad),
            lambda: store.rehash(bad),
            lambda: store.delete(bad),
            lambda: store.put_file(source, expected_sha256=bad),
            lambda: store.put_stream(io.BytesIO(b"x"), expected_sha256=bad),
        ]
        for call in calls:
            with pytest.raises(ValueError, match="SHA-256"):
                call()
    assert list(store.iter_hashes()) == []


def test_missing_source_file(store: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(BlobStoreError, match="does not exist"):
        store.put_file(tmp_path / "no-such-file.mp4")
    with pytest.raises(BlobStoreError, match="folder"):
        store.put_file(tmp_path)


def test_concurrent_puts_of_the_same_content(store: BlobStore) -> None:
    store.put_stream(io.BytesIO(b"warm up"))  # (SeaweedFS: a new bucket's first write is slow)
    data = os.urandom(200_000)
    results: list[bool] = []
    errors: list[BaseException] = []

    def put() -> None:
        try:
            results.append(store.put_stream(io.BytesIO(data)).created)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    assert store.rehash(sha(data)) == sha(data)
    assert len(list(store.iter_hashes())) == 2


def test_open_store_from_url(store: BlobStore, s3_or_none: S3Server | None) -> None:
    digest = store.put_stream(io.BytesIO(b"by url")).sha256
    if isinstance(store, LocalBlobStore):
        reopened = open_store(store.url)
        assert isinstance(reopened, LocalBlobStore)
        assert reopened.root == store.root
    else:
        assert isinstance(store, S3BlobStore)
        assert s3_or_none is not None
        assert s3_or_none.secret_key not in store.url
        reopened = open_store(s3_or_none.url_for(store.bucket))
        assert isinstance(reopened, S3BlobStore)
    assert reopened.exists(digest)
    assert b"".join(reopened.iter_bytes(digest)) == b"by url"


@pytest.fixture
def s3_or_none(request: pytest.FixtureRequest, store: BlobStore) -> S3Server | None:
    if isinstance(store, S3BlobStore):
        server: S3Server = request.getfixturevalue("s3_server")
        return server
    return None
