"""Retention in the vault: apply the schedule, hold, queue, approve.

The schedule decides each recording's due date from its category. Nothing is deleted
because a date passed: a recording past its due date enters the deletion queue, where
a person approves it (after a dry run) into a recoverable state. A recording under a
legal hold (itself, a case it is linked to, or a query that matches it) never stays in the
queue, whatever its schedule. Opening a case holds its footage automatically (see
``bodycam.retention.cases``), and so does an open public-records request
(``bodycam.disclosure``): both through :func:`place_automatic` and
:func:`release_automatic`. Every change is checked in this layer and audited.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence.models import Category, Recording
from bodycam.ids import as_utc, utcnow
from bodycam.retention.models import (
    DeletionItem,
    HoldKind,
    HoldReason,
    HoldSource,
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


@dataclass(frozen=True)
class ScheduleVersion:
    """One imported version of the schedule (newest first in lists)."""

    version: int
    sha256: str
    note: str
    created_by: str
    created_at: datetime


def schedule_versions(factory: sessionmaker[Session], actor: Actor) -> list[ScheduleVersion]:
    """Every schedule version, newest first, with who imported it and why."""
    require(factory, actor, Permission.RETENTION_VIEW, "read the retention schedule")
    with factory() as s:
        rows = s.execute(
            select(RetentionSchedule, User.username)
            .join(User, User.id == RetentionSchedule.created_by)
            .order_by(RetentionSchedule.version.desc())
        ).all()
        return [
            ScheduleVersion(r.version, r.sha256, r.note, name, r.created_at) for r, name in rows
        ]


def export_schedule(factory: sessionmaker[Session], actor: Actor) -> str:
    """The schedule in force as TOML (raises when none was imported)."""
    require(factory, actor, Permission.RETENTION_VIEW, "read the retention schedule")
    schedule = current_schedule(factory)
    if schedule is None:
        raise RetentionError("No retention schedule has been imported yet.")
    return schedule.to_toml()


# --- holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldQuery:
    """What a query hold covers: every recording (present and future) matching all of the
    criteria given. Times are UTC; ``start_to`` is exclusive."""

    officer_badge: str | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    category: str | None = None
    tag: str | None = None

    def describe(self) -> str:
        """A short line for lists and the hold's ``target``."""
        parts = []
        if self.officer_badge:
            parts.append(f"badge {self.officer_badge}")
        if self.start_from or self.start_to:
            a = self.start_from.date().isoformat() if self.start_from else "..."
            b = self.start_to.date().isoformat() if self.start_to else "..."
            parts.append(f"{a} to {b}")
        if self.category:
            parts.append(f"category {self.category}")
        if self.tag:
            parts.append(f"tag {self.tag}")
        return ", ".join(parts)[:64]


@dataclass(frozen=True)
class _StoredQuery:
    """A query hold's criteria resolved to ids, as stored in ``legal_holds.query``."""

    officer_id: str | None
    start_from: str | None
    start_to: str | None
    category_id: str | None
    tag: str | None

    def covers(self, rec: Recording) -> bool:
        if self.officer_id is not None and rec.officer_id != self.officer_id:
            return False
        start = as_utc(rec.recorded_start)
        if self.start_from is not None and start < datetime.fromisoformat(self.start_from):
            return False
        if self.start_to is not None and start >= datetime.fromisoformat(self.start_to):
            return False
        categories = {rec.category_id} | {c.category_id for c in rec.extra_categories}
        if self.category_id is not None and self.category_id not in categories:
            return False
        if self.tag is not None:
            return self.tag.casefold() in {t.tag.casefold() for t in rec.tags}
        return True


