"""The figures of each role's home page, read through the domains' own services.

Each builder returns the template data of one home partial (``home_<part>.html``).
Every call goes through a service function with its permission check, so a home shows
only what its reader may see; which parts a reader gets follows the permissions held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor
from bodycam.auth.models import Squad
from bodycam.auth.permissions import Permission, Role
from bodycam.compliance import report
from bodycam.compliance.review import list_reviews
from bodycam.context import Context
from bodycam.disclosure import overview, requests
from bodycam.evidence import service as evidence
from bodycam.evidence.access import has_any_view
from bodycam.fleet import browse, recalls
from bodycam.fleet import reports as fleet_reports
from bodycam.fleet.models import CameraStatus, CampaignKind
from bodycam.ids import utcnow

P = Permission
DUE_SOON = 5
"""Business days ahead that the clerk's home counts as "due soon"."""

PARTS: dict[Role, str] = {
    Role.OFFICER: "officer",
    Role.SUPERVISOR: "supervisor",
    Role.RECORDS_CLERK: "clerk",
    Role.EQUIPMENT: "equipment",
    Role.AUDITOR: "auditor",
    Role.ANALYST: "analyst",
    Role.ADMINISTRATOR: "admin",
    Role.EXTERNAL: "external",
}
"""The home partial of each role (``home_<part>.html``)."""


def _officer(ctx: Context, actor: Actor, app: FastAPI) -> dict[str, Any]:
    """My recordings (the newest five and how many), upload delays, my compliance."""
    data: dict[str, Any] = {"mine": None, "rate": None, "last_upload": None}
    if has_any_view(actor):
        vault = evidence.Vault.from_context(ctx)
        page = evidence.search(vault, actor, evidence.SearchQuery(per_page=5))
        data["mine"] = page
        data["last_upload"] = max((r.ingested_at for r in page.items), default=None)
    if actor.can(P.COMPLIANCE_VIEW_OWN):
        lines = report.compliance_report(
            ctx.sessions, actor, by="officer", tz=ctx.settings.timezone
        )
        data["rate"] = next((r for r in lines if actor.badge and r.group == actor.badge), None)
        if data["rate"] is None and len(lines) == 1:
            data["rate"] = lines[0]
    return data


def _squad_name(ctx: Context, actor: Actor) -> str | None:
    if actor.squad_id is None:
        return None
    with ctx.sessions() as s:
        return s.scalars(select(Squad.name).where(Squad.id == actor.squad_id)).first()


def _supervisor(ctx: Context, actor: Actor, app: FastAPI) -> dict[str, Any]:
    """The squad's compliance (whole squad and per officer) and the review queue."""
    data: dict[str, Any] = {"squad": _squad_name(ctx, actor), "squad_rate": None, "officers": []}
    tz = ctx.settings.timezone
    if actor.can(P.COMPLIANCE_VIEW_SQUAD) and data["squad"]:
        squad_lines = report.compliance_report(ctx.sessions, actor, by="squad", tz=tz)
        data["squad_rate"] = next((r for r in squad_lines if r.group == data["squad"]), None)
        data["officers"] = report.compliance_report(
            ctx.sessions, actor, by="officer", tz=tz, squad=data["squad"]
        )
    data["pending"] = data["mine"] = []
    if actor.can(P.COMPLIANCE_REVIEW_PERFORM):
        pending = list_reviews(ctx.sessions, actor, status="pending")
        data["pending"] = pending
        data["mine"] = [r for r in pending if r.review.supervisor_id == actor.user_id]
    return data


@dataclass(frozen=True)
class QueueLine:
    """An open request in the clerk's queue, with its next deadline."""

    view: requests.RequestView
    days_left: int | None
    redaction: dict[str, int]


