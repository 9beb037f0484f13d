"""The request report: how the queue stands and how fast requests are answered.

Every figure comes with the counts behind it (and the request numbers where it names
requests), so a reader can check it:

* **open by age**: open requests by business days since receipt (0-5, 6-10, 11-20,
  21-40, over 40);
* **due this week**: open requests whose next deadline falls between today and the
  coming Sunday (in the request's jurisdiction), not yet late;
* **late**: requests overdue now (an open request past a deadline, or a pending appeal
  past its own);
* **days to close**: business days from receipt to the decision of every decided request
  (released in full or in part, or denied; withdrawn ones answer nothing and are left
  out), as the median and the 90th percentile (linear interpolation between ranks, as
  ``numpy.percentile`` and spreadsheet ``PERCENTILE.INC`` do);
* **share closed late**: decided requests that missed any of their deadlines, over all
  decided requests;
* **appeals**: filed, pending, and each outcome, and how many were (or are) late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.disclosure.models import CLOSED, DECIDED, AppealOutcome, RequestStatus
from bodycam.disclosure.requests import list_requests
from bodycam.ids import utcnow

AGE_BUCKETS: list[tuple[str, int, int | None]] = [
    ("0-5", 0, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21-40", 21, 40),
    ("over 40", 41, None),
]
"""Open requests' age buckets in business days: (label, lowest, highest or None)."""


@dataclass(frozen=True)
class Bucket:
    """Open requests of one age bucket."""

    label: str
    count: int
    numbers: list[str]


@dataclass(frozen=True)
class Share:
    """A share with its numerator and denominator (``value`` None when nothing to divide)."""

    count: int
    of: int
    value: float | None


@dataclass(frozen=True)
class Report:
    """The request report as of ``now`` (see the module for each figure)."""

    as_of: datetime
    total: int
    by_status: dict[str, int]
    open: int
    open_by_age: list[Bucket]
    due_this_week: list[str]
    late: list[str]
    decided: int
    withdrawn: int
    days_to_close: list[int]
    """Business days to close of each decided request, sorted: the values behind the median."""
    median_days_to_close: float | None
    p90_days_to_close: float | None
    closed_late: Share
    closed_late_numbers: list[str]
    appeals_filed: int
    appeal_outcomes: dict[str, int]
    """Pending, granted, partly, denied."""
    appeals_late: int
    appeal_granted_share: Share
    """Appeals granted in full or in part, over decided appeals."""


def _share(count: int, of: int) -> Share:
    return Share(count, of, None if of == 0 else count / of)


def request_report(
    factory: sessionmaker[Session], actor: Actor, *, now: datetime | None = None
) -> Report:
    """The figures of every request (see the module), with the counts behind each."""
    require(factory, actor, Permission.DISCLOSURE_VIEW, "see the request report")
    now = now or utcnow()
    views = list_requests(factory, actor, now=now)
    by_status = {s.value: 0 for s in RequestStatus}
    buckets: dict[str, list[str]] = {label: [] for label, _, _ in AGE_BUCKETS}
    due_week: list[str] = []
    late: list[str] = []
    closing: list[int] = []
    closed_late: list[str] = []
    outcomes = {"pending": 0, **{o.value: 0 for o in AppealOutcome}}
    appeals_filed = appeals_late = 0
    for v in views:
        d, status = v.deadlines, RequestStatus(v.status)
        by_status[status.value] += 1
        if d.late:
            late.append(v.number)
        if status not in CLOSED:
            for label, low, high in AGE_BUCKETS:
                if d.business_days_open >= low and (high is None or d.business_days_open <= high):
                    buckets[label].append(v.number)
                    break
            _, sunday = week_of(d.today)
            if not d.late and d.next_due is not None and d.today <= d.next_due <= sunday:
                due_week.append(v.number)
        if status in DECIDED:
            closing.append(d.business_days_open)
            if d.closed_late:
                closed_late.append(v.number)
        for a in v.appeals:
            appeals_filed += 1
            outcomes[a.outcome or "pending"] += 1
        if v.appeals and any("appeal decision" in m for m in d.missed):
            appeals_late += 1
    values = sorted(closing)
    median = p90 = None
    if values:
        median = float(np.median(values))
        p90 = float(np.percentile(values, 90))
    decided = len(values)
    decided_appeals = appeals_filed - outcomes["pending"]
    granted = outcomes[AppealOutcome.GRANTED.value] + outcomes[AppealOutcome.PARTLY.value]
    return Report(
        as_of=now,
        total=len(views),
        by_status=by_status,
        open=sum(len(n) for n in buckets.values()),
        open_by_age=[
            Bucket(label, len(buckets[label]), buckets[label]) for label, _, _ in AGE_BUCKETS
        ],
        due_this_week=due_week,
        late=late,
        decided=decided,
        withdrawn=by_status[RequestStatus.WITHDRAWN.value],
        days_to_close=values,
        median_days_to_close=median,
        p90_days_to_close=p90,
        closed_late=_share(len(closed_late), decided),
        closed_late_numbers=closed_late,
        appeals_filed=appeals_filed,
        appeal_outcomes=outcomes,
        appeals_late=appeals_late,
        appeal_granted_share=_share(granted, decided_appeals),
    )


def week_of(day: date) -> tuple[date, date]:
    """The Monday and Sunday of ``day``'s week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)
