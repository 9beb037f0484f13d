"""Read-only views the request pages need beside the services: how the redaction of each
attached recording stands, and the business days left to each deadline.

Both are reads under ``disclosure:request:view``; neither changes anything. The redaction
status reads the redaction domain's tables for the request's own recordings only (the
redaction service offers reads per project, under ``redaction:project:manage``, which an
auditor reading the queue does not hold): whether a project was started, where it stands,
and its redacted copies by status. No frame, plan or finding is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.disclosure.deadlines import BusinessCalendar, clock_in_force
from bodycam.disclosure.models import CLOSED, DisclosureRecording
from bodycam.disclosure.requests import RequestView, jurisdiction_of, load
from bodycam.redaction.models import CopyStatus, RedactedCopy, RedactionProject

__all__ = ["DaysLeft", "RedactionState", "days_left", "redaction_status"]


@dataclass(frozen=True)
class RedactionState:
    """How the redaction of one recording stands."""

    recording_id: str
    project_id: str | None
    """The newest redaction project (None: no redaction started)."""
    project_status: str | None
    """detecting, review or failed."""
    projects: int
    copies: int
    """Redacted copies rendered, of every project."""
    needs_review: int
    clean: int
    approved: int
    """Copies approved for release."""

    @property
    def summary(self) -> str:
        """The state in words, e.g. ``1 copy approved for release``."""
        if self.project_id is None:
            return "not started"
        if self.approved:
            n = self.approved
            return f"{n} cop{'y' if n == 1 else 'ies'} approved for release"
        if self.clean:
            return "rendered, quality check passed, awaiting approval"
        if self.needs_review:
            return "rendered, quality-check findings to resolve"
        return {
            "detecting": "detecting faces",
            "review": "in review, not rendered yet",
            "failed": "detection failed",
        }.get(self.project_status or "", self.project_status or "")


def redaction_status(
    factory: sessionmaker[Session], actor: Actor, number: str
) -> dict[str, RedactionState]:
    """The redaction state of each recording attached to request ``number``, by id."""
    require(factory, actor, Permission.DISCLOSURE_VIEW, "see public-records requests", number)
    with factory() as s:
        req = load(s, number)
        ids = list(
            s.scalars(
                select(DisclosureRecording.recording_id).where(
                    DisclosureRecording.request_id == req.id
                )
            )
        )
        if not ids:
            return {}
        projects: dict[str, list[RedactionProject]] = {i: [] for i in ids}
        for p in s.scalars(
            select(RedactionProject)
            .where(RedactionProject.recording_id.in_(ids))
            .order_by(RedactionProject.created_at, RedactionProject.id)
        ):
            projects[p.recording_id].append(p)
        copies: dict[str, list[str]] = {i: [] for i in ids}
        for rid, status in s.execute(
            select(RedactedCopy.recording_id, RedactedCopy.status).where(
                RedactedCopy.recording_id.in_(ids)
            )
        ):
            copies[rid].append(status)
    out = {}
    for rid in ids:
        newest = projects[rid][-1] if projects[rid] else None
        statuses = copies[rid]
        out[rid] = RedactionState(
            rid,
            newest.id if newest else None,
            newest.status if newest else None,
            len(projects[rid]),
            len(statuses),
            statuses.count(CopyStatus.NEEDS_REVIEW.value),
            statuses.count(CopyStatus.CLEAN.value),
            statuses.count(CopyStatus.APPROVED.value),
        )
    return out


@dataclass(frozen=True)
class DaysLeft:
    """Business days from today to each deadline still to meet (negative: overdue by that
    many; 0: due today); None where nothing is pending. The critical-incident track counts
    calendar days."""

    acknowledge: int | None
    decide: int | None
    critical: int | None
    appeal: int | None


def _left(cal: BusinessCalendar, today: date, due: date | None) -> int | None:
    if due is None:
        return None
    return cal.count(today, due) if due >= today else -cal.count(due, today)


def days_left(
    factory: sessionmaker[Session], actor: Actor, views: Sequence[RequestView]
) -> dict[str, DaysLeft]:
    """The days left to each pending deadline of each request, by request number."""
    require(factory, actor, Permission.DISCLOSURE_VIEW, "see public-records requests")
    with factory() as s:
        _, clock = clock_in_force(s)
    out = {}
    for v in views:
        d = v.deadlines
        cal = BusinessCalendar(jurisdiction_of(clock, v.request.jurisdiction))
        is_open = v.request.status not in CLOSED
        pending_appeal = any(a.outcome is None for a in v.appeals)
        out[v.number] = DaysLeft(
            _left(cal, d.today, d.acknowledge_due) if is_open and not d.acknowledged else None,
            _left(cal, d.today, d.decide_due) if is_open else None,
            (d.critical_due - d.today).days if is_open and d.critical_due else None,
            _left(cal, d.today, d.appeal_due) if pending_appeal else None,
        )
    return out
