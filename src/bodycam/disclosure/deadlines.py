"""Deadlines of public-records requests: business days, due dates, the clocks in force.

A request's clocks run on the calendar dates of its jurisdiction's time zone. "Within N
business days of D" is the N-th business day after D (D itself is day 0; a request that
arrives on a weekend or holiday starts counting from the next business day). Business
days exclude Saturdays, Sundays, the public holidays of the jurisdiction's country and
subdivision (the ``holidays`` package, observed days included) and the agency's own
closure days; ``numpy.busday_offset`` does the arithmetic.

The clocks are configuration: a TOML file (see :mod:`bodycam.disclosure.clock`),
imported as a new version like the retention schedule, audited and kept forever. Until
one is imported the built-in example (:data:`~bodycam.disclosure.clock.DEFAULT_CLOCK`,
version 0) is in force. The clocks in force apply to every request, so a corrected file
(a closure day added, a wrong number fixed) moves the due dates of open requests too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.disclosure.clock import DEFAULT_CLOCK, Clock, ClockError, Jurisdiction
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.models import (
    CLOSED,
    DECIDED,
    DisclosureAppeal,
    DisclosureClock,
    DisclosureRequest,
    RequestStatus,
)
from bodycam.ids import as_utc

# --- business days ----------------------------------------------------------------------


@lru_cache(maxsize=256)
def _public_holidays(
    country: str, subdivision: str | None, first: int, last: int
) -> frozenset[date]:
    found = holidays.country_holidays(country, subdiv=subdivision, years=range(first, last + 1))
    return frozenset(found.keys())


class BusinessCalendar:
    """The business days of one jurisdiction."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self.jurisdiction = jurisdiction

    def holidays_between(self, first: date, last: date) -> list[date]:
        """Public holidays and closure days from ``first`` to ``last`` (inclusive), sorted."""
        j = self.jurisdiction
        days = _public_holidays(j.country, j.subdivision, first.year, last.year) | set(j.closed)
        return sorted(d for d in days if first <= d <= last)

    def _array(self, first: date, last: date) -> np.ndarray:
        return np.array(self.holidays_between(first, last), dtype="datetime64[D]")

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is a working day of the agency."""
        return bool(np.is_busday(np.datetime64(day, "D"), holidays=self._array(day, day)))

    def add(self, start: date, days: int) -> date:
        """The ``days``-th business day after ``start`` (``start`` itself is day 0)."""
        horizon = start + timedelta(days=2 * days + 31)
        result = np.busday_offset(
            np.datetime64(start, "D"), days, roll="forward", holidays=self._array(start, horizon)
        )
        return date.fromisoformat(str(result))

    def count(self, start: date, end: date) -> int:
        """Business days in ``[start, end)`` (0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0
        return int(
            np.busday_count(
                np.datetime64(start, "D"), np.datetime64(end, "D"), holidays=self._array(start, end)
            )
        )


def local_date(when: datetime, jurisdiction: Jurisdiction) -> date:
    """The calendar date of ``when`` in the jurisdiction's time zone."""
    return as_utc(when).astimezone(jurisdiction.zone).date()


# --- a request's due dates --------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    """A request's due dates (local dates of its jurisdiction) and where it stands."""

    jurisdiction: str
    today: date
    received: date
    acknowledge_due: date
    acknowledged: date | None
    decide_due_original: date | None
    """The decision deadline before extensions (None: the law sets none)."""
    decide_due: date | None
    """The decision deadline as extended."""
    critical_due: date | None
    """Critical-incident track: release due this calendar date (None: not on the track)."""
    appeal_due: date | None
    """The pending appeal's deadline (or the last decided appeal's)."""
    closed: date | None
    business_days_open: int
    """Business days from receipt to today, or to the day it closed."""
    calendar_days_open: int
    late: bool
    """Something is overdue now: an open request, or a pending appeal, past a deadline."""
    overdue: tuple[str, ...]
    """What is overdue now, e.g. ``decision due 2026-12-22``."""
    missed: tuple[str, ...]
    """Every deadline missed so far: met late, or overdue now."""
    closed_late: bool | None
    """For a decided request: whether it missed its acknowledgment, decision or
    critical-incident deadline (None: not decided). Appeal deadlines do not count here."""
    next_due: date | None
    """The next deadline still to meet (None: nothing pending)."""
    next_due_what: str


def deadlines(
    req: DisclosureRequest,
    appeals: Sequence[DisclosureAppeal],
    jurisdiction: Jurisdiction,
    now: datetime,
) -> Deadlines:
    """Compute a request's due dates and lateness as of ``now``."""
    j, cal = jurisdiction, BusinessCalendar(jurisdiction)
    today = local_date(now, j)
    received = local_date(req.received_at, j)
    status = RequestStatus(req.status)
    is_open = status not in CLOSED
    closed = local_date(req.closed_at, j) if req.closed_at and not is_open else None
    decided = closed if status in DECIDED else None
    acknowledged = local_date(req.acknowledged_at, j) if req.acknowledged_at else None

    ack_due = cal.add(received, j.acknowledge_days)
    decide_original = decide_due = None
    if j.decide_days is not None:
        base = received
        if j.decide_from == "acknowledged":
            base = acknowledged or ack_due
        decide_original = cal.add(base, j.decide_days)
        decide_due = cal.add(base, j.decide_days + req.extension_days)
    critical_due = None
    if req.critical_incident and req.incident_at is not None:
        critical_due = local_date(req.incident_at, j) + timedelta(days=j.critical_incident_days)

    missed: list[str] = []
    overdue: list[str] = []
    pending: list[tuple[date, str]] = []

    def milestone(what: str, due: date, met: date | None, active: bool) -> None:
        if met is not None:
            if met > due:
                missed.append(f"{what} due {due.isoformat()}, done {met.isoformat()}")
        elif active:
            pending.append((due, what))
            if today > due:
                overdue.append(f"{what} due {due.isoformat()}")
                missed.append(f"{what} due {due.isoformat()}")

    milestone("acknowledgment", ack_due, acknowledged, is_open)
    if decide_due is not None:
        milestone("decision", decide_due, decided, is_open)
    if critical_due is not None:
        milestone("critical-incident release", critical_due, decided, is_open)
    request_missed = bool(missed)
    appeal_due = None
    if appeals:
        appeal = next((a for a in appeals if a.outcome is None), None) or max(
            appeals, key=lambda a: as_utc(a.filed_at)
        )
        appeal_due = cal.add(local_date(appeal.filed_at, j), j.appeal_decide_days)
        met = local_date(appeal.decided_at, j) if appeal.decided_at else None
        milestone("appeal decision", appeal_due, met, appeal.outcome is None)
    end = closed if closed is not None else today
    next_due, next_what = min(pending) if pending else (None, "")
    return Deadlines(
        jurisdiction=j.key,
        today=today,
        received=received,
        acknowledge_due=ack_due,
        acknowledged=acknowledged,
        decide_due_original=decide_original,
        decide_due=decide_due,
        critical_due=critical_due,
        appeal_due=appeal_due,
        closed=closed,
        business_days_open=cal.count(received, end),
        calendar_days_open=max(0, (end - received).days),
        late=bool(overdue),
        overdue=tuple(overdue),
        missed=tuple(missed),
        closed_late=None if decided is None else request_missed,
        next_due=next_due,
        next_due_what=next_what,
    )


# --- the clocks in force ----------------------------------------------------------------


def clock_in_force(session: Session) -> tuple[int, Clock]:
    """The clocks in force and their version (0: the built-in example)."""
    row = session.scalars(
        select(DisclosureClock).order_by(DisclosureClock.version.desc()).limit(1)
    ).first()
    if row is None:
        return 0, _parse(DEFAULT_CLOCK)
    return row.version, _parse(row.body)


@lru_cache(maxsize=16)
def _parse(text: str) -> Clock:
    return Clock.from_toml(text)


@dataclass(frozen=True)
class ClockChange:
    """What importing a clock file did."""

    version: int
    sha256: str
    default: str
    jurisdictions: list[str]


def import_clock(
    factory: sessionmaker[Session], actor: Actor, text: str, *, note: str = ""
) -> ClockChange:
    """Make ``text`` the clocks in force (a new version, audited; older ones are kept).

    Refused when it drops a jurisdiction that requests still use: their deadlines would
    have no rules.
    """
    require(factory, actor, Permission.DISCLOSURE_CLOCK, "change the disclosure clocks")
    try:
        clock = Clock.from_toml(text)
    except ClockError as exc:
        raise DisclosureError(str(exc)) from None
    digest = hashlib.sha256(text.encode()).hexdigest()
    with transaction(factory) as s:
        used = set(s.scalars(select(DisclosureRequest.jurisdiction).distinct()))
        dropped = sorted(used - set(clock.jurisdictions))
        if dropped:
            raise DisclosureError(
                f"The clock file drops jurisdiction(s) {', '.join(dropped)}, which requests "
                "still use; keep them in the file."
            )
        version = (s.scalar(select(func.max(DisclosureClock.version))) or 0) + 1
        s.add(
            DisclosureClock(
                version=version, body=text, sha256=digest, note=note, created_by=actor.user_id
            )
        )
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_CLOCK_IMPORT,
            "disclosure_clock",
            str(version),
            {
                "sha256": digest,
                "note": note,
                "default": clock.default,
                "jurisdictions": sorted(clock.jurisdictions),
            },
        )
    return ClockChange(version, digest, clock.default, sorted(clock.jurisdictions))


