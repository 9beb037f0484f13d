"""Cases: while a case is open, every recording linked to its number is held.

Opening a case places an automatic hold (source ``open_case``) in the same transaction;
closing it releases that hold, and only that one: holds placed by hand on the same case
number stay until someone releases them. Reopening places a new automatic hold. Both
steps are audited, and the automatic hold cannot be released by hand while the case is
open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.ids import utcnow
from bodycam.retention.models import Case, CaseStatus, HoldReason, HoldSource
from bodycam.retention.service import (
    RetentionError,
    place_automatic,
    refresh_queue,
    release_automatic,
)


def open_case(
    factory: sessionmaker[Session],
    actor: Actor,
    case_number: str,
    title: str = "",
    *,
    now: datetime | None = None,
) -> Case:
    """Open (or reopen) a case: its recordings, present and future, are held while open."""
    require(factory, actor, Permission.RETENTION_HOLD, "open cases")
    number = case_number.strip()
    if not number or len(number) > 64:
        raise RetentionError("A case number must be 1 to 64 characters.")
    with transaction(factory) as s:
        case = s.get(Case, number)
        if case is not None and case.status == CaseStatus.OPEN.value:
            raise RetentionError(f"Case {number} is already open.")
        if case is None:
            case = Case(case_number=number, title=title.strip(), opened_by=actor.user_id)
            s.add(case)
        else:
            case.status = CaseStatus.OPEN.value
            case.title = title.strip() or case.title
            case.opened_by, case.opened_at = actor.user_id, utcnow()
            case.closed_by, case.closed_at, case.close_reason = None, None, ""
        hold = place_automatic(
            s,
            actor,
            source=HoldSource.OPEN_CASE,
            origin=number,
            reason_type=HoldReason.CASE,
            reason=f"case {number} is open" + (f": {case.title}" if case.title else ""),
            case=number,
        )
        record(
            s,
            actor,
            AuditAction.RETENTION_CASE_OPEN,
            "case",
            number,
            {"title": case.title, "hold": hold.id},
        )
        s.flush()
        s.expunge(case)
    refresh_queue(factory, now)
    return case


def close_case(
    factory: sessionmaker[Session],
    actor: Actor,
    case_number: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> Case:
    """Close a case and release its automatic hold; holds placed by hand stay."""
    require(factory, actor, Permission.RETENTION_HOLD, "close cases")
    if not reason.strip():
        raise RetentionError("Closing a case needs a reason (e.g. the disposition).")
    number = case_number.strip()
    with transaction(factory) as s:
        case = s.get(Case, number)
        if case is None:
            raise RetentionError(f"There is no case {number}.")
        if case.status == CaseStatus.CLOSED.value:
            raise RetentionError(f"Case {number} is already closed.")
        automatic = release_automatic(
            s,
            actor,
            source=HoldSource.OPEN_CASE,
            origin=number,
            reason=f"case closed: {reason.strip()}",
        )
        case.status = CaseStatus.CLOSED.value
        case.closed_by, case.closed_at = actor.user_id, utcnow()
        case.close_reason = reason.strip()
        record(
            s,
            actor,
            AuditAction.RETENTION_CASE_CLOSE,
            "case",
            number,
            {"reason": case.close_reason, "holds_released": [h.id for h in automatic]},
        )
        s.flush()
        s.expunge(case)
    refresh_queue(factory, now)
    return case


def list_cases(
    factory: sessionmaker[Session], actor: Actor, *, include_closed: bool = False
) -> list[Case]:
    """Cases, open ones first, then by number."""
    require(factory, actor, Permission.RETENTION_VIEW, "see cases")
    stmt = select(Case).order_by(Case.status.desc(), Case.case_number)
    if not include_closed:
        stmt = stmt.where(Case.status == CaseStatus.OPEN.value)
    with factory() as s:
        rows = list(s.scalars(stmt))
        s.expunge_all()
    return rows
