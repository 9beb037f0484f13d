"""HTTP API of the fleet domain: device events from docks (``/api/v1/fleet``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bodycam.fleet.common import FleetImportError
from bodycam.fleet.events import MAX_API_EVENTS, ingest_events
from bodycam.web.deps import ApiActor, CtxDep

router = APIRouter(prefix="/api/v1/fleet", tags=["fleet"])


class ProblemOut(BaseModel):
    """One problem of a refused batch: the event's position (from 1), field and reason."""

    line: int
    field: str
    reason: str


class EventsOut(BaseModel):
    """The report: counts, problems (when refused) and uploads of cameras under recall."""

    source: str
    rows: int
    valid: int
    invalid: list[ProblemOut]
    stored: int
    duplicates: int
    firmware_updates: int
    recalled_uploads: list[dict[str, Any]]
    warnings: list[str]
    imported: bool
    import_id: str | None = Field(default=None, alias="import")


EXAMPLE = [
    {"camera": "BWC-1000001", "event": "undock", "at": "2026-03-01T07:02:11-05:00", "dock": "N-01"},
    {"camera": "BWC-1000001", "event": "battery", "at": "2026-03-01T12:00:00Z", "battery": 64},
]


@router.post(
    "/events",
    response_model=EventsOut,
    responses={
        422: {"model": EventsOut, "description": "A problem in any event: nothing was stored."}
    },
)
async def post_events(
    ctx: CtxDep,
    actor: ApiActor,
    events: Annotated[
        list[dict[str, Any]],
        Body(
            description=(
                "Device events in the dock-log format (docs/fleet.md), at most "
                f"{MAX_API_EVENTS}. All or nothing; an event sent twice is stored once."
            ),
            examples=[EXAMPLE],
        ),
    ],
) -> Any:
    """Store device events from a dock (``fleet:events:ingest``); answers the report."""
    try:
        outcome = await run_in_threadpool(ingest_events, ctx.sessions, actor, list(events))
    except FleetImportError as exc:
        body = {"detail": str(exc)} | (exc.report or {})
        return JSONResponse(body, status_code=422)
    report = outcome.report
    return JSONResponse({k: v for k, v in report.items() if k not in ("sha256", "file")})
