"""Public-records requests: intake, reading, and the steps every change shares.

A request is logged here with its requester, what it asks for and its jurisdiction's
clock; :mod:`bodycam.disclosure.workflow` moves it through its steps,
:mod:`bodycam.disclosure.footage` attaches its recordings and
:mod:`bodycam.disclosure.appeals` records appeals. Every change writes one audit record
and one history row (:func:`add_step`) in its transaction, then
:func:`~bodycam.disclosure.holds.sync_holds` makes its automatic legal holds match (held
while open or while an appeal is pending), and the deletion queue is refreshed after the
commit. Each service function checks its permission itself, so the CLI, the API and jobs
obey the same rules.

Request numbers (``R-2026-000123``) are sequential per year of intake: a counter row per
year is incremented in the request's own transaction. On PostgreSQL the UPDATE locks
that row until the commit, so concurrent intakes queue behind it and never share a
number; on SQLite write transactions are serialised already (BEGIN IMMEDIATE). The
unique constraint on the number is the backstop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.disclosure.clock import Clock, ClockError, Jurisdiction
from bodycam.disclosure.deadlines import Deadlines, clock_in_force, deadlines, local_date
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.holds import sync_holds
from bodycam.disclosure.models import (
    CLOSED,
    DisclosureAppeal,
    DisclosureCounter,
    DisclosureRecording,
    DisclosureRequest,
    DisclosureStep,
    RequesterType,
    RequestStatus,
)
from bodycam.evidence.models import Recording
from bodycam.ids import as_utc, utcnow
from bodycam.retention.service import refresh_queue

FUTURE_SLACK = timedelta(minutes=5)


# --- views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachedRecording:
    """A recording attached to a request."""

    recording_id: str
    title: str
    officer_badge: str | None
    recorded_start: datetime
    recorded_end: datetime
    attached_at: datetime


@dataclass(frozen=True)
class StepView:
    """One line of a request's history."""

    at: datetime
    username: str
    kind: str
    from_status: str | None
    to_status: str | None
    detail: str


@dataclass(frozen=True)
class RequestView:
    """A request with its deadlines, footage, appeals and (for one request) history."""

    request: DisclosureRequest
    deadlines: Deadlines
    recordings: list[AttachedRecording]
    appeals: list[DisclosureAppeal]
    held: bool
    """Whether its footage is held for it now (open, or an appeal pending)."""
    steps: list[StepView] = field(default_factory=list)

    @property
    def number(self) -> str:
        """The request number, e.g. ``R-2026-000123``."""
        return self.request.number

    @property
    def status(self) -> str:
        """Where it stands."""
        return self.request.status


def jurisdiction_of(clock: Clock, key: str) -> Jurisdiction:
    try:
        return clock.get(key)
    except ClockError as exc:
        raise DisclosureError(str(exc)) from None


def _views(
    s: Session, reqs: Sequence[DisclosureRequest], now: datetime, *, steps: bool = False
) -> list[RequestView]:
    """Views of ``reqs`` with a fixed number of queries (not one per request)."""
    if not reqs:
        return []
    ids = [r.id for r in reqs]
    _, clock = clock_in_force(s)
    appeals: dict[str, list[DisclosureAppeal]] = {i: [] for i in ids}
    for a in s.scalars(
        select(DisclosureAppeal)
        .where(DisclosureAppeal.request_id.in_(ids))
        .order_by(DisclosureAppeal.filed_at, DisclosureAppeal.id)
    ):
        appeals[a.request_id].append(a)
    recordings: dict[str, list[AttachedRecording]] = {i: [] for i in ids}
    rows = s.execute(
        select(DisclosureRecording, Recording, User.badge)
        .join(Recording, Recording.id == DisclosureRecording.recording_id)
        .join(User, User.id == Recording.officer_id)
        .where(DisclosureRecording.request_id.in_(ids))
        .order_by(Recording.recorded_start, Recording.id)
    ).all()
    for link, rec, badge in rows:
        recordings[link.request_id].append(
            AttachedRecording(
                rec.id, rec.title, badge, rec.recorded_start, rec.recorded_end, link.attached_at
            )
        )
    history: dict[str, list[StepView]] = {i: [] for i in ids}
    if steps:
        for st, name in s.execute(
            select(DisclosureStep, User.username)
            .join(User, User.id == DisclosureStep.user_id)
            .where(DisclosureStep.request_id.in_(ids))
            .order_by(DisclosureStep.at, DisclosureStep.id)
        ):
            history[st.request_id].append(
                StepView(st.at, name, st.kind, st.from_status, st.to_status, st.detail)
            )
    out = []
    for req in reqs:
        j = jurisdiction_of(clock, req.jurisdiction)
        mine = appeals[req.id]
        held = req.status not in CLOSED or any(a.outcome is None for a in mine)
        out.append(
            RequestView(
                req, deadlines(req, mine, j, now), recordings[req.id], mine, held, history[req.id]
            )
        )
    return out


