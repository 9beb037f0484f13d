"""The status workflow of a request: explicit steps, exemptions, extensions.

A request moves only along :data:`TRANSITIONS`; any other move is refused with a
sentence naming the steps it may take. A step that withholds something cites the
exemption; a release needs footage attached; closing a request releases its automatic
holds (unless an appeal is pending). Extensions add business days to the decision
deadline, with a reason, within the jurisdiction's limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.disclosure.deadlines import clock_in_force, deadlines
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.holds import sync_holds
from bodycam.disclosure.models import CLOSED, DisclosureRecording, RequestStatus
from bodycam.disclosure.requests import (
    RequestView,
    add_step,
    jurisdiction_of,
    load,
    view_of,
)
from bodycam.ids import utcnow
from bodycam.retention.service import refresh_queue

S = RequestStatus
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    S.RECEIVED: frozenset({S.ACKNOWLEDGED, S.DENIED, S.WITHDRAWN}),
    S.ACKNOWLEDGED: frozenset({S.SEARCHING, S.DENIED, S.WITHDRAWN}),
    S.SEARCHING: frozenset({S.REDACTING, S.REVIEW, S.DENIED, S.WITHDRAWN}),
    S.REDACTING: frozenset({S.REVIEW, S.SEARCHING, S.WITHDRAWN}),
    S.REVIEW: frozenset({S.RELEASED_FULL, S.RELEASED_PARTIAL, S.DENIED, S.REDACTING, S.WITHDRAWN}),
    S.RELEASED_FULL: frozenset(),
    S.RELEASED_PARTIAL: frozenset(),
    S.DENIED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
"""The steps a request may take from each status. Closed requests take none: only a
granted (or partly granted) appeal reopens one, at ``searching``."""

NEEDS_EXEMPTION = frozenset({S.DENIED, S.RELEASED_PARTIAL})
"""Statuses that withhold something, so must cite the exemption that allows it."""


def _choices(statuses: Iterable[RequestStatus]) -> str:
    names = sorted(st.value for st in statuses)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def change_status(
    factory: sessionmaker[Session],
    actor: Actor,
    number: str,
    status: str,
    *,
    exemption: str = "",
    note: str = "",
    now: datetime | None = None,
) -> RequestView:
    """Move a request to its next step. A denial or a partial release cites the exemption;
    a release needs footage attached; closing releases the request's automatic holds."""
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "change public-records requests", number)
    now = now or utcnow()
    try:
        target = RequestStatus(status.strip().lower())
    except ValueError:
        choices = ", ".join(st.value for st in RequestStatus)
        raise DisclosureError(f"Unknown status {status!r}; choose {choices}.") from None
    exemption, note = exemption.strip(), note.strip()
    with transaction(factory) as s:
        req = load(s, number, lock=True)
        current = RequestStatus(req.status)
        if target == current:
            raise DisclosureError(f"Request {req.number} is already {current.value}.")
        allowed = TRANSITIONS[current]
        if target not in allowed:
            if not allowed:
                raise DisclosureError(
                    f"Request {req.number} is closed ({current.value}); only a granted "
                    "appeal reopens it."
                )
            raise DisclosureError(
                f"Request {req.number} is {current.value}; it can go to "
                f"{_choices(allowed)}, not {target.value}."
            )
        if target in NEEDS_EXEMPTION and not exemption:
            what = "Denying" if target == S.DENIED else "Releasing in part"
            raise DisclosureError(
                f"{what} request {req.number} needs the exemption cited (the law and reason)."
            )
        if exemption and target not in NEEDS_EXEMPTION:
            raise DisclosureError(
                "An exemption is cited only when denying a request or releasing it in part."
            )
        if target in (S.RELEASED_FULL, S.RELEASED_PARTIAL):
            attached = s.scalar(
                select(func.count())
                .select_from(DisclosureRecording)
                .where(DisclosureRecording.request_id == req.id)
            )
            if not attached:
                raise DisclosureError(
                    f"Request {req.number} has no footage attached; attach what is released "
                    "first, or deny it citing that no records were found."
                )
        detail = "; ".join(x for x in (exemption and f"exemption: {exemption}", note) if x)
        add_step(s, actor, req, "status", now, to_status=target.value, detail=detail)
        previous = req.status
        req.status = target.value
        if req.acknowledged_at is None:
            req.acknowledged_at = now
        if target in CLOSED:
            req.closed_at = now
            req.exemption = exemption
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_REQUEST_STATUS,
            "disclosure_request",
            req.number,
            {"from": previous, "to": target.value, "exemption": exemption, "note": note},
        )
        sync_holds(s, actor, req)
        result = view_of(s, req, now)
    refresh_queue(factory, now)
    return result


def extend_deadline(
    factory: sessionmaker[Session],
    actor: Actor,
    number: str,
    days: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> RequestView:
    """Extend an open request's decision deadline by ``days`` business days, with a reason,
    up to its jurisdiction's limit (all extensions together)."""
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "extend public-records deadlines", number)
    now = now or utcnow()
    if days < 1:
        raise DisclosureError("An extension is at least 1 business day.")
    if not reason.strip():
        raise DisclosureError("An extension needs a reason (it is sent to the requester).")
    with transaction(factory) as s:
        req = load(s, number, lock=True)
        if req.status in CLOSED:
            raise DisclosureError(f"Request {req.number} is closed ({req.status}).")
        _, clock = clock_in_force(s)
        j = jurisdiction_of(clock, req.jurisdiction)
        if j.decide_days is None:
            raise DisclosureError(
                f"Jurisdiction {j.key} sets no decision deadline, so there is none to extend."
            )
        if j.extension_max_days == 0:
            raise DisclosureError(f"Jurisdiction {j.key} allows no extensions.")
        if req.extension_days + days > j.extension_max_days:
            raise DisclosureError(
                f"Request {req.number} has used {req.extension_days} of the "
                f"{j.extension_max_days} business days of extension {j.key} allows; "
                f"{days} more would exceed it."
            )
        req.extension_days += days
        due = deadlines(req, [], j, now).decide_due
        add_step(
            s,
            actor,
            req,
            "extension",
            now,
            detail=f"+{days} business days to {due}: {reason.strip()}",
        )
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_REQUEST_EXTEND,
            "disclosure_request",
            req.number,
            {"days": days, "total": req.extension_days, "reason": reason.strip(), "due": due},
        )
        result = view_of(s, req, now)
    return result
