"""The access layer asks the policy: officers' own footage, supervisors, statements.

:func:`check_recording_access` is called by the evidence service for every view, stream,
download and edit of a recording, after the permission and scope checks passed. It judges
the recording under the policy version in force when it was recorded:

* ``officer_viewing.own_footage``: the recording's own officer may open it always
  (``allowed``), only after their statement about it (``after_statement``), or, for a
  critical incident only, after their statement (``never_before_statement_for_critical``);
* ``access.supervisors = "squad_except_critical"``: a supervisor who sees a squad
  member's recording only through their squad may not open a critical one.

A refusal writes a ``policy:recording:refused`` record (in its own transaction, with the
rule and the policy version) and raises :class:`PermissionDenied` with the sentence; the
caller records the generic denial too. A later, allowed view is audited by the caller as
any view is.

Statements (:func:`record_statement`) are recorded by supervisors for their own squad's
officers, and by investigators for anyone; one covers a recording, or an event: a case
number on the recording, or a dispatch event the compliance matcher matched it to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, record_denial, require
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.compliance.models import ComplianceResult
from bodycam.db import transaction
from bodycam.evidence.models import Category, Recording
from bodycam.ids import as_utc, utcnow
from bodycam.policy.document import PolicyError
from bodycam.policy.models import OfficerStatement
from bodycam.policy.service import InForce, policy_in_force

__all__ = [
    "Refusal",
    "StatementView",
    "check_recording_access",
    "critical_reason",
    "list_statements",
    "record_statement",
    "refusal_for",
]


@dataclass(frozen=True)
class Refusal:
    """Why the policy refuses an actor a recording."""

    rule: str
    policy_version: int
    critical: str | None
    sentence: str


def critical_reason(session: Session, policy: InForce, rec: Recording) -> str | None:
    """Why ``rec`` is a critical incident under ``policy`` (None: it is not)."""
    names = []
    primary = session.get(Category, rec.category_id)
    if primary is not None:
        names.append(primary.name)
    names += [e.name for e in rec.extra_categories]
    return policy.doc.is_critical(names, [t.tag for t in rec.tags])


def _has_statement(session: Session, officer_id: str, rec: Recording) -> bool:
    """Whether the officer's statement covers ``rec``: by recording, case or event."""
    rows = list(
        session.scalars(
            select(OfficerStatement).where(
                OfficerStatement.officer_id == officer_id,
                OfficerStatement.given_at <= utcnow(),
            )
        )
    )
    if any(r.recording_id == rec.id for r in rows):
        return True
    events = {r.event for r in rows if r.event}
    if not events:
        return False
    if events & {c.case_number for c in rec.cases}:
        return True
    matched = session.scalars(
        select(ComplianceResult.recordings).where(
            ComplianceResult.officer_id == officer_id, ComplianceResult.event_id.in_(events)
        )
    )
    return any(rec.id in (ids or []) for ids in matched)


def _name(policy: InForce) -> str:
    return f"version {policy.version}, {policy.label!r}"


def refusal_for(session: Session, actor: Actor, rec: Recording) -> Refusal | None:
    """The policy's refusal of ``actor`` opening ``rec`` (None: the policy allows it)."""
    policy = policy_in_force(session, as_utc(rec.recorded_start))
    if policy is None:
        return None
    doc = policy.doc
    if rec.officer_id == actor.user_id:
        rule = doc.officer_viewing.own_footage
        if rule == "allowed":
            return None
        critical = critical_reason(session, policy, rec)
        if rule == "never_before_statement_for_critical" and critical is None:
            return None
        if _has_statement(session, actor.user_id, rec):
            return None
        why = (
            f"this is a critical-incident recording ({critical}), and officers watch their "
            "own critical-incident footage only after giving their initial statement"
            if rule == "never_before_statement_for_critical"
            else "officers watch their own footage only after giving their initial statement"
        )
        return Refusal(
            f"officer_viewing.own_footage = {rule}",
            policy.version,
            critical,
            f"You may not open recording {rec.id} yet: under the camera policy in force when "
            f"it was recorded ({_name(policy)}), {why}. Once a supervisor or investigator "
            "records your statement about it, you may open it.",
        )
    in_squad_only = not actor.can(Permission.RECORDING_VIEW_ANY) and actor.can(
        Permission.RECORDING_VIEW_SQUAD
    )
    if in_squad_only and doc.access.supervisors == "squad_except_critical":
        critical = critical_reason(session, policy, rec)
        if critical is not None:
            return Refusal(
                "access.supervisors = squad_except_critical",
                policy.version,
                critical,
                f"You may not open recording {rec.id}: under the camera policy in force when it "
                f"was recorded ({_name(policy)}), supervisors do not open critical-incident "
                f"recordings of their squad, and this one is ({critical}); investigators "
                "handle it.",
            )
    return None


def check_recording_access(
    factory: sessionmaker[Session], session: Session, actor: Actor, rec: Recording, what: str
) -> None:
    """Raise :class:`PermissionDenied` when the policy refuses ``what`` on ``rec``; the
    refusal is audited (``policy:recording:refused``) before it is raised."""
    refusal = refusal_for(session, actor, rec)
    if refusal is None:
        return
    with transaction(factory) as s:
        record(
            s,
            actor,
            AuditAction.POLICY_VIEW_REFUSED,
            "recording",
            rec.id,
            {
                "attempted": what,
                "policy_version": refusal.policy_version,
                "rule": refusal.rule,
                "critical": refusal.critical,
                "sentence": refusal.sentence,
            },
        )
    raise PermissionDenied(refusal.sentence, actor, rec.id)


