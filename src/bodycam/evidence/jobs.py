"""Job handlers of the evidence domain: the full-decode probe and the poster frame.

Ingest itself probes synchronously, before it acknowledges a file: that probe is the
gate that refuses an empty, truncated or corrupt upload with a sentence (invariant 6),
and it decides the recording's metadata. With ``BODYCAM_INGEST_DECODE=keyframes`` (the
default) it checks every packet's structure but decodes only the keyframes. Two jobs
follow the ingest's commit, each taking only the recording's id:

``evidence.probe``
    Re-reads the stored original and decodes every frame strictly (the full probe the
    ingest skipped). A file that fails is quarantined with the probe's sentence, so the
    jobs page lists it. Queued only where workers take it (``BODYCAM_JOBS=celery``):
    an embedded deployment decodes what ``BODYCAM_INGEST_DECODE`` says, inline.
``evidence.thumbnail``
    Decodes the frame at a tenth of the duration (at most 5 s in; it seeks to the
    keyframe before and decodes forward), scales it to 320 pixels wide and stores it
    as a JPEG poster beside the blob: ``<store>/derived/poster/<ab>/<sha256>.jpg``
    (the same key under the S3 prefix).
    Under Celery a worker makes it; in an embedded deployment the ingest makes it
    inline, right after its commit, through the same job row (:func:`after_ingest`).

Both are idempotent: a poster that exists is kept, a probe only reads. Video is read
from the blob store in ranges through a buffered reader (the poster) or streamed to a
temporary file (the probe), so memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import av.error
import cv2
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.evidence.models import Recording
from bodycam.evidence.probe import ProbeError, probe
from bodycam.jobs.dispatch import config_of
from bodycam.jobs.models import Job
from bodycam.jobs.runner import PermanentJobError, Progress, handler, run_inline, submit
from bodycam.storage import BlobStore, LocalBlobStore, validate_sha256
from bodycam.storage.interface import local_path

if TYPE_CHECKING:
    from bodycam.context import Context

PROBE_JOB = "evidence.probe"
THUMBNAIL_JOB = "evidence.thumbnail"
POSTER_WIDTH = 320
POSTER_MAX_OFFSET_S = 5.0
_READ_BUFFER = 1 << 20

log = logging.getLogger(__name__)


def probe_key(recording_id: str) -> str:
    """The job key of a recording's full-decode probe (one per recording)."""
    return f"{PROBE_JOB}:{recording_id}"


def thumbnail_key(recording_id: str) -> str:
    """The job key of a recording's poster frame (one per recording)."""
    return f"{THUMBNAIL_JOB}:{recording_id}"


# --- where posters live ------------------------------------------------------------------


def poster_key(sha256: str) -> str:
    """The poster's name in the store, relative to its root (or S3 prefix)."""
    validate_sha256(sha256)
    return f"derived/poster/{sha256[:2]}/{sha256}.jpg"


def _local_poster(store: LocalBlobStore, sha256: str) -> Path:
    return store.root / poster_key(sha256)


