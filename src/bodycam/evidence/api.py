"""HTTP API of the evidence domain (``/api/v1/recordings``)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bodycam.evidence import service
from bodycam.evidence.models import Category, Recording
from bodycam.evidence.service import EvidenceError, SearchQuery, Vault
from bodycam.storage import BlobIntegrityError
from bodycam.web.deps import ApiActor, CtxDep

router = APIRouter(prefix="/api/v1/recordings", tags=["recordings"])

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class RecordingOut(BaseModel):
    """A recording's metadata."""

    id: str
    sha256: str
    size_bytes: int
    title: str
    notes: str
    officer_id: str
    camera_serial: str | None
    category: str | None
    recorded_start: datetime
    recorded_end: datetime
    duration_s: float
    width: int
    height: int
    fps: float
    container: str
    video_codec: str
    audio_codec: str | None
    tags: list[str]
    cases: list[str]
    extra_categories: list[str] = []
    retain_until: datetime | None = None
    retention_rule: str = ""


class IngestOut(BaseModel):
    """Acknowledgement of an upload: given only after blob, row and audit record are durable."""

    id: str
    sha256: str
    duplicate: bool


class PageOut(BaseModel):
    """A page of recordings."""

    items: list[RecordingOut]
    total: int
    page: int
    per_page: int
    total_exact: bool = True
    """False when more recordings match than ``total`` (counting stops at 10,000)."""


class EditIn(BaseModel):
    """Metadata changes; omitted fields are left as they are."""

    title: str | None = Field(default=None, max_length=200)
    notes: str | None = None
    category: str | None = None
    extra_categories: list[str] | None = None
    tags: list[str] | None = None
    cases: list[str] | None = None
    camera_serial: str | None = Field(default=None, max_length=64)


def to_out(r: Recording, category: str | None) -> RecordingOut:
    """API form of a recording."""
    return RecordingOut(
        id=r.id,
        sha256=r.sha256,
        size_bytes=r.size_bytes,
        title=r.title,
        notes=r.notes,
        officer_id=r.officer_id,
        camera_serial=r.camera_serial,
        category=category,
        recorded_start=r.recorded_start,
        recorded_end=r.recorded_end,
        duration_s=r.duration_s,
        width=r.width,
        height=r.height,
        fps=r.fps,
        container=r.container,
        video_codec=r.video_codec,
        audio_codec=r.audio_codec,
        tags=[t.tag for t in r.tags],
        cases=[c.case_number for c in r.cases],
        extra_categories=[e.name for e in r.extra_categories],
        retain_until=r.retain_until,
        retention_rule=r.retention_basis,
    )


def _spool_dir(ctx: Any) -> Path:
    d = Path(ctx.settings.resolved_home) / "spool"
    d.mkdir(parents=True, exist_ok=True)
    return d


@router.post(
    "",
    status_code=201,
    response_model=IngestOut,
    responses={200: {"model": IngestOut, "description": "Already held (duplicate)."}},
)
async def upload_recording(
    request: Request,
    ctx: CtxDep,
    actor: ApiActor,
    officer: Annotated[str, Query(description="Badge of the recording officer.")],
    filename: Annotated[str, Query(max_length=255)] = "upload.mp4",
    camera: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    x_content_sha256: Annotated[str | None, Header(description="Hex SHA-256 of the body.")] = None,
) -> Any:
    """Upload one video as the raw request body (streamed to disk, never held in memory)."""
    expected = x_content_sha256.strip().lower() if x_content_sha256 else None
    if expected is not None and not _HEX64.match(expected):
        raise HTTPException(422, "X-Content-SHA256 must be 64 hexadecimal characters.")
    safe_name = Path(filename).name or "upload.mp4"
    # Refuse before reading the body, so an unauthorized caller cannot fill the spool.
    await run_in_threadpool(service.authorize_ingest, Vault.from_context(ctx), actor, officer)
    fd, tmp_name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=_spool_dir(ctx))
    tmp = Path(tmp_name)
    try:
        written = 0
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                written += len(chunk)
                if written > ctx.settings.max_upload_bytes:
                    raise HTTPException(
                        413,
                        f"{safe_name} exceeds the upload limit of "
                        f"{ctx.settings.max_upload_bytes} bytes.",
                    )
                digest.update(chunk)
                f.write(chunk)
        if expected is not None and digest.hexdigest() != expected:
            raise HTTPException(
                422,
                f"{safe_name} has SHA-256 {digest.hexdigest()}, not the "
                f"{expected} declared in X-Content-SHA256; nothing was "
                "stored.",
            )
        try:
            res = await run_in_threadpool(
                service.ingest_file,
                Vault.from_context(ctx),
                actor,
                tmp,
                officer_badge=officer,
                camera_serial=camera,
                category=category,
                expected_sha256=expected,
                display_name=safe_name,
            )
        except BlobIntegrityError:  # the spool file changed under us; never show its path
            raise HTTPException(
                422, f"{safe_name} changed while it was being stored; nothing was stored."
            ) from None
    finally:
        tmp.unlink(missing_ok=True)
    body = IngestOut(id=res.id, sha256=res.sha256, duplicate=res.duplicate)
    return JSONResponse(body.model_dump(), status_code=200 if res.duplicate else 201)


