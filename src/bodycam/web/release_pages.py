"""The public releases page, and the records clerk's release builder.

Everything shown under ``/releases`` was released to the public: the signed manifest, its
signature, the agency's public key and every file of each package, byte for byte as
``bodycam release export`` writes them, under the same paths (``/releases/ID/manifest.json``,
``/releases/ID/files/R-2026-000123-01.mp4``, ...). Each download of released footage is
audited (actor ``public``, with the caller's address); the listing and the manifests are not.

The builder (``/requests/NUMBER/release``, ``disclosure:release:build``) lists the
request's attached recordings with their approved redacted copies, queues a
``release.build`` job of the ticked ones (:mod:`bodycam.disclosure.release_builder`) and
follows the job until the release exists, then links to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Role
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.disclosure import release_builder, releases
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.requests import normalise_number
from bodycam.disclosure.verify_release import MANIFEST, PUBLIC_KEY, SIGNATURE
from bodycam.web.deps import CtxDep, PageActor, client_ip
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, render

router = APIRouter(prefix="/releases", include_in_schema=False)
builder_router = APIRouter(include_in_schema=False)

TYPES = {
    ".mp4": "video/mp4",
    ".json": "application/json",
    ".pem": "application/x-pem-file",
    ".py": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".sig": "text/plain; charset=ascii",
}


def _public(request: Request) -> Actor:
    """Who downloads from the public page: anyone, named by address only."""
    return Actor("public", "public", Role.EXTERNAL, via="web", ip=client_ip(request))


@router.get("", response_class=HTMLResponse)
def release_list(request: Request, ctx: CtxDep) -> HTMLResponse:
    """Every released package: request, date, files, manifest hash."""
    rows = [
        (r, number, [f for f in r.files if f.get("kind") == "footage"])
        for r, number in releases.list_releases(ctx.sessions)
    ]
    return render(request, "release_list.html", None, rows=rows)


@router.get("/{release_id}", response_class=HTMLResponse)
def release_detail(request: Request, release_id: str, ctx: CtxDep) -> HTMLResponse:
    """One package: its signed manifest and a link to every file."""
    release = releases.get_release(ctx.sessions, release_id)
    manifest = releases.manifest_of(release)
    return render(
        request,
        "release.html",
        None,
        release=release,
        manifest=manifest,
        pretty=json.dumps(manifest, indent=2, ensure_ascii=False),
        footage=[f for f in manifest["files"] if f.get("kind") == "footage"],
        support=[f for f in manifest["files"] if f.get("kind") != "footage"],
    )


def _type(name: str) -> str:
    return next((t for ext, t in TYPES.items() if name.endswith(ext)), "application/octet-stream")


@router.get("/{release_id}/{name:path}")
def release_file(request: Request, release_id: str, name: str, ctx: CtxDep) -> Response:
    """A file of the package: manifest.json, manifest.sig, public-key.pem or a listed file."""
    release = releases.get_release(ctx.sessions, release_id)
    fixed = {
        MANIFEST: release.manifest.encode("utf-8"),
        SIGNATURE: (release.signature + "\n").encode("ascii"),
        PUBLIC_KEY: release.public_key.encode("ascii"),
    }
    filename = name.rsplit("/", 1)[-1]
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if name in fixed:
        return Response(fixed[name], media_type=_type(name), headers=disposition)
    entry = next((f for f in release.files if f.get("name") == name), None)
    if entry is None:
        raise LookupError(f"Release {release_id} has no file {name}.")
    if entry.get("kind") == "footage":
        with transaction(ctx.sessions) as s:
            record(
                s,
                _public(request),
                AuditAction.DISCLOSURE_RELEASE_DOWNLOAD,
                "disclosure_release",
                release_id,
                {"file": name, "sha256": entry["sha256"]},
            )
    chunks: Iterator[bytes] = ctx.store.iter_bytes(entry["sha256"])
    headers = disposition | {"Content-Length": str(entry["size"])}
    return StreamingResponse(chunks, media_type=_type(name), headers=headers)


# --- the release builder (records clerks) --------------------------------------------------


def _builder_url(number: str) -> str:
    return f"/requests/{quote(normalise_number(number), safe='')}/release"


def _builder_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    number: str,
    *,
    status: int = 200,
    error: str | None = None,
    job: str | None = None,
    ticked: list[str] | None = None,
) -> HTMLResponse:
    try:
        choices = release_builder.release_choices(ctx, actor, number)
        if job:
            build: release_builder.BuildJob | None = release_builder.release_build(
                ctx, actor, number, job
            )
        else:  # the newest build, if any: the one just queued, or how the last one ended
            build = choices.builds[0] if choices.builds else None
    except DisclosureError as exc:  # no such request, or no such build of it
        raise LookupError(str(exc)) from None
    return render(
        request,
        "release_builder.html",
        actor,
        status,
        c=choices,
        build=build,
        url=_builder_url(choices.number),
        request_url=f"/requests/{quote(choices.number, safe='')}",
        ticked=set(ticked or []),
        error=error,
    )


@builder_router.get("/requests/{number}/release", response_class=HTMLResponse)
def builder_page(
    request: Request, number: str, ctx: CtxDep, actor: PageActor, job: str | None = None
) -> HTMLResponse:
    """Choose the approved redacted copies to release; follow the newest build (or the
    one ``?job=`` names) until its release exists."""
    return _builder_page(request, ctx, actor, number, job=job)


@builder_router.post("/requests/{number}/release", response_model=None)
def builder_build(
    request: Request,
    number: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    copies: Annotated[list[str] | None, Form(alias="copy")] = None,
) -> Response:
    """Queue a build of the ticked copies; on to the page following it. A refused choice
    is answered with the page and its sentence, and queues nothing."""
    try:
        if not _check_csrf(request, csrf):
            raise DisclosureError(FORM_EXPIRED)
        build = release_builder.queue_release(ctx, actor, number, copies or [])
    except DisclosureError as exc:
        return _builder_page(request, ctx, actor, number, status=422, error=str(exc), ticked=copies)
    return RedirectResponse(_builder_url(build.number), status_code=303)