# --- shared steps -------------------------------------------------------------------------


def normalise_number(number: str) -> str:
    """A request number as stored (trimmed, upper case)."""
    return number.strip().upper()


def load(s: Session, number: str, *, lock: bool = False) -> DisclosureRequest:
    """The request ``number`` (row-locked for a change); a sentence when there is none."""
    stmt = select(DisclosureRequest).where(DisclosureRequest.number == normalise_number(number))
    if lock:
        stmt = stmt.with_for_update()
    req = s.scalars(stmt).first()
    if req is None:
        raise DisclosureError(f"There is no request {number.strip()}.")
    return req


def add_step(
    s: Session,
    actor: Actor,
    req: DisclosureRequest,
    kind: str,
    at: datetime,
    *,
    to_status: str | None = None,
    detail: str = "",
) -> None:
    """Write one history row of ``req``."""
    s.add(
        DisclosureStep(
            request_id=req.id,
            at=at,
            user_id=actor.user_id,
            kind=kind,
            from_status=req.status if to_status else None,
            to_status=to_status,
            detail=detail,
        )
    )


def view_of(s: Session, req: DisclosureRequest, now: datetime) -> RequestView:
    """The view of one request, read inside the caller's transaction."""
    s.flush()
    (one,) = _views(s, [req], now, steps=True)
    return one


def localise(value: datetime | date, j: Jurisdiction) -> datetime:
    """A date or a naive time read in the jurisdiction's time zone; aware times as given."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=j.zone)
    return as_utc(value)


# --- intake -------------------------------------------------------------------------------


def _ensure_counter(factory: sessionmaker[Session], year: int) -> None:
    """Create the year's counter row once; a concurrent creator winning is fine."""
    with factory() as s:
        if s.get(DisclosureCounter, year) is not None:
            return
    try:
        with transaction(factory) as s:
            s.add(DisclosureCounter(year=year, last=0))
    except IntegrityError:
        pass


def _next_number(s: Session, year: int) -> str:
    s.execute(
        update(DisclosureCounter)
        .where(DisclosureCounter.year == year)
        .values(last=DisclosureCounter.last + 1)
    )
    n = s.scalars(select(DisclosureCounter.last).where(DisclosureCounter.year == year)).one()
    return f"R-{year}-{n:06d}"


def clean_list(values: Iterable[str], what: str, limit: int = 64) -> list[str]:
    out: list[str] = []
    for v in values:
        v = v.strip()
        if not v:
            continue
        if len(v) > limit:
            raise DisclosureError(f"{what} {v[:20]!r}... is longer than {limit} characters.")
        if v not in out:
            out.append(v)
    return out


