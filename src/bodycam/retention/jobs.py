"""Job handlers of the retention domain: the purge runs as a scheduled job.

``retention.purge`` is a periodic job (:mod:`bodycam.jobs.schedule`): every
:data:`PURGE_EVERY` one runner queues it and one worker runs it, however many workers
there are, instead of every worker purging in every round. It purges every approved
deletion whose recovery window has passed (:func:`bodycam.retention.purge.purge_due`,
idempotent: a purged recording is not purged again, a blob already deleted is skipped),
then removes the poster frames of recordings purged in the last :data:`POSTER_SWEEP`
(so a purge interrupted after its commit still loses no poster it should destroy).
``bodycam retention purge`` runs the same purge at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bodycam.evidence.jobs import delete_poster
from bodycam.evidence.models import Recording
from bodycam.ids import utcnow
from bodycam.jobs.runner import Progress, handler
from bodycam.retention.purge import purge_due

if TYPE_CHECKING:
    from bodycam.context import Context

PURGE_JOB = "retention.purge"
PURGE_EVERY = timedelta(minutes=15)
"""How often the purge job is queued."""
POSTER_SWEEP = timedelta(days=7)
"""Posters of recordings purged this recently are looked for and removed."""


@handler(PURGE_JOB)
def purge_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Purge what is due, with certificates; then remove the purged recordings' posters."""
    report = purge_due(ctx)
    since = utcnow() - POSTER_SWEEP
    with ctx.sessions() as s:
        shas = sorted(
            set(
                s.scalars(
                    select(Recording.sha256).where(
                        Recording.purged_at.is_not(None), Recording.purged_at >= since
                    )
                )
            )
        )
        live = set(
            s.scalars(
                select(Recording.sha256).where(
                    Recording.sha256.in_(shas), Recording.purged_at.is_(None)
                )
            )
        )
    posters = 0
    for i, sha in enumerate(shas, 1):
        if sha not in live and delete_poster(ctx.store, sha):
            posters += 1
        progress(i, len(shas))
    return {
        "purged": report.purged,
        "certificates": report.certificates,
        "blobs_deleted": report.blobs_deleted,
        "posters_deleted": posters,
    }
