"""Blob stores behind one interface: a local content-addressed folder, or S3."""

from bodycam.storage.factory import open_store
from bodycam.storage.interface import (
    BlobInfo,
    BlobIntegrityError,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    validate_sha256,
)
from bodycam.storage.local import LocalBlobStore


def __getattr__(name: str) -> object:
    # boto3 takes a quarter of a second to import: load it only when S3 is used.
    if name == "S3BlobStore":
        from bodycam.storage.s3 import S3BlobStore

        return S3BlobStore
    raise AttributeError(name)


__all__ = [
    "BlobInfo",
    "BlobIntegrityError",
    "BlobNotFound",
    "BlobStore",
    "BlobStoreError",
    "LocalBlobStore",
    "S3BlobStore",
    "open_store",
    "validate_sha256",
]
