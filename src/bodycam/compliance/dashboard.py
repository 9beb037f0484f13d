"""What each reader may see of compliance, and the drill-downs behind the dashboard.

Compliance verdicts are personnel information. ``compliance:results:view`` sees every
officer (inspector general, analysts, command staff); ``compliance:results:view_squad``
a supervisor's own squad; ``compliance:results:view_own`` an officer's own record. The
scope is decided here, in the service layer, so the CLI, the pages and any API get the
same answer, and a refusal is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import record_denial, require
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.models import Squad, User
from bodycam.auth.permissions import Permission
from bodycam.compliance.models import ComplianceResult, DispatchAssignment, DispatchEvent


def visible_officers(factory: sessionmaker[Session], actor: Actor) -> set[str] | None:
    """The user ids whose compliance ``actor`` may see; None: everyone."""
    if actor.can(Permission.COMPLIANCE_VIEW):
        return None
    if actor.can(Permission.COMPLIANCE_VIEW_SQUAD) and actor.squad_id is not None:
        with factory() as s:
            ids = set(s.scalars(select(User.id).where(User.squad_id == actor.squad_id)))
        return ids | {actor.user_id}
    if actor.can(Permission.COMPLIANCE_VIEW_OWN):
        return {actor.user_id}
    require(factory, actor, Permission.COMPLIANCE_VIEW, "see compliance results")
    return None  # not reached: require raised


def _deny(factory: sessionmaker[Session], actor: Actor, what: str, object_id: str) -> None:
    record_denial(factory, actor, what, object_id)
    exc = PermissionDenied(f"{actor.username} may not {what}.", actor, object_id)
    exc.audited = True
    raise exc


@dataclass(frozen=True)
class Verdict:
    """One officer-event's verdict with the event it belongs to."""

    event_id: str
    call_type: str | None
    priority: str | None
    precinct: str | None
    created_at: datetime | None
    officer_id: str
    badge: str | None
    officer: str
    status: str
    coverage: float
    late_s: float
    early_s: float
    gaps_s: float
    policy: str | None
    reason: str
    recordings: list[str]


@dataclass(frozen=True)
class OfficerInfo:
    """The officer a drill-down is about."""

    id: str
    username: str
    display_name: str
    badge: str | None
    squad: str | None


def _verdicts(
    s: Session, where: list[object], limit: int | None = None, offset: int = 0
) -> list[Verdict]:
    stmt = (
        select(ComplianceResult, DispatchEvent, User)
        .join(DispatchEvent, DispatchEvent.event_id == ComplianceResult.event_id)
        .join(User, User.id == ComplianceResult.officer_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(DispatchEvent.created_at.desc(), ComplianceResult.event_id, User.badge)
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [
        Verdict(
            r.event_id,
            e.call_type,
            e.priority,
            e.precinct,
            e.created_at,
            u.id,
            u.badge,
            u.display_name or u.username,
            r.status,
            r.coverage,
            r.late_s,
            r.early_s,
            r.gaps_s,
            r.policy,
            r.reason,
            list(r.recordings or []),
        )
        for r, e, u in s.execute(stmt)
    ]


def officer_verdicts(
    factory: sessionmaker[Session],
    actor: Actor,
    officer_id: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[OfficerInfo, list[Verdict], int]:
    """One officer's verdicts, newest event first: (officer, one page, total count)."""
    scope = visible_officers(factory, actor)
    if scope is not None and officer_id not in scope:
        _deny(factory, actor, "see this officer's compliance", officer_id)
    with factory() as s:
        user = s.get(User, officer_id)
        if user is None:
            raise LookupError(f"There is no officer {officer_id}.")
        squad = s.get(Squad, user.squad_id) if user.squad_id else None
        info = OfficerInfo(
            user.id, user.username, user.display_name or user.username, user.badge,
            squad.name if squad else None,
        )  # fmt: skip
        where: list[object] = [ComplianceResult.officer_id == officer_id]
        if start is not None:
            where.append(DispatchEvent.created_at >= start)
        if end is not None:
            where.append(DispatchEvent.created_at < end)
        if status:
            where.append(ComplianceResult.status == status)
        total = (
            s.scalar(
                select(func.count())
                .select_from(ComplianceResult)
                .join(DispatchEvent, DispatchEvent.event_id == ComplianceResult.event_id)
                .where(*where)  # type: ignore[arg-type]
            )
            or 0
        )
        rows = _verdicts(s, where, per_page, (page - 1) * per_page)
    return info, rows, total


@dataclass(frozen=True)
class EventDetail:
    """A dispatch event, its assignments and the verdicts the reader may see."""

    event: DispatchEvent
    assignments: list[tuple[DispatchAssignment, str]]
    verdicts: list[Verdict]


def event_detail(factory: sessionmaker[Session], actor: Actor, event_id: str) -> EventDetail:
    """An event with every assignment (badge, dispatched, arrived, cleared) and verdict.

    A reader with a squad or own scope sees the event only when one of its officers is in
    scope, and only their verdicts.
    """
    scope = visible_officers(factory, actor)
    with factory() as s:
        event = s.scalars(select(DispatchEvent).where(DispatchEvent.event_id == event_id)).first()
        if event is None:
            raise LookupError(f"There is no dispatch event {event_id}.")
        assignments = [
            (a, name or "")
            for a, name in s.execute(
                select(DispatchAssignment, User.username)
                .outerjoin(User, User.id == DispatchAssignment.officer_id)
                .where(DispatchAssignment.event_id == event_id)
                .order_by(DispatchAssignment.badge)
            )
        ]
        where: list[object] = [ComplianceResult.event_id == event_id]
        if scope is not None:
            where.append(ComplianceResult.officer_id.in_(sorted(scope)))
        verdicts = _verdicts(s, where)
        if scope is not None and not verdicts:
            _deny(factory, actor, "see this dispatch event", event_id)
        s.expunge_all()
    return EventDetail(event, assignments, verdicts)
