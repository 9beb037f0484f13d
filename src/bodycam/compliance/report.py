"""Compliance metrics by officer, squad, precinct, call type or the whole department.

Every rate comes with the counts behind it and a 95% Wilson score interval (statsmodels),
which stays inside 0 to 1 and behaves on small groups, where a squad of 7 required
events must not look as certain as a precinct of 7,000.

Event metrics, over officer-events whose dispatch event was created in [start, end):

* **required**: officer-events the policy requires (not exempt, not unknown);
* **activated**: required ones with any recording (recorded, late start, early stop,
  gaps, or tagged with the event number);
* **full**: recorded on time and to the end without gaps (``recorded``);
* **activation rate** = activated / required; **full-compliance rate** = full / required;
* **mean coverage**: the mean covered share of the window over required events.

Recording metrics, over recordings whose recorded start lies in [start, end) (for
officer, squad and all: the group's officers' recordings; for precinct and call type:
the recordings the matcher matched to an event of that precinct or call type):

* **categorization rate** = categorized / recordings, where categorized means the
  primary category is not the built-in ``Uncategorized`` (categories the matcher adds
  for retention do not count: they are not a person's categorization);
* **late-upload rate** = uploads_late / recordings: a recording is uploaded late when
  it was ingested more than ``shift_grace`` (12 hours by default, the longest shift)
  after it ended, i.e. certainly after the end of the shift it was made in;
* **median upload delay**: the median of ingested minus recorded end, in hours.

With a ``period`` (day, week, month in the agency's time zone) each line is one group in
one period: events by their created time, recordings by their recorded start.
:func:`trend` gives one group's series with every period filled in, for a chart, and
:func:`describe_trend` the change between its first and last periods.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session, sessionmaker
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from bodycam.auth.actor import Actor
from bodycam.auth.models import Squad, User
from bodycam.compliance.dashboard import visible_officers
from bodycam.compliance.models import ComplianceResult, DispatchAssignment, DispatchEvent
from bodycam.evidence.models import UNCATEGORIZED, Category, Recording

GROUPINGS = ("officer", "squad", "precinct", "call-type", "all")
PERIODS = ("day", "week", "month")
ACTIVATED = {"recorded", "late_start", "early_stop", "gaps", "tagged"}
DEPARTMENT = "all"
"""The one group's name with ``by="all"``."""
DEFAULT_SHIFT_GRACE = timedelta(hours=12)
"""A recording uploaded later than this after its end was uploaded after its shift."""

METRICS: dict[str, tuple[str, str, str]] = {
    # metric: (label, numerator field, denominator field)
    "activation": ("Activation rate", "activated", "required"),
    "full": ("Full-compliance rate", "full", "required"),
    "categorization": ("Categorization rate", "categorized", "recordings"),
    "late_upload": ("Late-upload rate", "uploads_late", "recordings"),
}


@dataclass(frozen=True)
class Rate:
    """One group's line of the report (one group in one period with ``period``)."""

    group: str
    required: int
    activated: int
    full: int
    exempt: int
    unknown: int
    activation_rate: float | None
    activation_low: float | None
    activation_high: float | None
    full_rate: float | None
    full_low: float | None
    full_high: float | None
    mean_coverage: float | None
    recordings: int = 0
    categorized: int = 0
    categorization_rate: float | None = None
    categorization_low: float | None = None
    categorization_high: float | None = None
    uploads_late: int = 0
    late_upload_rate: float | None = None
    late_upload_low: float | None = None
    late_upload_high: float | None = None
    median_upload_delay_h: float | None = None
    period: str | None = None
    """The period's label (``2026-03-08``, the Monday ``2026-03-02``, ``2026-03``)."""


@dataclass(frozen=True)
class TrendPoint:
    """One period of one group's series: where it starts and ends, and its line."""

    period: str
    start: datetime
    """The period's first moment, in the agency's time zone."""
    end: datetime
    rate: Rate
    """Every count and bound of the period (zeros and None where nothing happened)."""


