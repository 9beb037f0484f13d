"""HTTP adapter of resumable uploads: the tus 1.0 protocol at ``/api/v1/uploads``.

Core protocol plus the creation, expiration, checksum (sha256) and termination
extensions (https://tus.io/protocols/resumable-upload). Every answer carries
``Tus-Resumable: 1.0.0``; every request but OPTIONS must send it (412 otherwise). The
last PATCH answers only after the recording is committed, with the acknowledgement in
``Bodycam-Recording-Id``, ``Bodycam-Sha256`` and ``Bodycam-Duplicate``; HEAD repeats it.
The checks live in :mod:`bodycam.evidence.uploads`; this module only translates.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from bodycam.audit.service import record_denial
from bodycam.auth.actor import PermissionDenied
from bodycam.evidence.service import EvidenceError
from bodycam.evidence.uploads import (
    CHECKSUM_ALGORITHMS,
    TUS_EXTENSIONS,
    TUS_VERSION,
    AppendResult,
    UploadError,
    Uploads,
    UploadStatus,
    ack_headers,
    parse_checksum,
)
from bodycam.storage import BlobStoreError
from bodycam.web.deps import ApiActor, CtxDep

OCTET = "application/offset+octet-stream"
WRITE_BATCH = 1 << 20  # bytes handed to a worker thread at a time
INGESTS_AT_ONCE = os.cpu_count() or 2
"""Finished uploads ingested at the same time by one server process; the others wait.

Ingest is CPU work (deep probe, hashing while copying). Twenty docks finishing together
made twenty probes fight over two cores: about 10% more CPU per gigabyte, and the
threads they hold are the ones every other request needs."""

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
_slots = weakref.WeakKeyDictionary()


def _ingest_slot() -> asyncio.Semaphore:
    """This event loop's semaphore of :data:`INGESTS_AT_ONCE` slots."""
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(INGESTS_AT_ONCE)
    return _slots[loop]


def _problem(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"detail": message}, status_code=status, headers=dict(headers or {}))