def _stored_query(session: Session, query: HoldQuery) -> _StoredQuery:
    """Check a query and resolve its badge and category; a sentence when it is wrong."""
    if not any(asdict(query).values()):
        raise RetentionError(
            "A query hold needs at least one criterion (officer, dates, category or tag)."
        )
    if query.start_from and query.start_to and query.start_from >= query.start_to:
        raise RetentionError("The query's start date must be before its end date.")
    officer_id = category_id = None
    if query.officer_badge:
        officer_id = session.scalars(
            select(User.id).where(User.badge == query.officer_badge)
        ).first()
        if officer_id is None:
            raise RetentionError(f"No officer has badge {query.officer_badge}.")
    if query.category:
        category_id = session.scalars(
            select(Category.id).where(func.lower(Category.name) == query.category.lower())
        ).first()
        if category_id is None:
            raise RetentionError(f"There is no category {query.category!r}.")
    return _StoredQuery(
        officer_id,
        as_utc(query.start_from).isoformat() if query.start_from else None,
        as_utc(query.start_to).isoformat() if query.start_to else None,
        category_id,
        query.tag.strip() if query.tag and query.tag.strip() else None,
    )


def _query_of(hold: LegalHold) -> _StoredQuery:
    return _StoredQuery(**json.loads(hold.query or "{}"))


def _active_holds(session: Session, rec: Recording) -> list[LegalHold]:
    """Unreleased holds covering ``rec``: its own, its cases', and matching query holds."""
    cases = [c.case_number for c in rec.cases]
    clauses = [
        (LegalHold.kind == HoldKind.RECORDING.value) & (LegalHold.target == rec.id),
        LegalHold.kind == HoldKind.QUERY.value,
    ]
    if cases:
        clauses.append((LegalHold.kind == HoldKind.CASE.value) & LegalHold.target.in_(cases))
    rows = session.scalars(
        select(LegalHold).where(LegalHold.released_at.is_(None)).where(or_(*clauses))
    )
    return [h for h in rows if h.kind != HoldKind.QUERY.value or _query_of(h).covers(rec)]


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
    query: HoldQuery | None = None,
    reason_type: str,
    reason: str,
    now: datetime | None = None,
) -> LegalHold:
    """Hold one recording, every recording of a case, or every recording a query matches
    (cases and queries: present and future recordings)."""
    require(factory, actor, Permission.RETENTION_HOLD, "place legal holds")
    if sum(x is not None for x in (recording_id, case, query)) != 1:
        raise RetentionError("A hold covers one recording, one case number or one query.")
    try:
        kind_reason = HoldReason(reason_type)
    except ValueError:
        choices = ", ".join(r.value for r in HoldReason)
        raise RetentionError(f"Unknown hold reason {reason_type!r}; choose {choices}.") from None
    if not reason.strip():
        raise RetentionError("A hold needs a reason (e.g. the case or claim number).")
    with transaction(factory) as s:
        hold = _place(s, actor, recording_id, case, query, kind_reason, reason.strip())
        s.expunge(hold)
    refresh_queue(factory, now)
    return hold


def _place(
    s: Session,
    actor: Actor,
    recording_id: str | None,
    case: str | None,
    query: HoldQuery | None,
    reason_type: HoldReason,
    reason: str,
    source: HoldSource = HoldSource.MANUAL,
    origin: str | None = None,
) -> LegalHold:
    """Add a hold and its audit record in the session's transaction."""
    kind, target, stored = _hold_target(s, recording_id, case, query)
    hold = LegalHold(
        kind=kind.value,
        target=target,
        reason_type=reason_type.value,
        reason=reason,
        placed_by=actor.user_id,
        query=stored,
        source=source.value,
        origin=origin,
    )
    s.add(hold)
    s.flush()
    details: dict[str, object] = {
        "hold": hold.id,
        "reason_type": hold.reason_type,
        "reason": hold.reason,
        "source": hold.source,
    }
    if origin is not None:
        details["origin"] = origin
    if stored is not None:
        details["query"] = json.loads(stored)
    record(s, actor, AuditAction.RETENTION_HOLD_PLACE, kind.value, target, details)
    return hold


