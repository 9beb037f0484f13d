"""Fleet reports from device events: docking, late uploads, power cycling, battery by lot.

Definitions (``docs/fleet.md`` says the same for readers):

* **Not docked for N days**: cameras (in service unless another status is asked for)
  whose last ``dock`` event at or before the report time is more than N days old, or
  that never docked. Never-docked cameras come first, then the longest undocked.
* **Late uploads**: each recording's first ``upload`` event that names its SHA-256,
  in the period, compared with the recording's end: late when the upload came more than
  the shift grace after it ended (12 hours by default, the same definition and default
  as the compliance report's late-upload rate). Upload events without a SHA-256, or with
  one no recording has, are counted as unmatched.
* **Shifts** (off-dock intervals): from an ``undock`` to the camera's next ``dock``.
  Events are followed from 24 hours (the longest shift) before the period's start to 24
  hours after its end, so that a shift crossing either is seen whole; an interval still
  open at the camera's last event ends there (what happened after it is not known).
* **Power-cycling rate**, per camera: the time it was powered on (``power_on`` to the
  next ``power_off``) while off its dock, divided by its time off dock, both within the
  period; with the number of ``power_off`` events while off dock (power cycles). A rate
  well below 1 means the camera spends much of the shift switched off.
* **Battery health by lot**, over shifts that ended (docked) in the period, grouped by
  the camera's battery lot: the number of cameras and shifts, the shifts with battery
  readings (``battery`` values of any event from the undock to the dock, both
  included), the median of each shift's lowest reading, and how many shifts ended below
  the threshold (20% by default; the level at the dock event, else the shift's last
  reading), as a share with its 95% Wilson interval.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.compliance.report import DEFAULT_SHIFT_GRACE
from bodycam.evidence.models import Recording
from bodycam.fleet.common import FleetError, holders_of
from bodycam.fleet.models import Camera, CameraStatus, DeviceEvent, EventKind
from bodycam.ids import utcnow

__all__ = [
    "LOOKBACK",
    "BatteryLot",
    "LateUpload",
    "LateUploads",
    "NotDocked",
    "PowerCycling",
    "battery_by_lot",
    "late_uploads",
    "not_docked",
    "power_cycling",
]

LOOKBACK = timedelta(hours=24)
"""How far around a period events are followed (the longest shift)."""
NO_LOT = "(no lot)"


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 3)


@dataclass(frozen=True)
class NotDocked:
    """A camera that has not docked for longer than asked, or never."""

    serial: str
    model: str
    status: str
    holder: str
    last_dock: datetime | None
    dock: str | None
    days: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "serial": self.serial,
            "model": self.model,
            "status": self.status,
            "holder": self.holder,
            "last_dock": self.last_dock.isoformat() if self.last_dock else None,
            "dock": self.dock,
            "days_since": self.days,
        }


def not_docked(
    factory: sessionmaker[Session],
    actor: Actor,
    days: float,
    *,
    now: datetime | None = None,
    status: str | None = CameraStatus.IN_SERVICE.value,
) -> list[NotDocked]:
    """Cameras (of ``status``; None: every status) whose last dock is older than ``days``."""
    require(factory, actor, Permission.FLEET_VIEW, "see fleet reports")
    if days < 0:
        raise FleetError("The number of days cannot be negative.")
    when = now or utcnow()
    cutoff = when - timedelta(days=days)
    with factory() as s:
        last = (
            select(DeviceEvent.camera_id, func.max(DeviceEvent.at).label("at"))
            .where(DeviceEvent.kind == EventKind.DOCK.value, DeviceEvent.at <= when)
            .group_by(DeviceEvent.camera_id)
            .subquery()
        )
        stmt = select(Camera, last.c.at).outerjoin(last, last.c.camera_id == Camera.id)
        if status is not None:
            stmt = stmt.where(Camera.status == status)
        rows = [(c, at) for c, at in s.execute(stmt) if at is None or at < cutoff]
        docks: dict[tuple[str, datetime], str | None] = {}
        for cam, at in rows:
            if at is not None:
                docks[(cam.id, at)] = s.scalars(
                    select(DeviceEvent.dock_id).where(
                        DeviceEvent.camera_id == cam.id,
                        DeviceEvent.kind == EventKind.DOCK.value,
                        DeviceEvent.at == at,
                    )
                ).first()
        holders = holders_of(s, [c for c, _ in rows])
        out = [
            NotDocked(
                c.serial,
                c.model,
                c.status,
                str(holders[c.id]),
                at,
                docks.get((c.id, at)) if at else None,
                round((when - at).total_seconds() / 86400, 2) if at else None,
            )
            for c, at in rows
        ]
    out.sort(key=lambda r: (r.last_dock is not None, r.last_dock or when, r.serial))
    return out


@dataclass(frozen=True)
class LateUpload:
    """One recording uploaded more than the shift grace after it ended."""

    serial: str
    recording_id: str
    recorded_end: datetime
    uploaded_at: datetime
    dock: str | None
    delay_h: float

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "serial": self.serial,
            "recording": self.recording_id,
            "recorded_end": self.recorded_end.isoformat(),
            "uploaded_at": self.uploaded_at.isoformat(),
            "dock": self.dock,
            "delay_h": self.delay_h,
        }


@dataclass
class LateUploads:
    """The late uploads of a period and the counts behind them."""

    uploads: int = 0
    matched: int = 0
    unmatched: int = 0
    grace_h: float = 12.0
    late: list[LateUpload] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        """Late uploads / matched uploads (None when none matched)."""
        return len(self.late) / self.matched if self.matched else None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "uploads": self.uploads,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "late": len(self.late),
            "late_rate": self.rate,
            "shift_grace_h": self.grace_h,
            "rows": [r.as_dict() for r in self.late],
        }


def _period(start: datetime | None, end: datetime | None, days: int) -> tuple[datetime, datetime]:
    end = end or utcnow()
    start = start or end - timedelta(days=days)
    if start >= end:
        raise FleetError(f"The period's start {start.isoformat()} is not before its end.")
    return start, end


def late_uploads(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    shift_grace: timedelta = DEFAULT_SHIFT_GRACE,
) -> LateUploads:
    """Uploads in [start, end) (default: the last 30 days) later than the shift grace."""
    require(factory, actor, Permission.FLEET_VIEW, "see fleet reports")
    start, end = _period(start, end, 30)
    out = LateUploads(grace_h=shift_grace.total_seconds() / 3600)
    with factory() as s:
        rows = s.execute(
            select(DeviceEvent, Camera.serial)
            .join(Camera, Camera.id == DeviceEvent.camera_id)
            .where(
                DeviceEvent.kind == EventKind.UPLOAD.value,
                DeviceEvent.at >= start,
                DeviceEvent.at < end,
            )
            .order_by(DeviceEvent.at, DeviceEvent.id)
        )
        first: dict[str, tuple[DeviceEvent, str]] = {}
        for ev, serial in rows:
            if ev.sha256 is None:
                out.unmatched += 1
            else:  # a repeated upload of one recording counts once: its first
                first.setdefault(ev.sha256, (ev, serial))
        out.uploads = out.unmatched + len(first)
        hashes = list(first)
        ends: dict[str, tuple[str, datetime]] = {}
        for i in range(0, len(hashes), 500):
            for rid, sha, rec_end in s.execute(
                select(Recording.id, Recording.sha256, Recording.recorded_end).where(
                    Recording.sha256.in_(hashes[i : i + 500])
                )
            ):
                ends[sha] = (rid, rec_end)
    for sha, (ev, serial) in first.items():
        found = ends.get(sha)
        if found is None:
            out.unmatched += 1
            continue
        out.matched += 1
        delay = ev.at - found[1]
        if delay > shift_grace:
            out.late.append(
                LateUpload(serial, found[0], found[1], ev.at, ev.dock_id, _hours(delay))
            )
    out.late.sort(key=lambda r: (-r.delay_h, r.serial))
    return out


Interval = tuple[datetime, datetime]


@dataclass
class _Track:
    """One camera's events in order (time, kind, battery) and the intervals they give."""

    camera_id: str
    times: list[datetime] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    battery: list[int | None] = field(default_factory=list)
    off: list[Interval] = field(default_factory=list)
    """Off-dock intervals; one still open at the last event ends there."""
    shifts: list[tuple[int, int]] = field(default_factory=list)
    """Closed off-dock intervals as (undock, dock) event positions."""
    on: list[Interval] = field(default_factory=list)
    offs: list[datetime] = field(default_factory=list)
    """The times of power_off events."""

    def follow(self) -> None:
        """Build the intervals from the events."""
        undocked: int | None = None
        powered: datetime | None = None
        for i, (at, kind) in enumerate(zip(self.times, self.kinds, strict=True)):
            if kind == EventKind.UNDOCK.value and undocked is None:
                undocked = i
            elif kind == EventKind.DOCK.value and undocked is not None:
                self.off.append((self.times[undocked], at))
                self.shifts.append((undocked, i))
                undocked = None
            elif kind == EventKind.POWER_ON.value and powered is None:
                powered = at
            elif kind == EventKind.POWER_OFF.value:
                self.offs.append(at)
                if powered is not None:
                    self.on.append((powered, at))
                    powered = None
        last = self.times[-1]
        if undocked is not None and last > self.times[undocked]:
            self.off.append((self.times[undocked], last))
        if powered is not None and last > powered:
            self.on.append((powered, last))


