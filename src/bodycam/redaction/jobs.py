"""Job handlers of the redaction domain: detection and rendering run as background jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bodycam.auth.models import User
from bodycam.auth.service import actor_for
from bodycam.evidence.service import Vault
from bodycam.jobs.runner import PermanentJobError, Progress, handler
from bodycam.redaction import projects
from bodycam.redaction.engine import RedactOptions
from bodycam.redaction.models import RedactionTrack
from bodycam.redaction.projects import DETECT_JOB, RENDER_JOB, ProjectError

if TYPE_CHECKING:
    from bodycam.context import Context


@handler(DETECT_JOB)
def detect_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Analyse a project's recording: tracks, thumbnails and the draft plan."""
    vault = Vault.from_context(ctx)
    options = RedactOptions(
        threshold=float(params.get("threshold", 0.2)),
        detector=str(params.get("detector", "centerface")),
    )
    try:
        projects.run_detection(vault, params["project_id"], options=options, progress=progress)
    except ProjectError as exc:  # the recording cannot be analysed: retrying cannot help
        raise PermanentJobError(str(exc)) from None
    with vault.sessions() as s:
        tracks = s.scalar(
            select(func.count())
            .select_from(RedactionTrack)
            .where(RedactionTrack.project_id == params["project_id"])
        )
    return {"project_id": params["project_id"], "tracks": int(tracks or 0)}


@handler(RENDER_JOB)
def render_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Render a project's plan as the user who asked for it (checked and audited as them)."""
    vault = Vault.from_context(ctx)
    with ctx.sessions() as s:
        user = s.get(User, params["user_id"])
        if user is None or not user.active:
            raise PermanentJobError("The user who asked for this render is no longer active.")
        actor = actor_for(user, "job")
    try:
        view = projects.render(vault, actor, params["project_id"], progress=progress)
    except ProjectError as exc:
        raise PermanentJobError(str(exc)) from None
    return {
        "project_id": params["project_id"],
        "copy_id": view.copy.id,
        "status": view.copy.status,
        "findings": len(view.findings),
    }