class TusRoute(APIRoute):
    """A route that speaks tus: version check first, ``Tus-Resumable`` on every answer.

    Errors become answers here (not in the app's handlers) so that they carry the tus
    headers too; a refusal that no service audited yet is audited as everywhere else.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            sent = request.headers.get("tus-resumable")
            if request.method != "OPTIONS" and sent != TUS_VERSION:
                response = _problem(
                    412,
                    f"Send the header Tus-Resumable: {TUS_VERSION} (got {sent!r}).",
                    {"Tus-Version": TUS_VERSION},
                )
            else:
                try:
                    response = await handler(request)
                except UploadError as exc:
                    response = _problem(exc.status, str(exc), exc.headers)
                except PermissionDenied as exc:
                    if not exc.audited and exc.actor is not None:
                        ctx = request.app.state.ctx
                        await run_in_threadpool(
                            record_denial, ctx.sessions, exc.actor, str(exc), exc.object_id
                        )
                        exc.audited = True
                    response = _problem(403, str(exc))
                except EvidenceError as exc:
                    response = _problem(422, str(exc))
                except BlobStoreError as exc:
                    response = _problem(503, str(exc))
                except HTTPException as exc:
                    response = _problem(exc.status_code, str(exc.detail), exc.headers)
            response.headers["Tus-Resumable"] = TUS_VERSION
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return tus_handler


router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"], route_class=TusRoute)


def _expires(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def _whole(name: str, value: str | None) -> int:
    if value is None or not value.strip().isdigit():
        raise UploadError(f"{name} must be a whole number of bytes, not {value!r}.")
    return int(value)


def _status_headers(st: UploadStatus) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(st.offset),
        "Upload-Length": str(st.upload.length),
        "Upload-Expires": _expires(st.expires),
    }
    if st.upload.metadata:
        headers["Upload-Metadata"] = st.upload.metadata
    if st.upload.ack is not None:
        headers |= ack_headers(st.upload.ack)
    return headers


@router.options("", status_code=204, response_class=Response)
def upload_options(ctx: CtxDep) -> Response:
    """What this server supports: tus version, extensions, largest upload, checksums."""
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": ",".join(TUS_EXTENSIONS),
            "Tus-Max-Size": str(ctx.settings.max_upload_bytes),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


@router.post("", status_code=201, response_class=Response)
def create_upload(
    request: Request,
    ctx: CtxDep,
    actor: ApiActor,
    upload_length: Annotated[str | None, Header(description="Total bytes of the file.")] = None,
    upload_metadata: Annotated[
        str | None,
        Header(description="filename, officer (badge), camera, category, sha256 (base64 values)."),
    ] = None,
    upload_defer_length: Annotated[str | None, Header()] = None,
) -> Response:
    """Create an upload (``recording:ingest`` for the officer named); 201 with its Location."""
    if upload_defer_length is not None:
        raise UploadError("Upload-Defer-Length is not supported; send Upload-Length.")
    length = _whole("Upload-Length", upload_length)
    st = Uploads.from_context(ctx).create(actor, length, upload_metadata)
    location = str(request.url_for("upload_status", upload_id=st.upload.id))
    return Response(
        status_code=201,
        headers={"Location": location, "Upload-Expires": _expires(st.expires)},
    )


@router.head("/{upload_id}", response_class=Response, name="upload_status")
def upload_status(upload_id: str, ctx: CtxDep, actor: ApiActor) -> Response:
    """Upload-Offset (bytes received) and, once complete, the acknowledgement."""
    st = Uploads.from_context(ctx).status(actor, upload_id)
    return Response(status_code=200, headers=_status_headers(st))


@router.patch("/{upload_id}", status_code=204, response_class=Response)
async def append_upload(
    upload_id: str,
    request: Request,
    ctx: CtxDep,
    actor: ApiActor,
    upload_offset: Annotated[str | None, Header(description="Bytes already received.")] = None,
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[str | None, Header()] = None,
    upload_checksum: Annotated[
        str | None, Header(description="sha256 <base64 digest> of this request's body.")
    ] = None,
) -> Response:
    """Append the body at Upload-Offset; after the last byte, ingest and acknowledge."""
    if (content_type or "").split(";")[0].strip().lower() != OCTET:
        return _problem(415, f"A PATCH must have Content-Type: {OCTET}.")
    offset = _whole("Upload-Offset", upload_offset)
    length = _whole("Content-Length", content_length) if content_length is not None else None
    checksum = parse_checksum(upload_checksum)
    uploads = Uploads.from_context(ctx)
    appender = await run_in_threadpool(
        uploads.open_append, actor, upload_id, offset, checksum, length
    )
    try:
        pieces: list[bytes] = []
        held = 0
        async for chunk in request.stream():
            pieces.append(chunk)
            held += len(chunk)
            if held >= WRITE_BATCH:
                await run_in_threadpool(appender.write, pieces)
                pieces, held = [], 0
        if pieces:
            await run_in_threadpool(appender.write, pieces)
    except ClientDisconnect:
        # Nobody will read an answer; what arrived stays (fsynced) for the next PATCH.
        await run_in_threadpool(appender.keep)
        return Response(status_code=400)
    except BaseException:
        appender.close()
        raise
    if await run_in_threadpool(appender.commit):
        try:
            async with _ingest_slot():
                result = await run_in_threadpool(appender.finalize)
        finally:
            appender.close()
    else:
        result = AppendResult(appender.offset, uploads.expires(appender.upload))
    headers = {"Upload-Offset": str(result.offset), "Upload-Expires": _expires(result.expires)}
    if result.ack is not None:
        headers |= ack_headers(result.ack)
    return Response(status_code=204, headers=headers)


@router.delete("/{upload_id}", status_code=204, response_class=Response)
def terminate_upload(upload_id: str, ctx: CtxDep, actor: ApiActor) -> Response:
    """Terminate an upload: its bytes are freed (a stored recording stays)."""
    Uploads.from_context(ctx).terminate(actor, upload_id)
    return Response(status_code=204)
