"""The FastAPI application: API routers, pages, error handling and the background sealer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from bodycam import __version__
from bodycam.audit import api as audit_api
from bodycam.audit.service import record_denial, seal
from bodycam.auth import api as auth_api
from bodycam.auth.actor import PermissionDenied
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.evidence import api as evidence_api
from bodycam.evidence import upload_api
from bodycam.evidence.service import EvidenceError, NotFound
from bodycam.fleet import api as fleet_api
from bodycam.fleet import axis_api
from bodycam.jobs import api as jobs_api
from bodycam.redaction import api as redaction_api
from bodycam.retention.service import RetentionError
from bodycam.storage import BlobStoreError
from bodycam.web import (
    account_pages,
    admin_pages,
    audit_pages,
    compliance_pages,
    disclosure_pages,
    evaluation_pages,
    fleet_pages,
    jobs_pages,
    pages,
    policy_pages,
    redaction_pages,
    release_pages,
    retention_pages,
    review_pages,
    share_pages,
)
from bodycam.web.deps import LoginRequired, resolve_actor

log = logging.getLogger("bodycam.web")
SEAL_INTERVAL_S = 2.0


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, heading: str, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    try:  # show the signed-in user's navigation (and sign-out) on error pages too
        found = resolve_actor(request, request.app.state.ctx)
    except Exception:  # an error page must render even when the database is down
        found = None
    if found is not None:
        request.state.csrf = found[1]
    actor = found[0] if found else None
    return pages.render(request, "error.html", actor, status, heading=heading, message=message)


def create_app(settings: Settings, ctx: Context | None = None) -> FastAPI:
    """Build the app for ``settings`` (or an already opened context)."""
    context = ctx or Context.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def sealer() -> None:
            while True:
                await asyncio.sleep(SEAL_INTERVAL_S)
                try:
                    await run_in_threadpool(seal, context.sessions, context.signer)
                except Exception:  # the next round retries; verify reports pending records
                    log.exception("sealing the audit log failed")

        task = asyncio.create_task(sealer())
        runner = None
        if settings.jobs == "inprocess":
            from bodycam.jobs.runner import InProcessRunner

            runner = InProcessRunner(context)
            runner.start()
        try:
            yield
        finally:
            task.cancel()
            if runner is not None:
                await run_in_threadpool(runner.stop)
            with contextlib.suppress(Exception):
                await run_in_threadpool(seal, context.sessions, context.signer)

    app = FastAPI(
        title="bodycam API",
        version=__version__,
        description="Evidence vault of a body-worn camera program: every access is audited.",
        lifespan=lifespan,
    )
    app.state.ctx = context
    app.include_router(evidence_api.router)
    app.include_router(upload_api.router)
    app.include_router(audit_api.router)
    app.include_router(auth_api.router)
    app.include_router(fleet_api.router)
    app.include_router(axis_api.router)
    app.include_router(pages.router)
    app.include_router(retention_pages.router)
    app.include_router(review_pages.router)
    app.include_router(compliance_pages.router)
    app.include_router(redaction_api.router)
    app.include_router(redaction_pages.router)
    app.include_router(release_pages.router)
    app.include_router(release_pages.builder_router)
    app.include_router(disclosure_pages.router)
    app.include_router(fleet_pages.router)
    app.include_router(share_pages.router)
    app.include_router(policy_pages.router)
    app.include_router(account_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(jobs_api.router)
    app.include_router(jobs_pages.router)
    app.include_router(evaluation_pages.router)
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )

    @app.get("/api/v1/health", tags=["system"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(back, safe='/')}", status_code=303)

    @app.exception_handler(PermissionDenied)
    async def _denied(request: Request, exc: PermissionDenied) -> Response:
        if not exc.audited and exc.actor is not None:  # every refusal leaves a record
            await run_in_threadpool(
                record_denial, context.sessions, exc.actor, str(exc), exc.object_id
            )
            exc.audited = True
        return _error(request, 403, "Not allowed", str(exc))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "Not found", str(exc))

    @app.exception_handler(LookupError)
    async def _lookup(request: Request, exc: LookupError) -> Response:
        return _error(request, 404, "Not found", str(exc.args[0]) if exc.args else str(exc))

    @app.exception_handler(EvidenceError)
    async def _bad(request: Request, exc: EvidenceError) -> Response:
        status = 416 if "outside the file" in str(exc) else 422
        return _error(request, status, "Cannot do that", str(exc))

    @app.exception_handler(compliance_pages.BadQuery)
    async def _bad_query(request: Request, exc: compliance_pages.BadQuery) -> Response:
        return _error(request, 422, "Cannot show that", str(exc))

    @app.exception_handler(RetentionError)
    async def _retention(request: Request, exc: RetentionError) -> Response:
        return _error(request, 422, "Cannot do that", str(exc))

    @app.exception_handler(BlobStoreError)
    async def _store(request: Request, exc: BlobStoreError) -> Response:
        log.error("storage error: %s", exc)
        return _error(request, 503, "Storage unavailable", str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return _error(request, exc.status_code, "Error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            parts.append(f"{where}: {e.get('msg')}")
        message = "Invalid request: " + "; ".join(parts) + "."
        return _error(request, 422, "Invalid request", message)

    @app.middleware("http")
    async def _headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.scheme == "https" or context.settings.cookie_secure == "always":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; media-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        )
        return response

    return app
