"""open_store: URL parsing (no server needed; S3 clients connect lazily)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bodycam.storage import LocalBlobStore, S3BlobStore, open_store


def test_file_url(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/blobs")
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "blobs"
    assert open_store(store.url).url == store.url


def test_s3_url() -> None:
    store = open_store(
        "s3://evidence?endpoint=http://127.0.0.1:8333&region=us-east-1&prefix=x/"
        "&access_key=AK&secret_key=SK&multipart_threshold=10485760&part_size=5242880"
    )
    assert isinstance(store, S3BlobStore)
    assert store.bucket == "evidence"
    assert store.endpoint_url == "http://127.0.0.1:8333"
    assert store.region == "us-east-1"
    assert store.prefix == "x/"
    assert store.multipart_threshold == 10 << 20
    assert store.part_size == 5 << 20
    assert store.key_for("ab" * 32) == "x/sha256/ab/ab/" + "ab" * 32
    assert "SK" not in store.url and "AK" not in store.url
    assert store.url == (
        "s3://evidence?endpoint=http://127.0.0.1:8333&region=us-east-1&prefix=x/"
        "&multipart_threshold=10485760&part_size=5242880"
    )
    again = open_store(store.url)
    assert isinstance(again, S3BlobStore)
    assert (again.prefix, again.part_size, again.multipart_threshold) == ("x/", 5 << 20, 10 << 20)


def test_s3_url_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-env")
    store = open_store("s3://footage")
    assert isinstance(store, S3BlobStore)
    assert store.url == "s3://footage"
    # boto3's default chain found the keys in the environment
    credentials = store.client._request_signer._credentials  # type: ignore[attr-defined]
    assert credentials.access_key == "from-env"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host/blobs",
        "/plain/path",
        "blobs",
        "gs://bucket",
        "file://relative/path",
        "file:relative",
        "s3://",
        "s3://bucket/some/path",
        "s3://bucket?colour=red",
        "s3://bucket?part_size=big",
        "s3://bucket?region=a&region=b",
        "s3://Bad_Bucket",
        "s3://bucket?access_key=only-one",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.endswith(".")
    if not url.startswith("s3://Bad") and "access_key=only" not in url:
        assert repr(url) in message
