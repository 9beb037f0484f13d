"""HTTP adapter of the Axis Body Worn Integration API (the Swift subset) under ``/axis``.

``GET /axis/auth/v1.0`` hands out the token and storage URL; the storage URL is
``/axis/v1/AUTH_<user name>``, below which containers and objects live as in Swift:
``PUT``/``POST``/``GET``/``HEAD`` on ``/{container}`` and ``/{container}/{object}``.
Errors are plain-text bodies (``<status text>: <sentence>``) with the specification's
status codes. Every check is in :mod:`bodycam.fleet.axis_service`; this module translates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from bodycam.audit.service import record_denial
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.fleet import axis_service as svc
from bodycam.fleet.axis_service import AxisError, AxisStore, ContainerInfo, ObjectInfo
from bodycam.ids import new_id
from bodycam.storage import BlobStoreError
from bodycam.web.deps import client_ip

WRITE_BATCH = 1 << 20
CONTAINER_META = "X-Container-Meta-"
OBJECT_META = "X-Object-Meta-"


def _text(status: int, title: str, message: str) -> Response:
    return Response(f"{title}: {message}\n", status_code=status, media_type="text/plain")


class SwiftRoute(APIRoute):
    """A route whose errors are Swift-style plain-text answers with the spec's codes; a
    refusal no service audited yet is audited as everywhere else."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def swift_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except AxisError as exc:
                response = _text(exc.status, exc.title, str(exc))
                if exc.status == 401:
                    response.headers["WWW-Authenticate"] = 'Swift realm="bodycam"'
            except PermissionDenied as exc:
                if not exc.audited and exc.actor is not None:
                    ctx = request.app.state.ctx
                    await run_in_threadpool(
                        record_denial, ctx.sessions, exc.actor, str(exc), exc.object_id
                    )
                    exc.audited = True
                response = _text(403, "Forbidden", str(exc))
            except BlobStoreError as exc:
                response = _text(503, "Service Unavailable", str(exc))
            response.headers.setdefault("X-Trans-Id", request.headers.get("x-trans-id") or new_id())
            return response

        return swift_handler


router = APIRouter(prefix="/axis", tags=["axis"], route_class=SwiftRoute)


def _axis(request: Request) -> AxisStore:
    return AxisStore.from_context(request.app.state.ctx)


def _actor(request: Request, account: str) -> Actor:
    token = request.headers.get("x-auth-token") or request.headers.get("x-storage-token", "")
    return svc.token_actor(_axis(request).sessions, token.strip(), account, client_ip(request))


def _meta_headers(prefix: str, meta: dict[str, str]) -> dict[str, str]:
    from urllib.parse import quote

    return {prefix + k: quote(v, safe="") for k, v in meta.items()}


def _object_headers(info: ObjectInfo) -> dict[str, str]:
    return {
        "ETag": info.md5,
        "Last-Modified": format_datetime(info.at.astimezone(UTC), usegmt=True),
        "Content-Type": svc._content_type(info.name),
        **_meta_headers(OBJECT_META, info.meta),
    }


def _container_headers(info: ContainerInfo) -> dict[str, str]:
    return {
        "X-Container-Object-Count": str(len(info.objects)),
        "X-Container-Bytes-Used": str(info.bytes_used),
        **_meta_headers(CONTAINER_META, info.meta),
    }


def _length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise AxisError(f"Content-Length must be a whole number, not {value!r}.")
    return int(value)


# --- authentication ------------------------------------------------------------------------


@router.get("/auth/v1.0", response_class=Response)
def auth(request: Request) -> Response:
    """Swift v1 auth: ``X-Auth-User`` (a bodycam user name) and ``X-Auth-Key`` (one of its
    API tokens) give ``X-Auth-Token`` and ``X-Storage-Url``. 401 on bad credentials."""
    h = request.headers
    user = h.get("x-auth-user") or h.get("x-storage-user") or ""
    key = h.get("x-auth-key") or h.get("auth-key") or h.get("x-storage-pass") or ""
    axis = _axis(request)
    _, account = svc.authenticate(axis.sessions, user.strip(), key.strip(), client_ip(request))
    storage = str(request.url_for("account_listing", account=account))
    return Response(
        status_code=200,
        headers={
            "X-Auth-Token": key.strip(),
            "X-Storage-Token": key.strip(),
            "X-Storage-Url": storage,
        },
    )


# --- account ---------------------------------------------------------------------------------


def _listing(request: Request, names: list[dict[str, Any]]) -> Response:
    if request.query_params.get("format") == "json":
        return Response(json.dumps(names), media_type="application/json; charset=utf-8")
    if not names:
        return Response(status_code=204)
    text = "".join(n["name"] + "\n" for n in names)
    return Response(text, media_type="text/plain; charset=utf-8")


@router.get("/v1/{account}", response_class=Response, name="account_listing")
def account_listing(account: str, request: Request) -> Response:
    """The account's containers (plain text, or JSON with ``?format=json``)."""
    actor = _actor(request, account)
    found = svc.list_containers(_axis(request), actor)
    return _listing(request, [{"name": c.name, "status": c.status} for c in found])


