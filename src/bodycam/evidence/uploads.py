"""Resumable uploads (the tus 1.0 protocol): upload state on disk, appends, hand-over to ingest.

A dock sends a recording in chunks that survive dropped connections and server restarts.
Each upload lives under ``<home>/uploads`` as two files: ``<id>.part`` (the bytes received,
fsynced after every append, so its size is the offset the server reports) and ``<id>.json``
(who owns it, its declared length, officer, camera and SHA-256, and its state). No database
row exists until the last byte arrives; then the file goes through
:func:`bodycam.evidence.service.ingest_file` (probe, blob fsync, commit, audit) exactly as
any other ingest, with the declared SHA-256 as the expected hash: the store hashes the
bytes while it copies them and keeps nothing that differs. Only then is the upload
marked complete with the recording id and hash, the *acknowledgement*, which ``HEAD``
repeats for as long as the record is kept, so an agent whose acknowledgement was lost gets
the same one again. A crash between the commit and that mark leaves a complete ``.part``
whose next finalization finds the recording already held (a duplicate) and acknowledges it.

One request at a time may change an upload: appends, finalization and termination take an
exclusive ``flock`` on the ``.part`` file and a second one is told 423 (Locked). Every check
is made here, not in the HTTP adapter: an upload belongs to the user whose token created
it, and ingest permission for the named officer is checked at creation and again at ingest.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bodycam.audit.service import record_denial
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import Permission
from bodycam.evidence import service
from bodycam.evidence.service import EvidenceError, IngestResult, Vault
from bodycam.ids import new_id, rfc3339
from bodycam.storage import BlobIntegrityError
from bodycam.storage.interface import file_sha256

if TYPE_CHECKING:
    from bodycam.context import Context

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "expiration", "checksum", "termination")
CHECKSUM_ALGORITHMS = ("sha256",)
METADATA_KEYS = ("filename", "officer", "camera", "category", "sha256")
"""The Upload-Metadata keys bodycam reads (others are kept and echoed, never used)."""

RECEIVING, COMPLETE = "receiving", "complete"
TERMINATED, EXPIRED, REJECTED = "terminated", "expired", "rejected"
ENDED = frozenset({TERMINATED, EXPIRED, REJECTED})

SWEEP_EVERY_S = 60.0
_last_sweep: dict[str, float] = {}  # upload folder: when this process last swept it
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # a ULID
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[!-+\--~]+$")  # printable ASCII without space and comma


# --- errors: each names its HTTP status (the protocol's), the message is a sentence -----------


class UploadError(EvidenceError):
    """A resumable-upload request that cannot be served; ``status`` is its HTTP status."""

    status = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class UploadNotFound(UploadError):
    """No such upload (never created, or its record is gone)."""

    status = 404


class UploadGone(UploadError):
    """The upload was terminated, expired, or refused at ingest."""

    status = 410


class OffsetConflict(UploadError):
    """Upload-Offset differs from the bytes received, or the upload is already complete."""

    status = 409


class UploadLocked(UploadError):
    """Another request is changing this upload now; retry after a moment."""

    status = 423


class TooLarge(UploadError):
    """More bytes than Upload-Length, or an Upload-Length above the server's limit."""

    status = 413


class ChecksumMismatch(UploadError):
    """The bytes do not have the declared checksum (of a chunk, or of the whole file)."""

    status = 460


class StorageFull(UploadError):
    """The upload folder's disk is full; nothing is lost, retry later."""

    status = 503


class IngestRefused(UploadError):
    """Every byte arrived, but ingest refused the file (not a video, unknown category...)."""

    status = 422


# --- the upload record -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """The acknowledgement: the recording that now holds the upload's bytes."""

    recording_id: str
    sha256: str
    duplicate: bool


