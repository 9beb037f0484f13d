"""Reading the whole audit log: search, the "who viewed what" access report, and where
verification stands.

A search and an access report are themselves audited (``audit:log:search``,
``audit:access:report``), like reading one recording's trail. The verification status
only counts records and reads the newest checkpoint and verification run, so it is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.models import AuditCheckpoint, AuditRecord
from bodycam.audit.service import record, record_denial
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.ids import as_utc

if TYPE_CHECKING:
    from bodycam.context import Context
    from bodycam.verify_scrub import ScrubStatus

MAX_PER_PAGE = 200

ACCESS_ACTIONS: dict[str, str] = {
    AuditAction.RECORDING_VIEW.value: "view",
    AuditAction.RECORDING_STREAM.value: "stream",
    AuditAction.RECORDING_DOWNLOAD.value: "download",
    AuditAction.REDACTION_DOWNLOAD.value: "redacted-copy download",
    AuditAction.RECIPIENT_STREAM.value: "share-recipient stream",
    AuditAction.RECIPIENT_DOWNLOAD.value: "share-recipient download",
}
"""The actions that show footage to someone, and what the access report calls them."""


class AuditQueryError(ValueError):
    """A search of the log cannot be run as asked; the message says why."""


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit search; every field optional. ``action`` matches a whole action
    or, ending in ``:``, every action under that prefix (e.g. ``evidence:recording:``)."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    per_page: int = 50

    def details(self) -> dict[str, Any]:
        """The non-empty filters, for the audit record of the search."""
        out = {k: v for k, v in self.__dict__.items() if v not in (None, "")}
        for key in ("start", "end"):
            if key in out:
                out[key] = as_utc(out[key]).isoformat()
        return out


@dataclass(frozen=True)
class AuditRow:
    """One record found: who did what to which object, when, from where."""

    id: str
    seq: int | None
    at: datetime
    actor: str
    role: str
    via: str
    ip: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]


@dataclass
class AuditPage:
    """One page of a search, newest first."""

    rows: list[AuditRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the search has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def _allow(factory: sessionmaker[Session], actor: Actor, what: str) -> None:
    try:
        actor.require(Permission.AUDIT_VIEW, what)
    except PermissionDenied as exc:
        record_denial(factory, actor, what)
        exc.audited = True
        raise


def _check_page(page: int, per_page: int) -> None:
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise AuditQueryError(f"The page must be 1 or more and at most {MAX_PER_PAGE} a page.")


def _window(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    if start is not None and end is not None and end <= start:
        raise AuditQueryError("The end of the time range must be after its start.")
    where = []
    if start is not None:
        where.append(AuditRecord.at >= as_utc(start))
    if end is not None:
        where.append(AuditRecord.at < as_utc(end))
    return where


def search_log(factory: sessionmaker[Session], actor: Actor, q: AuditQuery) -> AuditPage:
    """Audit records matching ``q`` over the whole log, newest first (``audit:log:view``);
    the search itself is audited."""
    _allow(factory, actor, "search the audit log")
    _check_page(q.page, q.per_page)
    where = _window(q.start, q.end)
    if q.actor:
        where.append(AuditRecord.actor == q.actor.strip())
    if q.action:
        action = q.action.strip()
        if action.endswith(":"):
            where.append(AuditRecord.action.like(action.replace("%", r"\%") + "%", escape="\\"))
        else:
            where.append(AuditRecord.action == action)
    if q.object_type:
        where.append(AuditRecord.object_type == q.object_type.strip())
    if q.object_id:
        where.append(AuditRecord.object_id == q.object_id.strip())
    with transaction(factory) as s:
        total = s.scalar(select(func.count()).select_from(AuditRecord).where(*where)) or 0
        found = list(
            s.scalars(
                select(AuditRecord)
                .where(*where)
                .order_by(AuditRecord.at.desc(), AuditRecord.pk.desc())
                .offset((q.page - 1) * q.per_page)
                .limit(q.per_page)
            )
        )
        rows = [
            AuditRow(
                r.id,
                r.seq,
                r.at,
                r.actor,
                r.role,
                r.via,
                r.ip,
                r.action,
                r.object_type,
                r.object_id,
                r.details,
            )
            for r in found
        ]
        record(s, actor, AuditAction.AUDIT_SEARCH, "audit", "*", q.details() | {"results": total})
    return AuditPage(rows, total, q.page, q.per_page)


@dataclass(frozen=True)
class AccessLine:
    """How often one person had one kind of access to one recording, first and last time."""

    who: str
    role: str
    recording_id: str
    action: str
    kind: str
    count: int
    first: datetime
    last: datetime


@dataclass
class AccessReport:
    """Who viewed, streamed and downloaded which recording (one page of lines)."""

    recording_id: str | None
    username: str | None
    lines: list[AccessLine]
    total: int
    page: int
    per_page: int
    totals: dict[str, int] = field(default_factory=dict)
    """Records per kind of access over the whole report (not only this page)."""

    @property
    def pages(self) -> int:
        """How many pages the report has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def access_report(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    recording_id: str | None = None,
    username: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AccessReport:
    """Views, streams and downloads of footage by person and recording, with counts and
    first and last times, newest first: of one recording, by one user, or all
    (``audit:log:view``); the report itself is audited."""
    _allow(factory, actor, "read the access report")
    _check_page(page, per_page)
    rid, who = (recording_id or "").strip() or None, (username or "").strip() or None
    where = [
        AuditRecord.action.in_(list(ACCESS_ACTIONS)),
        AuditRecord.object_type == "recording",
        *_window(start, end),
    ]
    if rid:
        where.append(AuditRecord.object_id == rid)
    if who:
        where.append(AuditRecord.actor == who)
    keys = (AuditRecord.actor, AuditRecord.role, AuditRecord.object_id, AuditRecord.action)
    grouped = (
        select(*keys, func.count().label("n"), func.min(AuditRecord.at), func.max(AuditRecord.at))
        .where(*where)
        .group_by(*keys)
    )
    with transaction(factory) as s:
        total = s.scalar(select(func.count()).select_from(grouped.subquery())) or 0
        last = func.max(AuditRecord.at)
        rows = s.execute(
            grouped.order_by(last.desc(), *keys).offset((page - 1) * per_page).limit(per_page)
        ).all()
        totals = {
            ACCESS_ACTIONS[a]: n
            for a, n in s.execute(
                select(AuditRecord.action, func.count()).where(*where).group_by(AuditRecord.action)
            )
        }
        lines = [
            AccessLine(
                r[0],
                r[1],
                r[2],
                r[3],
                ACCESS_ACTIONS.get(str(r[3]), str(r[3])),
                int(r[4]),
                _time(r[5]),
                _time(r[6]),
            )
            for r in rows
        ]
        details: dict[str, Any] = {"recording": rid, "user": who, "lines": total}
        if start is not None:
            details["start"] = as_utc(start).isoformat()
        if end is not None:
            details["end"] = as_utc(end).isoformat()
        record(s, actor, AuditAction.AUDIT_ACCESS_REPORT, "audit", rid or who or "*", details)
    return AccessReport(rid, who, lines, total, page, per_page, totals)


def _time(value: Any) -> datetime:
    """A time read from a record body by SQL (text on SQLite, typed where it is)."""
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value)))


