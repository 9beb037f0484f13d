"""Compliance metrics: activation rate and coverage by officer, squad, precinct or call type.

Every rate comes with the counts behind it and a 95% Wilson score interval (statsmodels),
which stays inside 0 to 1 and behaves on small groups, where a squad of 7 required
events must not look as certain as a precinct of 7,000.

* **required**: officer-events the policy requires (not exempt, not unknown);
* **activated**: required ones with any recording (recorded, late start, early stop,
  gaps, or tagged with the event number);
* **full**: recorded on time and to the end without gaps (``recorded``);
* **activation rate** = activated / required; **full-compliance rate** = full / required;
* **mean coverage**: the mean covered share of the window over required events.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from statsmodels.stats.proportion import proportion_confint

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.models import Squad, User
from bodycam.auth.permissions import Permission
from bodycam.compliance.models import ComplianceResult, DispatchEvent

GROUPINGS = ("officer", "squad", "precinct", "call-type")
ACTIVATED = {"recorded", "late_start", "early_stop", "gaps", "tagged"}


@dataclass(frozen=True)
class Rate:
    """One group's line of the report."""

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


def _wilson(k: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return round(k / n, 4), round(float(low), 4), round(float(high), 4)


def compliance_report(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    by: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Rate]:
    """Rates per group for events created in [start, end) (all when not given)."""
    require(factory, actor, Permission.COMPLIANCE_VIEW, "see compliance reports")
    if by not in GROUPINGS:
        raise ValueError(f"Unknown grouping {by!r}; choose {', '.join(GROUPINGS)}.")
    stmt = (
        select(ComplianceResult, DispatchEvent, User, Squad.name)
        .join(DispatchEvent, DispatchEvent.event_id == ComplianceResult.event_id)
        .join(User, User.id == ComplianceResult.officer_id)
        .outerjoin(Squad, Squad.id == User.squad_id)
    )
    if start is not None:
        stmt = stmt.where(DispatchEvent.created_at >= start)
    if end is not None:
        stmt = stmt.where(DispatchEvent.created_at < end)
    groups: dict[str, list[ComplianceResult]] = defaultdict(list)
    with factory() as s:
        for result, event, user, squad in s.execute(stmt):
            key = {
                "officer": f"{user.badge or '-'} {user.username}",
                "squad": squad or "(no squad)",
                "precinct": event.precinct or "(no precinct)",
                "call-type": event.call_type or "(no call type)",
            }[by]
            groups[key].append(result)
    rates = []
    for key in sorted(groups):
        rows = groups[key]
        required = [r for r in rows if r.status not in ("exempt", "unknown")]
        n = len(required)
        activated = sum(1 for r in required if r.status in ACTIVATED)
        full = sum(1 for r in required if r.status == "recorded")
        a_rate, a_low, a_high = _wilson(activated, n)
        f_rate, f_low, f_high = _wilson(full, n)
        coverage = round(sum(r.coverage for r in required) / n, 4) if n else None
        rates.append(
            Rate(
                key,
                n,
                activated,
                full,
                sum(1 for r in rows if r.status == "exempt"),
                sum(1 for r in rows if r.status == "unknown"),
                a_rate,
                a_low,
                a_high,
                f_rate,
                f_low,
                f_high,
                coverage,
            )
        )
    return rates


def as_csv(rates: list[Rate]) -> str:
    """The report as CSV (one line per group, every count and bound)."""
    out = io.StringIO()
    fields = list(Rate.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rates:
        writer.writerow(asdict(r))
    return out.getvalue()


def as_json(rates: list[Rate]) -> str:
    """The report as a JSON list."""
    return json.dumps([asdict(r) for r in rates])
