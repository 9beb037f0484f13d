"""This installation's real volumes, for the cost model: footage, tiers, redaction time.

`cost_actuals` reads aggregates only (counts, hours, bytes per month and category;
bytes per tier; redaction projects and the times of their audit records), never a
recording's content or who is in it, so it needs ``evaluation:cost:view`` and no
evidence permission. It queries the evidence, redaction and audit tables directly:
their services answer per recording, under evidence scopes an analyst does not hold,
and the aggregate they would need does not exist there.

Redaction time is approximated two ways (``docs/cost.md``):

* **elapsed**: from a project's start to the approval of its first copy (calendar
  time, an upper bound on the effort: it includes waiting);
* **active**: from the audit log, the gaps between one person's consecutive
  ``redaction:*`` records on one recording, counting only gaps of at most
  `IDLE_MINUTES` (a lower bound: viewing without acting, and the time before the
  first and after the last record, are not seen).
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.evaluation.cost import CostError, MixEntry

__all__ = ["IDLE_MINUTES", "Actuals", "cost_actuals", "inputs_from_actuals"]

IDLE_MINUTES: Final = 30
_MIN_DAYS: Final = 1.0


@dataclass(frozen=True, slots=True)
class MonthVolume:
    """Footage ingested in one calendar month (UTC)."""

    month: str
    videos: int
    hours: float
    tb: float


@dataclass(frozen=True, slots=True)
class CategoryVolume:
    """Footage of one category in the window, and its retention period (None: unknown)."""

    category: str
    videos: int
    hours: float
    retain: str | None


@dataclass(frozen=True, slots=True)
class Actuals:
    """What this installation holds and did in a window (``start`` .. ``end``, UTC days)."""

    start: date
    end: date
    days: float
    videos: int
    hours: float
    tb: float
    officers: int
    cameras: int
    tb_hot: float
    tb_archive: float
    tb_redacted: float
    months: tuple[MonthVolume, ...]
    categories: tuple[CategoryVolume, ...]
    projects: int
    approved: int
    redacted_video_hours: float
    elapsed_hours: tuple[float, ...]
    active_hours: float
    notes: tuple[str, ...] = field(default=())

    @property
    def videos_per_day(self) -> float:
        return self.videos / self.days

    @property
    def hours_per_day(self) -> float:
        return self.hours / self.days

    @property
    def tb_per_month(self) -> float:
        """Average growth: TB ingested per month (365.25 / 12 days) in the window."""
        return self.tb / self.days * 365.25 / 12

    @property
    def bitrate_mbps(self) -> float | None:
        return self.tb * 1e12 * 8 / (self.hours * 3600) / 1e6 if self.hours else None

    @property
    def median_elapsed_hours(self) -> float | None:
        return statistics.median(self.elapsed_hours) if self.elapsed_hours else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "videos": self.videos,
            "hours": self.hours,
            "tb": self.tb,
            "videos_per_day": self.videos_per_day,
            "hours_per_day": self.hours_per_day,
            "tb_per_month": self.tb_per_month,
            "bitrate_mbps": self.bitrate_mbps,
            "officers": self.officers,
            "cameras": self.cameras,
            "tiers": {"hot": self.tb_hot, "archive": self.tb_archive, "redacted": self.tb_redacted},
            "months": [vars_of(m) for m in self.months],
            "categories": [vars_of(c) for c in self.categories],
            "redaction": {
                "projects": self.projects,
                "approved": self.approved,
                "redacted_video_hours": self.redacted_video_hours,
                "elapsed_hours_median": self.median_elapsed_hours,
                "elapsed_hours_total": sum(self.elapsed_hours),
                "active_hours": self.active_hours,
                "idle_minutes": IDLE_MINUTES,
            },
            "notes": list(self.notes),
        }


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _month_key(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def cost_actuals(
    factory: sessionmaker[Session],
    actor: Actor,
    start: date | None = None,
    end: date | None = None,
    *,
    now: datetime | None = None,
) -> Actuals:
    """This installation's volumes from `start` to `end` (inclusive UTC days).

    The window defaults to the first ingest to today. Footage counts by its ingest
    time; tiers are as they are now (originals not purged; redacted copies are hot).
    """
    from bodycam.audit.models import AuditRecord
    from bodycam.evidence.models import Category, Recording
    from bodycam.redaction.models import RedactedCopy, RedactionProject

    require(factory, actor, Permission.EVALUATION_COST_VIEW, "read the program's cost actuals")
    moment = now or datetime.now(UTC)
    if start is not None and end is not None and end < start:
        raise CostError(f"--to {end} is before --from {start}.")
    with factory() as s:
        if start is None:
            first = s.scalar(select(func.min(Recording.ingested_at)))
            start = first.date() if first is not None else moment.date()
        end = end or moment.date()
        if end < start:
            raise CostError(f"--to {end} is before the first ingest ({start}).")
        low, high = _day_start(start), _day_start(end + timedelta(days=1))
        until = min(high, moment) if end >= moment.date() else high
        days = max(_MIN_DAYS, (until - low).total_seconds() / 86400)
        in_window = (Recording.ingested_at >= low) & (Recording.ingested_at < high)

        months: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
        per_category: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        rows = s.execute(
            select(Recording.ingested_at, Recording.duration_s, Recording.size_bytes, Category.name)
            .join(Category, Category.id == Recording.category_id)
            .where(in_window)
            .execution_options(yield_per=10_000)
        )
        for ingested, duration, size, category in rows:
            bucket = months[_month_key(ingested)]
            bucket[0] += 1
            bucket[1] += duration
            bucket[2] += size
            per_category[category][0] += 1
            per_category[category][1] += duration
        officers, cameras = s.execute(
            select(
                func.count(func.distinct(Recording.officer_id)),
                func.count(func.distinct(Recording.camera_serial)),
            ).where(in_window)
        ).one()
        periods = {
            name: retain for name, retain in s.execute(select(Category.name, Category.retention))
        }
        tiers = {
            tier: size
            for tier, size in s.execute(
                select(Recording.tier, func.coalesce(func.sum(Recording.size_bytes), 0))
                .where(Recording.purged_at.is_(None))
                .group_by(Recording.tier)
            )
        }
        redacted = s.scalar(
            select(func.coalesce(func.sum(RedactedCopy.size_bytes), 0))
            .join(Recording, Recording.id == RedactedCopy.recording_id)
            .where(Recording.purged_at.is_(None))
        )
        projects = s.execute(
            select(
                RedactionProject.id, RedactionProject.recording_id, RedactionProject.created_at
            ).where((RedactionProject.created_at >= low) & (RedactionProject.created_at < high))
        ).all()
        approvals = {
            project: approved
            for project, approved in s.execute(
                select(RedactedCopy.project_id, func.min(RedactedCopy.approved_at))
                .where(RedactedCopy.approved_at.is_not(None))
                .group_by(RedactedCopy.project_id)
            )
        }
        recordings = {p.recording_id for p in projects}
        redacted_seconds = 0.0
        if recordings:
            redacted_seconds = float(
                s.scalar(
                    select(func.coalesce(func.sum(Recording.duration_s), 0.0)).where(
                        Recording.id.in_(recordings)
                    )
                )
                or 0.0
            )
        records = s.execute(
            select(AuditRecord.actor_id, AuditRecord.object_id, AuditRecord.at).where(
                AuditRecord.action.like("redaction:%"),
                AuditRecord.object_type == "recording",
                AuditRecord.at >= low,
                AuditRecord.at < high,
            )
        ).all()
    elapsed = []
    for p in projects:
        approved_at = approvals.get(p.id)
        if approved_at is not None:
            elapsed.append((approved_at - p.created_at).total_seconds() / 3600)
    notes = []
    unknown = sorted(c for c in per_category if not periods.get(c))
    if unknown:
        notes.append(
            f"{len(unknown)} categor{'y has' if len(unknown) == 1 else 'ies have'} no retention "
            f"period (no schedule imported?): {', '.join(map(repr, unknown[:5]))}"
        )
    if not per_category:
        notes.append(f"no footage was ingested from {start} to {end}")
    return Actuals(
        start=start,
        end=end,
        days=days,
        videos=int(sum(m[0] for m in months.values())),
        hours=sum(m[1] for m in months.values()) / 3600,
        tb=sum(m[2] for m in months.values()) / 1e12,
        officers=int(officers),
        cameras=int(cameras),
        tb_hot=(int(tiers.get("hot", 0)) + int(redacted or 0)) / 1e12,
        tb_archive=int(tiers.get("archive", 0)) / 1e12,
        tb_redacted=int(redacted or 0) / 1e12,
        months=tuple(
            MonthVolume(k, int(v[0]), v[1] / 3600, v[2] / 1e12) for k, v in sorted(months.items())
        ),
        categories=tuple(
            CategoryVolume(name, int(v[0]), v[1] / 3600, periods.get(name) or None)
            for name, v in sorted(per_category.items(), key=lambda kv: -kv[1][1])
        ),
        projects=len(projects),
        approved=len(elapsed),
        redacted_video_hours=redacted_seconds / 3600,
        elapsed_hours=tuple(elapsed),
        active_hours=active_hours([(who, what, at) for who, what, at in records]),
        notes=tuple(notes),
    )


def active_hours(
    records: list[tuple[str, str, datetime]], idle_minutes: int = IDLE_MINUTES
) -> float:
    """Hours between one person's consecutive records on one recording, idle gaps left out."""
    by_work: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for actor_id, object_id, at in records:
        by_work[(actor_id, object_id)].append(at)
    limit = idle_minutes * 60
    seconds = 0.0
    for times in by_work.values():
        times.sort()
        for a, b in itertools.pairwise(times):
            gap = (b - a).total_seconds()
            if gap <= limit:
                seconds += gap
    return seconds / 3600


