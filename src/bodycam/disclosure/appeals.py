"""Appeals of public-records decisions, with their own deadline and an audited outcome.

An appeal may be filed against a decided request (released in full or in part, or
denied), or against an open one whose deadline has passed (a constructive denial); never
against a withdrawn one, and one at a time. Its deadline is the jurisdiction's
``appeal_decide_days`` business days from the day it was filed. While it is pending the
request's footage is held again, even if the request was closed. An appeal granted in
full or in part reopens a closed request at ``searching``; a denied one leaves it closed
and its holds end.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.disclosure.deadlines import clock_in_force, deadlines
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.holds import sync_holds
from bodycam.disclosure.models import (
    CLOSED,
    DECIDED,
    AppealOutcome,
    DisclosureAppeal,
    RequestStatus,
)
from bodycam.disclosure.requests import (
    FUTURE_SLACK,
    RequestView,
    add_step,
    jurisdiction_of,
    load,
    localise,
    view_of,
)
from bodycam.ids import as_utc, utcnow
from bodycam.retention.service import refresh_queue


def file_appeal(
    factory: sessionmaker[Session],
    actor: Actor,
    number: str,
    grounds: str,
    *,
    filed: datetime | date | None = None,
    now: datetime | None = None,
) -> RequestView:
    """File an appeal of a request (``filed`` defaults to now; it may be backdated)."""
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "file appeals of requests", number)
    now = now or utcnow()
    if not grounds.strip():
        raise DisclosureError("An appeal needs its grounds (what the requester contests).")
    with transaction(factory) as s:
        req = load(s, number, lock=True)
        appeals = list(
            s.scalars(
                select(DisclosureAppeal)
                .where(DisclosureAppeal.request_id == req.id)
                .order_by(DisclosureAppeal.filed_at)
            )
        )
        if req.status == RequestStatus.WITHDRAWN.value:
            raise DisclosureError(
                f"Request {req.number} was withdrawn; there is nothing to appeal."
            )
        pending = next((a for a in appeals if a.outcome is None), None)
        if pending is not None:
            raise DisclosureError(
                f"Request {req.number} already has an appeal pending (filed "
                f"{as_utc(pending.filed_at).date().isoformat()})."
            )
        _, clock = clock_in_force(s)
        j = jurisdiction_of(clock, req.jurisdiction)
        if req.status not in DECIDED and not deadlines(req, appeals, j, now).late:
            raise DisclosureError(
                f"Request {req.number} is open and within its deadlines; an appeal is filed "
                "against a decision, or once a deadline has passed."
            )
        when = localise(filed, j) if filed is not None else now
        if when > now + FUTURE_SLACK:
            raise DisclosureError("The appeal's filing date is in the future.")
        if when < as_utc(req.received_at):
            raise DisclosureError("The appeal's filing date is before the request was received.")
        appeal = DisclosureAppeal(
            request_id=req.id, filed_at=when, grounds=grounds.strip(), filed_by=actor.user_id
        )
        s.add(appeal)
        s.flush()
        add_step(s, actor, req, "appeal", now, detail=f"appeal filed: {appeal.grounds}")
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_APPEAL_FILE,
            "disclosure_request",
            req.number,
            {
                "appeal": appeal.id,
                "filed_at": when,
                "grounds": appeal.grounds,
                "request_status": req.status,
            },
        )
        sync_holds(s, actor, req)
        result = view_of(s, req, now)
    refresh_queue(factory, now)
    return result


def decide_appeal(
    factory: sessionmaker[Session],
    actor: Actor,
    number: str,
    outcome: str,
    *,
    note: str = "",
    now: datetime | None = None,
) -> RequestView:
    """Decide a request's pending appeal: granted or partly granted reopens a closed request
    (at ``searching``); denied leaves it as it was."""
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "decide appeals of requests", number)
    now = now or utcnow()
    try:
        result_of = AppealOutcome(outcome.strip().lower())
    except ValueError:
        choices = ", ".join(o.value for o in AppealOutcome)
        raise DisclosureError(f"Unknown appeal outcome {outcome!r}; choose {choices}.") from None
    with transaction(factory) as s:
        req = load(s, number, lock=True)
        appeal = s.scalars(
            select(DisclosureAppeal).where(
                DisclosureAppeal.request_id == req.id, DisclosureAppeal.outcome.is_(None)
            )
        ).first()
        if appeal is None:
            raise DisclosureError(f"Request {req.number} has no appeal pending.")
        appeal.outcome = result_of.value
        appeal.decided_at = now
        appeal.decided_by = actor.user_id
        appeal.note = note.strip()
        add_step(
            s,
            actor,
            req,
            "appeal",
            now,
            detail=f"appeal {result_of.value}" + (f": {appeal.note}" if appeal.note else ""),
        )
        reopened = result_of != AppealOutcome.DENIED and req.status in CLOSED
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_APPEAL_DECIDE,
            "disclosure_request",
            req.number,
            {
                "appeal": appeal.id,
                "outcome": result_of.value,
                "note": appeal.note,
                "reopened": reopened,
            },
        )
        if reopened:
            previous = req.status
            target = RequestStatus.SEARCHING.value
            add_step(s, actor, req, "status", now, to_status=target, detail="reopened on appeal")
            req.status, req.closed_at, req.exemption = target, None, ""
            record(
                s,
                actor,
                AuditAction.DISCLOSURE_REQUEST_STATUS,
                "disclosure_request",
                req.number,
                {"from": previous, "to": target, "exemption": "", "note": "reopened on appeal"},
            )
        s.flush()
        sync_holds(s, actor, req)
        result = view_of(s, req, now)
    refresh_queue(factory, now)
    return result