def _tracks(s: Session, start: datetime, end: datetime) -> Iterator[_Track]:
    """Each camera's events in [start - LOOKBACK, end + LOOKBACK), one camera at a time
    (streamed): a shift that crosses the period's start or end is seen whole."""
    stmt = (
        select(DeviceEvent.camera_id, DeviceEvent.at, DeviceEvent.kind, DeviceEvent.battery_pct)
        .where(DeviceEvent.at >= start - LOOKBACK, DeviceEvent.at < end + LOOKBACK)
        .order_by(DeviceEvent.camera_id, DeviceEvent.at, DeviceEvent.id)
        .execution_options(yield_per=10_000)
    )
    track: _Track | None = None
    for camera_id, at, kind, battery in s.execute(stmt):
        if track is None or track.camera_id != camera_id:
            if track is not None:
                track.follow()
                yield track
            track = _Track(camera_id)
        track.times.append(at)
        track.kinds.append(kind)
        track.battery.append(battery)
    if track is not None:
        track.follow()
        yield track


def _clip(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]


def _overlap(one: list[Interval], two: list[Interval]) -> timedelta:
    total = timedelta()
    for a, b in one:
        for c, d in two:
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                total += hi - lo
    return total


@dataclass(frozen=True)
class PowerCycling:
    """One camera's powered-on share of its time off dock in a period."""

    serial: str
    model: str
    off_dock_h: float
    powered_on_h: float
    rate: float
    power_cycles: int

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "serial": self.serial,
            "model": self.model,
            "off_dock_h": self.off_dock_h,
            "powered_on_h": self.powered_on_h,
            "rate": self.rate,
            "power_cycles": self.power_cycles,
        }