@router.get("", response_model=PageOut)
def list_recordings(
    ctx: CtxDep,
    actor: ApiActor,
    officer: str | None = None,
    start_from: Annotated[datetime | None, Query(alias="from")] = None,
    start_to: Annotated[datetime | None, Query(alias="to")] = None,
    category: str | None = None,
    tag: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    camera: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PageOut:
    """Search the recordings the caller may see (audited)."""
    res = service.search(
        Vault.from_context(ctx),
        actor,
        SearchQuery(officer, start_from, start_to, category, tag, q, camera, page, per_page),
    )
    items = [to_out(r, res.categories[r.category_id].name) for r in res.items]
    return PageOut(
        items=items,
        total=res.total,
        page=res.page,
        per_page=res.per_page,
        total_exact=res.total_exact,
    )


@router.get("/{recording_id}", response_model=RecordingOut)
def get_recording(recording_id: str, ctx: CtxDep, actor: ApiActor) -> RecordingOut:
    """One recording's metadata (audited as a view)."""
    v = service.view(Vault.from_context(ctx), actor, recording_id)
    return to_out(v.recording, v.category.name)


@router.patch("/{recording_id}", response_model=RecordingOut)
def edit_recording(recording_id: str, body: EditIn, ctx: CtxDep, actor: ApiActor) -> RecordingOut:
    """Change metadata; history is kept and each change audited."""
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise EvidenceError("Nothing to change.")
    rec = service.edit(Vault.from_context(ctx), actor, recording_id, changes)
    # Answer from the edited row: a second view would be audited as a view, and would
    # answer 404 for a change that committed when it moved the recording out of sight.
    with ctx.sessions() as s:
        cat = s.get(Category, rec.category_id)
    return to_out(rec, cat.name if cat else None)


def stream_response(
    ctx: Any, actor: Any, recording_id: str, range_header: str | None, download: bool
) -> StreamingResponse:
    """A (ranged) streaming response of a recording's original bytes, audited first."""
    rec, rng, chunks = service.open_stream(
        Vault.from_context(ctx), actor, recording_id, range_header, download=download
    )
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{rec.sha256}"',
        "Cache-Control": "private, no-store",
    }
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{rec.id}.{rec.container}"'
    if rng is None:
        headers["Content-Length"] = str(rec.size_bytes)
        status = 200
    else:
        headers["Content-Range"] = f"bytes {rng.start}-{rng.end - 1}/{rng.size}"
        headers["Content-Length"] = str(rng.end - rng.start)
        status = 206

    def body() -> Iterator[bytes]:
        yield from chunks

    return StreamingResponse(body(), status_code=status, media_type="video/mp4", headers=headers)


@router.get(
    "/{recording_id}/content",
    response_class=StreamingResponse,
    responses={206: {"description": "Partial content (Range)."}},
)
def stream_recording(
    recording_id: str,
    ctx: CtxDep,
    actor: ApiActor,
    range_: Annotated[str | None, Header(alias="range")] = None,
) -> StreamingResponse:
    """Stream the original for playback, honouring HTTP Range (each request audited)."""
    return stream_response(ctx, actor, recording_id, range_, False)


@router.get("/{recording_id}/download", response_class=StreamingResponse)
def download_recording(recording_id: str, ctx: CtxDep, actor: ApiActor) -> StreamingResponse:
    """Download the original file (needs the download permission; audited)."""
    return stream_response(ctx, actor, recording_id, None, True)
