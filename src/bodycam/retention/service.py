"""Retention in the vault: apply the schedule, hold, queue, approve.

The schedule decides each recording's due date from its category. Nothing is deleted
because a date passed: a recording past its due date enters the deletion queue, where
a person approves it (after a dry run) into a recoverable state. A recording under a
legal hold (itself, or a case it is linked to) never stays in the queue, whatever its
schedule. Every change is checked in this layer and audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence.models import Category, Recording
from bodycam.ids import as_utc, utcnow
from bodycam.retention.models import (
    DeletionItem,
    HoldKind,
    HoldReason,
    LegalHold,
    QueueStatus,
    RetentionSchedule,
)
from bodycam.retention.schedule import Period, Schedule, ScheduleError

RECOVERY_WINDOW = timedelta(days=7)
"""How long an approved deletion can still be undone before the purge."""


class RetentionError(Exception):
    """A retention request that cannot be done; the message says why."""


# --- due dates -------------------------------------------------------------------------


def due_date(rec: Recording, categories: list[Category]) -> tuple[datetime | None, str]:
    """When ``rec`` is due under the longest period of its categories, and the rule.

    A category without a period (not in the schedule) keeps the recording: nothing is
    deleted on a guess.
    """
    best: tuple[Period, Category] | None = None
    for category in categories:
        if category.retention is None:
            return None, f"{category.name}: not scheduled (kept)"
        period = Period.parse(category.retention)
        if best is None or period.longer_than(best[0]):
            best = (period, category)
    if best is None:
        return None, "no retention schedule yet"
    period, category = best
    return period.due(as_utc(rec.recorded_start)), f"{category.name}: {period.text()}"


def apply_to(session: Session, rec: Recording) -> None:
    """Recompute one recording's due date (after ingest or a category change)."""
    ids = [rec.category_id, *(e.category_id for e in rec.extra_categories)]
    categories = [c for c in (session.get(Category, i) for i in ids) if c is not None]
    rec.retain_until, rec.retention_basis = due_date(rec, categories)


# --- the schedule ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleChange:
    """What importing a schedule changed."""

    version: int
    sha256: str
    changed: list[tuple[str, str | None, str]]  # (category, old period, new period)
    created: list[str]
    recomputed: int
    queue: QueueReport


def current_schedule(factory: sessionmaker[Session]) -> Schedule | None:
    """The schedule in force (the last imported version), or None before the first."""
    with factory() as s:
        row = s.scalars(
            select(RetentionSchedule).order_by(RetentionSchedule.version.desc()).limit(1)
        ).first()
    return None if row is None else Schedule.from_toml(row.body)


def import_schedule(
    factory: sessionmaker[Session],
    actor: Actor,
    text: str,
    *,
    note: str = "",
    now: datetime | None = None,
) -> ScheduleChange:
    """Make ``text`` the schedule in force: a new version, every due date recomputed.

    Recordings that become due because a period got shorter go to the deletion queue for
    review, never straight to deletion. Missing categories are created; a category the
    schedule does not name has no period, and its recordings are kept.
    """
    require(factory, actor, Permission.RETENTION_SCHEDULE, "change the retention schedule")
    try:
        schedule = Schedule.from_toml(text)
    except ScheduleError as exc:
        raise RetentionError(str(exc)) from None
    body = schedule.to_toml()
    digest = hashlib.sha256(body.encode()).hexdigest()
    with transaction(factory) as s:
        version = (s.scalar(select(func.max(RetentionSchedule.version))) or 0) + 1
        s.add(
            RetentionSchedule(
                version=version, body=body, sha256=digest, note=note, created_by=actor.user_id
            )
        )
        changed: list[tuple[str, str | None, str]] = []
        created: list[str] = []
        by_name = {c.name: c for c in s.scalars(select(Category))}
        for name, rule in schedule.rules.items():
            cat = by_name.get(name)
            if cat is None:
                cat = Category(name=name, access_class=rule.access_class or "normal")
                s.add(cat)
                created.append(name)
            elif rule.access_class and rule.access_class != cat.access_class:
                cat.access_class = rule.access_class
            new = rule.period.text()
            if cat.retention != new:
                changed.append((name, cat.retention, new))
                cat.retention = new
        for name, cat in by_name.items():
            if name not in schedule.rules and cat.retention is not None:
                # Left out of the new schedule: kept until a schedule names it again.
                changed.append((name, cat.retention, "not scheduled (kept)"))
                cat.retention = None
        s.flush()
        recomputed = 0
        held = select(Recording).where(Recording.purged_at.is_(None))  # purged: as it was
        for rec in s.scalars(held.execution_options(yield_per=1000)):
            apply_to(s, rec)
            recomputed += 1
        record(
            s,
            actor,
            AuditAction.RETENTION_SCHEDULE_IMPORT,
            "retention_schedule",
            str(version),
            {
                "sha256": digest,
                "note": note,
                "created": created,
                "changed": [list(c) for c in changed],
                "recomputed": recomputed,
            },
        )
    queue = refresh_queue(factory, now)
    return ScheduleChange(version, digest, changed, created, recomputed, queue)