# --- statements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementView:
    """One recorded statement."""

    id: str
    officer: str
    badge: str | None
    recording_id: str | None
    event: str | None
    given_at: datetime
    note: str
    recorded_by: str
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items()}


def _may_act_for(factory: sessionmaker[Session], actor: Actor, officer: User, what: str) -> None:
    """Investigators act for anyone; a supervisor only for their own squad's officers."""
    if actor.can(Permission.RECORDING_VIEW_ANY):
        return
    if actor.squad_id is not None and officer.squad_id == actor.squad_id:
        return
    record_denial(factory, actor, what, officer.id)
    denied = PermissionDenied(
        f"User {actor.username} ({actor.role.value}) may not {what}: the officer with badge "
        f"{officer.badge} is not in their squad.",
        actor,
        officer.id,
    )
    denied.audited = True
    raise denied


def _officer(session: Session, badge: str) -> User:
    officer = session.scalars(select(User).where(User.badge == badge.strip())).first()
    if officer is None:
        raise PolicyError("statement", "officer", f"no officer has badge {badge.strip()!r}.")
    return officer


def record_statement(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    officer_badge: str,
    recording_id: str | None = None,
    event: str | None = None,
    given_at: datetime | None = None,
    note: str = "",
) -> StatementView:
    """Record that an officer gave their initial statement about a recording or an event
    (a case or dispatch event number); audited. From then on the statement-first rule lets
    them open the recordings it covers."""
    what = f"record a statement for badge {officer_badge.strip()}"
    require(factory, actor, Permission.POLICY_STATEMENT, "record officers' statements")
    recording_id = (recording_id or "").strip() or None
    event = (event or "").strip() or None
    if (recording_id is None) == (event is None):
        raise PolicyError("statement", "recording/event", "name exactly one of them.")
    if event is not None and len(event) > 64:
        raise PolicyError("statement", "event", "is longer than 64 characters.")
    now = utcnow()
    given = as_utc(given_at) if given_at is not None else now
    if given > now:
        raise PolicyError("statement", "given_at", "is in the future.")
    with factory() as s:
        officer = _officer(s, officer_badge)
    _may_act_for(factory, actor, officer, what)
    with transaction(factory) as s:
        if recording_id is not None:
            rec = s.get(Recording, recording_id)
            if rec is None:
                raise PolicyError(
                    "statement", "recording", f"there is no recording {recording_id}."
                )
            if rec.officer_id != officer.id:
                raise PolicyError(
                    "statement",
                    "recording",
                    f"recording {recording_id} was not recorded by the officer with badge "
                    f"{officer.badge}.",
                )
        row = OfficerStatement(
            officer_id=officer.id,
            recording_id=recording_id,
            event=event,
            given_at=given,
            note=note.strip(),
            recorded_by=actor.user_id,
            recorded_at=now,
        )
        s.add(row)
        s.flush()
        record(
            s,
            actor,
            AuditAction.POLICY_STATEMENT_RECORD,
            "recording" if recording_id else "policy_statement",
            recording_id or row.id,
            {
                "statement": row.id,
                "officer": officer.badge,
                "recording": recording_id,
                "event": event,
                "given_at": given,
                "note": row.note,
            },
        )
        return StatementView(
            row.id,
            officer.username,
            officer.badge,
            recording_id,
            event,
            given,
            row.note,
            actor.username,
            now,
        )


def list_statements(
    factory: sessionmaker[Session], actor: Actor, *, officer_badge: str | None = None
) -> list[StatementView]:
    """Recorded statements, newest first: every officer's for investigators, the squad's
    for a supervisor; one officer's with ``officer_badge``."""
    require(factory, actor, Permission.POLICY_STATEMENT, "read officers' statements")
    with factory() as s:
        stmt = (
            select(OfficerStatement, User)
            .join(User, User.id == OfficerStatement.officer_id)
            .order_by(OfficerStatement.recorded_at.desc(), OfficerStatement.id.desc())
        )
        if officer_badge:
            officer = _officer(s, officer_badge)
            stmt = stmt.where(OfficerStatement.officer_id == officer.id)
        if not actor.can(Permission.RECORDING_VIEW_ANY):
            stmt = stmt.where(User.squad_id == actor.squad_id)
        rows = s.execute(stmt).all()
        by = {r.recorded_by for r, _ in rows}
        names = {u.id: u.username for u in s.scalars(select(User).where(User.id.in_(by)))}
        if officer_badge and not rows:
            _may_act_for(factory, actor, officer, f"read the statements of {officer_badge}")
        return [
            StatementView(
                r.id,
                u.username,
                u.badge,
                r.recording_id,
                r.event,
                as_utc(r.given_at),
                r.note,
                names.get(r.recorded_by, r.recorded_by),
                as_utc(r.recorded_at),
            )
            for r, u in rows
        ]
