"""Running the matcher over the vault and keeping its verdicts (idempotent, audited)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.compliance.matching import Clip, OfficerEvent, judge_fast
from bodycam.compliance.models import ComplianceResult, DispatchAssignment, DispatchEvent
from bodycam.compliance.rules import Rules
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.ids import utcnow


def run_matching(
    factory: sessionmaker[Session], actor: Actor, rules: Rules, *, now: datetime | None = None
) -> Counter[str]:
    """Judge every officer-event against the officer's recordings; replace the verdicts.

    Running it again on the same data gives the same verdicts. Returns counts by status.
    """
    require(factory, actor, Permission.COMPLIANCE_MATCH, "run compliance matching")
    now = now or utcnow()
    with factory() as s:
        rows = s.execute(
            select(DispatchAssignment, DispatchEvent)
            .join(DispatchEvent, DispatchEvent.event_id == DispatchAssignment.event_id)
            .where(DispatchAssignment.officer_id.is_not(None))
        ).all()
        events = [
            OfficerEvent(
                key=a.id,
                officer_id=a.officer_id or "",
                event_id=e.event_id,
                call_type=e.call_type,
                priority=e.priority,
                self_initiated=e.self_initiated,
                disposition=e.disposition,
                created_at=e.created_at,
                dispatched_at=a.dispatched_at or e.dispatched_at,
                arrived_at=a.arrived_at or e.arrived_at,
                cleared_at=a.cleared_at or e.cleared_at,
            )
            for a, e in rows
        ]
        clips = [
            Clip(rid, oid, start, end)
            for rid, oid, start, end in s.execute(
                select(
                    Recording.id,
                    Recording.officer_id,
                    Recording.recorded_start,
                    Recording.recorded_end,
                ).where(Recording.purged_at.is_(None))
            )
        ]
    by_key = {e.key: e for e in events}
    counts: Counter[str] = Counter()
    with transaction(factory) as s:
        s.execute(delete(ComplianceResult))
        for v in judge_fast(events, clips, rules):
            ev = by_key[v.key]
            counts[v.status] += 1
            s.add(
                ComplianceResult(
                    assignment_id=v.key,
                    event_id=ev.event_id,
                    officer_id=ev.officer_id,
                    status=v.status,
                    coverage=v.coverage,
                    late_s=v.late_s,
                    early_s=v.early_s,
                    gaps_s=v.gaps_s,
                    policy=v.policy,
                    reason=v.reason,
                    recordings=list(v.recordings),
                    computed_at=now,
                )
            )
        record(
            s,
            actor,
            AuditAction.COMPLIANCE_MATCH,
            "system",
            "compliance",
            {
                "officer_events": len(events),
                "recordings": len(clips),
                "by_status": dict(sorted(counts.items())),
            },
        )
    return counts


def results(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    badge: str | None = None,
    status: str | None = None,
) -> list[tuple[ComplianceResult, str | None]]:
    """Verdicts with the officer's badge, optionally for one officer or one status."""
    require(factory, actor, Permission.COMPLIANCE_VIEW, "see compliance results")
    stmt = (
        select(ComplianceResult, User.badge)
        .join(User, User.id == ComplianceResult.officer_id)
        .order_by(ComplianceResult.event_id, User.badge)
    )
    if badge is not None:
        stmt = stmt.where(User.badge == badge)
    if status is not None:
        stmt = stmt.where(ComplianceResult.status == status)
    with factory() as s:
        out = [(r, b) for r, b in s.execute(stmt)]
        s.expunge_all()
    return out
