"""What every fleet use case shares: its error, holders, history rows, times, lookups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.fleet.models import Assignment, AssignmentKind, Camera, Dock, FleetHistory
from bodycam.ids import as_utc

__all__ = [
    "FleetError",
    "FleetImportError",
    "History",
    "Holder",
    "end_assignment",
    "find_camera",
    "find_dock",
    "find_officer",
    "holders_of",
    "jsonable",
    "open_assignment_of",
    "parse_date",
    "parse_instant",
]


class FleetError(Exception):
    """Bad input for a fleet action; the message is a sentence naming the problem."""


class FleetImportError(FleetError):
    """An import refused whole; ``report`` holds the validation report when there is one."""

    def __init__(self, message: str, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Holder:
    """Who has a camera now: an officer (personal issue or pool checkout), a dock, nobody."""

    kind: str
    """``officer`` (personal issue), ``pool`` (checked out of a pool), ``dock`` or ``none``."""
    badge: str | None = None
    username: str | None = None
    dock_id: str | None = None
    precinct: str = ""
    since: datetime | None = None

    def __str__(self) -> str:
        if self.kind in ("officer", "pool"):
            who = f"officer {self.badge or '?'} ({self.username})"
            return who + (f", from pool {self.dock_id}" if self.kind == "pool" else "")
        if self.kind == "dock":
            return f"dock {self.dock_id}" + (f" ({self.precinct})" if self.precinct else "")
        return "unassigned"

    def as_dict(self) -> dict[str, Any]:
        """JSON form: kind, badge, username, dock, since, and ``text`` (the words)."""
        return {
            "kind": self.kind,
            "badge": self.badge,
            "username": self.username,
            "dock": self.dock_id,
            "since": self.since.isoformat() if self.since else None,
            "text": str(self),
        }


def holders_of(session: Session, cameras: Iterable[Camera]) -> dict[str, Holder]:
    """The current holder of each camera, by camera id (two queries, whatever the count)."""
    cams = list(cameras)
    ids = [c.id for c in cams]
    held: dict[str, Holder] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(Assignment, User.badge, User.username)
            .join(User, User.id == Assignment.officer_id)
            .where(Assignment.open_camera.in_(chunk))
        )
        for a, badge, username in rows:
            kind = "pool" if a.kind == AssignmentKind.POOL.value else "officer"
            held[a.camera_id] = Holder(kind, badge, username, a.dock_id, since=a.started_at)
    docks = {d.id: d for d in session.scalars(select(Dock))} if cams else {}
    for c in cams:
        if c.id in held:
            continue
        dock = docks.get(c.dock_id) if c.dock_id else None
        held[c.id] = (
            Holder("dock", dock_id=dock.id, precinct=dock.precinct) if dock else Holder("none")
        )
    return held


def jsonable(value: Any) -> Any:
    """A field value as stored in history (dates and times in ISO 8601)."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class History:
    """Appends history rows (never updated or deleted) for one actor and one source."""

    session: Session
    actor: Actor
    source: str = "cli"
    """Where the changes come from: ``cli``, ``import:ID``, ``events:ID``, ``recall:ID``."""

    def __call__(
        self,
        object_id: str,
        change: str,
        field: str = "",
        old: Any = None,
        new: Any = None,
        *,
        object_type: str = "camera",
        source: str | None = None,
    ) -> None:
        """One row: ``change`` of ``field`` of the camera (or dock) from ``old`` to ``new``."""
        self.session.add(
            FleetHistory(
                object_type=object_type,
                object_id=object_id,
                user_id=self.actor.user_id,
                change=change,
                field=field,
                old_value=jsonable(old),
                new_value=jsonable(new),
                source=(source or self.source)[:80],
            )
        )


def parse_instant(text: str) -> datetime:
    """An ISO 8601 time with a UTC offset (``Z`` or ``+hh:mm``) as aware UTC.

    ``ValueError`` with the reason in words: not a time, or no offset (a time without
    one would be read in whatever zone the reader guesses, so it is refused).
    """
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time (e.g. 2026-03-01T08:00:00Z)") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset (add Z or e.g. -05:00)")
    return as_utc(parsed)


def parse_date(text: str) -> date:
    """An ISO date (YYYY-MM-DD); ``ValueError`` with the reason in words."""
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def find_camera(session: Session, serial: str) -> Camera:
    """The camera with ``serial``; `FleetError` if there is none."""
    cam = session.scalars(select(Camera).where(Camera.serial == serial.strip())).first()
    if cam is None:
        raise FleetError(f"There is no camera with serial {serial}.")
    return cam


def find_dock(session: Session, dock_id: str) -> Dock:
    """The dock ``dock_id``; `FleetError` if there is none."""
    dock = session.get(Dock, dock_id.strip())
    if dock is None:
        raise FleetError(f"There is no dock {dock_id}.")
    return dock


def find_officer(session: Session, badge: str) -> User:
    """The active user wearing ``badge``; `FleetError` if there is none."""
    user = session.scalars(select(User).where(User.badge == badge.strip())).first()
    if user is None or not user.active:
        raise FleetError(f"There is no active officer with badge {badge}.")
    return user


def end_assignment(log: History, a: Assignment, at: datetime, badge: str | None) -> None:
    """Close an open assignment at ``at`` (a history row; the caller audits)."""
    a.ended_at, a.ended_by, a.open_camera = at, log.actor.user_id, None
    old = {"badge": badge, "kind": a.kind, "dock": a.dock_id}
    log(a.camera_id, "returned", "holder", old, {"ended_at": at.isoformat()})


def open_assignment_of(session: Session, camera_id: str) -> Assignment | None:
    """The camera's open assignment, if any."""
    return session.scalars(select(Assignment).where(Assignment.open_camera == camera_id)).first()