def inputs_from_actuals(
    actuals: Actuals,
) -> tuple[dict[str, float], tuple[MixEntry, ...] | None, list[str]]:
    """The cost model's inputs measured here: (values, retention mix or None, notes).

    Video hours per officer per month (hours per day x 365.25/12 / officers), the
    bitrate, the footage held per tier, the mix of categories by hours with their
    schedule periods, and, once redaction projects were approved, the share of hours
    redacted and the review hours per video hour (active time, a lower bound).
    """
    notes: list[str] = []
    values: dict[str, float] = {}
    if actuals.hours <= 0 or actuals.officers == 0:
        raise CostError(
            f"No footage was ingested from {actuals.start} to {actuals.end}; there are no "
            "volumes to project from."
        )
    per_month = actuals.hours / actuals.days * 365.25 / 12
    values["storage.video_hours_per_officer_per_month"] = per_month / actuals.officers
    bitrate = actuals.bitrate_mbps
    if bitrate:
        values["storage.bitrate_mbps"] = bitrate
    values["storage.existing_tb_hot"] = actuals.tb_hot
    values["storage.existing_tb_archive"] = actuals.tb_archive
    if actuals.approved and actuals.redacted_video_hours > 0:
        values["redaction.share_requested"] = min(1.0, actuals.redacted_video_hours / actuals.hours)
        if actuals.active_hours > 0:
            ratio = actuals.active_hours / actuals.redacted_video_hours
            values["redaction.hours_per_video_hour_assisted"] = ratio
            values["redaction.assisted"] = True
            notes.append(
                f"review hours per video hour ({ratio:.3g}) come from the audit log's active "
                f"time on {actuals.projects} project(s): a lower bound"
            )
    else:
        notes.append("no approved redaction yet: redaction inputs stay at their defaults")
    mix = _mix(actuals.categories, notes)
    return values, mix, notes


def _mix(categories: tuple[CategoryVolume, ...], notes: list[str]) -> tuple[MixEntry, ...] | None:
    """Each category's share of the hours, with its period (Uncategorized's when it has none)."""
    total = sum(c.hours for c in categories)
    if total <= 0:
        return None
    fallback = next((c.retain for c in categories if c.category == "Uncategorized"), None)
    entries = []
    for c in categories:
        retain = c.retain or fallback
        if retain is None:
            notes.append(
                f"category {c.category!r} has no retention period: the retention mix stays "
                "at its default or config values"
            )
            return None
        entries.append(MixEntry(c.category, c.hours / total, retain))
    return tuple(entries)