def put_poster(store: BlobStore, sha256: str, data: bytes) -> str:
    """Store the poster of blob ``sha256`` beside it (atomically); return its key."""
    key = poster_key(sha256)
    if isinstance(store, LocalBlobStore):
        path = _local_poster(store, sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
        return key
    client, bucket, prefix = _s3(store)
    client.put_object(Bucket=bucket, Key=prefix + key, Body=data, ContentType="image/jpeg")
    return key


def get_poster(store: BlobStore, sha256: str) -> bytes | None:
    """The poster of blob ``sha256``, or None when none was made (or it is gone)."""
    if isinstance(store, LocalBlobStore):
        try:
            return _local_poster(store, sha256).read_bytes()
        except FileNotFoundError:
            return None
    try:
        client, bucket, prefix = _s3(store)
    except PermanentJobError:
        return None
    try:
        body = client.get_object(Bucket=bucket, Key=prefix + poster_key(sha256))["Body"]
    except client.exceptions.NoSuchKey:
        return None
    data: bytes = body.read()
    return data


def poster_data_uri(store: BlobStore, sha256: str) -> str | None:
    """The poster of blob ``sha256`` as a ``data:`` URI for a page, or None (none yet, or
    the store cannot be read now: a page shows the video without it)."""
    try:
        data = get_poster(store, sha256)
    except Exception:  # a store hiccup must not fail the recording page
        log.warning("the poster of %s could not be read", sha256, exc_info=True)
        return None
    if data is None:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def delete_poster(store: BlobStore, sha256: str) -> bool:
    """Remove the poster of blob ``sha256``; whether there was one."""
    if isinstance(store, LocalBlobStore):
        try:
            _local_poster(store, sha256).unlink()
        except FileNotFoundError:
            return False
        return True
    if get_poster(store, sha256) is None:
        return False
    client, bucket, prefix = _s3(store)
    client.delete_object(Bucket=bucket, Key=prefix + poster_key(sha256))
    return True


def _s3(store: BlobStore) -> tuple[Any, str, str]:
    from bodycam.storage.s3 import S3BlobStore

    if not isinstance(store, S3BlobStore):
        raise PermanentJobError(f"Posters cannot be kept in a {type(store).__name__}.")
    return store.client, store.bucket, store.prefix


# --- reading a blob in ranges ------------------------------------------------------------


class BlobReader(io.RawIOBase):
    """A seekable, read-only file over a stored blob, fetched in ranges as it is read."""

    def __init__(self, store: BlobStore, sha256: str) -> None:
        """Open blob ``sha256`` of ``store`` (its size is asked once)."""
        self.store = store
        self.sha256 = sha256
        self.length = store.size(sha256)
        self.pos = 0

    def readable(self) -> bool:
        """Always."""
        return True

    def seekable(self) -> bool:
        """Always."""
        return True

    def tell(self) -> int:
        """The current position."""
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position (from the start, here or the end)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.length}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the current position; 0 at the end."""
        view = memoryview(buffer).cast("B")
        end = min(self.length, self.pos + len(view))
        if end <= self.pos:
            return 0
        got = 0
        for chunk in self.store.iter_bytes(self.sha256, self.pos, end):
            view[got : got + len(chunk)] = chunk
            got += len(chunk)
        self.pos += got
        return got


# --- the poster frame --------------------------------------------------------------------


@dataclass(frozen=True)
class Poster:
    """A poster frame: JPEG bytes, its size and where in the video it was taken."""

    jpeg: bytes
    width: int
    height: int
    at_s: float


def make_poster(store: BlobStore, sha256: str, duration_s: float) -> Poster:
    """Decode one frame of blob ``sha256`` (bounded memory) and encode it as a JPEG."""
    target = max(0.0, min(duration_s * 0.1, POSTER_MAX_OFFSET_S))
    path_for = getattr(store, "path_for", None)
    source: Any = str(path_for(sha256)) if path_for is not None else None
    raw = None
    if source is None:
        raw = io.BufferedReader(BlobReader(store, sha256), buffer_size=_READ_BUFFER)
        source = raw
    try:
        with av.open(source, mode="r") as container:
            video = container.streams.video[0]
            if target > 0 and video.time_base is not None:
                container.seek(int(target / video.time_base), stream=video, backward=True)
            frame = None
            for frame in container.decode(video):  # from the keyframe: one group at most
                if frame.time is None or frame.time >= target - 0.001:
                    break
            if frame is None:
                raise PermanentJobError(f"Blob {sha256} holds no frame to make a poster of.")
            image = frame.to_ndarray(format="bgr24")
            at_s = float(frame.time or 0.0)
    except av.error.InvalidDataError as exc:
        raise PermanentJobError(f"Blob {sha256} cannot be decoded: {exc.strerror}.") from None
    finally:
        if raw is not None:
            raw.close()
    height, width = image.shape[:2]
    out_w = min(POSTER_WIDTH, width)
    out_h = max(2, round(height * out_w / width / 2) * 2)
    small = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError(f"The poster of blob {sha256} could not be encoded as JPEG.")
    return Poster(encoded.tobytes(), out_w, out_h, at_s)


def _recording(factory: sessionmaker[Session], recording_id: str) -> Recording:
    with factory() as s:
        rec = s.get(Recording, recording_id)
        if rec is None:
            raise PermanentJobError(f"There is no recording {recording_id}.")
        s.expunge(rec)
    return rec


def _source_store(rec: Recording, hot: BlobStore, archive: BlobStore | None) -> BlobStore:
    if rec.tier == "archive":
        if archive is None:
            raise PermanentJobError(
                f"Recording {rec.id} is in the archive tier, but no archive store is configured."
            )
        return archive
    return hot


def poster_for(
    factory: sessionmaker[Session],
    store: BlobStore,
    recording_id: str,
    archive: BlobStore | None = None,
) -> dict[str, Any]:
    """Make (once) the poster frame of a recording; what was done, as a job result."""
    rec = _recording(factory, recording_id)
    result: dict[str, Any] = {"recording_id": rec.id, "sha256": rec.sha256}
    if rec.purged_at is not None:
        return result | {"skipped": "the recording was purged"}
    key = poster_key(rec.sha256)
    if get_poster(store, rec.sha256) is not None:
        return result | {"poster": key, "kept": True}
    poster = make_poster(_source_store(rec, store, archive), rec.sha256, rec.duration_s)
    put_poster(store, rec.sha256, poster.jpeg)
    return result | {
        "poster": key,
        "width": poster.width,
        "height": poster.height,
        "at_s": round(poster.at_s, 3),
        "bytes": len(poster.jpeg),
    }


@handler(THUMBNAIL_JOB)
def thumbnail_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Make a recording's poster frame."""
    progress(0, 1)
    return poster_for(ctx.sessions, ctx.store, params["recording_id"], ctx.archive)


