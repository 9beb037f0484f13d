"""S3BlobStore specifics against a real SeaweedFS server: checksums, multipart, errors."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from bodycam.storage import BlobIntegrityError, BlobStoreError, S3BlobStore
from bodycam.storage.s3 import MIB
from tests.fixtures.s3_server import S3Server, empty_bucket

pytestmark = pytest.mark.s3


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def small_parts_store(s3_server: S3Server) -> Iterator[S3BlobStore]:
    """A store that uploads files of 5 MiB or more in 5 MiB parts."""
    store = s3_server.store(
        f"bodycam-mp-{uuid.uuid4().hex[:12]}", multipart_threshold=5 * MIB, part_size=5 * MIB
    )
    store.ensure_bucket()
    yield store
    empty_bucket(store.client, store.bucket)


def test_server_refuses_a_wrong_sha256_checksum(s3_store: S3BlobStore) -> None:
    """SeaweedFS itself verifies x-amz-checksum-sha256 against the body it receives."""
    client, bucket = s3_store.client, s3_store.bucket
    body = b"the real bytes" * 100
    with pytest.raises(ClientError) as caught:
        client.put_object(
            Bucket=bucket, Key="wrong", Body=body, ChecksumSHA256=b64sha(b"other bytes")
        )
    assert caught.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError):
        client.head_object(Bucket=bucket, Key="wrong")
    # The same body with its true checksum is accepted and echoed back.
    done = client.put_object(Bucket=bucket, Key="right", Body=body, ChecksumSHA256=b64sha(body))
    assert done.get("ChecksumSHA256") == b64sha(body)


def test_server_refuses_a_wrong_part_checksum(s3_store: S3BlobStore) -> None:
    client, bucket = s3_store.client, s3_store.bucket
    upload = client.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")
    try:
        with pytest.raises(ClientError) as caught:
            client.upload_part(
                Bucket=bucket,
                Key="mp",
                UploadId=upload["UploadId"],
                PartNumber=1,
                Body=b"part bytes",
                ChecksumSHA256=b64sha(b"not the part"),
            )
        assert caught.value.response["Error"]["Code"] == "BadDigest"
    finally:
        client.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"])


def test_object_carries_checksum_and_metadata(s3_store: S3BlobStore) -> None:
    data = os.urandom(2048)
    digest = s3_store.put_stream(io.BytesIO(data)).sha256
    head = s3_store.client.head_object(
        Bucket=s3_store.bucket, Key=s3_store.key_for(digest), ChecksumMode="ENABLED"
    )
    assert head["Metadata"] == {"sha256": digest}
    assert head["ChecksumSHA256"] == b64sha(data)
    assert s3_store.key_for(digest) == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def test_multipart_upload(small_parts_store: S3BlobStore, tmp_path: Path) -> None:
    store = small_parts_store
    data = os.urandom(12 * MIB + 12345)  # three parts: 5 + 5 + 2 MiB
    source = tmp_path / "long-shift.mp4"
    source.write_bytes(data)
    tracemalloc.start()
    try:
        info = store.put_file(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.sha256, info.size, info.created) == (sha(data), len(data), True)
    assert peak < 5 * MIB, f"upload held {peak} bytes; it should stream, not load the file"
    head = store.client.head_object(
        Bucket=store.bucket, Key=store.key_for(info.sha256), ChecksumMode="ENABLED"
    )
    assert head["ContentLength"] == len(data)
    assert head["Metadata"] == {"sha256": info.sha256}
    assert head.get("ChecksumSHA256", "").endswith("-3")  # composite of three part checksums
    assert store.rehash(info.sha256) == info.sha256
    start = 5 * MIB - 10  # a range across the first part boundary
    assert b"".join(store.iter_bytes(info.sha256, start, start + 20)) == data[start : start + 20]
    assert store.put_file(source).created is False
    assert store.stray_temp_files() == []


def test_multipart_failure_aborts_the_upload(
    small_parts_store: S3BlobStore, tmp_path: Path
) -> None:
    """A file that shrinks during upload: the upload is aborted and nothing is stored."""
    store = small_parts_store
    source = tmp_path / "truncated.bin"
    source.write_bytes(os.urandom(6 * MIB))
    digest = sha(b"claimed")
    with pytest.raises(BlobStoreError, match="shrank"):
        store._put_multipart(source, digest, 11 * MIB, "the file")
    assert store.stray_temp_files() == []
    assert not store.exists(digest)


def test_put_stream_multipart(small_parts_store: S3BlobStore) -> None:
    data = os.urandom(6 * MIB)
    info = small_parts_store.put_stream(io.BytesIO(data))
    assert info.created and info.size == len(data)
    assert small_parts_store.rehash(info.sha256) == sha(data)


def test_wrong_secret_is_refused(s3_store: S3BlobStore, s3_server: S3Server) -> None:
    digest = s3_store.put_stream(io.BytesIO(b"private")).sha256
    intruder = S3BlobStore(
        s3_store.bucket,
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key=s3_server.access_key,
        secret_key="not-the-secret",
        max_attempts=1,
    )
    with pytest.raises(BlobStoreError, match="refused the credentials"):
        intruder.put_stream(io.BytesIO(b"forged"))
    with pytest.raises(BlobStoreError, match="refused the credentials") as caught:
        list(intruder.iter_bytes(digest))
    assert "not-the-secret" not in str(caught.value)
    with pytest.raises(BlobStoreError):
        intruder.exists(digest)
    with pytest.raises(BlobStoreError):
        list(intruder.iter_hashes())
    assert list(s3_store.iter_hashes()) == [digest]


def test_unreachable_server_is_a_store_error() -> None:
    store = S3BlobStore(
        "nowhere",
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        access_key="a",
        secret_key="b",
        max_attempts=1,
        connect_timeout=1,
    )
    with pytest.raises(BlobStoreError, match=r"127\.0\.0\.1:9"):
        store.exists(sha(b"x"))


def test_missing_bucket_is_a_store_error(s3_server: S3Server) -> None:
    # (SeaweedFS creates a missing bucket on PUT, unlike AWS, so only reads are checked.)
    store = s3_server.store(f"bodycam-absent-{uuid.uuid4().hex[:8]}")
    with pytest.raises(BlobStoreError, match="does not exist"):
        list(store.iter_hashes())
    with pytest.raises(BlobStoreError, match="does not exist"):
        store.iter_bytes(sha(b"x"))


def test_ensure_bucket_is_idempotent(s3_server: S3Server) -> None:
    store = s3_server.store(f"bodycam-ensure-{uuid.uuid4().hex[:8]}")
    try:
        store.ensure_bucket()
        store.ensure_bucket()
        assert store.put_stream(io.BytesIO(b"ok")).created
    finally:
        empty_bucket(store.client, store.bucket)


def test_prefix_isolates_stores(s3_store: S3BlobStore, s3_server: S3Server) -> None:
    tenant = s3_server.store(s3_store.bucket, prefix="agency-a")
    assert tenant.prefix == "agency-a/"
    digest = tenant.put_stream(io.BytesIO(b"prefixed")).sha256
    assert tenant.key_for(digest).startswith("agency-a/sha256/")
    assert list(tenant.iter_hashes()) == [digest]
    assert list(s3_store.iter_hashes()) == []
    assert not s3_store.exists(digest)


def test_stray_uploads_and_tmp_keys(s3_store: S3BlobStore) -> None:
    client, bucket = s3_store.client, s3_store.bucket
    key = s3_store.key_for(sha(b"interrupted"))
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256")
    client.upload_part(
        Bucket=bucket,
        Key=key,
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"half",
        ChecksumSHA256=b64sha(b"half"),
    )
    client.put_object(Bucket=bucket, Key="tmp/spool-1", Body=b"junk")
    strays = s3_store.stray_temp_files()
    assert sorted(strays) == sorted([f"{key}?uploadId={upload['UploadId']}", "tmp/spool-1"])
    assert s3_store.stray_temp_files(min_age_s=3600) == []
    assert s3_store.clean_stray() == 2
    assert s3_store.stray_temp_files() == []
    assert not s3_store.exists(sha(b"interrupted"))


def test_server_side_integrity_error_is_translated(s3_store: S3BlobStore, tmp_path: Path) -> None:
    """A file that changes between hashing and upload is refused by the server's check."""
    source = tmp_path / "changing.bin"
    source.write_bytes(b"version two")
    claimed = sha(b"version one")  # what the first read saw, say
    with pytest.raises(BlobIntegrityError, match="checksum"):
        s3_store._put_single(source, claimed, len(b"version two"), "the file")
    assert not s3_store.exists(claimed)


def test_put_single_reports_existing_blob_race(s3_store: S3BlobStore, tmp_path: Path) -> None:
    """If another writer stored the blob after our HEAD, If-None-Match makes ours a no-op."""
    source = tmp_path / "same.bin"
    source.write_bytes(b"same bytes")
    digest = s3_store.put_file(source).sha256
    before = s3_store.client.head_object(Bucket=s3_store.bucket, Key=s3_store.key_for(digest))
    assert s3_store._put_single(source, digest, 10, "the file") is False
    after = s3_store.client.head_object(Bucket=s3_store.bucket, Key=s3_store.key_for(digest))
    assert after["LastModified"] == before["LastModified"]