@router.head("/v1/{account}", response_class=Response)
def account_head(account: str, request: Request) -> Response:
    """How many containers the account holds."""
    actor = _actor(request, account)
    found = svc.list_containers(_axis(request), actor)
    return Response(status_code=204, headers={"X-Account-Container-Count": str(len(found))})


# --- containers ------------------------------------------------------------------------------


@router.put("/v1/{account}/{container}", response_class=Response)
def container_put(account: str, container: str, request: Request) -> Response:
    """Create a container (201) or update its metadata (202). A recording's user and
    camera must be registered (400)."""
    actor = _actor(request, account)
    meta = svc.parse_meta(request.headers, CONTAINER_META)
    created = svc.put_container(_axis(request), actor, container, meta)
    return Response(status_code=201 if created else 202)


@router.post("/v1/{account}/{container}", response_class=Response)
def container_post(account: str, container: str, request: Request) -> Response:
    """Update the container's metadata (204); ``X-Container-Meta-Status: Complete`` ingests
    the recording first and answers only once every clip is in the vault."""
    actor = _actor(request, account)
    meta = svc.parse_meta(request.headers, CONTAINER_META)
    info = svc.post_container(_axis(request), actor, container, meta)
    headers = {}
    if info.recordings:
        headers["X-Bodycam-Recordings"] = ",".join(info.recordings)
    return Response(status_code=204, headers=headers)


@router.get("/v1/{account}/{container}", response_class=Response)
def container_get(account: str, container: str, request: Request) -> Response:
    """List the container's objects (plain text, or JSON with ``?format=json``)."""
    actor = _actor(request, account)
    info = svc.container_info(_axis(request), actor, container)
    response = _listing(request, [o.as_listing() for o in info.objects])
    response.headers.update(_container_headers(info))
    return response


@router.head("/v1/{account}/{container}", response_class=Response)
def container_head(account: str, container: str, request: Request) -> Response:
    """The container's metadata, object count and bytes used."""
    actor = _actor(request, account)
    info = svc.container_info(_axis(request), actor, container)
    return Response(status_code=204, headers=_container_headers(info))


# --- objects ---------------------------------------------------------------------------------


@router.put("/v1/{account}/{container}/{name:path}", response_class=Response)
async def object_put(account: str, container: str, name: str, request: Request) -> Response:
    """Store an object (201, ETag: the MD5 of its bytes); the body may be chunked."""
    actor = await run_in_threadpool(_actor, request, account)
    axis = _axis(request)
    await run_in_threadpool(svc.check_put, axis, actor, container, name, _length(request))
    meta = svc.parse_meta(request.headers, OBJECT_META)
    writer = await run_in_threadpool(svc.BodyWriter, axis)
    try:
        pieces: list[bytes] = []
        held = 0
        async for chunk in request.stream():
            pieces.append(chunk)
            held += len(chunk)
            if held >= WRITE_BATCH:
                await run_in_threadpool(writer.write, pieces)
                pieces, held = [], 0
        if pieces:
            await run_in_threadpool(writer.write, pieces)
        body = await run_in_threadpool(writer.finish)
    except ClientDisconnect:
        writer.discard()
        return Response(status_code=400)
    except BaseException:
        writer.discard()
        raise
    etag = request.headers.get("etag")
    info = await run_in_threadpool(svc.put_object, axis, actor, container, name, body, meta, etag)
    return Response(status_code=201, headers={"ETag": info.md5})


@router.post("/v1/{account}/{container}/{name:path}", response_class=Response)
def object_post(account: str, container: str, name: str, request: Request) -> Response:
    """Replace the object's metadata (202)."""
    actor = _actor(request, account)
    meta = svc.parse_meta(request.headers, OBJECT_META)
    svc.post_object(_axis(request), actor, container, name, meta)
    return Response(status_code=202)


@router.get("/v1/{account}/{container}/{name:path}", response_class=Response)
def object_get(account: str, container: str, name: str, request: Request) -> Response:
    """``System/Capability.json`` and registry entries (metadata, empty body). Recordings
    are not read back here: footage is read through the audited evidence API (403)."""
    actor = _actor(request, account)
    info = svc.object_info(_axis(request), actor, container, name)
    if container == "System" and name in svc.CAPABILITY_NAMES:
        body = svc.capabilities_json()
        return Response(body, media_type="application/json", headers=_object_headers(info))
    if container not in svc.REGISTRIES:
        raise AxisError("Recordings are not read back through this API; use the evidence API.", 403)
    headers = _object_headers(info)
    headers.pop("Content-Type")
    return Response(b"", headers=headers)


@router.head("/v1/{account}/{container}/{name:path}", response_class=Response)
def object_head(account: str, container: str, name: str, request: Request) -> Response:
    """The object's size, ETag and metadata."""
    actor = _actor(request, account)
    info = svc.object_info(_axis(request), actor, container, name)
    headers = _object_headers(info) | {"Content-Length": str(info.size)}
    return Response(status_code=200, headers=headers)