# --- the full-decode probe ---------------------------------------------------------------


@handler(PROBE_JOB)
def probe_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Decode every frame of a recording's stored original, strictly."""
    rec = _recording(ctx.sessions, params["recording_id"])
    if rec.purged_at is not None:
        return {"recording_id": rec.id, "skipped": "the recording was purged"}
    store = _source_store(rec, ctx.store, ctx.archive)
    progress(0, max(rec.frame_count, 1))
    with local_path(store, rec.sha256) as path:
        try:
            found = probe(
                path, display_name=rec.original_filename, deep=True, strict=True, progress=progress
            )
        except ProbeError as exc:
            raise PermanentJobError(
                f"Recording {rec.id}: the stored original fails the full decode: {exc}"
            ) from None
    return {
        "recording_id": rec.id,
        "sha256": rec.sha256,
        "decoded": "all",
        "frame_count": found.frame_count,
        "duration_s": round(found.duration_s, 3),
        "same_as_ingest": found.frame_count == rec.frame_count
        and (found.width, found.height) == (rec.width, rec.height),
    }


# --- after ingest ------------------------------------------------------------------------


def queue_after_ingest(session: Session, recording_id: str, *, decoded_all: bool) -> list[str]:
    """Queue the jobs a new recording gets, in the ingest's transaction; their ids.

    The poster always; the full-decode probe when ingest decoded keyframes only and a
    worker pool takes jobs through a broker (embedded deployments decode inline).
    """
    ids = [
        submit(
            session, THUMBNAIL_JOB, {"recording_id": recording_id}, key=thumbnail_key(recording_id)
        ).id
    ]
    if not decoded_all and config_of(session).dispatcher is not None:
        ids.append(
            submit(
                session, PROBE_JOB, {"recording_id": recording_id}, key=probe_key(recording_id)
            ).id
        )
    return ids


def after_ingest(factory: sessionmaker[Session], store: BlobStore, recording_id: str) -> None:
    """After an ingest committed: without a broker, make the poster now, in this process.

    Under Celery the workers have it already (sent on commit); nothing is done here.
    A failure is recorded on the job (the runners retry it); the ingest stands.
    """
    with factory() as s:
        if config_of(s).dispatcher is not None:
            return
        job_id = s.scalar(select(Job.id).where(Job.key == thumbnail_key(recording_id)))
    if job_id is None:
        return
    try:
        run_inline(factory, job_id, lambda _progress: poster_for(factory, store, recording_id))
    except Exception as exc:  # the database went away: the job stays queued for a runner
        log.warning("the poster of recording %s was not made now (%s)", recording_id, exc)
