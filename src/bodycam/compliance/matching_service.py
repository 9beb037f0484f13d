"""Running the matcher over the vault and keeping its verdicts (idempotent, audited)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.compliance.dashboard import visible_officers
from bodycam.compliance.matching import Clip, OfficerEvent, judge_fast
from bodycam.compliance.models import ComplianceResult, DispatchAssignment, DispatchEvent
from bodycam.compliance.rules import Rules
from bodycam.db import transaction
from bodycam.evidence.models import (
    Category,
    Recording,
    RecordingEdit,
    RecordingExtraCategory,
    RecordingTag,
)
from bodycam.ids import utcnow
from bodycam.retention import service as retention

ACTIVATED = {"recorded", "late_start", "early_stop", "gaps", "tagged"}


class MatchError(Exception):
    """Matching cannot run as configured; the message says why."""


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
    wanted = {cat for _, cat in rules.categories}
    with factory() as s:
        known = {c.name: c for c in s.scalars(select(Category).where(Category.name.in_(wanted)))}
        s.expunge_all()
    if wanted - set(known):
        missing = ", ".join(sorted(wanted - set(known)))
        raise MatchError(f"The rules name categories the vault does not have: {missing}.")
    matched: dict[str, list[tuple[str, str | None]]] = {}
    with transaction(factory) as s:
        s.execute(delete(ComplianceResult))
        by_tag = _event_tags(s, {e.event_id for e in events})
        for v in judge_fast(events, clips, rules):
            ev = by_key[v.key]
            tagged_ids = by_tag.get((ev.officer_id, ev.event_id), [])
            if v.status == "not_recorded" and tagged_ids:
                v = dataclasses.replace(
                    v,
                    status="tagged",
                    recordings=tuple(sorted(tagged_ids)),
                    reason="matched by its event number only: the recording's times do not "
                    "overlap the window (check the camera clock)",
                )
            counts[v.status] += 1
            if v.status in ACTIVATED:
                for rid in v.recordings:
                    matched.setdefault(rid, []).append((ev.event_id, ev.call_type))
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
        tagged = _tag(s, actor, matched, rules, known)
        record(
            s,
            actor,
            AuditAction.COMPLIANCE_MATCH,
            "system",
            "compliance",
            {
                "officer_events": len(events),
                "recordings_tagged": tagged,
                "recordings": len(clips),
                "by_status": dict(sorted(counts.items())),
            },
        )
    return counts


def _event_tags(s: Session, event_ids: set[str]) -> dict[tuple[str, str], list[str]]:
    """(officer, event) -> recordings of that officer tagged with the event number.

    A tag counts when it is the event number itself or ``cad:`` and the event number.
    """
    found: dict[tuple[str, str], list[str]] = {}
    rows = s.execute(
        select(RecordingTag.tag, Recording.id, Recording.officer_id)
        .join(Recording, Recording.id == RecordingTag.recording_id)
        .where(Recording.purged_at.is_(None))
    )
    for tag, rid, officer in rows:
        event = tag[4:] if tag.startswith("cad:") else tag
        if event in event_ids:
            found.setdefault((officer, event), []).append(rid)
    return found


def _tag(
    s: Session,
    actor: Actor,
    matched: dict[str, list[tuple[str, str | None]]],
    rules: Rules,
    known: dict[str, Category],
) -> int:
    """Tag matched recordings with their events; add the call types' categories.

    Tags ``cad:EVENT`` name the events a recording covers. The category the rules give a
    call type is added as an additional category, which can only lengthen retention;
    the primary category (and so access) is left alone. Each change is history and an
    audit record, like a person's edit. Returns how many recordings changed.
    """
    changed = 0
    for rid in sorted(matched):
        rec = s.get(Recording, rid)
        if rec is None:
            continue
        have_tags = {t.tag for t in rec.tags}
        new_tags = sorted({f"cad:{event}"[:100] for event, _ in matched[rid]} - have_tags)
        have_cats = {rec.category_id, *(e.category_id for e in rec.extra_categories)}
        adding: dict[str, Category] = {}
        for _, call in matched[rid]:
            name = rules.category_for(call)
            if name is not None and known[name].id not in have_cats:
                adding[known[name].id] = known[name]
        new_cats = sorted(adding.values(), key=lambda c: c.name)
        if not new_tags and not new_cats:
            continue
        changed += 1
        if new_tags:
            old = sorted(have_tags)
            rec.tags.extend(RecordingTag(tag=t) for t in new_tags)
            s.add(
                RecordingEdit(
                    recording_id=rid,
                    user_id=actor.user_id,
                    field="tags",
                    old_value=old,
                    new_value=sorted(have_tags | set(new_tags)),
                )
            )
        if new_cats:
            old_names = [e.name for e in rec.extra_categories]
            rec.extra_categories.extend(
                RecordingExtraCategory(category_id=c.id, name=c.name) for c in new_cats
            )
            s.flush()
            retention.apply_to(s, rec)
            s.add(
                RecordingEdit(
                    recording_id=rid,
                    user_id=actor.user_id,
                    field="extra_categories",
                    old_value=old_names,
                    new_value=old_names + [c.name for c in new_cats],
                )
            )
        record(
            s,
            actor,
            AuditAction.RECORDING_EDIT,
            "recording",
            rid,
            {
                "field": "compliance match",
                "added_tags": new_tags,
                "added_categories": [c.name for c in new_cats],
            },
        )
    return changed


def results(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    badge: str | None = None,
    status: str | None = None,
) -> list[tuple[ComplianceResult, str | None]]:
    """Verdicts with the officer's badge, optionally for one officer or one status (a
    supervisor sees their squad's, an officer their own)."""
    officers = visible_officers(factory, actor)
    stmt = (
        select(ComplianceResult, User.badge)
        .join(User, User.id == ComplianceResult.officer_id)
        .order_by(ComplianceResult.event_id, User.badge)
    )
    if officers is not None:
        stmt = stmt.where(ComplianceResult.officer_id.in_(sorted(officers)))
    if badge is not None:
        stmt = stmt.where(User.badge == badge)
    if status is not None:
        stmt = stmt.where(ComplianceResult.status == status)
    with factory() as s:
        out = [(r, b) for r, b in s.execute(stmt)]
        s.expunge_all()
    return out


def queue_matching(
    factory: sessionmaker[Session], actor: Actor, rules_text: str, *, reason: str = "on demand"
) -> str:
    """Queue a matching run with these rules (a ``compliance.match`` job); its job id.

    The rules are checked now, so a bad file is refused before anything is queued; the
    job runs as ``actor`` (checked again when it runs) and is sent after this commits.
    """
    from bodycam.compliance.jobs import submit_match
    from bodycam.compliance.rules import RulesError

    require(factory, actor, Permission.COMPLIANCE_MATCH, "run compliance matching")
    try:
        Rules.from_toml(rules_text)
    except RulesError as exc:
        raise MatchError(str(exc)) from None
    with transaction(factory) as s:
        return submit_match(s, actor, rules_text, reason=reason)


def queue_rematch(session: Session, actor: Actor, batch_id: str) -> str | None:
    """In a CAD import's transaction: queue matching with the rules of the last run.

    Nothing is queued when matching never ran (no rules to reuse) or the importer may
    not run it. Keyed by the import batch, so one import queues one run.
    """
    from bodycam.compliance.jobs import last_rules, submit_match

    if not actor.can(Permission.COMPLIANCE_MATCH):
        return None
    rules_text = last_rules(session)
    if rules_text is None:
        return None
    return submit_match(session, actor, rules_text, reason=f"cad import {batch_id}", key=batch_id)
