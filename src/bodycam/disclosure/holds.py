"""Footage held for a request: while it is open, or while an appeal of it is pending.

The holds are ordinary legal holds of source ``open_request`` whose ``origin`` is the
request number, placed and released through the retention service
(:func:`~bodycam.retention.service.place_automatic`,
:func:`~bodycam.retention.service.release_automatic`) in the request's own transaction:

* each attached recording is held;
* a request with a time range also holds its query: every recording (present and future)
  that starts within the range, one query hold per named officer (or one for the range).

Every change to a request ends with :func:`sync_holds`, which makes the holds match the
request: placed (idempotently) while held, all released once it is closed and no appeal
is pending. Callers run ``refresh_queue`` after their transaction commits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.auth.actor import Actor
from bodycam.disclosure.models import (
    CLOSED,
    DisclosureAppeal,
    DisclosureRecording,
    DisclosureRequest,
)
from bodycam.retention.models import HoldReason, HoldSource, LegalHold
from bodycam.retention.service import HoldQuery, place_automatic, release_automatic

SOURCE = HoldSource.OPEN_REQUEST


def appeal_pending(session: Session, req: DisclosureRequest) -> bool:
    """Whether an appeal of the request awaits its decision."""
    return (
        session.scalars(
            select(DisclosureAppeal.id).where(
                DisclosureAppeal.request_id == req.id, DisclosureAppeal.outcome.is_(None)
            )
        ).first()
        is not None
    )


def is_held(session: Session, req: DisclosureRequest) -> bool:
    """Whether the request holds its footage now: open, or an appeal pending."""
    return req.status not in CLOSED or appeal_pending(session, req)


def queries(req: DisclosureRequest) -> list[HoldQuery]:
    """The query holds of a request with a time range (none without one)."""
    if req.range_start is None or req.range_end is None:
        return []
    badges: list[str | None] = list(req.officer_badges) or [None]
    return [
        HoldQuery(officer_badge=b, start_from=req.range_start, start_to=req.range_end)
        for b in badges
    ]


def sync_holds(session: Session, actor: Actor, req: DisclosureRequest) -> list[LegalHold]:
    """Place or release the request's automatic holds to match its state; the holds in force."""
    if not is_held(session, req):
        release_automatic(
            session,
            actor,
            source=SOURCE,
            origin=req.number,
            reason=f"request {req.number} closed ({req.status})",
        )
        return []
    reason = (
        f"public-records request {req.number} is open"
        if req.status not in CLOSED
        else f"an appeal of public-records request {req.number} is pending"
    )
    held = []
    attached = session.scalars(
        select(DisclosureRecording.recording_id)
        .where(DisclosureRecording.request_id == req.id)
        .order_by(DisclosureRecording.attached_at, DisclosureRecording.id)
    )
    for rid in attached:
        held.append(
            place_automatic(
                session,
                actor,
                source=SOURCE,
                origin=req.number,
                reason_type=HoldReason.RECORDS_REQUEST,
                reason=reason,
                recording_id=rid,
            )
        )
    for query in queries(req):
        held.append(
            place_automatic(
                session,
                actor,
                source=SOURCE,
                origin=req.number,
                reason_type=HoldReason.RECORDS_REQUEST,
                reason=reason,
                query=query,
            )
        )
    return held


def release_recording(session: Session, actor: Actor, req: DisclosureRequest, rid: str) -> None:
    """Release the hold a detached recording had through this request (its query stays)."""
    release_automatic(
        session,
        actor,
        source=SOURCE,
        origin=req.number,
        reason=f"taken off request {req.number}",
        recording_id=rid,
    )
