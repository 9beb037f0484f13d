"""Open a blob store from its URL (``BODYCAM_STORAGE_URL``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from bodycam.storage.interface import BlobStore
from bodycam.storage.local import LocalBlobStore

_S3_PARAMS = frozenset(
    {"endpoint", "region", "prefix", "access_key", "secret_key", "multipart_threshold", "part_size"}
)


def open_store(url: str) -> BlobStore:
    """Open the store named by ``url``.

    ``file:///abs/path`` opens a local folder; ``s3://bucket?endpoint=http://host:port
    &region=us-east-1&prefix=x/`` opens a bucket, with credentials from the
    ``access_key``/``secret_key`` parameters or else boto3's defaults (AWS_* env vars).
    ``multipart_threshold`` and ``part_size`` (bytes) tune large uploads.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(
                f"The storage URL {url!r} names host {parts.netloc!r}; use file:///absolute/path."
            )
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"The storage URL {url!r} needs an absolute path (file:///...).")
        return LocalBlobStore(Path(path))
    if scheme == "s3":
        bucket = parts.netloc
        if not bucket:
            raise ValueError(f"The storage URL {url!r} names no bucket (s3://bucket?...).")
        if parts.path not in ("", "/"):
            raise ValueError(
                f"The storage URL {url!r} has a path; give a key prefix as ?prefix=... instead."
            )
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - _S3_PARAMS)
        if unknown:
            raise ValueError(
                f"The storage URL {url!r} has unknown parameter(s) {', '.join(unknown)}; "
                f"known are {', '.join(sorted(_S3_PARAMS))}."
            )

        def one(name: str) -> str | None:
            values = query.get(name)
            if not values:
                return None
            if len(values) > 1:
                raise ValueError(f"The storage URL {url!r} repeats the parameter {name}.")
            return values[0] or None

        def number(name: str, default: int) -> int:
            value = one(name)
            if value is None:
                return default
            try:
                return int(value)
            except ValueError:
                raise ValueError(
                    f"The storage URL {url!r} has {name}={value!r}, which is not a whole number."
                ) from None

        from bodycam.storage.s3 import (  # boto3 is loaded only when S3 is used
            DEFAULT_MULTIPART_THRESHOLD,
            DEFAULT_PART_SIZE,
            S3BlobStore,
        )

        return S3BlobStore(
            bucket,
            endpoint_url=one("endpoint"),
            region=one("region"),
            access_key=one("access_key"),
            secret_key=one("secret_key"),
            prefix=one("prefix") or "",
            multipart_threshold=number("multipart_threshold", DEFAULT_MULTIPART_THRESHOLD),
            part_size=number("part_size", DEFAULT_PART_SIZE),
        )
    raise ValueError(
        f"The storage URL {url!r} has an unknown scheme; use file:///path or s3://bucket?...."
    )
