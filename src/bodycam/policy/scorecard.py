"""The policy scorecard: the policy in force and the system's measured behaviour, scored.

Each criterion of the civil-rights scorecard (eight criteria) and each area of the federal
toolkit's policy review scorecard (eleven areas) gets a verdict (met, partly met, not met,
or not measurable here) and the settings or measurements that decide it. Measurements:

* **every view logged**: the web app's routes that serve footage bytes are found in the
  running app and compared with the routes known to write an audit record per request
  (:data:`FOOTAGE_ROUTES`); a byte-serving route not accounted for fails the criterion.
  Shares keep their own access history: its streams and downloads in the window are
  compared with the recipient stream and download audit records;
* **required events recorded**: the department's activation rate over the last full
  calendar quarter (the compliance report), or the last 90 days when that quarter has no
  required events;
* **unflagged footage past its limit**: recordings of the Uncategorized category past
  their retention date and not held (the retention queue);
* **no face search**: the syntax-tree scan of :mod:`bodycam.policy.biometrics`.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bodycam.audit.actions import AuditAction
from bodycam.audit.models import AuditRecord
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.compliance.report import compliance_report
from bodycam.db import transaction
from bodycam.disclosure.share_models import ShareAccess
from bodycam.evidence.models import UNCATEGORIZED, Category, Recording
from bodycam.ids import as_utc, utcnow
from bodycam.policy import biometrics
from bodycam.policy.document import PolicyError
from bodycam.policy.models import ComplainantSession, OfficerStatement
from bodycam.policy.service import InForce, policy_in_force
from bodycam.retention.service import upcoming

if TYPE_CHECKING:
    from bodycam.context import Context

MET, PARTLY, NOT_MET, UNKNOWN = "met", "partly", "not met", "unknown"
FOOTAGE_ROUTES: Final[dict[tuple[str, str], str | None]] = {
    ("GET", "/api/v1/recordings/{recording_id}/content"): AuditAction.RECORDING_STREAM.value,
    ("GET", "/api/v1/recordings/{recording_id}/download"): AuditAction.RECORDING_DOWNLOAD.value,
    ("GET", "/api/v1/redaction/projects/{project_id}/preview"): AuditAction.REDACTION_VIEW.value,
    ("GET", "/api/v1/redaction/copies/{copy_id}/content"): AuditAction.REDACTION_DOWNLOAD.value,
    ("GET", "/s/{token}/items/{position}/video"): AuditAction.RECIPIENT_STREAM.value,
    ("GET", "/s/{token}/items/{position}/download"): AuditAction.RECIPIENT_DOWNLOAD.value,
    ("GET", "/releases/{release_id}/{name:path}"): AuditAction.DISCLOSURE_RELEASE_DOWNLOAD.value,
    ("GET", "/evaluation/{evaluation_id}/files/{name}"): None,  # reports, no footage
}
"""Routes that answer with file bytes, and the audit action each writes per request
(None: it serves no footage)."""
_BYTES: Final = ("StreamingResponse", "FileResponse")


@dataclass(frozen=True)
class Criterion:
    """One scored criterion or area."""

    family: str
    name: str
    verdict: str
    decided_by: tuple[str, ...]
    explanation: str


@dataclass
class Scorecard:
    """Every criterion, with the measurements behind them."""

    agency: str
    generated_at: datetime
    generated_by: str
    policy_version: int
    policy_label: str
    effective_from: datetime
    criteria: list[Criterion] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)

    def counts(self, family: str | None = None) -> dict[str, int]:
        """How many criteria got each verdict (of one family, or all)."""
        out = dict.fromkeys((MET, PARTLY, NOT_MET, UNKNOWN), 0)
        for c in self.criteria:
            if family is None or c.family == family:
                out[c.verdict] += 1
        return out


# --- measurements -------------------------------------------------------------------------------


def byte_routes(app: Any) -> set[tuple[str, str]]:
    """The (method, path) of every route of ``app`` that answers with file bytes."""
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined]

        pairs = [(rc.original_route, rc.path) for rc in iter_route_contexts(app.routes)]
    except ImportError:
        pairs = [(r, getattr(r, "path", "")) for r in app.routes]
    found: set[tuple[str, str]] = set()
    for route, path in pairs:
        if not isinstance(route, APIRoute):
            continue
        rc = getattr(route.response_class, "__name__", "")
        try:
            source = inspect.getsource(route.endpoint)
        except (OSError, TypeError):
            source = ""
        annotation = str(inspect.signature(route.endpoint).return_annotation)
        if rc in _BYTES or any(b in source or b in annotation for b in _BYTES):
            found |= {(str(m), str(path)) for m in route.methods or ()}
    return found


def _view_logging(ctx: Context, start: datetime, end: datetime) -> dict[str, Any]:
    from bodycam.web.app import create_app

    served = byte_routes(create_app(ctx.settings, ctx))
    unaccounted = sorted(f"{m} {p}" for m, p in served - set(FOOTAGE_ROUTES))
    actions = sorted({a for a in FOOTAGE_ROUTES.values() if a})
    with ctx.sessions() as s:
        rows = s.execute(
            select(AuditRecord.action, func.count())
            .where(AuditRecord.action.in_(actions), AuditRecord.at >= start, AuditRecord.at < end)
            .group_by(AuditRecord.action)
        ).all()
        by_action = {a: 0 for a in actions} | {str(a): int(n) for a, n in rows}
        share_rows = s.execute(
            select(ShareAccess.kind, func.count())
            .where(
                ShareAccess.kind.in_(("streamed", "downloaded")),
                ShareAccess.at >= start,
                ShareAccess.at < end,
            )
            .group_by(ShareAccess.kind)
        ).all()
        history = {str(k): int(n) for k, n in share_rows}
        pending = s.scalar(select(func.count()).where(AuditRecord.seq.is_(None))) or 0
    audited_share = by_action[AuditAction.RECIPIENT_STREAM.value] + by_action.get(
        AuditAction.RECIPIENT_DOWNLOAD.value, 0
    )
    in_history = history.get("streamed", 0) + history.get("downloaded", 0)
    return {
        "footage_routes": len([p for p in served if FOOTAGE_ROUTES.get(p)]),
        "byte_routes": len(served),
        "unaccounted_routes": unaccounted,
        "audit_records_by_action": by_action,
        "share_history_bytes_requests": in_history,
        "share_audit_bytes_requests": audited_share,
        "pending_unsealed_records": pending,
    }


def quarter_before(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, str]:
    """The last full calendar quarter before ``now`` in ``tz``: (start, end, label)."""
    local = now.astimezone(tz)
    q = (local.month - 1) // 3
    year, q = (local.year, q - 1) if q else (local.year - 1, 3)
    start = datetime(year, 3 * q + 1, 1, tzinfo=tz)
    end_year, end_month = (year, 3 * q + 4) if q < 3 else (year + 1, 1)
    end = datetime(end_year, end_month, 1, tzinfo=tz)
    return start, end, f"{year}-Q{q + 1}"


def _recorded_share(
    ctx: Context, actor: Actor, now: datetime
) -> tuple[dict[str, Any], datetime, datetime]:
    tz = ZoneInfo(ctx.settings.timezone)
    start, end, label = quarter_before(now, tz)
    rates = compliance_report(ctx.sessions, actor, by="all", start=start, end=end)
    if not rates or rates[0].required == 0:
        start, end, label = now - timedelta(days=90), now, "the last 90 days"
        rates = compliance_report(ctx.sessions, actor, by="all", start=start, end=end)
    rate = rates[0] if rates else None
    return (
        {
            "window": label,
            "required": rate.required if rate else 0,
            "activated": rate.activated if rate else 0,
            "full": rate.full if rate else 0,
            "activation_rate": rate.activation_rate if rate else None,
            "activation_low": rate.activation_low if rate else None,
            "full_rate": rate.full_rate if rate else None,
        },
        start,
        end,
    )


def _unflagged(ctx: Context, actor: Actor, policy: InForce, now: datetime) -> dict[str, Any]:
    due = upcoming(ctx.sessions, actor, days=0, now=now)
    due_ids = {e.recording_id for e in due if e.due_at <= now}
    held = {e.recording_id for e in due if e.held}
    limit = policy.doc.retention.unflagged_max
    with ctx.sessions() as s:
        unflagged = select(Recording.id, Recording.size_bytes, Recording.recorded_start).join(
            Category, Category.id == Recording.category_id
        )
        rows = s.execute(
            unflagged.where(
                Category.name == UNCATEGORIZED,
                Recording.purged_at.is_(None),
                ~Recording.extra_categories.any(),
            )
        ).all()
    overdue = [(rid, size) for rid, size, _ in rows if rid in due_ids and rid not in held]
    beyond = [
        (rid, size)
        for rid, size, start in rows
        if rid not in held and (due_at := limit.due(as_utc(start))) and due_at <= now
    ]
    return {
        "unflagged_held": len(rows),
        "limit": limit.text(),
        "overdue_not_held": len(overdue),
        "overdue_bytes": sum(size for _, size in overdue),
        "beyond_policy_limit_not_held": len(beyond),
        "beyond_policy_limit_bytes": sum(size for _, size in beyond),
        "due_all_categories_not_held": len(due_ids - held),
    }


def _counts_in(ctx: Context, start: datetime, end: datetime) -> dict[str, int]:
    with ctx.sessions() as s:
        refusals = s.scalar(
            select(func.count()).where(
                AuditRecord.action == AuditAction.POLICY_VIEW_REFUSED.value,
                AuditRecord.at >= start,
                AuditRecord.at < end,
            )
        )
        statements = s.scalar(
            select(func.count())
            .select_from(OfficerStatement)
            .where(OfficerStatement.recorded_at >= start, OfficerStatement.recorded_at < end)
        )
        sessions = s.scalar(
            select(func.count())
            .select_from(ComplainantSession)
            .where(ComplainantSession.starts_at >= start, ComplainantSession.starts_at < end)
        )
    return {
        "policy_refusals": refusals or 0,
        "statements_recorded": statements or 0,
        "complainant_sessions": sessions or 0,
    }


# --- scoring ------------------------------------------------------------------------------------

CIVIL = "Civil-rights scorecard"
FEDERAL = "Federal toolkit policy review (11 areas)"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def score(ctx: Context, actor: Actor, *, now: datetime | None = None) -> Scorecard:
    """Score the policy in force now and the measured behaviour (aggregates only)."""
    require(ctx.sessions, actor, Permission.POLICY_SCORECARD, "compute the policy scorecard")
    now = now or utcnow()
    with ctx.sessions() as s:
        policy = policy_in_force(s, now)
    if policy is None:
        raise PolicyError(
            "scorecard", "", "no camera policy is in force; apply one first (bodycam policy apply)."
        )
    doc = policy.doc
    recorded, q_start, q_end = _recorded_share(ctx, actor, now)
    views = _view_logging(ctx, q_start, q_end)
    unflagged = _unflagged(ctx, actor, policy, now)
    counts = _counts_in(ctx, q_start, q_end)
    files, findings = biometrics.scan_source()
    libraries = biometrics.installed_face_libraries()
    fields = biometrics.detection_fields()
    card = Scorecard(
        ctx.settings.agency_name,
        now,
        actor.username,
        policy.version,
        policy.label,
        policy.effective_from,
        measurements={
            "required_events_recorded": recorded,
            "view_logging": views,
            "unflagged_footage": unflagged,
            "policy_activity": counts,
            "biometrics": {
                "files_scanned": files,
                "findings": [f"{f.file}:{f.line}: {f.what}" for f in findings],
                "face_libraries_installed": libraries,
                "detection_fields": fields,
            },
        },
    )
    add = card.criteria.append
    v = f"policy version {policy.version} ({policy.label!r})"

    # 1. Policy published.
    add(
        Criterion(
            CIVIL,
            "Policy publicly available",
            MET,
            (f"{v} is in force since {policy.effective_from:%Y-%m-%d}", "published at /policy"),
            "The policy in force and every earlier version are published without sign-in at "
            "/policy and /policy/versions, with differences between versions.",
        )
    )
    # 2. Officer discretion.
    r = doc.recording
    rate = recorded["activation_rate"]
    if r.officer_discretion == "broad":
        verdict = NOT_MET
    elif not r.state_reason_on_stop or rate is None or rate < 0.9:
        verdict = PARTLY
    else:
        verdict = MET
    add(
        Criterion(
            CIVIL,
            "Limits officer discretion on when to record",
            verdict,
            (
                f"setting recording.officer_discretion = {r.officer_discretion!r}",
                f"setting recording.state_reason_on_stop = {str(r.state_reason_on_stop).lower()}",
                f"measured: {recorded['activated']} of {recorded['required']} required events "
                f"recorded in {recorded['window']} ({_pct(rate)})",
            ),
            "Met when officers may stop only for listed reasons, must say why on camera, and "
            "at least 90% of required events were recorded; partly when the rule is limited "
            "but the reason rule is off, the share is lower, or nothing was measurable.",
        )
    )
    # 3. Personal privacy.
    pv = doc.privacy
    privacy_parts = [pv.victim_may_decline, pv.residence_consent_required]
    privacy_parts.append(bool(pv.restricted_categories))
    add(
        Criterion(
            CIVIL,
            "Addresses personal privacy concerns",
            MET if all(privacy_parts) else PARTLY if any(privacy_parts) else NOT_MET,
            (
                f"setting privacy.victim_may_decline = {str(pv.victim_may_decline).lower()}",
                "setting privacy.residence_consent_required = "
                + str(pv.residence_consent_required).lower(),
                f"setting privacy.restricted_categories = {list(pv.restricted_categories)}",
            ),
            "Met when victims may decline, homes need consent outside enforcement, and "
            "sensitive categories are restricted.",
        )
    )
    # 4. Officer pre-report viewing.
    own = doc.officer_viewing.own_footage
    add(
        Criterion(
            CIVIL,
            "Prohibits officer pre-report viewing",
            {"after_statement": MET, "never_before_statement_for_critical": PARTLY}.get(
                own, NOT_MET
            ),
            (
                f"setting officer_viewing.own_footage = {own!r}",
                f"measured: {counts['policy_refusals']} views refused under the policy and "
                f"{counts['statements_recorded']} statements recorded in {recorded['window']}",
                "enforced by the evidence service on every view, stream and download",
            ),
            "Met when every officer gives a statement before watching their footage; partly "
            "when only critical incidents need the statement first.",
        )
    )
    # 5. Retention.
    limit_ok = not doc.retention.unflagged_max.longer_than(_period("180 days"))
    overdue = unflagged["overdue_not_held"]
    add(
        Criterion(
            CIVIL,
            "Limits retention of footage",
            (MET if overdue == 0 else PARTLY) if limit_ok else NOT_MET,
            (
                f"setting retention.unflagged_max = {doc.retention.unflagged_max.text()!r}",
                f"retention schedule version {policy.retention_version} checked when applied",
                f"measured: {overdue} unflagged recording(s) ({unflagged['overdue_bytes']} bytes) "
                "past their retention date and not held",
            ),
            "Met when unflagged footage is kept at most six months and none is past its date; "
            "partly when some is overdue for deletion.",
        )
    )
    # 6. Misuse prevented and logged.
    logged_ok = not views["unaccounted_routes"] and (
        views["share_history_bytes_requests"] <= views["share_audit_bytes_requests"]
    )
    add(
        Criterion(
            CIVIL,
            "Protects footage against tampering and misuse (every view logged)",
            MET if logged_ok else NOT_MET,
            (
                "setting access.log_every_view = true (cannot be turned off)",
                f"measured: {views['byte_routes']} routes serve file bytes; unaccounted: "
                f"{', '.join(views['unaccounted_routes']) or 'none'}",
                f"measured: {views['share_history_bytes_requests']} share streams/downloads in "
                f"the share history vs {views['share_audit_bytes_requests']} audit records",
            ),
            "Met when every route that serves footage writes an audit record per request and "
            "the share history has no access the audit log lacks.",
        )
    )
    # 7. Complainant access.
    cp = doc.complainant
    add(
        Criterion(
            CIVIL,
            "Makes footage available to individuals filing complaints",
            MET if cp.viewing == "supervised" else NOT_MET,
            (
                f"setting complainant.viewing = {cp.viewing!r}",
                f"setting complainant.session_minutes = {cp.session_minutes}",
                f"measured: {counts['complainant_sessions']} sessions in {recorded['window']}",
            ),
            "Met when complainants may watch the footage of their complaint.",
        )
    )
    # 8. Biometrics.
    bio_ok = not findings and not libraries and tuple(fields) == biometrics.BOX_FIELDS
    add(
        Criterion(
            CIVIL,
            "Limits biometric use (no face search)",
            MET if bio_ok else NOT_MET,
            (
                "setting biometrics.face_search = false (cannot be set true)",
                f"measured: {files} source files scanned, {len(findings)} face-search "
                f"finding(s); face libraries installed: {', '.join(libraries) or 'none'}",
                f"measured: a detection carries only {', '.join(fields)}",
            ),
            "Met when the code has no face-recognition, embedding or search path and "
            "detectors return boxes only.",
        )
    )
    _federal(card, policy, recorded, views, unflagged, counts)
    return card


def _period(text: str) -> Any:
    from bodycam.retention.schedule import Period

    return Period.parse(text)


def _federal(
    card: Scorecard,
    policy: InForce,
    recorded: dict[str, Any],
    views: dict[str, Any],
    unflagged: dict[str, Any],
    counts: dict[str, int],
) -> None:
    doc = policy.doc
    add = card.criteria.append
    outside = "Not measurable in bodycam: it is a matter of the agency's process."
    add(
        Criterion(
            FEDERAL,
            "Policy development",
            UNKNOWN,
            (f"policy version {policy.version} applied by {policy.applied_by}",),
            outside + " The version history records who applied each version and why.",
        )
    )
    add(
        Criterion(
            FEDERAL,
            "General issues",
            MET if doc.notice.required else PARTLY,
            (f"setting notice.required = {str(doc.notice.required).lower()}",),
            "Notice of recording and the scope of the program.",
        )
    )
    rate = recorded["activation_rate"]
    add(
        Criterion(
            FEDERAL,
            "Activation",
            UNKNOWN if rate is None else MET if rate >= 0.9 else PARTLY,
            (
                f"recording rules {policy.rules_file} (applied with the policy)",
                f"measured: activation {_pct(rate)}, full compliance "
                f"{_pct(recorded['full_rate'])} in {recorded['window']}",
            ),
            "Met when at least 90% of required events were recorded.",
        )
    )
    r = doc.recording
    add(
        Criterion(
            FEDERAL,
            "De-activation",
            MET if r.officer_discretion == "limited" and r.state_reason_on_stop else PARTLY,
            (
                f"setting recording.stop_reasons = {list(r.stop_reasons)}",
                f"setting recording.state_reason_on_stop = {str(r.state_reason_on_stop).lower()}",
            ),
            "Met when stopping is limited to listed reasons stated on camera.",
        )
    )
    add(
        Criterion(
            FEDERAL,
            "Data transfer and download",
            MET if not views["unaccounted_routes"] else NOT_MET,
            (f"measured: {views['footage_routes']} footage routes, each audited per request",),
            "Uploads are hashed on ingest; every download is audited.",
        )
    )
    add(
        Criterion(
            FEDERAL,
            "Data storage",
            MET if unflagged["overdue_not_held"] == 0 else PARTLY,
            (
                f"retention schedule version {policy.retention_version}",
                f"measured: {unflagged['due_all_categories_not_held']} recording(s) of any "
                "category past their retention date and not held",
            ),
            "Met when nothing is kept past its retention date without a hold.",
        )
    )
    own = doc.officer_viewing.own_footage
    add(
        Criterion(
            FEDERAL,
            "BWC video review",
            MET,
            (
                f"setting officer_viewing.own_footage = {own!r}",
                f"setting access.supervisors = {doc.access.supervisors!r}",
                f"measured: {counts['policy_refusals']} refusals, "
                f"{counts['statements_recorded']} statements",
            ),
            "Who may review footage and when is stated and enforced.",
        )
    )
    add(Criterion(FEDERAL, "Training", UNKNOWN, ("not in the policy document",), outside))
    rl = doc.release
    add(
        Criterion(
            FEDERAL,
            "Public release of video",
            MET if rl.critical_incident_track else PARTLY,
            (
                "setting release.critical_incident_track = "
                + str(rl.critical_incident_track).lower(),
                f"disclosure clock version {policy.clock_version}",
            ),
            "Met when critical-incident footage has a release deadline.",
        )
    )
    add(
        Criterion(
            FEDERAL,
            "Policy and program evaluation",
            MET,
            ("this scorecard", "bodycam eval (program evaluation)"),
            "The policy is scored against measured behaviour; the program evaluation "
            "measures outcomes.",
        )
    )
    add(
        Criterion(
            FEDERAL,
            "Use of force policy",
            PARTLY if doc.critical.categories else UNKNOWN,
            (f"setting critical.categories = {list(doc.critical.categories)}",),
            "The camera policy treats use-of-force footage as critical; the use-of-force "
            "policy itself is outside bodycam.",
        )
    )


def write_scorecard(ctx: Context, actor: Actor, folder: Path) -> Scorecard:
    """Score, write ``scorecard.html`` and ``scorecard.pdf`` under ``folder`` (audited)."""
    from bodycam.policy.scorecard_render import render_html, render_pdf

    card = score(ctx, actor)
    html = render_html(card).encode("utf-8")
    pdf = render_pdf(card)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scorecard.html").write_bytes(html)
        (folder / "scorecard.pdf").write_bytes(pdf)
    except OSError as exc:
        raise PolicyError(str(folder), "", f"cannot be written: {exc}.") from None
    with transaction(ctx.sessions) as s:
        record(
            s,
            actor,
            AuditAction.POLICY_SCORECARD,
            "policy",
            str(card.policy_version),
            {
                "policy_version": card.policy_version,
                "counts": card.counts(),
                "html_sha256": hashlib.sha256(html).hexdigest(),
                "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
            },
        )
    return card