def create_request(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    requester_name: str,
    requester_type: str,
    description: str,
    requester_contact: str = "",
    range_start: datetime | date | None = None,
    range_end: datetime | date | None = None,
    location: str = "",
    officers: Sequence[str] = (),
    events: Sequence[str] = (),
    received: datetime | date | None = None,
    jurisdiction: str | None = None,
    critical_incident: bool = False,
    incident_at: datetime | date | None = None,
    now: datetime | None = None,
) -> RequestView:
    """Log a request; its clocks start at ``received`` (default now; a paper request may be
    backdated). Dates and naive times are read in the jurisdiction's time zone."""
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "log public-records requests")
    now = now or utcnow()
    name, text = requester_name.strip(), description.strip()
    if not name or len(name) > 200:
        raise DisclosureError("The requester's name must be 1 to 200 characters.")
    if not text:
        raise DisclosureError("A request needs a description of the footage asked for.")
    if len(requester_contact.strip()) > 200:
        raise DisclosureError("The requester's contact must be at most 200 characters.")
    try:
        kind = RequesterType(requester_type.strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in RequesterType)
        raise DisclosureError(
            f"Unknown requester type {requester_type!r}; choose {choices}."
        ) from None
    if (range_start is None) != (range_end is None):
        raise DisclosureError("A time range needs both a start and an end.")
    badges = clean_list(officers, "Badge")
    numbers = clean_list(events, "Event number")
    with factory() as s:
        _, clock = clock_in_force(s)
        j = jurisdiction_of(clock, (jurisdiction or "").strip() or clock.default)
        unknown = [
            b for b in badges if s.scalars(select(User.id).where(User.badge == b)).first() is None
        ]
    if unknown:
        raise DisclosureError(f"No officer has badge {', '.join(unknown)}.")
    start = localise(range_start, j) if range_start is not None else None
    end = localise(range_end, j) if range_end is not None else None
    if start is not None and end is not None and start >= end:
        raise DisclosureError("The time range must start before it ends.")
    got = localise(received, j) if received is not None else now
    if got > now + FUTURE_SLACK:
        raise DisclosureError("The received date is in the future.")
    incident = localise(incident_at, j) if incident_at is not None else None
    if critical_incident and incident is None:
        incident = start
    if critical_incident and incident is None:
        raise DisclosureError(
            "A critical-incident request needs the incident's date (or a time range)."
        )
    if incident is not None and incident > now + FUTURE_SLACK:
        raise DisclosureError("The incident date is in the future.")
    year = local_date(now, j).year
    _ensure_counter(factory, year)
    with transaction(factory) as s:
        req = DisclosureRequest(
            number=_next_number(s, year),
            requester_name=name,
            requester_contact=requester_contact.strip(),
            requester_type=kind.value,
            description=text,
            range_start=start,
            range_end=end,
            location=location.strip(),
            officer_badges=badges,
            event_numbers=numbers,
            received_at=got,
            jurisdiction=j.key,
            critical_incident=critical_incident,
            incident_at=incident if critical_incident else None,
            status=RequestStatus.RECEIVED.value,
            created_by=actor.user_id,
            created_at=now,
        )
        s.add(req)
        s.flush()
        add_step(s, actor, req, "received", now, detail=f"from {name} ({kind.value})")
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_REQUEST_CREATE,
            "disclosure_request",
            req.number,
            {
                "requester_type": req.requester_type,
                "received_at": got,
                "jurisdiction": j.key,
                "critical_incident": critical_incident,
                "incident_at": req.incident_at,
                "range_start": start,
                "range_end": end,
                "officers": badges,
                "events": numbers,
                "location": req.location,
            },
        )
        sync_holds(s, actor, req)
        result = view_of(s, req, now)
    refresh_queue(factory, now)
    return result


# --- reading ------------------------------------------------------------------------------


def get_request(
    factory: sessionmaker[Session], actor: Actor, number: str, *, now: datetime | None = None
) -> RequestView:
    """One request with its deadlines, footage, appeals and history."""
    require(factory, actor, Permission.DISCLOSURE_VIEW, "see public-records requests", number)
    with factory() as s:
        return view_of(s, load(s, number), now or utcnow())


def list_requests(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    status: str | None = None,
    late: bool = False,
    now: datetime | None = None,
) -> list[RequestView]:
    """Requests, oldest first: all, those in ``status`` (or ``open``/``closed``), or late."""
    require(factory, actor, Permission.DISCLOSURE_VIEW, "see public-records requests")
    stmt = select(DisclosureRequest).order_by(
        DisclosureRequest.received_at, DisclosureRequest.number
    )
    closed = [c.value for c in CLOSED]
    if status == "open":
        stmt = stmt.where(DisclosureRequest.status.not_in(closed))
    elif status == "closed":
        stmt = stmt.where(DisclosureRequest.status.in_(closed))
    elif status is not None:
        try:
            stmt = stmt.where(DisclosureRequest.status == RequestStatus(status).value)
        except ValueError:
            choices = ", ".join(["open", "closed", *(st.value for st in RequestStatus)])
            raise DisclosureError(f"Unknown status {status!r}; choose {choices}.") from None
    with factory() as s:
        views = _views(s, list(s.scalars(stmt)), now or utcnow())
    return [v for v in views if v.deadlines.late] if late else views