def activity_counts(
    factory: sessionmaker[Session], actor: Actor, since: datetime
) -> dict[str, int]:
    """How many accesses to footage (by kind) and refused requests the log holds since
    ``since``: counts only, no names (``audit:log:view``)."""
    _allow(factory, actor, "count audit records")
    kinds = [*ACCESS_ACTIONS, AuditAction.ACCESS_DENIED.value]
    with factory() as s:
        rows = s.execute(
            select(AuditRecord.action, func.count())
            .where(AuditRecord.action.in_(kinds), AuditRecord.at >= as_utc(since))
            .group_by(AuditRecord.action)
        ).all()
    found = {a: int(n) for a, n in rows}
    out = {ACCESS_ACTIONS[a]: found.get(a, 0) for a in ACCESS_ACTIONS}
    out["refused"] = found.get(AuditAction.ACCESS_DENIED.value, 0)
    return out


@dataclass(frozen=True)
class VerificationStatus:
    """Where the log's integrity stands: sealing, the newest checkpoint, the last full
    verification and, for those who run it, the scrub of stored files."""

    records: int
    sealed: int
    pending: int
    checkpoint_size: int | None
    checkpoint_at: datetime | None
    last_verify_at: datetime | None
    last_verify_ok: bool | None
    last_verify_problems: int | None
    scrub: ScrubStatus | None

    @property
    def ok(self) -> bool:
        """No failed verification and no scrub alert stands."""
        return self.last_verify_ok is not False and (self.scrub is None or self.scrub.ok)


def verification_status(ctx: Context, actor: Actor) -> VerificationStatus:
    """Counts of sealed and pending records, the newest checkpoint, the last ``bodycam
    verify`` and the scrub (``audit:log:view`` or ``audit:log:verify``; the scrub only
    with ``audit:log:verify``)."""
    if not (actor.can(Permission.AUDIT_VIEW) or actor.can(Permission.AUDIT_VERIFY)):
        what = "see the verification status of the audit log"
        record_denial(ctx.sessions, actor, what)
        denied = PermissionDenied(
            f"User {actor.username} ({actor.role.value}) may not {what}: the role lacks "
            f"{Permission.AUDIT_VIEW.value} and {Permission.AUDIT_VERIFY.value}.",
            actor,
        )
        denied.audited = True
        raise denied
    with ctx.sessions() as s:
        records = s.scalar(select(func.count()).select_from(AuditRecord)) or 0
        pending = (
            s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.seq.is_(None)))
            or 0
        )
        cp = s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc())).first()
        verify = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.AUDIT_VERIFY.value)
            .order_by(AuditRecord.at.desc(), AuditRecord.pk.desc())
            .limit(1)
        ).first()
        v_details = verify.details if verify is not None else {}
        status = VerificationStatus(
            records=records,
            sealed=records - pending,
            pending=pending,
            checkpoint_size=cp.tree_size if cp else None,
            checkpoint_at=as_utc(cp.at) if cp else None,
            last_verify_at=verify.at if verify is not None else None,
            last_verify_ok=bool(v_details.get("ok")) if verify is not None else None,
            last_verify_problems=int(v_details.get("problems", 0)) if verify else None,
            scrub=None,
        )
    if actor.can(Permission.AUDIT_VERIFY):
        from bodycam.verify_scrub import scrub_status

        status = replace(status, scrub=scrub_status(ctx, actor))
    return status