def power_cycling(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[PowerCycling]:
    """Per camera with time off dock in [start, end) (default: the last 7 days), lowest
    rate first: powered-on time while off dock / time off dock, and power cycles."""
    require(factory, actor, Permission.FLEET_VIEW, "see fleet reports")
    start, end = _period(start, end, 7)
    out = []
    with factory() as s:
        names = {
            cid: (serial, model)
            for cid, serial, model in s.execute(select(Camera.id, Camera.serial, Camera.model))
        }
        for track in _tracks(s, start, end):
            off = _clip(track.off, start, end)
            away = sum((b - a for a, b in off), timedelta())
            if away <= timedelta():
                continue
            on = _overlap(_clip(track.on, start, end), off)
            cycles = sum(1 for t in track.offs if any(a <= t <= b for a, b in off))
            cid = track.camera_id
            rate = round(on / away, 4)
            out.append(PowerCycling(*names[cid], _hours(away), _hours(on), rate, cycles))
    out.sort(key=lambda r: (r.rate, r.serial))
    return out


@dataclass(frozen=True)
class BatteryLot:
    """Battery health of one lot over the shifts that ended in a period."""

    lot: str
    cameras: int
    shifts: int
    with_readings: int
    median_min_pct: float | None
    ending_below: int
    threshold: int
    share: float | None
    share_low: float | None
    share_high: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "battery_lot": self.lot,
            "cameras": self.cameras,
            "shifts": self.shifts,
            "shifts_with_readings": self.with_readings,
            "median_min_pct": self.median_min_pct,
            "threshold_pct": self.threshold,
            "ending_below": self.ending_below,
            "ending_below_share": self.share,
            "ending_below_low": self.share_low,
            "ending_below_high": self.share_high,
        }


def _wilson(k: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return round(k / n, 4), round(float(low), 4), round(float(high), 4)


def battery_by_lot(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    threshold: int = 20,
) -> list[BatteryLot]:
    """Per battery lot, over shifts that docked in [start, end) (default: last 30 days)."""
    require(factory, actor, Permission.FLEET_VIEW, "see fleet reports")
    if not 0 < threshold <= 100:
        raise FleetError(f"The threshold must be between 1 and 100 percent, not {threshold}.")
    start, end = _period(start, end, 30)
    cams: dict[str, set[str]] = defaultdict(set)
    shifts: dict[str, int] = defaultdict(int)
    minima: dict[str, list[int]] = defaultdict(list)
    below: dict[str, int] = defaultdict(int)
    with factory() as s:
        lots = {cid: lot for cid, lot in s.execute(select(Camera.id, Camera.battery_lot))}
        for lot in set(lots.values()):
            shifts[lot or NO_LOT] = 0
        for track in _tracks(s, start, end):
            lot = lots.get(track.camera_id) or NO_LOT
            for undock, dock in track.shifts:
                if not start <= track.times[dock] < end:
                    continue
                cams[lot].add(track.camera_id)
                shifts[lot] += 1
                readings = [b for b in track.battery[undock : dock + 1] if b is not None]
                if not readings:
                    continue
                minima[lot].append(min(readings))
                final = track.battery[dock]
                if (final if final is not None else readings[-1]) < threshold:
                    below[lot] += 1
    out = []
    for lot in sorted(shifts):
        n = len(minima[lot])
        share, low, high = _wilson(below[lot], n)
        median = float(statistics.median(minima[lot])) if n else None
        out.append(
            BatteryLot(
                lot, len(cams[lot]), shifts[lot], n, median, below[lot], threshold, share, low, high
            )
        )
    return out
