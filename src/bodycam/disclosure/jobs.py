"""Job handlers of the disclosure domain: release packages and share watermarks.

``release.build`` builds a release package (C2PA embedding and signing of each file) as
the records clerk who queued it from the release builder page, so the permission check
and the audit records are theirs; the release id comes with the job, so a build run twice
makes one release. ``share.watermark`` burns the recipient's name into one shared item,
into the share folder the share pages serve from. A refusal that another attempt cannot
change (a choice no longer valid, a file that cannot be decoded) quarantines the job with
its sentence, which the pages show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bodycam.auth.actor import PermissionDenied
from bodycam.auth.models import User
from bodycam.auth.service import actor_for
from bodycam.disclosure import releases, share_access
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.release_builder import BUILD_JOB
from bodycam.disclosure.shares import WATERMARK_JOB, Sharing
from bodycam.jobs.runner import PermanentJobError, Progress, handler

if TYPE_CHECKING:
    from bodycam.context import Context


@handler(BUILD_JOB)
def release_build_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Build the release the clerk chose, as that clerk (checked and audited as them)."""
    with ctx.sessions() as s:
        user = s.get(User, params["user_id"])
        if user is None or not user.active:
            raise PermanentJobError("The user who asked for this release is no longer active.")
        actor = actor_for(user, "job")
    try:
        release = releases.build_release(
            ctx,
            actor,
            params["number"],
            copy_ids=list(params["copies"]),
            release_id=params["release_id"],
            progress=progress,
        )
    except (DisclosureError, PermissionDenied) as exc:
        raise PermanentJobError(str(exc)) from None
    return {
        "release_id": release.id,
        "request": params["number"],
        "manifest_sha256": release.manifest_sha256,
        "files": sum(1 for f in release.files if f.get("kind") == "footage"),
    }


@handler(WATERMARK_JOB)
def share_watermark_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Make one shared item's watermarked copy."""
    try:
        return share_access.prepare_item(
            Sharing.from_context(ctx), params["share_id"], int(params["position"]), progress
        )
    except DisclosureError as exc:
        raise PermanentJobError(str(exc)) from None