def export_schedule(factory: sessionmaker[Session], actor: Actor) -> str:
    """The schedule in force as TOML (raises when none was imported)."""
    require(factory, actor, Permission.RETENTION_VIEW, "read the retention schedule")
    schedule = current_schedule(factory)
    if schedule is None:
        raise RetentionError("No retention schedule has been imported yet.")
    return schedule.to_toml()


# --- holds -----------------------------------------------------------------------------


def _active_holds(session: Session, rec: Recording) -> list[LegalHold]:
    cases = [c.case_number for c in rec.cases]
    clauses = [(LegalHold.kind == HoldKind.RECORDING.value) & (LegalHold.target == rec.id)]
    if cases:
        clauses.append((LegalHold.kind == HoldKind.CASE.value) & LegalHold.target.in_(cases))
    return list(
        session.scalars(
            select(LegalHold).where(LegalHold.released_at.is_(None)).where(or_(*clauses))
        )
    )


def holds_on(factory: sessionmaker[Session], actor: Actor, recording_id: str) -> list[LegalHold]:
    """Active holds covering a recording (its own and its cases')."""
    require(factory, actor, Permission.RETENTION_VIEW, "see legal holds")
    with factory() as s:
        rec = s.get(Recording, recording_id)
        if rec is None:
            raise RetentionError(f"There is no recording {recording_id}.")
        rows = _active_holds(s, rec)
        s.expunge_all()
    return rows


def place_hold(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    recording_id: str | None = None,
    case: str | None = None,
    reason_type: str,
    reason: str,
    now: datetime | None = None,
) -> LegalHold:
    """Hold one recording, or every recording of a case (present and future)."""
    require(factory, actor, Permission.RETENTION_HOLD, "place legal holds")
    if (recording_id is None) == (case is None):
        raise RetentionError("A hold covers either one recording or one case number.")
    try:
        kind_reason = HoldReason(reason_type)
    except ValueError:
        choices = ", ".join(r.value for r in HoldReason)
        raise RetentionError(f"Unknown hold reason {reason_type!r}; choose {choices}.") from None
    if not reason.strip():
        raise RetentionError("A hold needs a reason (e.g. the case or claim number).")
    with transaction(factory) as s:
        if recording_id is not None:
            if s.get(Recording, recording_id) is None:
                raise RetentionError(f"There is no recording {recording_id}.")
            hold = LegalHold(
                kind=HoldKind.RECORDING.value,
                target=recording_id,
                reason_type=kind_reason.value,
                reason=reason.strip(),
                placed_by=actor.user_id,
            )
            object_type, object_id = "recording", recording_id
        else:
            assert case is not None
            hold = LegalHold(
                kind=HoldKind.CASE.value,
                target=case.strip(),
                reason_type=kind_reason.value,
                reason=reason.strip(),
                placed_by=actor.user_id,
            )
            object_type, object_id = "case", case.strip()
        s.add(hold)
        s.flush()
        record(
            s,
            actor,
            AuditAction.RETENTION_HOLD_PLACE,
            object_type,
            object_id,
            {"hold": hold.id, "reason_type": hold.reason_type, "reason": hold.reason},
        )
        s.expunge(hold)
    refresh_queue(factory, now)
    return hold