def _clerk(ctx: Context, actor: Actor, app: FastAPI) -> dict[str, Any]:
    """Open requests by next deadline (due this week, late), and the redaction work of
    the footage attached to them."""
    views = requests.list_requests(ctx.sessions, actor, status="open")
    left = overview.days_left(ctx.sessions, actor, views)
    lines = []
    work = {"not started": 0, "in review": 0, "to check": 0, "to approve": 0, "approved": 0}
    for v in views:
        counts = dict.fromkeys(work, 0)
        if v.recordings:
            for st in overview.redaction_status(ctx.sessions, actor, v.number).values():
                if st.project_id is None:
                    key = "not started"
                elif st.approved:
                    key = "approved"
                elif st.clean:
                    key = "to approve"
                elif st.needs_review:
                    key = "to check"
                else:
                    key = "in review"
                counts[key] += 1
                work[key] += 1
        d = left.get(v.number)
        days = None
        if d is not None:
            pending = [x for x in (d.critical, d.acknowledge, d.decide, d.appeal) if x is not None]
            days = min(pending) if pending else None
        lines.append(QueueLine(v, days, counts))
    lines.sort(key=lambda q: (q.view.deadlines.next_due is None, q.view.deadlines.next_due))
    week = [q for q in lines if q.days_left is not None and q.days_left <= DUE_SOON]
    return {
        "open": len(views),
        "late": sum(1 for v in views if v.deadlines.late),
        "week": week,
        "due_soon": DUE_SOON,
        "queue": lines[:10],
        "work": work,
        "shares": actor.can(P.SHARE_VIEW),
    }


def _equipment(ctx: Context, actor: Actor, app: FastAPI) -> dict[str, Any]:
    """Cameras by status, those not docked for three days, and the recalls' progress."""
    by_status = {}
    for st in CameraStatus:
        page = browse.browse_cameras(
            ctx.sessions, actor, browse.CameraFilters(status=st.value), per_page=1
        )
        by_status[st.value] = page.total
    campaigns = recalls.list_campaigns(ctx.sessions, actor)
    return {
        "by_status": by_status,
        "cameras": sum(by_status.values()),
        "undocked": len(fleet_reports.not_docked(ctx.sessions, actor, 3)),
        "recalls": [c for c in campaigns if c.kind == CampaignKind.RECALL.value][:5],
        "rollouts": [c for c in campaigns if c.kind == CampaignKind.ROLLOUT.value][:5],
        "open_recalls": sum(
            1 for c in campaigns if c.kind == CampaignKind.RECALL.value and c.done < c.total
        ),
    }


def _auditor(ctx: Context, actor: Actor, app: FastAPI) -> dict[str, Any]:
    """Where verification stands and the last day's accesses to footage and refusals."""
    from bodycam.audit.overview import activity_counts, verification_status

    since = utcnow() - timedelta(days=1)
    return {
        "verification": verification_status(ctx, actor),
        "activity": activity_counts(ctx.sessions, actor, since),
        "since": since,
    }


def _analyst(ctx: Context, actor: Actor, app: FastAPI) -> dict[str, Any]:
    """The department's recording compliance with its interval, and the evaluation pages."""
    from bodycam.web.pages import has_page

    lines = []
    if actor.can(P.COMPLIANCE_VIEW):
        lines = report.compliance_report(ctx.sessions, actor, by="all", tz=ctx.settings.timezone)
    return {
        "overall": lines[0] if lines else None,
        "evaluation": actor.can(P.EVALUATION_VIEW) and has_page(app, "/evaluation"),
        "cost": actor.can(P.EVALUATION_COST_VIEW) and has_page(app, "/cost"),
    }


def _admin(ctx: Context, actor: Actor, app: FastAPI) -> dict[str, Any]:
    """Users by role, the retention schedule in force, system health and the jobs."""
    from bodycam.retention.service import schedule_versions
    from bodycam.system_health import system_health
    from bodycam.web.pages import has_page

    data: dict[str, Any] = {"users": None, "schedule": None, "health": None}
    if actor.can(P.USER_VIEW):
        with ctx.sessions() as s:
            users = auth_service.list_users(s, actor)
            counts: dict[str, int] = {}
            for u in users:
                counts[u.role] = counts.get(u.role, 0) + 1
            data["users"] = {
                "total": len(users),
                "disabled": sum(1 for u in users if not u.active),
                "by_role": counts,
            }
    if actor.can(P.RETENTION_VIEW):
        versions = schedule_versions(ctx.sessions, actor)
        data["schedule"] = versions[0] if versions else None
    if actor.can(P.SYSTEM_HEALTH_VIEW):
        data["health"] = system_health(ctx, actor)
    data["jobs_page"] = has_page(app, "/jobs")
    return data


BUILDERS = {
    "officer": _officer,
    "supervisor": _supervisor,
    "clerk": _clerk,
    "equipment": _equipment,
    "auditor": _auditor,
    "analyst": _analyst,
    "admin": _admin,
}


def home_data(ctx: Context, actor: Actor, app: FastAPI) -> tuple[str, dict[str, Any]]:
    """The home partial for ``actor``'s role and its figures."""
    part = PARTS.get(actor.role, "external")
    build = BUILDERS.get(part)
    return part, (build(ctx, actor, app) if build else {})
