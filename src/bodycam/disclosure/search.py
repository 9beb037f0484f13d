"""Find the footage a request asks for: candidates to attach, each with why it matched.

Only recordings the acting user may read are searched (the evidence domain's
access-scoped statement), never purged ones. A candidate matches

* the **time range and officers**: recordings that overlap the range (start before its
  end, end after its start) and, when officers are named, are theirs; with officers and
  no range, every recording of those officers;
* an **event number**: recordings tagged ``cad:EVENT``, linked to it as a case number, or
  recorded by an officer the dispatch data assigns to the event while on it (dispatch to
  clear, widened by :data:`MARGIN` each side);
* the **location**, a free-text filter on the above: kept when the text is in the
  recording's title, notes or tags, or in the location of a dispatch event its officer
  was on at the time. A request with only a location searches those two directly.

The search is audited (criteria and count) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.compliance.models import DispatchAssignment, DispatchEvent
from bodycam.db import transaction
from bodycam.disclosure.models import DisclosureRecording
from bodycam.disclosure.requests import load
from bodycam.evidence.access import readable_recordings
from bodycam.evidence.models import Category, Recording, RecordingCase, RecordingTag
from bodycam.evidence.service import Vault
from bodycam.ids import as_utc

MARGIN = timedelta(minutes=15)
"""How far before dispatch and after clear a recording still belongs to an event."""
LIMIT = 500
"""The most candidates one search returns."""
UNCLEARED = timedelta(hours=2)
"""An event with no clear time is taken to last this long."""


@dataclass(frozen=True)
class Candidate:
    """A recording that may answer the request, and why it matched."""

    recording_id: str
    title: str
    officer_badge: str | None
    category: str
    recorded_start: datetime
    recorded_end: datetime
    reasons: tuple[str, ...]
    attached: bool


@dataclass(frozen=True)
class SearchResult:
    """The candidates of a request's search."""

    number: str
    candidates: list[Candidate]
    without_location: int
    """Recordings in the range (and of the officers) that the location text left out (and
    no event number brought back)."""
    truncated: bool
    """More than :data:`LIMIT` matched; narrow the request's criteria."""


@dataclass(frozen=True)
class _Window:
    officer_id: str
    badge: str
    start: datetime
    end: datetime
    event_id: str
    location: str

    def covers(self, rec: Recording) -> bool:
        return (
            rec.officer_id == self.officer_id
            and as_utc(rec.recorded_start) < self.end + MARGIN
            and as_utc(rec.recorded_end) > self.start - MARGIN
        )


def _windows(s: Session, event: DispatchEvent) -> Iterator[_Window]:
    """When each officer assigned to ``event`` was on it (dispatch or arrival to clear)."""
    rows = s.scalars(
        select(DispatchAssignment).where(
            DispatchAssignment.event_id == event.event_id,
            DispatchAssignment.officer_id.is_not(None),
        )
    )
    for a in rows:
        starts = (a.dispatched_at, a.arrived_at, event.dispatched_at, event.arrived_at)
        start = next((t for t in starts if t is not None), event.created_at)
        if start is None or a.officer_id is None:
            continue
        end = a.cleared_at or event.cleared_at or start + UNCLEARED
        yield _Window(
            a.officer_id,
            a.badge,
            as_utc(start),
            as_utc(end),
            event.event_id,
            event.location or "",
        )


def _text_match(rec: Recording, text: str) -> bool:
    haystack = " ".join([rec.title, rec.notes, *(t.tag for t in rec.tags)]).lower()
    return text in haystack


