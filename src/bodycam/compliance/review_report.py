"""The supervisor review report: whether a cycle's reviews happen, and what they find.

Per supervisor, per squad and for the whole cycle: assigned, completed, skipped (with
the reasons), pending and overdue reviews, and how often each checklist item was found,
so an inspector general can see whether reviews actually happen.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission as P
from bodycam.compliance.review import Cycle, ReviewError, _rows, findings_of, parse_cycle
from bodycam.compliance.review_models import ReviewStatus, SupervisorReview
from bodycam.ids import rfc3339, utcnow

# --- the report -----------------------------------------------------------------------


@dataclass
class ReportLine:
    """One supervisor's, one squad's or the whole cycle's counts."""

    by: str
    group: str
    assigned: int = 0
    completed: int = 0
    skipped: int = 0
    pending: int = 0
    overdue: int = 0
    late_activation: int = 0
    early_deactivation: int = 0
    muted: int = 0
    obstructed: int = 0
    wrong_category: int = 0
    professionalism_concern: int = 0
    training_need: int = 0
    commendation: int = 0
    skip_reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewReport:
    """Whether a cycle's reviews happen and what they find."""

    cycle: Cycle
    grace_days: int
    overdue_after: datetime
    lines: list[ReportLine]


def review_report(
    factory: sessionmaker[Session],
    actor: Actor,
    cycle: str,
    *,
    tz: str,
    grace_days: int = 14,
    now: datetime | None = None,
) -> ReviewReport:
    """Per supervisor, per squad and overall: assigned, completed, skipped (with reasons),
    pending and overdue reviews (pending ``grace_days`` after the cycle ended), and how
    often each checklist item was found."""
    require(factory, actor, P.COMPLIANCE_REVIEW_REPORT, "see supervisor review reports")
    if not 0 <= grace_days <= 365:
        raise ReviewError(f"The grace must be between 0 and 365 days, not {grace_days}.")
    c = parse_cycle(cycle, tz)
    overdue_after = c.ends_at + timedelta(days=grace_days)
    late = (now or utcnow()) >= overdue_after
    with factory() as s:
        rows = _rows(s, s.scalars(select(SupervisorReview).where(SupervisorReview.cycle == c.name)))
    total = ReportLine("all", c.name)
    groups: dict[tuple[str, str], ReportLine] = {}
    for row in rows:
        r = row.review
        keys = [
            ("supervisor", row.supervisor or "(unassigned)"),
            ("squad", row.squad or "(no squad)"),
        ]
        lines = [total] + [groups.setdefault(k, ReportLine(*k)) for k in keys]
        for line in lines:
            line.assigned += 1
            if r.status == ReviewStatus.DONE.value:
                line.completed += 1
                for item in findings_of(r):
                    setattr(line, item, getattr(line, item) + 1)
            elif r.status == ReviewStatus.SKIPPED.value:
                line.skipped += 1
                line.skip_reasons.append(r.skip_reason or "")
            else:
                line.pending += 1
                line.overdue += int(late)
    ordered = [groups[k] for k in sorted(groups, key=lambda k: (k[0] != "supervisor", k))]
    return ReviewReport(c, grace_days, overdue_after, [*ordered, total])


def report_csv(report: ReviewReport) -> str:
    """The report as CSV: one line per group; skip reasons joined by `` | ``."""
    out = io.StringIO()
    fields = [f.name for f in dataclasses.fields(ReportLine)]
    writer = csv.DictWriter(out, fieldnames=["cycle", *fields], lineterminator="\n")
    writer.writeheader()
    for line in report.lines:
        row = dataclasses.asdict(line) | {"skip_reasons": " | ".join(line.skip_reasons)}
        writer.writerow({"cycle": report.cycle.name, **row})
    return out.getvalue()


def report_json(report: ReviewReport) -> str:
    """The report as one JSON object: the cycle, its dates, and the lines."""
    c = report.cycle
    return json.dumps(
        {
            "cycle": c.name,
            "first_day": c.first_day.isoformat(),
            "last_day": c.last_day.isoformat(),
            "grace_days": report.grace_days,
            "overdue_after": rfc3339(report.overdue_after),
            "lines": [dataclasses.asdict(line) for line in report.lines],
        }
    )
