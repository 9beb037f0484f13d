"""The redaction review editor: the video with the tracks drawn over it, a timeline,
decisions with reasons, drawn boxes, whole-picture and audio ranges, a preview, the render.

The page is a shell; ``static/redaction-editor.js`` does the editing through the
redaction API (``bodycam.redaction.api``), whose service checks and audits every step.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from bodycam.auth.actor import Actor
from bodycam.context import Context
from bodycam.evidence.service import Vault
from bodycam.redaction import projects
from bodycam.redaction.api import DETECT_THRESHOLD, project_out, service
from bodycam.redaction.plan import ReasonCode
from bodycam.redaction.projects import ProjectError
from bodycam.redaction.styles import Style
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, render

router = APIRouter(include_in_schema=False)


def _json_for_script(data: object) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(data, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 - escaped above; parsed as JSON only  # nosec B704


def _editor(
    request: Request, ctx: Context, actor: Actor, project_id: str, *, status: int = 200
) -> HTMLResponse:
    vault = Vault.from_context(ctx)
    view = service(lambda: projects.show(vault, actor, project_id))
    others = service(lambda: projects.projects_of(vault, actor, view.recording.id))
    data = project_out(view).model_dump(mode="json")
    return render(
        request,
        "redaction_editor.html",
        actor,
        status,
        view=view,
        others=[p for p in others if p.id != project_id],
        data=_json_for_script(data),
        threshold=DETECT_THRESHOLD,
        reasons=list(ReasonCode),
        styles=[s.value for s in Style],
    )


@router.get("/recordings/{recording_id}/redaction", response_class=HTMLResponse)
def recording_redaction(
    request: Request, recording_id: str, ctx: CtxDep, actor: PageActor
) -> HTMLResponse:
    """The editor on the recording's newest redaction project, or a page to start one."""
    found = service(lambda: projects.projects_of(Vault.from_context(ctx), actor, recording_id))
    if found:
        return _editor(request, ctx, actor, found[-1].id)
    return render(request, "redaction_start.html", actor, recording_id=recording_id)


@router.post("/recordings/{recording_id}/redaction")
def start_redaction(
    request: Request,
    recording_id: str,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Start a project (its face detection runs as a job) and open the editor on it."""
    if not _check_csrf(request, csrf):
        raise ProjectError(FORM_EXPIRED)
    service(
        lambda: projects.start_project(
            Vault.from_context(ctx),
            actor,
            recording_id,
            queue_threshold=DETECT_THRESHOLD,
            detector=ctx.settings.redaction_detector,
        )
    )
    return RedirectResponse(f"/recordings/{recording_id}/redaction", status_code=303)


@router.get("/redaction/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, project_id: str, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """The editor on one redaction project."""
    return _editor(request, ctx, actor, project_id)