def search_footage(vault: Vault, actor: Actor, number: str, *, limit: int = LIMIT) -> SearchResult:
    """Recordings that match a request's criteria (see the module), newest last."""
    factory = vault.sessions
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "search footage for requests", number)
    with transaction(factory) as s:
        req = load(s, number)
        base = readable_recordings(actor, vault.officer_sees_own)
        found: dict[str, Recording] = {}
        reasons: dict[str, list[str]] = {}

        def add(rec: Recording, why: str) -> None:
            found.setdefault(rec.id, rec)
            mine = reasons.setdefault(rec.id, [])
            if why not in mine:
                mine.append(why)

        officers = {
            u.id: u.badge or ""
            for u in s.scalars(select(User).where(User.badge.in_(req.officer_badges or [""])))
        }
        start, end = req.range_start, req.range_end
        text = req.location.strip().lower()
        located: list[_Window] = []
        if text:
            events = select(DispatchEvent).where(
                func.lower(DispatchEvent.location).contains(text, autoescape=True)
            )
            if start is not None and end is not None:
                events = events.where(
                    or_(
                        DispatchEvent.created_at.is_(None),
                        DispatchEvent.created_at.between(
                            start - timedelta(days=1), end + timedelta(days=1)
                        ),
                    )
                )
            for event in s.scalars(events.limit(limit)):
                located.extend(_windows(s, event))

        off_location: set[str] = set()
        if start is not None or officers:
            stmt = base
            if start is not None and end is not None:
                stmt = stmt.where(Recording.recorded_start < end, Recording.recorded_end > start)
            if officers:
                stmt = stmt.where(Recording.officer_id.in_(officers))
            for rec in s.scalars(stmt.order_by(Recording.recorded_start).limit(limit + 1)):
                why = ["time range"] if start is not None else []
                if officers:
                    why.append(f"officer {officers[rec.officer_id]}")
                if text:
                    if _text_match(rec, text):
                        why.append("location: in its title, notes or tags")
                    else:
                        hit = next((w for w in located if w.covers(rec)), None)
                        if hit is None:
                            off_location.add(rec.id)
                            continue
                        why.append(f"location: event {hit.event_id} at {hit.location}")
                for reason in why:
                    add(rec, reason)

        for event_no in req.event_numbers:
            tag = f"cad:{event_no}".lower()
            tagged = select(RecordingTag.recording_id).where(func.lower(RecordingTag.tag) == tag)
            for rec in s.scalars(base.where(Recording.id.in_(tagged)).limit(limit + 1)):
                add(rec, f"event {event_no}: tagged cad:{event_no}")
            linked = select(RecordingCase.recording_id).where(RecordingCase.case_number == event_no)
            for rec in s.scalars(base.where(Recording.id.in_(linked)).limit(limit + 1)):
                add(rec, f"event {event_no}: linked as a case number")
            on_call = s.scalars(
                select(DispatchEvent).where(DispatchEvent.event_id == event_no)
            ).first()
            for w in _windows(s, on_call) if on_call is not None else ():
                near = base.where(
                    Recording.officer_id == w.officer_id,
                    Recording.recorded_start < w.end + MARGIN,
                    Recording.recorded_end > w.start - MARGIN,
                )
                for rec in s.scalars(near.limit(limit + 1)):
                    add(rec, f"event {event_no}: badge {w.badge} was on the call")

        if text and start is None and not officers and not req.event_numbers:
            for w in located:
                near = base.where(
                    Recording.officer_id == w.officer_id,
                    Recording.recorded_start < w.end + MARGIN,
                    Recording.recorded_end > w.start - MARGIN,
                )
                for rec in s.scalars(near.limit(limit + 1)):
                    add(rec, f"location: event {w.event_id} at {w.location}")
            like = or_(
                func.lower(Recording.title).contains(text, autoescape=True),
                func.lower(Recording.notes).contains(text, autoescape=True),
            )
            for rec in s.scalars(base.where(like).limit(limit + 1)):
                add(rec, "location: in its title, notes or tags")

        without_location = len(off_location - set(found))
        ordered = sorted(found.values(), key=lambda r: (as_utc(r.recorded_start), r.id))
        truncated = len(ordered) > limit
        ordered = ordered[:limit]
        officer_ids = {r.officer_id for r in ordered}
        badges = {
            uid: badge
            for uid, badge in s.execute(select(User.id, User.badge).where(User.id.in_(officer_ids)))
        }
        categories = {cid: name for cid, name in s.execute(select(Category.id, Category.name))}
        attached = set(
            s.scalars(
                select(DisclosureRecording.recording_id).where(
                    DisclosureRecording.request_id == req.id
                )
            )
        )
        candidates = [
            Candidate(
                r.id,
                r.title,
                badges.get(r.officer_id),
                categories.get(r.category_id, ""),
                r.recorded_start,
                r.recorded_end,
                tuple(reasons[r.id]),
                r.id in attached,
            )
            for r in ordered
        ]
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_REQUEST_SEARCH,
            "disclosure_request",
            req.number,
            {
                "range_start": start,
                "range_end": end,
                "officers": req.officer_badges,
                "events": req.event_numbers,
                "location": req.location,
                "candidates": len(candidates),
                "without_location": without_location,
                "truncated": truncated,
            },
        )
    return SearchResult(req.number, candidates, without_location, truncated)
