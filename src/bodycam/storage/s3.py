"""A content-addressed blob store in an S3-compatible bucket (boto3).

Key layout: ``<prefix>sha256/ab/cd/<hash>``. Every upload carries its SHA-256 as an
S3 flexible checksum (``ChecksumSHA256``), so the server verifies the bytes it
received; multipart uploads carry one checksum per part and the server's composite
checksum is checked on completion. Uploads are conditional (``If-None-Match: *``),
so an existing blob is never overwritten, and an S3 object only becomes visible when
complete, so no partial blob is ever exposed. Servers that do not echo the checksum
back get a re-read of the stored object instead.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlencode

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from bodycam.storage.interface import (
    HASH_CHUNK_SIZE,
    BlobInfo,
    BlobIntegrityError,
    BlobNotFound,
    BlobStoreError,
    check_range,
    integrity_error,
    sha256_file,
    validate_sha256,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

MIB = 1 << 20
#: Smallest part S3 accepts (except the last one).
MIN_PART_SIZE = 5 * MIB
#: Most parts one multipart upload may have.
MAX_PARTS = 10_000
DEFAULT_MULTIPART_THRESHOLD = 64 * MIB
DEFAULT_PART_SIZE = 16 * MIB

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_AUTH_CODES = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"}
)
_DIGEST_CODES = frozenset(
    {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}
)
_EXISTS_CODES = frozenset({"412", "PreconditionFailed"})


@functools.cache
def _data_loader() -> Any:
    """One botocore model loader for every store: building a client then takes ~10 ms."""
    return botocore.loaders.create_loader()


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _clause(text: object) -> str:
    """Text made fit to end a sentence (no trailing period of its own)."""
    return str(text).strip().rstrip(".")


class _FileSlice:
    """A read-only, seekable view of ``length`` bytes of a file from ``offset``.

    boto3 streams a request body from it (and rewinds it to retry) without the part
    ever being held in memory. Positions are relative to the slice.
    """

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = fd
        self._offset = offset
        self._length = length
        self._pos = 0

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        remaining = self._length - self._pos
        if remaining <= 0:
            return b""
        if size is None or size < 0 or size > remaining:
            size = remaining
        data = os.pread(self._fd, size, self._offset + self._pos)
        self._pos += len(data)
        return data

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            new = position
        elif whence == os.SEEK_CUR:
            new = self._pos + position
        elif whence == os.SEEK_END:
            new = self._length + position
        else:
            raise ValueError(f"Unsupported whence {whence}.")
        if new < 0:
            raise ValueError("Negative seek position.")
        self._pos = new
        return new

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


class S3BlobStore:
    """Blobs in an S3-compatible bucket, addressed by SHA-256 and server-verified."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        spool_dir: Path | None = None,
        verify_after_upload: bool = False,
        max_attempts: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
    ) -> None:
        """Connect to ``bucket``; credentials default to boto3's chain (AWS_* env vars).

        Files of ``multipart_threshold`` bytes or more go up in ``part_size`` parts.
        ``put_stream`` spools into ``spool_dir`` (default: the system temp folder).
        ``verify_after_upload`` re-reads every new object even when the server has
        confirmed its checksum. ``max_attempts`` counts every try of one request
        (standard retry mode: throttling, 5xx and connection errors are retried).
        """
        if _BUCKET_RE.fullmatch(bucket) is None:
            raise ValueError(f"{bucket!r} is not a valid S3 bucket name.")
        if prefix.startswith("/"):
            raise ValueError(f"The S3 key prefix {prefix!r} must not start with '/'.")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"The part size {part_size} is below the S3 minimum of 5 MiB.")
        if multipart_threshold < 1:
            raise ValueError(f"The multipart threshold {multipart_threshold} must be positive.")
        if (access_key is None) != (secret_key is None):
            raise ValueError("Give both an S3 access key and a secret key, or neither.")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.prefix = prefix
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.spool_dir = spool_dir
        self.verify_after_upload = verify_after_upload
        query = {
            key: value
            for key, value in (("endpoint", endpoint_url), ("region", region), ("prefix", prefix))
            if value
        }
        if multipart_threshold != DEFAULT_MULTIPART_THRESHOLD:
            query["multipart_threshold"] = str(multipart_threshold)
        if part_size != DEFAULT_PART_SIZE:
            query["part_size"] = str(part_size)
        self.url = f"s3://{bucket}" + (f"?{urlencode(query, safe=':/')}" if query else "")
        self._where = f"the S3 bucket {bucket} at {endpoint_url or 'AWS'}"
        core = botocore.session.Session()
        core.register_component("data_loader", _data_loader())
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            botocore_session=core,
        )
        config = Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # We send our own SHA-256 checksums; no extra CRC32 trailers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: S3Client = session.client("s3", endpoint_url=endpoint_url, config=config)

    def __repr__(self) -> str:
        return f"S3BlobStore({self.url!r})"

    @property
    def client(self) -> S3Client:
        """The underlying boto3 S3 client."""
        return self._client

    def key_for(self, sha256: str) -> str:
        """The object key that holds (or would hold) the blob; validates the hash."""
        validate_sha256(sha256)
        return f"{self.prefix}sha256/{sha256[0:2]}/{sha256[2:4]}/{sha256}"

    # -- bucket ------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if self._code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise self._error(exc, "check the bucket") from exc
        except BotoCoreError as exc:
            raise self._error(exc, "check the bucket") from exc
        try:
            if self.region and self.region != "us-east-1":
                self._client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},  # type: ignore[typeddict-item]
                )
            else:
                self._client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if self._code(exc) not in ("BucketAlreadyOwnedByYou",):
                raise self._error(exc, "create the bucket") from exc
        except BotoCoreError as exc:
            raise self._error(exc, "create the bucket") from exc

    # -- writing -----------------------------------------------------------------------

    def put_file(self, path: Path, expected_sha256: str | None = None) -> BlobInfo:
        """Upload the file at ``path`` unless a blob with its hash is already stored."""
        if expected_sha256 is not None:
            validate_sha256(expected_sha256)
        source = Path(path)
        try:
            sha256, size = sha256_file(source)
        except FileNotFoundError as exc:
            raise BlobStoreError(f"The file {source} does not exist.") from exc
        except IsADirectoryError as exc:
            raise BlobStoreError(f"{source} is a folder, not a file.") from exc
        except OSError as exc:
            raise BlobStoreError(f"Could not read {source}: {exc.strerror or exc}.") from exc
        if expected_sha256 is not None and sha256 != expected_sha256:
            raise integrity_error(expected_sha256, sha256, f"the file {source}")
        return self._upload(source, sha256, size, f"the file {source}")

    def put_stream(self, stream: BinaryIO, expected_sha256: str | None = None) -> BlobInfo:
        """Spool ``stream`` to a local temp file while hashing it, then upload that."""
        if expected_sha256 is not None:
            validate_sha256(expected_sha256)
        try:
            fd, spool_name = tempfile.mkstemp(
                dir=self.spool_dir, prefix="bodycam-s3-spool-", suffix=".part"
            )
        except OSError as exc:
            raise BlobStoreError(
                f"Could not create a spool file for an S3 upload: {exc.strerror or exc}."
            ) from exc
        spool = Path(spool_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(HASH_CHUNK_SIZE):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha256 = digest.hexdigest()
            if expected_sha256 is not None and sha256 != expected_sha256:
                raise integrity_error(expected_sha256, sha256, "the uploaded stream")
            return self._upload(spool, sha256, size, "the uploaded stream")
        except OSError as exc:
            raise BlobStoreError(
                f"Could not spool the uploaded stream to {spool}: {exc.strerror or exc}."
            ) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                spool.unlink()

    def _upload(self, path: Path, sha256: str, size: int, what: str) -> BlobInfo:
        if self.exists(sha256):
            return BlobInfo(sha256=sha256, size=size, created=False)
        if size < self.multipart_threshold:
            created = self._put_single(path, sha256, size, what)
        else:
            created = self._put_multipart(path, sha256, size, what)
        return BlobInfo(sha256=sha256, size=size, created=created)

    def _put_single(self, path: Path, sha256: str, size: int, what: str) -> bool:
        key = self.key_for(sha256)
        checksum = _b64(bytes.fromhex(sha256))
        try:
            with path.open("rb") as body:
                response = self._client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentLength=size,
                    ContentType="application/octet-stream",
                    ChecksumSHA256=checksum,
                    Metadata={"sha256": sha256},
                    IfNoneMatch="*",
                )
        except ClientError as exc:
            if self._code(exc) in _EXISTS_CODES:
                return False
            raise self._error(exc, f"upload {what} as blob {sha256}", sha256) from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"upload {what} as blob {sha256}", sha256) from exc
        except OSError as exc:
            raise BlobStoreError(f"Could not read {what}: {exc.strerror or exc}.") from exc
        echoed = response.get("ChecksumSHA256")
        self._check_stored(sha256, echoed, checksum, what)
        return True

    def _put_multipart(self, path: Path, sha256: str, size: int, what: str) -> bool:
        key = self.key_for(sha256)
        part_size = max(self.part_size, -(-size // MAX_PARTS))
        part_size = -(-part_size // MIB) * MIB
        action = f"upload {what} as blob {sha256}"
        try:
            upload_id = self._client.create_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                ContentType="application/octet-stream",
                ChecksumAlgorithm="SHA256",
                Metadata={"sha256": sha256},
            )["UploadId"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, action, sha256) from exc
        try:
            parts: list[CompletedPartTypeDef] = []
            part_digests: list[bytes] = []
            fd = os.open(path, os.O_RDONLY)
            try:
                for number, offset in enumerate(range(0, size, part_size), start=1):
                    length = min(part_size, size - offset)
                    part_digest = self._hash_slice(fd, offset, length)
                    checksum = _b64(part_digest)
                    response = self._client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=_FileSlice(fd, offset, length),  # type: ignore[arg-type]
                        ContentLength=length,
                        ChecksumSHA256=checksum,
                    )
                    echoed = response.get("ChecksumSHA256")
                    if echoed is not None and echoed != checksum:
                        raise BlobIntegrityError(
                            f"The S3 server stored part {number} of {what} with checksum "
                            f"{echoed}, not {checksum}; the upload was abandoned."
                        )
                    parts.append(
                        {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}
                    )
                    part_digests.append(part_digest)
            finally:
                os.close(fd)
            composite = _b64(hashlib.sha256(b"".join(part_digests)).digest())
            try:
                done = self._client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                )
            except ClientError as exc:
                if self._code(exc) in _EXISTS_CODES:
                    self._abort(key, upload_id)
                    return False
                raise
        except BaseException as exc:
            self._abort(key, upload_id)
            if isinstance(exc, ClientError | BotoCoreError):
                raise self._error(exc, action, sha256) from exc
            if isinstance(exc, OSError):
                raise BlobStoreError(f"Could not read {what}: {exc.strerror or exc}.") from exc
            raise
        echoed_total = done.get("ChecksumSHA256")
        if echoed_total is not None:
            echoed_total = echoed_total.split("-", 1)[0]
        self._check_stored(sha256, echoed_total, composite, what)
        return True

    @staticmethod
    def _hash_slice(fd: int, offset: int, length: int) -> bytes:
        digest = hashlib.sha256()
        buffer = bytearray(HASH_CHUNK_SIZE)
        view = memoryview(buffer)
        position = offset
        end = offset + length
        while position < end:
            count = os.preadv(fd, [view[: min(HASH_CHUNK_SIZE, end - position)]], position)
            if count == 0:
                raise BlobStoreError("The file being uploaded shrank while it was read.")
            digest.update(view[:count])
            position += count
        return digest.digest()

    def _check_stored(self, sha256: str, echoed: str | None, sent: str, what: str) -> None:
        """Confirm a new object holds the right bytes; delete it and raise if not."""
        if echoed is not None and echoed != sent:
            self._delete_quietly(sha256)
            raise BlobIntegrityError(
                f"The S3 server stored {what} with checksum {echoed}, not {sent}; "
                "the object was removed."
            )
        if echoed is None or self.verify_after_upload:
            # The server did not confirm a checksum: read the object back.
            actual = self.rehash(sha256)
            if actual != sha256:
                self._delete_quietly(sha256)
                raise BlobIntegrityError(
                    f"The S3 object written for {what} reads back with SHA-256 {actual}, "
                    f"not {sha256}; the object was removed."
                )

    def _abort(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(ClientError, BotoCoreError):
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def _delete_quietly(self, sha256: str) -> None:
        with contextlib.suppress(ClientError, BotoCoreError):
            self._client.delete_object(Bucket=self.bucket, Key=self.key_for(sha256))

    # -- reading -----------------------------------------------------------------------

    def _head(self, sha256: str) -> dict[str, Any] | None:
        try:
            return dict(self._client.head_object(Bucket=self.bucket, Key=self.key_for(sha256)))
        except ClientError as exc:
            if self._code(exc) in _NOT_FOUND_CODES:
                return None
            raise self._error(exc, f"look up blob {sha256}", sha256) from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"look up blob {sha256}", sha256) from exc

    def exists(self, sha256: str) -> bool:
        """Whether a blob with this hash is stored."""
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        """The blob's size in bytes; raises BlobNotFound if it is missing."""
        head = self._head(sha256)
        if head is None:
            raise self._not_found(sha256)
        return int(head["ContentLength"])

    def iter_bytes(
        self, sha256: str, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        """Yield the bytes in ``[start, end)`` via a ranged GET; BlobNotFound is raised early."""
        check_range(start, end, chunk_size)
        key = self.key_for(sha256)
        if end is not None and end == start:
            self.size(sha256)  # existence check only
            return iter(())
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start or end is not None:
            request["Range"] = f"bytes={start}-" + ("" if end is None else str(end - 1))
        try:
            body = self._client.get_object(**request)["Body"]
        except ClientError as exc:
            if self._code(exc) in ("InvalidRange", "416"):
                return iter(())  # the object exists; the range starts at or after its end
            raise self._error(exc, f"read blob {sha256}", sha256) from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"read blob {sha256}", sha256) from exc
        return self._stream(body, sha256, chunk_size)

    def _stream(self, body: Any, sha256: str, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(chunk_size)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, f"read blob {sha256}", sha256) from exc
        finally:
            body.close()

    def rehash(self, sha256: str) -> str:
        """Re-read every stored byte and return the content's actual SHA-256 hex."""
        digest = hashlib.sha256()
        for chunk in self.iter_bytes(sha256, chunk_size=HASH_CHUNK_SIZE):
            digest.update(chunk)
        return digest.hexdigest()

    # -- removal and housekeeping ------------------------------------------------------

    def delete(self, sha256: str) -> None:
        """Remove the blob (for purge); a missing blob is not an error."""
        key = self.key_for(sha256)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if self._code(exc) in _NOT_FOUND_CODES:
                return
            raise self._error(exc, f"delete blob {sha256}", sha256) from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"delete blob {sha256}", sha256) from exc

    def _iter_keys(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "list blobs") from exc

    def iter_hashes(self) -> Iterator[str]:
        """Yield the hash of every stored blob (in key order)."""
        root = f"{self.prefix}sha256/"
        for key, _ in self._iter_keys(root):
            parts = key[len(root) :].split("/")
            if len(parts) != 3:
                continue
            fan1, fan2, name = parts
            try:
                validate_sha256(name)
            except ValueError:
                continue
            if fan1 == name[0:2] and fan2 == name[2:4]:
                yield name

    def _strays(self, min_age_s: float) -> list[tuple[str, str | None]]:
        """``(key, upload_id)`` of incomplete multipart uploads and ``(key, None)`` of tmp keys."""
        cutoff = datetime.now(UTC) - timedelta(seconds=min_age_s)
        found: list[tuple[str, str | None]] = []
        paginator = self._client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", []):
                    if min_age_s <= 0 or upload["Initiated"] <= cutoff:
                        found.append((upload["Key"], upload["UploadId"]))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "list incomplete uploads") from exc
        for key, modified in self._iter_keys(f"{self.prefix}tmp/"):
            if min_age_s <= 0 or modified <= cutoff:
                found.append((key, None))
        return found

    def stray_temp_files(self, min_age_s: float = 0.0) -> list[str]:
        """Incomplete multipart uploads (``key?uploadId=...``) and ``tmp/`` keys.

        With the default of 0 this includes uploads in progress; pass an age when
        other writers may be running.
        """
        return [
            key if upload_id is None else f"{key}?uploadId={upload_id}"
            for key, upload_id in self._strays(min_age_s)
        ]

    def clean_stray(self, min_age_s: float = 0.0) -> int:
        """Abort stray multipart uploads and delete ``tmp/`` keys; return the count."""
        removed = 0
        for key, upload_id in self._strays(min_age_s):
            try:
                if upload_id is None:
                    self._client.delete_object(Bucket=self.bucket, Key=key)
                else:
                    self._client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
            except ClientError as exc:
                if self._code(exc) in ("NoSuchUpload", *_NOT_FOUND_CODES):
                    continue
                raise self._error(exc, f"remove the stray upload {key}") from exc
            except BotoCoreError as exc:
                raise self._error(exc, f"remove the stray upload {key}") from exc
            removed += 1
        return removed

    # -- errors ------------------------------------------------------------------------

    @staticmethod
    def _code(exc: ClientError) -> str:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        if not code:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(status or "")
        return code

    def _not_found(self, sha256: str) -> BlobNotFound:
        return BlobNotFound(f"The blob {sha256} is not in {self._where}.")

    def _error(self, exc: Exception, action: str, sha256: str | None = None) -> BlobStoreError:
        """Translate a botocore exception into a BlobStoreError with a sentence."""
        if isinstance(exc, ClientError):
            code = self._code(exc)
            message = _clause(exc.response.get("Error", {}).get("Message") or code)
            if code in _NOT_FOUND_CODES and sha256 is not None:
                return self._not_found(sha256)
            if code == "NoSuchBucket":
                return BlobStoreError(
                    f"Could not {action}: the S3 bucket {self.bucket} does not exist "
                    f"at {self.endpoint_url or 'AWS'}."
                )
            if code in _AUTH_CODES:
                return BlobStoreError(
                    f"Could not {action}: {self._where} refused the credentials "
                    f"(wrong access key or secret, or no permission; {code}: {message})."
                )
            if code in _DIGEST_CODES:
                return BlobIntegrityError(
                    f"Could not {action}: {self._where} found that the bytes it received "
                    f"do not match their SHA-256 checksum ({code})."
                )
            return BlobStoreError(f"Could not {action} in {self._where}: {code}: {message}.")
        if isinstance(exc, NoCredentialsError):
            return BlobStoreError(
                f"Could not {action}: no S3 credentials were found; set AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY or put access_key and secret_key in the storage URL."
            )
        return BlobStoreError(f"Could not {action} in {self._where}: {_clause(exc)}.")