def _may_read_clock(factory: sessionmaker[Session], actor: Actor) -> None:
    if not actor.can(Permission.DISCLOSURE_CLOCK):
        require(factory, actor, Permission.DISCLOSURE_VIEW, "read the disclosure clocks")


def export_clock(factory: sessionmaker[Session], actor: Actor) -> str:
    """The clock file in force, as imported (the built-in example before any import)."""
    _may_read_clock(factory, actor)
    with factory() as s:
        row = s.scalars(
            select(DisclosureClock).order_by(DisclosureClock.version.desc()).limit(1)
        ).first()
        return DEFAULT_CLOCK if row is None else row.body


@dataclass(frozen=True)
class ClockVersion:
    """One imported version of the clocks (newest first in lists)."""

    version: int
    sha256: str
    note: str
    created_by: str
    created_at: datetime


def clock_versions(factory: sessionmaker[Session], actor: Actor) -> list[ClockVersion]:
    """Every imported version of the clocks, newest first, with who imported it and why."""
    _may_read_clock(factory, actor)
    with factory() as s:
        rows = s.execute(
            select(DisclosureClock, User.username)
            .join(User, User.id == DisclosureClock.created_by)
            .order_by(DisclosureClock.version.desc())
        ).all()
        return [ClockVersion(r.version, r.sha256, r.note, n, r.created_at) for r, n in rows]