def _hold_target(
    s: Session, recording_id: str | None, case: str | None, query: HoldQuery | None
) -> tuple[HoldKind, str, str | None]:
    """What a hold covers: its kind, its target, and the stored query (query holds)."""
    stored = None
    if recording_id is not None:
        if s.get(Recording, recording_id) is None:
            raise RetentionError(f"There is no recording {recording_id}.")
        kind, target = HoldKind.RECORDING, recording_id
    elif case is not None:
        if not case.strip():
            raise RetentionError("A case hold needs a case number.")
        kind, target = HoldKind.CASE, case.strip()
    else:
        assert query is not None
        kind, target = HoldKind.QUERY, query.describe()
        stored = json.dumps(asdict(_stored_query(s, query)), sort_keys=True)
    return kind, target, stored


def _release(s: Session, actor: Actor, hold: LegalHold, reason: str) -> None:
    """Release a hold with its audit record in the session's transaction."""
    hold.released_by = actor.user_id
    hold.released_at = utcnow()
    hold.release_reason = reason
    record(
        s,
        actor,
        AuditAction.RETENTION_HOLD_RELEASE,
        hold.kind,
        hold.target,
        {"hold": hold.id, "reason": hold.release_reason},
    )


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
        if hold.source != HoldSource.MANUAL.value:
            what = "case" if hold.source == HoldSource.OPEN_CASE.value else "request"
            raise RetentionError(
                f"Hold {hold_id} was placed automatically and stays while {what} "
                f"{hold.origin or hold.target} is open; it ends when the {what} closes."
            )
        _release(s, actor, hold, reason.strip())
        s.flush()
        s.expunge(hold)
    refresh_queue(factory, now)
    return hold


def place_automatic(
    session: Session,
    actor: Actor,
    *,
    source: HoldSource,
    origin: str,
    reason_type: HoldReason,
    reason: str,
    recording_id: str | None = None,
    case: str | None = None,
    query: HoldQuery | None = None,
) -> LegalHold:
    """Place an automatic hold for ``origin`` (a case or request number) in ``session``.

    For the services that hold footage while something is open (cases, public-records
    requests): they check their own permission, then call this inside their transaction,
    and ``refresh_queue`` after it commits. Idempotent: when an unreleased hold of the same
    source and origin already covers the same recording, case or query, that hold is
    returned and nothing new is placed. Such a hold cannot be released by hand; it ends
    with :func:`release_automatic` when its origin closes.
    """
    if source == HoldSource.MANUAL:
        raise RetentionError("An automatic hold needs an automatic source (a case or request).")
    if sum(x is not None for x in (recording_id, case, query)) != 1:
        raise RetentionError("A hold covers one recording, one case number or one query.")
    if not origin.strip() or len(origin) > 64:
        raise RetentionError("An automatic hold needs an origin of 1 to 64 characters.")
    kind, target, stored = _hold_target(session, recording_id, case, query)
    same = session.scalars(
        select(LegalHold).where(
            LegalHold.source == source.value,
            LegalHold.origin == origin,
            LegalHold.kind == kind.value,
            LegalHold.target == target,
            LegalHold.released_at.is_(None),
        )
    )
    for hold in same:
        if hold.query == stored:
            return hold
    return _place(session, actor, recording_id, case, query, reason_type, reason, source, origin)


def release_automatic(
    session: Session,
    actor: Actor,
    *,
    source: HoldSource,
    origin: str,
    reason: str,
    recording_id: str | None = None,
) -> list[LegalHold]:
    """Release the unreleased automatic holds of ``origin`` (audited) in ``session``.

    With ``recording_id``, only the hold on that recording (a recording taken off a
    request). Holds placed by hand, or by another origin, are never touched. Returns the
    holds released (none is fine: the origin held nothing). Call ``refresh_queue`` after
    the transaction commits.
    """
    stmt = select(LegalHold).where(
        LegalHold.source == source.value,
        LegalHold.origin == origin,
        LegalHold.released_at.is_(None),
    )
    if recording_id is not None:
        stmt = stmt.where(
            LegalHold.kind == HoldKind.RECORDING.value, LegalHold.target == recording_id
        )
    holds = list(session.scalars(stmt.order_by(LegalHold.placed_at, LegalHold.id)))
    for hold in holds:
        _release(session, actor, hold, reason)
    return holds


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
    purge_after: datetime | None = None  # approved: when the purge may destroy it


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
                    item.purge_after if item and not held else None,
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