@dataclass(frozen=True)
class TrendChange:
    """The change of one rate between the first and last periods that have data."""

    metric: str
    first: str
    last: str
    first_count: int
    first_total: int
    last_count: int
    last_total: int
    first_rate: float
    last_rate: float
    change: float
    """last_rate - first_rate, as a proportion (0.1 is 10 percentage points)."""
    intervals_overlap: bool
    """Whether the two 95% Wilson intervals overlap."""
    p_value: float
    """Two-proportion z test (statsmodels ``proportions_ztest``), first vs last period."""
    sentence: str


@dataclass
class _Bucket:
    results: list[tuple[str, float]] = field(default_factory=list)
    recordings: dict[str, tuple[bool, float]] = field(default_factory=dict)


def _wilson(k: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return round(k / n, 4), round(float(low), 4), round(float(high), 4)


def period_start(moment: datetime, period: str, tz: ZoneInfo) -> date:
    """The local date on which the day, week (Monday) or month of ``moment`` starts."""
    day = moment.astimezone(tz).date()
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _label(start: date, period: str) -> str:
    return f"{start:%Y-%m}" if period == "month" else start.isoformat()


def _local(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def _check(by: str, period: str | None, start: datetime | None, end: datetime | None) -> None:
    if by not in GROUPINGS:
        raise ValueError(f"Unknown grouping {by!r}; choose {', '.join(GROUPINGS)}.")
    if period is not None and period not in PERIODS:
        raise ValueError(f"Unknown period {period!r}; choose {', '.join(PERIODS)}.")
    if start is not None and end is not None and start >= end:
        raise ValueError(f"The start {start.isoformat()} is not before the end {end.isoformat()}.")


# The longest a self-initiated event's buffer may reach before its window (rules.py
# accepts 0 to 1440 minutes).
_MAX_BUFFER = timedelta(minutes=24 * 60)


def _matched_bounds(
    s: Session, start: datetime | None, end: datetime | None
) -> ColumnElement[bool] | None:
    """Which activated verdicts can name a recording that starts in [start, end).

    The matcher lists a recording on an officer-event when it starts before the window
    ends (the assignment's clear time, else the event's) and ends after the window starts
    (a dispatch, arrival or creation time) less at most ``_MAX_BUFFER``. So a verdict whose
    every clear time is at or before ``start``, or whose every start time is past the
    latest end of the period's recordings plus the buffer, names none of them; ``tagged``
    verdicts (recordings tagged with the event number, at any time) are always read.
    None when no recording starts in the period (no verdict is needed).
    """
    if start is None and end is None:
        return true()
    in_period = select(func.max(Recording.recorded_end))
    if start is not None:
        in_period = in_period.where(Recording.recorded_start >= start)
    if end is not None:
        in_period = in_period.where(Recording.recorded_start < end)
    latest_end = s.scalar(in_period)
    if latest_end is None:
        return None
    windowed: list[ColumnElement[bool]] = []
    if start is not None:
        windowed.append(
            or_(DispatchAssignment.cleared_at > start, DispatchEvent.cleared_at > start)
        )
    limit = latest_end + _MAX_BUFFER
    windowed.append(
        or_(
            DispatchEvent.created_at < limit,
            DispatchEvent.dispatched_at < limit,
            DispatchEvent.arrived_at < limit,
            DispatchAssignment.dispatched_at < limit,
            DispatchAssignment.arrived_at < limit,
        )
    )
    return or_(ComplianceResult.status == "tagged", and_(*windowed))


def _collect(
    factory: sessionmaker[Session],
    *,
    by: str,
    start: datetime | None,
    end: datetime | None,
    period: str | None,
    tz: ZoneInfo,
    officers: set[str] | None = None,
    squad: str | None = None,
) -> dict[tuple[str, date | None], _Bucket]:
    """Verdicts and recordings by (group, period start); two or three queries in all."""
    buckets: dict[tuple[str, date | None], _Bucket] = defaultdict(_Bucket)

    def when(moment: datetime | None) -> date | None:
        if period is None or moment is None:
            return None
        return period_start(moment, period, tz)

    events = (
        select(
            ComplianceResult.status,
            ComplianceResult.coverage,
            DispatchEvent.created_at,
            DispatchEvent.precinct,
            DispatchEvent.call_type,
            User.badge,
            User.username,
            Squad.name,
        )
        .join(DispatchEvent, DispatchEvent.event_id == ComplianceResult.event_id)
        .join(User, User.id == ComplianceResult.officer_id)
        .outerjoin(Squad, Squad.id == User.squad_id)
    )
    recordings = (
        select(
            Recording.id,
            Recording.recorded_start,
            Recording.recorded_end,
            Recording.ingested_at,
            Category.name,
            User.badge,
            User.username,
            Squad.name,
        )
        .join(Category, Category.id == Recording.category_id)
        .join(User, User.id == Recording.officer_id)
        .outerjoin(Squad, Squad.id == User.squad_id)
    )
    if squad is not None:
        events = events.where(Squad.name == squad)
        recordings = recordings.where(Squad.name == squad)
    if officers is not None:  # the reader's squad or self only
        events = events.where(ComplianceResult.officer_id.in_(sorted(officers)))
        recordings = recordings.where(Recording.officer_id.in_(sorted(officers)))
    if start is not None:
        events = events.where(DispatchEvent.created_at >= start)
        recordings = recordings.where(Recording.recorded_start >= start)
    if end is not None:
        events = events.where(DispatchEvent.created_at < end)
        recordings = recordings.where(Recording.recorded_start < end)
    with factory() as s:
        for status, coverage, created, precinct, call_type, badge, username, squad in s.execute(
            events
        ):
            if period is not None and created is None:
                continue  # no created time: in no period (as outside any --from/--to)
            key = {
                "officer": f"{badge or '-'} {username}",
                "squad": squad or "(no squad)",
                "precinct": precinct or "(no precinct)",
                "call-type": call_type or "(no call type)",
                "all": DEPARTMENT,
            }[by]
            buckets[key, when(created)].results.append((status, coverage))
        matched: dict[str, set[str]] = defaultdict(set)
        in_scope = true() if officers is None else ComplianceResult.officer_id.in_(sorted(officers))
        bounds = _matched_bounds(s, start, end) if by in ("precinct", "call-type") else None
        if bounds is not None:
            for ids, precinct, call_type in s.execute(
                select(ComplianceResult.recordings, DispatchEvent.precinct, DispatchEvent.call_type)
                .join(DispatchEvent, DispatchEvent.event_id == ComplianceResult.event_id)
                .join(DispatchAssignment, DispatchAssignment.id == ComplianceResult.assignment_id)
                .where(ComplianceResult.status.in_(sorted(ACTIVATED)))
                .where(bounds)
                .where(in_scope)
            ):
                name = (
                    (precinct or "(no precinct)")
                    if by == "precinct"
                    else (call_type or "(no call type)")
                )
                for rid in ids or ():
                    matched[rid].add(name)
        for rid, rec_start, rec_end, ingested, category, badge, username, squad in s.execute(
            recordings
        ):
            if by == "officer":
                keys = {f"{badge or '-'} {username}"}
            elif by == "squad":
                keys = {squad or "(no squad)"}
            elif by == "all":
                keys = {DEPARTMENT}
            else:
                keys = matched.get(rid, set())
            delay = (ingested - rec_end).total_seconds()
            for key in keys:
                buckets[key, when(rec_start)].recordings[rid] = (category != UNCATEGORIZED, delay)
    return buckets


def _rate(group: str, bucket: _Bucket, label: str | None, shift_grace: timedelta) -> Rate:
    rows = bucket.results
    required = [(st, cov) for st, cov in rows if st not in ("exempt", "unknown")]
    n = len(required)
    activated = sum(1 for st, _ in required if st in ACTIVATED)
    full = sum(1 for st, _ in required if st == "recorded")
    a_rate, a_low, a_high = _wilson(activated, n)
    f_rate, f_low, f_high = _wilson(full, n)
    recs = list(bucket.recordings.values())
    m = len(recs)
    categorized = sum(1 for cat, _ in recs if cat)
    late = sum(1 for _, delay in recs if delay > shift_grace.total_seconds())
    c_rate, c_low, c_high = _wilson(categorized, m)
    l_rate, l_low, l_high = _wilson(late, m)
    return Rate(
        group=group,
        required=n,
        activated=activated,
        full=full,
        exempt=sum(1 for st, _ in rows if st == "exempt"),
        unknown=sum(1 for st, _ in rows if st == "unknown"),
        activation_rate=a_rate,
        activation_low=a_low,
        activation_high=a_high,
        full_rate=f_rate,
        full_low=f_low,
        full_high=f_high,
        mean_coverage=round(sum(cov for _, cov in required) / n, 4) if n else None,
        recordings=m,
        categorized=categorized,
        categorization_rate=c_rate,
        categorization_low=c_low,
        categorization_high=c_high,
        uploads_late=late,
        late_upload_rate=l_rate,
        late_upload_low=l_low,
        late_upload_high=l_high,
        median_upload_delay_h=(
            round(statistics.median(d for _, d in recs) / 3600, 2) if recs else None
        ),
        period=label,
    )


def compliance_report(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    by: str,
    start: datetime | None = None,
    end: datetime | None = None,
    period: str | None = None,
    tz: str = "UTC",
    shift_grace: timedelta = DEFAULT_SHIFT_GRACE,
    squad: str | None = None,
) -> list[Rate]:
    """Rates per group (and per period) for events and recordings in [start, end).

    ``by``: officer, squad, precinct, call-type or all (one department-wide group).
    ``period``: None, day, week or month, in the time zone ``tz`` (pass the agency's,
    ``settings.timezone``). Lines are sorted by group, then period; a group or period
    with neither events nor recordings has no line. A supervisor sees their squad's
    officers only, an officer themself only (:func:`visible_officers`). ``squad``:
    only that squad's officers (e.g. ``by="officer", squad="North-A"``).
    """
    officers = visible_officers(factory, actor)
    _check(by, period, start, end)
    zone = ZoneInfo(tz)
    buckets = _collect(
        factory, by=by, start=start, end=end, period=period, tz=zone, officers=officers,
        squad=squad,
    )  # fmt: skip
    return [
        _rate(
            group,
            buckets[group, day],
            None if day is None or period is None else _label(day, period),
            shift_grace,
        )
        for group, day in sorted(buckets, key=lambda k: (k[0], k[1] or date.min))
    ]


def trend(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    by: str,
    group: str | None = None,
    period: str,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: str,
    shift_grace: timedelta = DEFAULT_SHIFT_GRACE,
) -> list[TrendPoint]:
    """One group's rates per period, every period from start to end filled in (a chart).

    ``group`` names the group as the report does (a squad's name, a precinct, a call
    type; an officer by badge, username or the report's "BADGE USERNAME"); with
    ``by="all"`` it is left out. Without ``start``/``end`` the series runs from the first
    to the last period with data. Periods without data have zero counts and None rates;
    the first and last periods cover only the part inside [start, end).
    """
    officers = visible_officers(factory, actor)
    _check(by, period, start, end)
    if by != "all" and group is None:
        raise ValueError(f"Name the {by} whose trend you want (or use by='all').")
    zone = ZoneInfo(tz)
    buckets = _collect(
        factory, by=by, start=start, end=end, period=period, tz=zone, officers=officers
    )

    def mine(label: str) -> bool:
        if by == "all" or label == group:
            return True
        return by == "officer" and group in label.split(" ", 1)

    found: dict[date, _Bucket] = defaultdict(_Bucket)
    for (label, day), bucket in buckets.items():
        if day is not None and mine(label):
            found[day].results.extend(bucket.results)
            found[day].recordings.update(bucket.recordings)
    first = period_start(start, period, zone) if start is not None else min(found, default=None)
    last = (
        period_start(end - timedelta(microseconds=1), period, zone)
        if end is not None
        else max(found, default=None)
    )
    if first is None or last is None:
        return []
    name = DEPARTMENT if by == "all" else str(group)
    points = []
    day = first
    while day <= last:
        following = _next(day, period)
        label = _label(day, period)
        points.append(
            TrendPoint(
                period=label,
                start=_local(day, zone),
                end=_local(following, zone),
                rate=_rate(name, found.get(day, _Bucket()), label, shift_grace),
            )
        )
        day = following
    return points


def describe_trend(
    points: Sequence[TrendPoint | Rate], metric: str = "activation"
) -> TrendChange | None:
    """The change of ``metric`` from the first to the last period with data, stated plainly.

    ``points``: one group's series in time order (:func:`trend`'s points, or the report's
    lines of one group with ``period``). ``metric``: activation, full, categorization or
    late_upload. Compares two periods only, with a two-proportion z test; it is no test
    of a trend across all periods, and it is not adjusted for looking at many groups.
    None when fewer than two periods have data for the metric.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; choose {', '.join(METRICS)}.")
    title, num, den = METRICS[metric]
    rates = [p.rate if isinstance(p, TrendPoint) else p for p in points]
    with_data = [r for r in rates if getattr(r, den) > 0]
    if len(with_data) < 2:
        return None
    a, b = with_data[0], with_data[-1]
    k1, n1 = int(getattr(a, num)), int(getattr(a, den))
    k2, n2 = int(getattr(b, num)), int(getattr(b, den))
    low1, high1 = proportion_confint(k1, n1, alpha=0.05, method="wilson")
    low2, high2 = proportion_confint(k2, n2, alpha=0.05, method="wilson")
    overlap = bool(low1 <= high2 and low2 <= high1)
    if k1 + k2 in (0, n1 + n2):
        p = 1.0  # both periods all 0 or all 1: no difference to test
    else:
        _, pv = proportions_ztest([k2, k1], [n2, n1])
        p = round(float(pv), 4)
    change = round(k2 / n2 - k1 / n1, 4)
    points_text = f"{change * 100:+.0f} points"
    if k1 * n2 == k2 * n1:
        verdict = "no difference"
    elif p < 0.05:
        verdict = "a difference this large is unlikely to be chance alone"
    else:
        verdict = "this may be chance"
    shown = "< 0.001" if p < 0.001 else f"= {p:.2g}"
    first = a.period or "the first period"
    last = b.period or "the last period"
    sentence = (
        f"{title} went from {k1 / n1:.0%} ({k1} of {n1}) in {first} to "
        f"{k2 / n2:.0%} ({k2} of {n2}) in {last}, {points_text}; the 95% intervals "
        f"{'overlap' if overlap else 'do not overlap'}; two-proportion z test p {shown}: "
        f"{verdict} (first and last periods only)."
    )
    return TrendChange(
        metric=metric,
        first=a.period or "",
        last=b.period or "",
        first_count=k1,
        first_total=n1,
        last_count=k2,
        last_total=n2,
        first_rate=round(k1 / n1, 4),
        last_rate=round(k2 / n2, 4),
        change=change,
        intervals_overlap=overlap,
        p_value=p,
        sentence=sentence,
    )


def _row(rate: Rate, with_period: bool) -> dict[str, Any]:
    """A line as a dict: the original keys first, ``period`` after the group when asked."""
    row = asdict(rate)
    period = row.pop("period")
    if not with_period:
        return row
    return {"group": row.pop("group"), "period": period} | row


def _with_period(rates: list[Rate], with_period: bool | None) -> bool:
    return any(r.period is not None for r in rates) if with_period is None else with_period


def as_csv(rates: list[Rate], *, with_period: bool | None = None) -> str:
    """The report as CSV (one line per group, or group and period; every count and bound).

    ``with_period``: whether there is a ``period`` column (default: when a line has one).
    """
    out = io.StringIO()
    with_period = _with_period(rates, with_period)
    fields = [f for f in Rate.__dataclass_fields__ if f != "period"]
    if with_period:
        fields.insert(1, "period")
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rates:
        writer.writerow(_row(r, with_period))
    return out.getvalue()


def as_json(rates: list[Rate], *, with_period: bool | None = None) -> str:
    """The report as a JSON list (a ``period`` key when the report has periods)."""
    with_period = _with_period(rates, with_period)
    return json.dumps([_row(r, with_period) for r in rates])