@dataclass(frozen=True)
class Upload:
    """One upload's record (``<id>.json``)."""

    id: str
    owner_id: str
    owner: str
    length: int
    officer: str
    filename: str
    created_at: str
    camera: str | None = None
    category: str | None = None
    sha256: str | None = None
    metadata: str = ""  # the Upload-Metadata header as sent, echoed by HEAD
    state: str = RECEIVING
    ack: Ack | None = None
    error: str = ""

    def to_json(self) -> str:
        """The record's file content."""
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Upload:
        """Read a record written by :meth:`to_json`."""
        data: dict[str, Any] = json.loads(text)
        ack = data.pop("ack", None)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known}, ack=Ack(**ack) if ack else None)


@dataclass(frozen=True)
class UploadStatus:
    """What HEAD reports."""

    upload: Upload
    offset: int
    expires: datetime


@dataclass(frozen=True)
class AppendResult:
    """The outcome of one PATCH: the new offset, and the acknowledgement when complete."""

    offset: int
    expires: datetime
    ack: Ack | None = None


def parse_metadata(header: str | None) -> dict[str, str]:
    """Decode an Upload-Metadata header (``key base64,key base64``); UploadError when bad."""
    out: dict[str, str] = {}
    if not header or not header.strip():
        return out
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key or not _KEY.match(key):
            raise UploadError(f"Upload-Metadata has a malformed key {key!r}.")
        if key in out:
            raise UploadError(f"Upload-Metadata repeats the key {key!r}.")
        try:
            out[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise UploadError(
                f"Upload-Metadata value of {key!r} is not base64-encoded UTF-8."
            ) from None
    return out


def encode_metadata(values: dict[str, str]) -> str:
    """The Upload-Metadata header for ``values`` (what a client sends)."""
    return ",".join(
        f"{k} {base64.b64encode(v.encode('utf-8')).decode('ascii')}" for k, v in values.items()
    )


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """Decode ``Upload-Checksum: sha256 <base64 digest>``; UploadError when unsupported."""
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UploadError(
            f"Upload-Checksum algorithm {algorithm!r} is not supported; use "
            f"{', '.join(CHECKSUM_ALGORITHMS)}."
        )
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise UploadError("Upload-Checksum is not base64.") from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise UploadError(f"Upload-Checksum is not a {algorithm} digest.")
    return algorithm, digest


# --- files ------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _http_date(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(microsecond=0)


@dataclass
class Uploads:
    """The resumable-upload use cases of one deployment."""

    vault: Vault
    folder: Path
    max_bytes: int
    expiry: timedelta
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def from_context(cls, ctx: Context) -> Uploads:
        """The uploads of a deployment: ``<home>/uploads``, its limit and expiry settings."""
        s = ctx.settings
        return cls(
            Vault.from_context(ctx),
            s.resolved_home / "uploads",
            s.max_upload_bytes,
            timedelta(hours=s.upload_expiry_hours),
        )

    # -- paths and records ---------------------------------------------------------------------

    def _ensure_folder(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            _fsync_dir(self.folder.parent)

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not _ID.match(upload_id):
            raise UploadNotFound(f"There is no upload {upload_id[:40]!r}.")
        return self.folder / f"{upload_id}.json", self.folder / f"{upload_id}.part"

    def _read(self, upload_id: str) -> Upload:
        record_path, _ = self._paths(upload_id)
        try:
            return Upload.from_json(record_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UploadNotFound(f"There is no upload {upload_id}.") from None

    def _save(self, upload: Upload) -> None:
        _write_atomic(self._paths(upload.id)[0], upload.to_json())

    def expires(self, upload: Upload) -> datetime:
        """When the upload expires if nothing more happens (``Upload-Expires``)."""
        record_path, part = self._paths(upload.id)
        try:
            last = (part if upload.state == RECEIVING else record_path).stat().st_mtime
        except FileNotFoundError:
            last = self.clock()
        return _http_date(datetime.fromtimestamp(last, UTC) + self.expiry)

    def _end(self, upload: Upload, state: str, error: str = "") -> Upload:
        """Turn an upload into a tombstone (410 until swept): its bytes are removed."""
        ended = replace(upload, state=state, error=error or upload.error)
        self._save(ended)
        _, part = self._paths(upload.id)
        part.unlink(missing_ok=True)
        return ended

    def _gone(self, upload: Upload) -> UploadGone:
        why = {
            TERMINATED: "was terminated",
            EXPIRED: "expired",
            REJECTED: f"was refused: {upload.error}",
        }.get(upload.state, "has ended")
        return UploadGone(f"Upload {upload.id} {why}".rstrip(".") + ".")

    def _owned(self, actor: Actor, upload_id: str, what: str) -> Upload:
        """The upload if ``actor`` owns it and may ingest; refusals are audited."""
        try:
            actor.require(Permission.RECORDING_INGEST, f"{what} upload {upload_id}")
            upload = self._read(upload_id)
            if upload.owner_id != actor.user_id:
                raise PermissionDenied(
                    f"User {actor.username} ({actor.role.value}) may not {what} upload "
                    f"{upload_id}: it belongs to another user.",
                    actor,
                    upload_id,
                )
        except PermissionDenied as exc:
            record_denial(self.vault.sessions, actor, f"{what} upload {upload_id}", upload_id)
            exc.audited = True
            raise
        if upload.state in ENDED:
            raise self._gone(upload)
        if upload.state == RECEIVING and self.expires(upload).timestamp() < self.clock():
            _, part = self._paths(upload_id)
            if self._try_end(upload, part):
                raise self._gone(self._read(upload_id))
        return upload

    # -- use cases -----------------------------------------------------------------------------

    def create(self, actor: Actor, length: int, metadata_header: str | None) -> UploadStatus:
        """Open an upload of ``length`` bytes for the officer the metadata names (or the actor).

        Refused unless the actor may ingest for that officer (audited). Metadata keys:
        ``filename``, ``officer`` (badge), ``camera`` (serial), ``category`` and ``sha256``
        (hex, the full file's hash: nothing is stored unless the bytes have it; without
        it the acknowledgement still names the hash the server computed).
        """
        meta = parse_metadata(metadata_header)
        officer = (meta.get("officer") or actor.badge or "").strip()
        if not officer:
            actor.require(Permission.RECORDING_INGEST, "create uploads")
            raise UploadError(
                "Upload-Metadata names no officer and your user has no badge; send "
                "'officer' (the badge of the officer who recorded)."
            )
        service.authorize_ingest(self.vault, actor, officer)  # audits a refusal
        if length < 1:
            raise UploadError("Upload-Length must be 1 or more: a recording cannot be empty.")
        if length > self.max_bytes:
            raise TooLarge(
                f"Upload-Length {length} exceeds the upload limit of {self.max_bytes} bytes."
            )
        sha = (meta.get("sha256") or "").strip().lower() or None
        if sha is not None and not _HEX64.match(sha):
            raise UploadError("Upload-Metadata sha256 must be 64 hexadecimal characters.")
        filename = Path(meta.get("filename") or "").name[:255] or "upload.mp4"
        camera = (meta.get("camera") or "").strip() or None
        if camera is not None and len(camera) > 64:
            raise UploadError("Upload-Metadata camera is longer than 64 characters.")
        category = (meta.get("category") or "").strip() or None
        self._ensure_folder()
        self.sweep(throttle=True)
        upload = Upload(
            id=new_id(),
            owner_id=actor.user_id,
            owner=actor.username,
            length=length,
            officer=officer,
            filename=filename,
            created_at=rfc3339(datetime.now(UTC)),
            camera=camera,
            category=category,
            sha256=sha,
            metadata=(metadata_header or "").strip(),
        )
        _, part = self._paths(upload.id)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fsync(fd)
        os.close(fd)
        self._save(upload)  # fsyncs the folder: both names are durable
        return UploadStatus(upload, 0, self.expires(upload))

    def status(self, actor: Actor, upload_id: str) -> UploadStatus:
        """The upload's offset (bytes received), or its acknowledgement when complete."""
        _, part = self._paths(upload_id)
        for _attempt in range(2):
            upload = self._owned(actor, upload_id, "read")
            if upload.state == COMPLETE:
                return UploadStatus(upload, upload.length, self.expires(upload))
            try:
                offset = part.stat().st_size
            except FileNotFoundError:  # completed or ended between the two reads
                continue
            return UploadStatus(upload, offset, self.expires(upload))
        raise self._lost(upload)

    def _lost(self, upload: Upload) -> UploadGone:
        """A record whose bytes are missing (removed by hand): end it."""
        return self._gone(self._end(upload, EXPIRED, "its bytes are missing"))

    def open_append(
        self,
        actor: Actor,
        upload_id: str,
        offset: int,
        checksum: tuple[str, bytes] | None = None,
        content_length: int | None = None,
    ) -> Appender:
        """Lock the upload and check ``offset``; the :class:`Appender` takes the bytes.

        Raises OffsetConflict (409) when ``offset`` is not the number of bytes received or
        the upload is complete (its acknowledgement rides along in the headers), UploadLocked
        (423) while another request holds it, TooLarge (413) when ``content_length`` bytes
        would pass the declared length.
        """
        upload = self._owned(actor, upload_id, "append to")
        if upload.state == COMPLETE:
            raise self._complete_conflict(upload)
        _, part = self._paths(upload_id)
        try:
            fd = os.open(part, os.O_WRONLY)
        except FileNotFoundError:  # completed or ended meanwhile: answer from its record
            upload = self._owned(actor, upload_id, "append to")
            if upload.state == RECEIVING:
                raise self._lost(upload) from None
            raise self._complete_conflict(upload) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadLocked(
                    f"Upload {upload_id} is busy with another request; retry in a moment."
                ) from None
            upload = self._read(upload_id)  # what the previous holder left
            if upload.state == COMPLETE:
                raise self._complete_conflict(upload)
            if upload.state in ENDED:
                raise self._gone(upload)
            size = os.fstat(fd).st_size
            if offset != size:
                raise OffsetConflict(
                    f"Upload-Offset {offset} does not match the {size} bytes received; HEAD "
                    "the upload and resume from its offset.",
                    headers={"Upload-Offset": str(size)},
                )
            if content_length is not None and offset + content_length > upload.length:
                raise TooLarge(
                    f"{content_length} more bytes would pass the declared Upload-Length "
                    f"{upload.length} (received {offset})."
                )
            os.lseek(fd, size, os.SEEK_SET)
            return Appender(self, actor, upload, fd, size, checksum)
        except BaseException:
            os.close(fd)
            raise

    def _complete_conflict(self, upload: Upload) -> OffsetConflict:
        if upload.state in ENDED:
            return OffsetConflict(str(self._gone(upload)))
        assert upload.ack is not None
        return OffsetConflict(
            f"Upload {upload.id} is complete: recording {upload.ack.recording_id}, "
            f"sha256 {upload.ack.sha256}.",
            headers={"Upload-Offset": str(upload.length), **ack_headers(upload.ack)},
        )

    def terminate(self, actor: Actor, upload_id: str) -> None:
        """Stop an upload and free its bytes (a completed recording is not touched)."""
        upload = self._owned(actor, upload_id, "terminate")
        _, part = self._paths(upload_id)
        if upload.state == COMPLETE:
            self._end(upload, TERMINATED)
            return
        try:
            fd = os.open(part, os.O_RDONLY)
        except FileNotFoundError:
            self._end(self._read(upload_id), TERMINATED)
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadLocked(
                    f"Upload {upload_id} is busy with another request; retry in a moment."
                ) from None
            self._end(self._read(upload_id), TERMINATED)
        finally:
            os.close(fd)

    def sweep(self, *, throttle: bool = False) -> int:
        """Expire stale uploads (their bytes go) and forget old records; the number removed.

        An unfinished upload expires ``expiry`` after its last byte arrived; a completed,
        terminated or refused one's record is kept that long after it ended, then removed.
        """
        key = str(self.folder)
        now = self.clock()
        if throttle and now - _last_sweep.get(key, 0.0) < SWEEP_EVERY_S:
            return 0
        _last_sweep[key] = now
        removed = 0
        limit = self.expiry.total_seconds()
        for record_path in self.folder.glob("*.json"):
            upload_id = record_path.stem
            if not _ID.match(upload_id):
                continue
            with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
                upload = Upload.from_json(record_path.read_text(encoding="utf-8"))
                part = self.folder / f"{upload_id}.part"
                if upload.state == RECEIVING and not part.exists():
                    if now - record_path.stat().st_mtime > limit:
                        self._end(upload, EXPIRED, "its bytes are missing")
                        removed += 1
                elif upload.state == RECEIVING:
                    if now - part.stat().st_mtime > limit and self._try_end(upload, part):
                        removed += 1
                elif now - record_path.stat().st_mtime > limit:
                    record_path.unlink()
                    removed += 1
        # Leftovers of a crash: a record being written, or bytes whose record never was.
        strays = [*self.folder.glob(".*.tmp"), *self.folder.glob("*.part")]
        for stray in strays:
            with contextlib.suppress(FileNotFoundError):
                orphan = stray.suffix == ".tmp" or not stray.with_suffix(".json").exists()
                if orphan and now - stray.stat().st_mtime > limit:
                    stray.unlink()
                    removed += 1
        return removed

    def _try_end(self, upload: Upload, part: Path) -> bool:
        try:
            fd = os.open(part, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        try:
            self._end(self._read(upload.id), EXPIRED)
            return True
        finally:
            os.close(fd)

    # -- the last byte -------------------------------------------------------------------------

    def _finalize(self, actor: Actor, upload: Upload, part: Path) -> Ack:
        """Ingest the complete file, checking its SHA-256 as it is copied; lock held.

        The declared hash goes to ingest as the expected one: the store hashes the bytes
        while it copies them and refuses to keep a blob that differs, so nothing is stored
        unless every byte is the agent's, at the cost of no extra read. When ingest
        refuses the file, the bytes are hashed again to tell a damaged transfer (460: send
        it again) from a file that is not a video (422).
        """
        try:
            result: IngestResult = service.ingest_file(
                self.vault,
                actor,
                part,
                officer_badge=upload.officer,
                camera_serial=upload.camera,
                category=upload.category,
                expected_sha256=upload.sha256,
                display_name=upload.filename,
            )
        except BlobIntegrityError:
            raise self._mismatch(upload, part) from None
        except PermissionDenied:
            raise  # kept: the owner may regain the right, or an administrator terminates it
        except EvidenceError as exc:
            if upload.sha256 is not None and file_sha256(part) != upload.sha256:
                raise self._mismatch(upload, part) from None
            self._end(upload, REJECTED, str(exc))
            raise IngestRefused(f"{upload.filename} was not stored: {exc}") from None
        ack = Ack(result.id, result.sha256, result.duplicate)
        self._save(replace(upload, state=COMPLETE, ack=ack))
        part.unlink(missing_ok=True)
        return ack

    def _mismatch(self, upload: Upload, part: Path) -> ChecksumMismatch:
        actual = file_sha256(part) if part.exists() else "unknown"
        self._end(upload, REJECTED, f"its bytes have SHA-256 {actual}, not the declared one")
        return ChecksumMismatch(
            f"Upload {upload.id} ({upload.filename}) has SHA-256 {actual}, not the "
            f"{upload.sha256} declared at creation; nothing was stored. Upload it again."
        )


def ack_headers(ack: Ack) -> dict[str, str]:
    """The acknowledgement as response headers (final PATCH, HEAD, and 409 when complete)."""
    return {
        "Bodycam-Recording-Id": ack.recording_id,
        "Bodycam-Sha256": ack.sha256,
        "Bodycam-Duplicate": "true" if ack.duplicate else "false",
    }


class Appender:
    """The bytes of one PATCH, written to the locked ``.part`` file.

    Call :meth:`write` for each piece of the body, then :meth:`finish` (fsync, checksum,
    and ingest when the last byte is in), or :meth:`keep` when the client went away
    (what arrived is kept and fsynced: the next PATCH resumes after it). Either releases
    the lock; :meth:`close` releases it without keeping anything unsynced.
    """

    def __init__(
        self,
        uploads: Uploads,
        actor: Actor,
        upload: Upload,
        fd: int,
        start: int,
        checksum: tuple[str, bytes] | None,
    ) -> None:
        self.uploads = uploads
        self.actor = actor
        self.upload = upload
        self.fd: int | None = fd
        self.start = start
        self.offset = start
        self.part = uploads._paths(upload.id)[1]
        self.checksum = checksum
        self.chunk_digest = hashlib.new(checksum[0]) if checksum else None

    def write(self, pieces: Iterable[bytes]) -> None:
        """Append ``pieces`` (in order); TooLarge once they would pass Upload-Length."""
        assert self.fd is not None
        for piece in pieces:
            if self.offset + len(piece) > self.upload.length:
                self._rollback()
                raise TooLarge(
                    f"The body passes the declared Upload-Length {self.upload.length}; the "
                    "bytes of this request were discarded."
                )
            view = memoryview(piece)
            try:
                while view:
                    view = view[os.write(self.fd, view) :]
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise StorageFull("The server's upload folder is full; retry later.") from exc
                raise
            if self.chunk_digest is not None:
                self.chunk_digest.update(piece)
            self.offset += len(piece)

    def _rollback(self) -> None:
        """Drop this request's bytes (they fail a check): back to where it started."""
        assert self.fd is not None
        os.ftruncate(self.fd, self.start)
        os.fsync(self.fd)
        self.offset = self.start

    def keep(self) -> int:
        """The client went away: keep and fsync what arrived (unless a checksum was sent)."""
        try:
            if self.fd is not None:
                if self.checksum is not None:  # an unverifiable partial chunk is dropped
                    self._rollback()
                else:
                    os.fsync(self.fd)
            return self.offset
        finally:
            self.close()

    def commit(self) -> bool:
        """Make this request's bytes durable and check its checksum; whether the upload is
        now complete. When it is, the lock is kept for :meth:`finalize`; else released."""
        assert self.fd is not None
        complete = False
        try:
            os.fsync(self.fd)
            if (
                self.checksum is not None
                and self.chunk_digest is not None
                and self.chunk_digest.digest() != self.checksum[1]
            ):
                self._rollback()
                raise ChecksumMismatch(
                    f"The chunk at offset {self.start} does not match its Upload-Checksum; "
                    "it was discarded. Send it again.",
                    headers={"Upload-Offset": str(self.start)},
                )
            complete = self.offset >= self.upload.length
            return complete
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise StorageFull("The server's upload folder is full; retry later.") from exc
            raise
        finally:
            if not complete:
                self.close()

    def finalize(self) -> AppendResult:
        """Ingest the complete upload and acknowledge it (after :meth:`commit` said so)."""
        try:
            ack = self.uploads._finalize(self.actor, self.upload, self.part)
            return AppendResult(self.offset, self.uploads.expires(self.upload), ack)
        finally:
            self.close()

    def finish(self) -> AppendResult:
        """:meth:`commit`, then :meth:`finalize` when the last byte is in."""
        if self.commit():
            return self.finalize()
        return AppendResult(self.offset, self.uploads.expires(self.upload))

    def close(self) -> None:
        """Release the lock (idempotent)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