def release_hold(
    factory: sessionmaker[Session],
    actor: Actor,
    hold_id: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> LegalHold:
    """Release a hold (audited). The recordings it covered follow their schedule again."""
    require(factory, actor, Permission.RETENTION_HOLD, "release legal holds")
    if not reason.strip():
        raise RetentionError("Releasing a hold needs a reason.")
    with transaction(factory) as s:
        hold = s.get(LegalHold, hold_id)
        if hold is None:
            raise RetentionError(f"There is no hold {hold_id}.")
        if hold.released_at is not None:
            raise RetentionError(f"Hold {hold_id} was already released.")
        hold.released_by = actor.user_id
        hold.released_at = utcnow()
        hold.release_reason = reason.strip()
        record(
            s,
            actor,
            AuditAction.RETENTION_HOLD_RELEASE,
            hold.kind,
            hold.target,
            {"hold": hold.id, "reason": hold.release_reason},
        )
        s.flush()
        s.expunge(hold)
    refresh_queue(factory, now)
    return hold


def list_holds(
    factory: sessionmaker[Session], actor: Actor, *, include_released: bool = False
) -> list[LegalHold]:
    """Legal holds, newest first."""
    require(factory, actor, Permission.RETENTION_VIEW, "see legal holds")
    stmt = select(LegalHold).order_by(LegalHold.placed_at.desc())
    if not include_released:
        stmt = stmt.where(LegalHold.released_at.is_(None))
    with factory() as s:
        rows = list(s.scalars(stmt))
        s.expunge_all()
    return rows


# --- the deletion queue ----------------------------------------------------------------


@dataclass
class QueueReport:
    """What a refresh of the deletion queue did."""

    queued: list[str] = field(default_factory=list)  # recording ids newly pending
    cancelled: list[tuple[str, str]] = field(default_factory=list)  # (recording, why)


def _open_items(session: Session) -> dict[str, DeletionItem]:
    open_states = (QueueStatus.PENDING.value, QueueStatus.RECOVERABLE.value)
    rows = session.scalars(select(DeletionItem).where(DeletionItem.status.in_(open_states)))
    return {row.recording_id: row for row in rows}


def refresh_queue(factory: sessionmaker[Session], now: datetime | None = None) -> QueueReport:
    """Queue what is due and not held; cancel what is held or no longer due. Idempotent."""
    now = now or utcnow()
    report = QueueReport()
    with transaction(factory) as s:
        items = _open_items(s)
        due = s.scalars(
            select(Recording).where(
                Recording.retain_until.is_not(None),
                Recording.purged_at.is_(None),
                Recording.retain_until <= now,
            )
        )
        due_ids: set[str] = set()
        for rec in due:
            due_ids.add(rec.id)
            held = bool(_active_holds(s, rec))
            item = items.get(rec.id)
            if held:
                if item is not None:
                    item.status = QueueStatus.CANCELLED.value
                    item.closed_reason = "placed under a legal hold"
                    report.cancelled.append((rec.id, item.closed_reason))
                continue
            if item is None:
                assert rec.retain_until is not None
                s.add(
                    DeletionItem(
                        recording_id=rec.id,
                        due_at=rec.retain_until,
                        basis=rec.retention_basis,
                        queued_at=now,
                    )
                )
                report.queued.append(rec.id)
            else:  # still due, perhaps under another rule: record what it is due under now
                assert rec.retain_until is not None
                item.due_at, item.basis = rec.retain_until, rec.retention_basis
        for rid, item in items.items():
            if rid not in due_ids and item.status != QueueStatus.CANCELLED.value:
                item.status = QueueStatus.CANCELLED.value
                item.closed_reason = "no longer due (the schedule or category changed)"
                report.cancelled.append((rid, item.closed_reason))
    return report


@dataclass(frozen=True)
class QueueEntry:
    """One line of the deletion report."""

    recording_id: str
    title: str
    recorded_start: datetime
    due_at: datetime
    basis: str
    status: str
    held: bool


def upcoming(
    factory: sessionmaker[Session], actor: Actor, *, days: int = 30, now: datetime | None = None
) -> list[QueueEntry]:
    """Recordings due within ``days`` (and those already due), with the rule for each."""
    require(factory, actor, Permission.RETENTION_VIEW, "see the deletion queue")
    now = now or utcnow()
    horizon = now + timedelta(days=days)
    out = []
    with factory() as s:
        items = _open_items(s)
        recs = s.scalars(
            select(Recording)
            .where(
                Recording.retain_until.is_not(None),
                Recording.purged_at.is_(None),
                Recording.retain_until <= horizon,
            )
            .order_by(Recording.retain_until)
        )
        for rec in recs:
            assert rec.retain_until is not None
            item = items.get(rec.id)
            held = bool(_active_holds(s, rec))
            status = item.status if item else ("held" if held else "upcoming")
            if held:
                status = "held"
            out.append(
                QueueEntry(
                    rec.id,
                    rec.title,
                    rec.recorded_start,
                    rec.retain_until,
                    rec.retention_basis,
                    status,
                    held,
                )
            )
    return out


def approve_deletions(
    factory: sessionmaker[Session],
    actor: Actor,
    recording_ids: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> list[DeletionItem]:
    """Approve pending deletions (all, or those named): recoverable for 7 days, then purged.

    The approver is the acting user, named in each audit record. A held recording is
    never approved: the queue is refreshed first.
    """
    require(factory, actor, Permission.RETENTION_APPROVE, "approve deletions")
    now = now or utcnow()
    refresh_queue(factory, now)
    wanted = None if recording_ids is None else set(recording_ids)
    approved = []
    with transaction(factory) as s:
        pending = s.scalars(
            select(DeletionItem).where(DeletionItem.status == QueueStatus.PENDING.value)
        )
        for item in pending:
            if wanted is not None and item.recording_id not in wanted:
                continue
            rec = s.get(Recording, item.recording_id)
            assert rec is not None
            if _active_holds(s, rec):  # placed since the refresh: never approve
                continue
            item.status = QueueStatus.RECOVERABLE.value
            item.approved_by = actor.user_id
            item.approved_at = now
            item.purge_after = now + RECOVERY_WINDOW
            record(
                s,
                actor,
                AuditAction.RETENTION_DELETION_APPROVE,
                "recording",
                rec.id,
                {
                    "due_at": item.due_at.isoformat(),
                    "basis": item.basis,
                    "purge_after": item.purge_after.isoformat(),
                },
            )
            approved.append(item)
        if wanted is not None:
            missing = wanted - {i.recording_id for i in approved}
            if missing:
                raise RetentionError(
                    "Not pending deletion (not due, held, or already approved): "
                    + ", ".join(sorted(missing))
                    + "."
                )
        s.flush()
        s.expunge_all()
    return approved


def undo_deletion(
    factory: sessionmaker[Session], actor: Actor, recording_id: str, reason: str
) -> DeletionItem:
    """Take an approved deletion back inside the recovery window (audited)."""
    require(factory, actor, Permission.RETENTION_APPROVE, "undo deletions")
    with transaction(factory) as s:
        item = s.scalars(
            select(DeletionItem).where(
                DeletionItem.recording_id == recording_id,
                DeletionItem.status == QueueStatus.RECOVERABLE.value,
            )
        ).first()
        if item is None:
            raise RetentionError(f"Recording {recording_id} has no approved deletion to undo.")
        item.status = QueueStatus.CANCELLED.value
        item.closed_reason = f"undone: {reason.strip() or 'no reason given'}"
        record(
            s,
            actor,
            AuditAction.RETENTION_DELETION_UNDO,
            "recording",
            recording_id,
            {"reason": item.closed_reason},
        )
        s.flush()
        s.expunge(item)
    return item
