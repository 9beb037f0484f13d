"""The authorization proof: every route of the app, called as every role, on real objects.

``RULES`` declares, for every (method, path) the app serves, who may use it: the public,
any signed-in user, or the holders of some permissions (from ``ROLE_PERMISSIONS``), and for
object routes whether the object must lie in the caller's scope. The expected answer of
each call is computed from that declaration and the permission table alone, never from
the code under test. A route the app serves but the table does not declare fails
``test_every_route_has_a_declared_rule``: a new route cannot ship without a rule.

Then ``test_every_role_gets_exactly_what_its_permissions_grant`` calls every route as an
anonymous caller and as each role (officer o1, supervisor sgt_a, clerk, auditor, external,
equipment, analyst, admin) on a recording of o1 (North-A), one of o3 (South-B), one in a
restricted and one in a confidential category, and a real audit record, and asserts:

* a call that is not granted never succeeds (no 2xx, no redirect into the app), and is
  refused the way it should be (401 / 303 to /login when anonymous, else 403 or 404);
* a call that is granted succeeds;
* every refusal of an evidence route wrote an ``access:request:denied`` audit record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import BaseRoute, Mount, Route

from bodycam.audit.models import AuditRecord
from bodycam.auth.models import User
from bodycam.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from bodycam.auth.service import actor_for, set_password
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.matching_service import run_matching
from bodycam.compliance.review_models import CHECKLIST, SupervisorReview
from bodycam.compliance.rules import Rules
from bodycam.compliance.service import import_cad
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.disclosure.models import DisclosureRequest
from bodycam.evidence.models import UNCATEGORIZED, AccessClass, Category, Recording
from bodycam.jobs.models import Job
from bodycam.redaction.models import CopyStatus, ProjectStatus, RedactedCopy, RedactionProject
from bodycam.redaction.plan import (
    FrameBox,
    FrameRange,
    ReasonCode,
    RedactionPlan,
    TrackDecision,
    VideoFacts,
)
from bodycam.retention import service as retention
from bodycam.retention.cases import open_case
from bodycam.retention.models import DestructionCertificate
from bodycam.retention.purge import _sign
from bodycam.web.app import create_app
from bodycam.web.deps import SESSION_COOKIE
from tests.compliance.csvs import GENERIC_HEADER, write_csv
from tests.web.conftest import PASSWORD, count_audit

P = Permission
DENIED = "access:request:denied"

# --- the declaration --------------------------------------------------------------------------

PUBLIC = "public"
SIGNED_IN = "signed in"
VIEWERS = frozenset({P.RECORDING_VIEW_OWN, P.RECORDING_VIEW_SQUAD, P.RECORDING_VIEW_ANY})

# What a route acts on (the targets it is called with).
RECORDING = "a recording in the caller's scope and access classes"
ANY_RECORDING = "any recording"
OFFICER = "an officer the caller may ingest for (self, squad with view_squad, any with view_any)"
AUDIT_RECORD = "an audit record"
COMPLIANCE_OF = "an officer, or a dispatch event of an officer, whose compliance is read"
REVIEW = "a supervisor review (made fresh for each call) of a recording of o1 or of o3"
COMPLIANCE_READERS = frozenset({P.COMPLIANCE_VIEW, P.COMPLIANCE_VIEW_SQUAD, P.COMPLIANCE_VIEW_OWN})
# Redaction routes are called ``on=RECORDING``: on a project in review of that recording (one
# track, one whole-picture range) and a copy of it, made once per recording (_redaction_ids).
JOB = "a redaction job the clerk queued (its creator, or system:jobs:view, may read it)"
REDACT = frozenset({P.REDACTION_MANAGE})
REQUEST = "a public-records request the clerk logged for the call (its number is the id)"
RECALL = "a recall of a camera, both made for the call"
SHARE = "a share of o1's recording the clerk made for the call (id: its id, or its link's token)"
QUARANTINED_JOB = "a quarantined job of the clerk, made for the call (its creator, or jobs:view)"
EVALUATION = "an evaluation the analyst stored, its report written (made once)"
NEW_EVALUATION = "an upload of the small pilot of test_evaluation_pages (id: what it stored)"


@dataclass(frozen=True)
class Rule:
    """Who may use a route."""

    who: str | frozenset[Permission]  # PUBLIC, SIGNED_IN, or permissions needed (all of them)
    one_of: frozenset[Permission] = frozenset()  # and at least one of these, when given
    on: str | None = None  # what the route acts on, see above
    ok: str | None = None  # for pages that answer success with a 303: its Location


def perms(*p: Permission) -> frozenset[Permission]:
    return frozenset(p)


RULES: dict[tuple[str, str], Rule] = {
    # Public: the sign-in page, health, what an outsider needs to check proofs, the API docs.
    ("GET", "/api/v1/health"): Rule(PUBLIC),
    ("GET", "/api/v1/audit/checkpoint"): Rule(PUBLIC),
    ("GET", "/api/v1/audit/public-key"): Rule(PUBLIC),
    ("GET", "/login"): Rule(PUBLIC),
    ("POST", "/login"): Rule(PUBLIC, ok="/"),
    ("*", "/static"): Rule(PUBLIC),
    ("GET", "/openapi.json"): Rule(PUBLIC),
    ("HEAD", "/openapi.json"): Rule(PUBLIC),
    ("GET", "/docs"): Rule(PUBLIC),
    ("HEAD", "/docs"): Rule(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Rule(PUBLIC),
    ("HEAD", "/docs/oauth2-redirect"): Rule(PUBLIC),
    ("GET", "/redoc"): Rule(PUBLIC),
    ("HEAD", "/redoc"): Rule(PUBLIC),
    # Any signed-in user.
    ("GET", "/api/v1/me"): Rule(SIGNED_IN),
    # Footage roles are sent on to the recordings list; the others get their home page.
    ("GET", "/"): Rule(SIGNED_IN),
    ("POST", "/logout"): Rule(SIGNED_IN, ok="/login"),
    # One's own account (issue 12): TOTP enrolment, recovery codes, API tokens. The code step
    # and the cancel of a half-done sign-in are public; without one they go back to /login.
    ("GET", "/account"): Rule(SIGNED_IN),
    ("GET", "/account/mfa"): Rule(SIGNED_IN),
    ("POST", "/account/mfa"): Rule(SIGNED_IN),
    ("POST", "/account/mfa/recovery-codes"): Rule(SIGNED_IN),
    ("POST", "/account/tokens"): Rule(SIGNED_IN),
    ("POST", "/account/tokens/{token_id}/revoke"): Rule(SIGNED_IN, ok="/account?done=revoked"),
    ("GET", "/login/code"): Rule(PUBLIC, ok="/login"),
    ("POST", "/login/code"): Rule(PUBLIC, ok="/login"),
    ("POST", "/login/cancel"): Rule(PUBLIC, ok="/login"),
    # Users.
    ("GET", "/api/v1/users"): Rule(perms(P.USER_VIEW)),
    # User administration and system health pages (each change on a user made for the call).
    ("GET", "/admin/users"): Rule(perms(P.USER_VIEW)),
    ("POST", "/admin/users"): Rule(perms(P.USER_MANAGE), ok="/admin/users?done=created"),
    ("POST", "/admin/users/{username}/role"): Rule(
        perms(P.USER_MANAGE), ok="/admin/users?done=role"
    ),
    ("POST", "/admin/users/{username}/active"): Rule(
        perms(P.USER_MANAGE), ok="/admin/users?done=disabled"
    ),
    ("GET", "/admin/health"): Rule(perms(P.SYSTEM_HEALTH_VIEW)),
    # The whole audit log: search and the "who viewed what" report.
    ("GET", "/audit"): Rule(perms(P.AUDIT_VIEW)),
    ("GET", "/audit/access"): Rule(perms(P.AUDIT_VIEW)),
    # Fleet: device events sent by docks.
    ("POST", "/api/v1/fleet/events"): Rule(perms(P.FLEET_EVENTS_INGEST)),
    # The Axis Body Worn Integration API (Swift subset): the account of a Body Worn System.
    ("GET", "/axis/auth/v1.0"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("GET", "/axis/v1/{account}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("HEAD", "/axis/v1/{account}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("PUT", "/axis/v1/{account}/{container}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("POST", "/axis/v1/{account}/{container}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("GET", "/axis/v1/{account}/{container}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("HEAD", "/axis/v1/{account}/{container}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("PUT", "/axis/v1/{account}/{container}/{name:path}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("POST", "/axis/v1/{account}/{container}/{name:path}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("GET", "/axis/v1/{account}/{container}/{name:path}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    ("HEAD", "/axis/v1/{account}/{container}/{name:path}"): Rule(perms(P.FLEET_AXIS_UPLOAD)),
    # Evidence API.
    ("POST", "/api/v1/recordings"): Rule(perms(P.RECORDING_INGEST), on=OFFICER),
    # Resumable uploads (tus): discovery is public; an upload is its creator's, for an officer
    # they may ingest for (call() makes one as the caller when granted, else as the clerk).
    ("OPTIONS", "/api/v1/uploads"): Rule(PUBLIC),
    ("POST", "/api/v1/uploads"): Rule(perms(P.RECORDING_INGEST), on=OFFICER),
    ("HEAD", "/api/v1/uploads/{upload_id}"): Rule(perms(P.RECORDING_INGEST), on=OFFICER),
    ("PATCH", "/api/v1/uploads/{upload_id}"): Rule(perms(P.RECORDING_INGEST), on=OFFICER),
    ("DELETE", "/api/v1/uploads/{upload_id}"): Rule(perms(P.RECORDING_INGEST), on=OFFICER),
    ("GET", "/api/v1/recordings"): Rule(perms(), one_of=VIEWERS),
    ("GET", "/api/v1/recordings/{recording_id}"): Rule(perms(), on=RECORDING),
    ("PATCH", "/api/v1/recordings/{recording_id}"): Rule(perms(P.RECORDING_EDIT), on=RECORDING),
    ("GET", "/api/v1/recordings/{recording_id}/content"): Rule(perms(), on=RECORDING),
    ("GET", "/api/v1/recordings/{recording_id}/download"): Rule(
        perms(P.RECORDING_DOWNLOAD), on=RECORDING
    ),
    # Audit.
    ("GET", "/api/v1/recordings/{recording_id}/audit"): Rule(perms(P.AUDIT_VIEW), on=ANY_RECORDING),
    ("GET", "/api/v1/audit/records/{record_id}/proof"): Rule(
        perms(P.AUDIT_EXPORT), on=AUDIT_RECORD
    ),
    # Pages.
    ("GET", "/recordings"): Rule(perms(), one_of=VIEWERS),
    ("GET", "/recordings/{recording_id}"): Rule(perms(), on=RECORDING),
    ("POST", "/recordings/{recording_id}/edit"): Rule(
        perms(P.RECORDING_EDIT), on=RECORDING, ok="/recordings/{id}?saved=1"
    ),
    ("GET", "/recordings/{recording_id}/audit"): Rule(perms(P.AUDIT_VIEW), on=ANY_RECORDING),
    # Retention pages (each write is called on a fresh object made for the call).
    ("GET", "/retention/schedule"): Rule(perms(P.RETENTION_VIEW)),
    ("POST", "/retention/schedule"): Rule(perms(P.RETENTION_SCHEDULE)),
    ("GET", "/retention/holds"): Rule(perms(P.RETENTION_VIEW)),
    ("POST", "/retention/holds"): Rule(perms(P.RETENTION_HOLD), ok="/retention/holds?done=placed"),
    ("POST", "/retention/holds/{hold_id}/release"): Rule(
        perms(P.RETENTION_HOLD), ok="/retention/holds?done=released"
    ),
    ("POST", "/retention/cases"): Rule(perms(P.RETENTION_HOLD), ok="/retention/holds?done=opened"),
    ("POST", "/retention/cases/{case_number}/close"): Rule(
        perms(P.RETENTION_HOLD), ok="/retention/holds?done=closed"
    ),
    ("GET", "/retention/queue"): Rule(perms(P.RETENTION_VIEW)),
    ("POST", "/retention/queue/approve"): Rule(
        perms(P.RETENTION_APPROVE), ok="/retention/queue?done=approved"
    ),
    ("POST", "/retention/queue/{recording_id}/undo"): Rule(
        perms(P.RETENTION_APPROVE), ok="/retention/queue?done=undone"
    ),
    ("GET", "/retention/certificates"): Rule(perms(P.RETENTION_VIEW)),
    ("GET", "/retention/certificates/{certificate_id}"): Rule(perms(P.RETENTION_VIEW)),
    # Compliance pages: everyone, one's squad, or oneself (the scope of the permission held).
    ("GET", "/compliance"): Rule(perms(), one_of=COMPLIANCE_READERS),
    ("GET", "/compliance/officers/{officer_id}"): Rule(perms(), on=COMPLIANCE_OF),
    ("GET", "/compliance/events/{event_id}"): Rule(perms(), on=COMPLIANCE_OF),
    # Supervisor reviews: a supervisor of the officer's squad (never the officer), or readers.
    ("GET", "/compliance/reviews"): Rule(
        perms(), one_of=perms(P.COMPLIANCE_REVIEW_VIEW, P.COMPLIANCE_REVIEW_PERFORM)
    ),
    ("GET", "/compliance/reviews/report"): Rule(perms(P.COMPLIANCE_REVIEW_REPORT)),
    ("GET", "/compliance/reviews/{review_id}"): Rule(perms(), on=REVIEW),
    ("POST", "/compliance/reviews/{review_id}/complete"): Rule(
        perms(P.COMPLIANCE_REVIEW_PERFORM), on=REVIEW, ok="/compliance/reviews/{id}?done=completed"
    ),
    ("POST", "/compliance/reviews/{review_id}/skip"): Rule(
        perms(P.COMPLIANCE_REVIEW_PERFORM), on=REVIEW, ok="/compliance/reviews/{id}?done=skipped"
    ),
    # Redaction API and the editor pages: redactors, on the recordings they may see.
    ("POST", "/api/v1/redaction/projects"): Rule(REDACT, on=RECORDING),
    ("GET", "/api/v1/redaction/projects"): Rule(REDACT, on=RECORDING),
    ("GET", "/api/v1/redaction/projects/{project_id}"): Rule(REDACT, on=RECORDING),
    ("PUT", "/api/v1/redaction/projects/{project_id}/tracks/{track_id}"): Rule(
        REDACT, on=RECORDING
    ),
    ("POST", "/api/v1/redaction/projects/{project_id}/boxes"): Rule(REDACT, on=RECORDING),
    ("POST", "/api/v1/redaction/projects/{project_id}/full-frame"): Rule(REDACT, on=RECORDING),
    ("POST", "/api/v1/redaction/projects/{project_id}/audio"): Rule(REDACT, on=RECORDING),
    ("DELETE", "/api/v1/redaction/projects/{project_id}/items/{kind}/{number}"): Rule(
        REDACT, on=RECORDING
    ),
    ("PUT", "/api/v1/redaction/projects/{project_id}/style"): Rule(REDACT, on=RECORDING),
    ("GET", "/api/v1/redaction/projects/{project_id}/preview"): Rule(REDACT, on=RECORDING),
    ("POST", "/api/v1/redaction/projects/{project_id}/render"): Rule(REDACT, on=RECORDING),
    ("GET", "/api/v1/redaction/jobs/{job_id}"): Rule(perms(), on=JOB),
    # Jobs: everyone lists their own; one job by its creator or with system:jobs:view.
    ("GET", "/api/v1/jobs"): Rule(SIGNED_IN),
    ("GET", "/api/v1/jobs/{job_id}"): Rule(perms(), on=JOB),
    ("POST", "/api/v1/jobs/{job_id}/retry"): Rule(perms(), on=QUARANTINED_JOB),
    ("GET", "/jobs"): Rule(SIGNED_IN),
    ("POST", "/jobs/{job_id}/retry"): Rule(
        perms(), on=QUARANTINED_JOB, ok="/jobs?status=quarantined&done=retried"
    ),
    ("GET", "/api/v1/redaction/copies/{copy_id}"): Rule(REDACT, on=RECORDING),
    ("GET", "/api/v1/redaction/copies/{copy_id}/content"): Rule(REDACT, on=RECORDING),
    ("GET", "/recordings/{recording_id}/redaction"): Rule(REDACT, on=RECORDING),
    ("POST", "/recordings/{recording_id}/redaction"): Rule(
        REDACT, on=RECORDING, ok="/recordings/{id}/redaction"
    ),
    ("GET", "/redaction/{project_id}"): Rule(REDACT, on=RECORDING),
    # Public-records request pages (every request made fresh for its call).
    ("GET", "/requests"): Rule(perms(P.DISCLOSURE_VIEW)),
    ("GET", "/requests/new"): Rule(perms(P.DISCLOSURE_MANAGE)),
    ("POST", "/requests"): Rule(
        perms(P.DISCLOSURE_MANAGE), on=REQUEST, ok="/requests/{id}?done=created"
    ),
    ("GET", "/requests/report"): Rule(perms(P.DISCLOSURE_VIEW)),
    ("GET", "/requests/{number}"): Rule(perms(P.DISCLOSURE_VIEW), on=REQUEST),
    ("GET", "/requests/{number}/search"): Rule(perms(P.DISCLOSURE_MANAGE), on=REQUEST),
    # The release builder: an approved copy of o1's recording, the request in review.
    ("GET", "/requests/{number}/release"): Rule(perms(P.DISCLOSURE_RELEASE_BUILD), on=REQUEST),
    ("POST", "/requests/{number}/release"): Rule(
        perms(P.DISCLOSURE_RELEASE_BUILD), on=REQUEST, ok="/requests/{id}/release"
    ),
    ("POST", "/requests/{number}/status"): Rule(
        perms(P.DISCLOSURE_MANAGE), on=REQUEST, ok="/requests/{id}?done=status"
    ),
    ("POST", "/requests/{number}/extend"): Rule(
        perms(P.DISCLOSURE_MANAGE), on=REQUEST, ok="/requests/{id}?done=extended"
    ),
    ("POST", "/requests/{number}/attach"): Rule(
        perms(P.DISCLOSURE_MANAGE), on=REQUEST, ok="/requests/{id}?done=attached"
    ),
    ("POST", "/requests/{number}/detach"): Rule(
        perms(P.DISCLOSURE_MANAGE), on=REQUEST, ok="/requests/{id}?done=detached"
    ),
    ("POST", "/requests/{number}/appeals"): Rule(
        perms(P.DISCLOSURE_MANAGE), on=REQUEST, ok="/requests/{id}?done=appealed"
    ),
    ("POST", "/requests/{number}/appeals/decide"): Rule(
        perms(P.DISCLOSURE_MANAGE), on=REQUEST, ok="/requests/{id}?done=decided"
    ),
    # The requester's status page: anyone with the number and its status code.
    ("GET", "/request-status"): Rule(PUBLIC),
    ("POST", "/request-status"): Rule(PUBLIC),
    # Fleet pages: readers of the fleet; recalls are started and resolved by the equipment unit.
    ("GET", "/fleet"): Rule(perms(P.FLEET_VIEW)),
    ("GET", "/fleet/cameras/{serial}"): Rule(perms(P.FLEET_VIEW)),
    ("GET", "/fleet/recalls"): Rule(perms(P.FLEET_VIEW)),
    ("POST", "/fleet/recalls"): Rule(
        perms(P.FLEET_RECALL_MANAGE), ok="/fleet/recalls?done=created"
    ),
    ("GET", "/fleet/recalls/{recall_id}"): Rule(perms(P.FLEET_VIEW), on=RECALL),
    ("POST", "/fleet/recalls/{recall_id}/resolve"): Rule(
        perms(P.FLEET_RECALL_MANAGE), on=RECALL, ok="/fleet/recalls/{id}?done=resolved"
    ),
    ("GET", "/fleet/reports"): Rule(perms(P.FLEET_VIEW)),
    # Released packages: public, no sign-in (each call on a release made for it).
    ("GET", "/releases"): Rule(PUBLIC),
    ("GET", "/releases/{release_id}"): Rule(PUBLIC),
    ("GET", "/releases/{release_id}/{name:path}"): Rule(PUBLIC),
    # External shares: records clerks share, issue codes and revoke; auditors read.
    ("GET", "/shares"): Rule(perms(P.SHARE_VIEW)),
    ("GET", "/shares/new"): Rule(perms(P.SHARE_MANAGE)),
    ("POST", "/shares"): Rule(perms(P.SHARE_MANAGE)),
    ("GET", "/shares/{share_id}"): Rule(perms(P.SHARE_VIEW), on=SHARE),
    ("POST", "/shares/{share_id}/revoke"): Rule(
        perms(P.SHARE_MANAGE), on=SHARE, ok="/shares/{id}?done=revoked"
    ),
    ("POST", "/shares/{share_id}/code"): Rule(perms(P.SHARE_MANAGE), on=SHARE),
    # The recipient's side needs no account: the link's token and the code are the
    # credentials (call() gives the code, or the share session it opened, for each call).
    ("GET", "/s/{token}"): Rule(PUBLIC, on=SHARE),
    ("POST", "/s/{token}"): Rule(PUBLIC, on=SHARE, ok="/s/{id}"),
    ("POST", "/s/{token}/close"): Rule(PUBLIC, on=SHARE, ok="/s/{id}"),
    ("GET", "/s/{token}/items/{position}/video"): Rule(PUBLIC, on=SHARE),
    ("GET", "/s/{token}/progress"): Rule(PUBLIC, on=SHARE),
    ("GET", "/s/{token}/items/{position}/download"): Rule(PUBLIC, on=SHARE),
    # The published camera policy: public, no sign-in (call() publishes one version first).
    ("GET", "/policy"): Rule(PUBLIC),
    ("GET", "/policy/versions"): Rule(PUBLIC),
    ("GET", "/policy/versions/{version}"): Rule(PUBLIC),
    ("GET", "/policy/diff"): Rule(PUBLIC),
    # Program evaluation (analysts run, auditors read too) and the cost dashboard.
    ("GET", "/evaluation"): Rule(perms(P.EVALUATION_VIEW)),
    ("POST", "/evaluation"): Rule(
        perms(P.EVALUATION_RUN), on=NEW_EVALUATION, ok="/evaluation/{id}"
    ),
    ("GET", "/evaluation/{evaluation_id}"): Rule(perms(P.EVALUATION_VIEW), on=EVALUATION),
    ("GET", "/evaluation/{evaluation_id}/files/{name}"): Rule(
        perms(P.EVALUATION_VIEW), on=EVALUATION
    ),
    ("GET", "/cost"): Rule(perms(P.EVALUATION_COST_VIEW)),
    ("GET", "/cost/actuals"): Rule(perms(P.EVALUATION_COST_VIEW)),
}

CALLERS = [None, "o1", "sgt_a", "clerk", "auditor", "external", "equipment", "analyst", "admin"]

# Refusals known NOT to be audited (none now: the service layer audits every refusal);
# an entry here must come with a reason.
DENIAL_NOT_AUDITED: set[tuple[str, str]] = set()


def is_evidence_route(path: str) -> bool:
    return path.startswith(("/api/v1/recordings", "/recordings", "/api/v1/uploads"))


# --- the routes the app serves ----------------------------------------------------------------


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves; a mount is ("*", its path)."""
    try:  # FastAPI >= 0.16x keeps included routers lazily; this flattens them.
        from fastapi.routing import iter_route_contexts

        routes: list[BaseRoute] = [rc.original_route for rc in iter_route_contexts(app.routes)]
        paths = {id(rc.original_route): rc.path for rc in iter_route_contexts(app.routes)}
    except ImportError:  # older FastAPI: app.routes is already flat
        routes, paths = list(app.routes), {}
    found: set[tuple[str, str]] = set()
    for route in routes:
        path = paths.get(id(route)) or route.path  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            found.add(("*", path))
        elif isinstance(route, APIRoute | Route):
            assert route.methods, f"{path} serves no method"
            found |= {(m, path) for m in route.methods}
        else:
            pytest.fail(f"the test does not know routes of type {type(route).__name__} ({path})")
    return found


def test_every_route_has_a_declared_rule(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    app = create_app(settings, Context.from_settings(settings, create_key=True))
    served = served_routes(app)
    undeclared = sorted(served - set(RULES))
    stale = sorted(set(RULES) - served)
    assert not undeclared, f"routes without a rule in RULES: {undeclared}"
    assert not stale, f"rules for routes the app does not serve: {stale}"


# --- the world the calls run in ---------------------------------------------------------------


@dataclass
class Target:
    """An object a route is called on."""

    label: str
    id: str = ""  # recording or audit record id
    owner: User | None = None  # recording owner, or the officer to ingest for
    access_class: str = AccessClass.NORMAL.value
    category: str = ""
    title: str = ""
    recording_id: str | None = None  # for a review target: its recording (id: the review)


@dataclass
class World:
    """Users, their credentials and the objects, for one engine."""

    users: dict[str, User]
    recordings: list[Target]
    officers: list[Target]
    audit_record: Target
    upload_bytes: bytes
    ctx: Context | None = None
    serial: list[int] = field(default_factory=lambda: [0])
    tokens: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)
    redaction: dict[str, tuple[str, str]] = field(default_factory=dict)  # recording: project, copy
    job: Target = field(default_factory=lambda: Target("a render job of the clerk"))
    evaluation: Target = field(default_factory=lambda: Target(EVALUATION))


def _dispatch_events(ctx: Context, dept, folder: Path) -> None:
    """One matched dispatch event for o1 (E-1001) and one for o3 (E-2001)."""
    rows = []
    for badge in ("1001", "2001"):
        rows.append(
            {
                "event_id": f"E-{badge}",
                "call_type": "TRAFFIC STOP",
                "priority": "2",
                "self_initiated": "Y",
                "precinct": "North",
                "location": "x",
                "disposition": "CITATION",
                "created_at": "2026-03-01T12:00:00Z",
                "badge": badge,
                "dispatched_at": "2026-03-01T12:00:00Z",
                "arrived_at": "2026-03-01T12:00:00Z",
                "cleared_at": "2026-03-01T12:30:00Z",
            }
        )
    admin = dept.actor("admin")
    path = write_csv(folder / "cad.csv", GENERIC_HEADER, rows)
    import_cad(ctx.sessions, admin, path, load_preset("generic"))
    rules = '[[policy]]\nversion = "t"\neffective_from = 2020-01-01\n'
    run_matching(ctx.sessions, admin, Rules.from_toml(rules))


@pytest.fixture
def world(ctx, dept, creds, ingest, tmp_path_factory) -> World:
    o1 = ingest(71, "1001", category="Traffic Stop", title="o1 stop")
    o3 = ingest(72, "2001", category="Traffic Stop", title="o3 stop")
    dv = ingest(73, "1002", category="Domestic Violence", title="o2 restricted")
    sa = ingest(74, "1001", category="Sexual Assault", title="o1 confidential")
    with transaction(ctx.sessions) as s:
        set_password(s, dept.actor("admin"), "admin", PASSWORD)
        audit_id = s.scalars(select(AuditRecord.id).where(AuditRecord.object_id == o3.id)).one()
        recs = []
        for rec in (o1, o3, dv, sa):
            row = s.get(Recording, rec.id)
            cat = s.get(Category, row.category_id)
            owner = s.get(User, row.officer_id)
            recs.append(
                Target(
                    f"{row.title} ({cat.access_class})",
                    rec.id,
                    owner,
                    cat.access_class,
                    cat.name,
                    row.title,
                )
            )
    users = dept.users
    w = World(
        users=users,
        recordings=recs,
        officers=[Target("for o1", owner=users["o1"]), Target("for o3", owner=users["o3"])],
        audit_record=Target("ingest record of o3's recording", audit_id),
        upload_bytes=o3.path.read_bytes(),  # already held: a granted upload is a duplicate
        ctx=ctx,
    )
    _dispatch_events(ctx, dept, tmp_path_factory.mktemp("cad"))
    for name in CALLERS[1:]:
        w.tokens[name] = creds.token(name)["Authorization"]
        w.sessions[name] = creds.session(name)
    return w


# --- expectations from the permission table ---------------------------------------------------


def may_see(user: User, held: frozenset[Permission], rec: Target) -> bool:
    classes = {AccessClass.NORMAL.value}
    if P.RESTRICTED_VIEW in held:
        classes.add(AccessClass.RESTRICTED.value)
    if P.CONFIDENTIAL_VIEW in held:
        classes.add(AccessClass.CONFIDENTIAL.value)
    return rec.access_class in classes and may_act_for(user, held, rec.owner)


def may_act_for(user: User, held: frozenset[Permission], officer: User | None) -> bool:
    assert officer is not None
    return (
        P.RECORDING_VIEW_ANY in held
        or (
            P.RECORDING_VIEW_SQUAD in held
            and user.squad_id is not None
            and user.squad_id == officer.squad_id
        )
        or (P.RECORDING_VIEW_OWN in held and user.id == officer.id)  # policy: officer_sees_own
    )


def granted(rule: Rule, user: User | None, target: Target | None) -> bool:
    if rule.who == PUBLIC:
        return True
    if user is None:
        return False
    if rule.who == SIGNED_IN:
        return True
    held = ROLE_PERMISSIONS[Role(user.role)]
    assert isinstance(rule.who, frozenset)
    if not rule.who <= held or (rule.one_of and not rule.one_of & held):
        return False
    if rule.on == RECORDING:
        assert target is not None
        return may_see(user, held, target)
    if rule.on == OFFICER:
        assert target is not None
        return may_act_for(user, held, target.owner)
    if rule.on == REVIEW:
        assert target is not None and target.owner is not None
        if not rule.who and P.COMPLIANCE_REVIEW_VIEW in held:  # reading
            return True
        return (
            P.COMPLIANCE_REVIEW_PERFORM in held
            and user.squad_id is not None
            and user.squad_id == target.owner.squad_id
            and user.id != target.owner.id
        )
    if rule.on in (JOB, QUARANTINED_JOB):
        return user.username == "clerk" or P.JOBS_VIEW in held
    if rule.on == COMPLIANCE_OF:
        assert target is not None and target.owner is not None
        return (
            P.COMPLIANCE_VIEW in held
            or (
                P.COMPLIANCE_VIEW_SQUAD in held
                and user.squad_id is not None
                and user.squad_id == target.owner.squad_id
            )
            or (P.COMPLIANCE_VIEW_OWN in held and user.id == target.owner.id)
        )
    return True


def targets(rule: Rule, w: World) -> list[Target | None]:
    if rule.on in (RECORDING, ANY_RECORDING):
        return list(w.recordings)
    if rule.on == OFFICER:
        return list(w.officers)
    if rule.on == AUDIT_RECORD:
        return [w.audit_record]
    if rule.on == COMPLIANCE_OF:
        return list(w.officers)  # each with one dispatch event, id E-<badge>, matched
    if rule.on == REVIEW:  # copies of o1's and o3's normal recordings (call() sets the id)
        return [
            replace(t, recording_id=t.id)
            for t in w.recordings
            if t.access_class == AccessClass.NORMAL.value
        ]
    if rule.on == JOB:
        return [w.job]
    if rule.on == EVALUATION:
        return [w.evaluation]
    if rule.on == NEW_EVALUATION:
        return [Target(rule.on)]
    if rule.on in (REQUEST, RECALL, SHARE, QUARANTINED_JOB):  # call() makes it, sets the id
        return [Target(rule.on)]
    return [None]


# --- making the calls -------------------------------------------------------------------------


def _due_recording(w: World) -> str:
    """A recording row long past its due date (retention needs no bytes), queued."""
    assert w.ctx is not None
    w.serial[0] += 1
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with transaction(w.ctx.sessions) as s:
        owner = w.users["o1"]
        rec = Recording(
            sha256=hashlib.sha256(f"due {w.serial[0]}".encode()).hexdigest(),
            size_bytes=1,
            original_filename="due.mp4",
            officer_id=owner.id,
            category_id=s.scalars(select(Category.id).where(Category.name == UNCATEGORIZED)).one(),
            recorded_start=long_ago,
            recorded_end=long_ago + timedelta(minutes=1),
            ingested_by=owner.id,
            container="mp4",
            video_codec="h264",
            duration_s=60.0,
            width=64,
            height=64,
            fps=30.0,
            has_audio=False,
            frame_count=1800,
            retain_until=long_ago + timedelta(days=30),
            retention_basis="Uncategorized: 30 days",
        )
        s.add(rec)
        s.flush()
        rid = rec.id
    retention.refresh_queue(w.ctx.sessions)
    return rid


def _fresh_review(w: World, target: Target) -> str:
    """A pending review of ``target``'s recording, assigned to its squad's supervisor; the
    target's id becomes the review's (so ``ok`` locations name it)."""
    assert w.ctx is not None and target.owner is not None
    w.serial[0] += 1
    supervisor = "sgt_a" if target.owner.squad_id == w.users["sgt_a"].squad_id else "sgt_b"
    assert target.recording_id is not None
    with transaction(w.ctx.sessions) as s:
        review = SupervisorReview(
            cycle=f"T{w.serial[0]}",
            officer_id=target.owner.id,
            recording_id=target.recording_id,
            squad_id=target.owner.squad_id,
            supervisor_id=w.users[supervisor].id,
            sampled_by=w.users["admin"].id,
        )
        s.add(review)
        s.flush()
        target.id = review.id  # a copy made for this rule: the ok location names the review
        return review.id


def _retention_call(w: World, path: str, csrf: str) -> tuple[str, dict]:
    """The URL and form of a retention write, on an object made fresh for this call."""
    assert w.ctx is not None
    clerk = actor_for(w.users["clerk"], "test")
    w.serial[0] += 1
    n = w.serial[0]
    if path == "/retention/schedule":
        form = {"schedule": '[categories."Uncategorized"]\nretain = "30 days"\n'}
        return path, {"data": {"csrf": csrf, **form}}
    if path == "/retention/holds":
        form = {"on": "case", "case": f"P-{n}", "reason_type": "other", "reason": "test"}
        return path, {"data": {"csrf": csrf, **form}}
    if path == "/retention/holds/{hold_id}/release":
        hold = retention.place_hold(
            w.ctx.sessions, clerk, case=f"R-{n}", reason_type="other", reason="test"
        )
        return f"/retention/holds/{hold.id}/release", {"data": {"csrf": csrf, "reason": "done"}}
    if path == "/retention/cases":
        return path, {"data": {"csrf": csrf, "case_number": f"C-{n}"}}
    if path == "/retention/cases/{case_number}/close":
        open_case(w.ctx.sessions, clerk, f"K-{n}")
        return f"/retention/cases/K-{n}/close", {"data": {"csrf": csrf, "reason": "done"}}
    if path == "/retention/queue/approve":
        return path, {"data": {"csrf": csrf, "recording": [_due_recording(w)]}}
    if path == "/retention/queue/{recording_id}/undo":
        rid = _due_recording(w)
        retention.approve_deletions(w.ctx.sessions, clerk, [rid])
        return f"/retention/queue/{rid}/undo", {"data": {"csrf": csrf, "reason": "test"}}
    if path == "/retention/certificates/{certificate_id}":
        rid = _due_recording(w)
        with transaction(w.ctx.sessions) as s:
            body = json.dumps({"recording": n, "rule": "test"})
            cert = DestructionCertificate(
                recording_id=rid,
                body=body,
                signature=_sign(w.ctx.signer, body.encode()),
                key_name="test",
            )
            s.add(cert)
            s.flush()
            return f"/retention/certificates/{cert.id}", {}
    return path, {}


def _redaction_ids(w: World, target: Target) -> tuple[str, str]:
    """A project in review on ``target``'s recording (one undecided track, one whole-picture
    range to remove) and a redacted copy of it (the original's bytes), made once."""
    assert w.ctx is not None
    if target.id not in w.redaction:
        clerk = w.users["clerk"].id
        with transaction(w.ctx.sessions) as s:
            rec = s.get(Recording, target.id)
            fps = Fraction(rec.fps).limit_denominator(1001)
            facts = VideoFacts(
                rec.width, rec.height, rec.frame_count, fps.numerator, fps.denominator, rec.sha256
            )
            track = TrackDecision(1, (FrameBox(0, 8, 8, 40, 40),), True, ReasonCode.other, "draft")
            plan = RedactionPlan(
                video=facts, tracks=(track,), full_frame=(FrameRange(1, 2, ReasonCode.victim),)
            )
            project = RedactionProject(
                recording_id=rec.id,
                source_sha256=rec.sha256,
                created_by=clerk,
                status=ProjectStatus.REVIEW.value,
                plan=plan.to_json(),
            )
            s.add(project)
            s.flush()
            copy = RedactedCopy(
                project_id=project.id,
                recording_id=rec.id,
                source_sha256=rec.sha256,
                sha256=rec.sha256,
                size_bytes=rec.size_bytes,
                plan=plan.to_json(),
                plan_hash=plan.plan_hash(),
                engine="test",
                detector="test",
                qc_threshold=0.5,
                status=CopyStatus.CLEAN.value,
                created_by=clerk,
            )
            s.add(copy)
            s.flush()
            w.redaction[target.id] = (project.id, copy.id)
    return w.redaction[target.id]


def _jobs_call(
    w: World, method: str, path: str, target: Target | None, csrf: str
) -> tuple[str, dict]:
    """A job route: on the clerk's job (GET), or a quarantined one made for the call."""
    assert w.ctx is not None and target is not None
    if method == "GET":
        target = w.job
    if method == "POST" or not target.id:
        with transaction(w.ctx.sessions) as s:
            job = Job(
                kind="redaction.render",
                params={},
                created_by=w.users["clerk"].id,
                status="quarantined" if method == "POST" else "done",
                error="the file is not a video" if method == "POST" else "",
            )
            s.add(job)
            s.flush()
            target.id = job.id
    url = path.replace("{job_id}", target.id)
    return url, ({"data": {"csrf": csrf}} if not url.startswith("/api/") else {})


def _redaction_call(
    w: World, method: str, path: str, target: Target | None, csrf: str
) -> tuple[str, dict]:
    """The URL and body of a redaction route, which succeed when the caller is granted."""
    assert w.ctx is not None and target is not None
    if path == "/api/v1/redaction/jobs/{job_id}":
        if not target.id:  # the rule's own target, made on first use
            with transaction(w.ctx.sessions) as s:
                job = Job(kind="redaction.render", params={}, created_by=w.users["clerk"].id)
                s.add(job)
                s.flush()
                target.id = job.id
        return path.replace("{job_id}", target.id), {}
    project_id, copy_id = _redaction_ids(w, target)
    url = (
        path.replace("{recording_id}", target.id)
        .replace("{project_id}", project_id)
        .replace("{copy_id}", copy_id)
        .replace("{track_id}", "1")
        .replace("{kind}/{number}", "full_frame/1")  # one range each; only the clerk removes it
    )
    project = "/api/v1/redaction/projects/{project_id}"
    bodies: dict[tuple[str, str], dict] = {
        ("POST", "/api/v1/redaction/projects"): {"json": {"recording_id": target.id}},
        ("GET", "/api/v1/redaction/projects"): {"params": {"recording": target.id}},
        ("PUT", project + "/tracks/{track_id}"): {"json": {"include": False, "reason": "officer"}},
        ("POST", project + "/boxes"): {
            "json": {"keyframes": [[0, 4, 4, 20, 20], [5, 30, 4, 20, 20]], "reason": "minor"}
        },
        ("POST", project + "/full-frame"): {
            "json": {"start_s": 0.2, "end_s": 0.4, "reason": "home_interior"}
        },
        ("POST", project + "/audio"): {
            "json": {"start_s": 0.1, "end_s": 0.3, "mode": "bleep", "reason": "personal_data"}
        },
        ("PUT", project + "/style"): {"json": {"style": "pixelate"}},
        ("GET", project + "/preview"): {"params": {"at": 0.5, "seconds": 1}},
        ("POST", "/recordings/{recording_id}/redaction"): {"data": {"csrf": csrf}},
    }
    return url, bodies.get((method, path), {})


def _upload_call(w: World, method: str, path: str, who: str | None, target: Target | None):
    """URL, headers and body of a tus call that succeeds when granted: the upload is the
    caller's own when they may ingest for the target officer, else the clerk's."""
    from bodycam.evidence.uploads import Uploads, encode_metadata

    headers = {"Tus-Resumable": "1.0.0"}
    if method == "OPTIONS":
        return path, headers, {}
    assert w.ctx is not None and target is not None and target.owner is not None
    meta = encode_metadata(
        {
            "officer": target.owner.badge or "",
            "filename": "perm.mp4",
            "sha256": hashlib.sha256(w.upload_bytes).hexdigest(),
        }
    )
    if path == "/api/v1/uploads":
        headers |= {"Upload-Length": str(len(w.upload_bytes)), "Upload-Metadata": meta}
        return path, headers, {}
    user = w.users[who] if who else None
    creator = who if granted(RULES[(method, path)], user, target) else "clerk"
    assert creator is not None
    actor = actor_for(w.users[creator], "api")
    st = Uploads.from_context(w.ctx).create(actor, len(w.upload_bytes), meta)
    url = path.replace("{upload_id}", st.upload.id)
    if method == "PATCH":
        headers |= {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
        return url, headers, {"content": w.upload_bytes[:1000]}
    return url, headers, {}


def _fleet_event(w: World) -> dict:
    """A new valid device event (a fresh time each call) of a camera made once."""
    from bodycam.fleet.models import Camera

    assert w.ctx is not None
    with transaction(w.ctx.sessions) as s:
        if s.scalars(select(Camera).where(Camera.serial == "PERM-CAM")).first() is None:
            s.add(Camera(serial="PERM-CAM", model="AX-3"))
    w.serial[0] += 1
    when = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=w.serial[0])
    return {"camera": "PERM-CAM", "event": "dock", "at": when.isoformat()}


def _next_request_number(w: World) -> str:
    """The number the next request logged will get (the counter of this year, plus one)."""
    from bodycam.disclosure.deadlines import clock_in_force, local_date
    from bodycam.disclosure.models import DisclosureCounter
    from bodycam.ids import utcnow

    assert w.ctx is not None
    with w.ctx.sessions() as s:
        _, clock = clock_in_force(s)
        year = local_date(utcnow(), clock.get(None)).year
        counter = s.get(DisclosureCounter, year)
        return f"R-{year}-{(counter.last if counter else 0) + 1:06d}"


def _disclosure_call(
    w: World, method: str, path: str, target: Target | None, csrf: str
) -> tuple[str, dict]:
    """The URL and form of a request page, on a request the clerk logs for this call, in
    the state the route needs (decided for an appeal, appealed for its decision)."""
    from bodycam.disclosure import appeals, footage, public_status, requests, workflow
    from bodycam.evidence.service import Vault

    assert w.ctx is not None
    if (method, path) == ("GET", "/request-status"):
        return path, {}
    if (method, path) == ("POST", "/requests"):
        assert target is not None
        target.id = _next_request_number(w)
        form = {"requester_name": "Perm Test", "requester_type": "public", "description": "x"}
        return path, {"data": {"csrf": csrf, **form}}
    if "{number}" not in path and path != "/request-status":
        return path, {}
    clerk = actor_for(w.users["clerk"], "test")
    number = requests.create_request(
        w.ctx.sessions,
        clerk,
        requester_name="Perm Test",
        requester_type="public",
        description="route check",
        officers=["1001"],
    ).number
    if path == "/request-status":
        code = public_status.status_code(w.ctx.settings.resolved_secret_key(), number)
        return path, {"data": {"number": number, "code": code}}
    assert target is not None
    target.id = number
    url = path.replace("{number}", number)
    if method == "GET":
        return url, {}
    o1_stop = next(r.id for r in w.recordings if r.title == "o1 stop")
    form: dict[str, object] = {}
    if path.endswith("/status"):
        form = {"status": "acknowledged"}
    elif path.endswith("/extend"):
        form = {"days": "1", "reason": "volume"}
    elif path.endswith("/attach"):
        form = {"recording": o1_stop}
    elif path.endswith("/detach"):
        vault = Vault(w.ctx.sessions, w.ctx.store, w.ctx.settings.officer_sees_own)
        footage.attach(vault, clerk, number, [o1_stop])
        form = {"recording": o1_stop, "reason": "not it"}
    elif path.endswith("/release"):
        vault = Vault(w.ctx.sessions, w.ctx.store, w.ctx.settings.officer_sees_own)
        footage.attach(vault, clerk, number, [o1_stop])
        for step in ("acknowledged", "searching", "review"):
            workflow.change_status(w.ctx.sessions, clerk, number, step)
        form = {"copy": _approved_copy(w, o1_stop)}
    elif path.endswith(("/appeals", "/appeals/decide")):
        workflow.change_status(w.ctx.sessions, clerk, number, "denied", exemption="none found")
        form = {"grounds": "records exist"}
        if path.endswith("/decide"):
            appeals.file_appeal(w.ctx.sessions, clerk, number, "records exist")
            form = {"outcome": "denied"}
    return url, {"data": {"csrf": csrf, **form}}


def _approved_copy(w: World, recording_id: str) -> str:
    """An approved redacted copy of ``recording_id`` (the original's bytes, an empty plan)."""
    assert w.ctx is not None
    clerk = w.users["clerk"].id
    with transaction(w.ctx.sessions) as s:
        rec = s.get(Recording, recording_id)
        plan = RedactionPlan().to_json()
        project = RedactionProject(
            recording_id=rec.id, source_sha256=rec.sha256, created_by=clerk, plan=plan
        )
        s.add(project)
        s.flush()
        copy = RedactedCopy(
            project_id=project.id,
            recording_id=rec.id,
            source_sha256=rec.sha256,
            sha256=rec.sha256,
            size_bytes=rec.size_bytes,
            plan=plan,
            plan_hash="0" * 64,
            engine="test",
            detector="test",
            qc_threshold=0.5,
            status=CopyStatus.APPROVED.value,
            created_by=clerk,
        )
        s.add(copy)
        s.flush()
        return copy.id


def _fleet_call(
    w: World, method: str, path: str, target: Target | None, csrf: str
) -> tuple[str, dict]:
    """The URL and form of a fleet page, on a camera (and a recall of it) made for the call."""
    from bodycam.fleet.models import Camera
    from bodycam.fleet.recalls import create_recall

    assert w.ctx is not None
    w.serial[0] += 1
    serial, lot = f"PAGE-CAM-{w.serial[0]}", f"PAGE-LOT-{w.serial[0]}"
    with transaction(w.ctx.sessions) as s:
        s.add(Camera(serial=serial, model="AX-3", battery_lot=lot))
    if (method, path) == ("POST", "/fleet/recalls"):
        form = {"kind": "recall", "criterion": "battery_lot", "value": lot, "reason": "check"}
        return path, {"data": {"csrf": csrf, **form}}
    if "{serial}" in path:
        return path.replace("{serial}", serial), {}
    if "{recall_id}" not in path:
        return path, {}
    equipment = actor_for(w.users["equipment"], "test")
    recall = create_recall(w.ctx.sessions, equipment, battery_lot=lot, reason="check")
    assert target is not None
    target.id = recall.id
    url = path.replace("{recall_id}", recall.id)
    if method == "GET":
        return url, {}
    return url, {"data": {"csrf": csrf, "serial": serial, "outcome": "cleared"}}


def _release_call(w: World, path: str) -> str:
    """The URL of a release page, on a signed release (one released file) made for the call."""
    import io

    from bodycam.disclosure import releases, requests
    from bodycam.disclosure.release_models import DisclosureRelease
    from bodycam.redaction.plan import RedactionPlan

    assert w.ctx is not None
    if "{release_id}" not in path:
        return path
    clerk = actor_for(w.users["clerk"], "test")
    number = requests.create_request(
        w.ctx.sessions, clerk, requester_name="Perm", requester_type="public", description="x"
    ).number
    w.serial[0] += 1
    data = f"released bytes {w.serial[0]}".encode()
    sha = w.ctx.store.put_stream(io.BytesIO(data)).sha256
    entry = {"name": "files/x.mp4", "sha256": sha, "size": len(data), "kind": "footage"}
    summary = releases.redaction_summary(RedactionPlan())
    manifest = {
        "format": releases.RELEASE_FORMAT,
        "request": number,
        "release_date": "2026-03-01",
        "agency": "Test",
        "signer": {"key_name": "test", "fingerprint": "0" * 64},
        "files": [entry | {"source_sha256": sha, "redaction_plan_sha256": sha,
                           "redaction": summary}],
    }  # fmt: skip
    text, signature = releases.sign_manifest(w.ctx.signer, manifest, releases.RELEASE_CONTEXT)
    with transaction(w.ctx.sessions) as s:
        request_id = s.scalars(
            select(DisclosureRequest.id).where(DisclosureRequest.number == number)
        ).one()
        release = DisclosureRelease(
            request_id=request_id,
            manifest=text,
            manifest_sha256=hashlib.sha256(text.encode()).hexdigest(),
            signature=signature,
            public_key="test",
            key_name="test",
            files=[entry],
            created_by=w.users["clerk"].id,
        )
        s.add(release)
        s.flush()
        release_id = release.id
    return path.replace("{release_id}", release_id).replace("{name:path}", entry["name"])


def _evaluation_call(
    w: World, method: str, path: str, target: Target | None, csrf: str
) -> tuple[str, dict]:
    """The URL and form of an evaluation page: an upload of the small pilot, or the
    evaluation the analyst stored once (its job run, so its report can be downloaded)."""
    from bodycam.evaluation.runs import Library, Upload, create_evaluation
    from bodycam.jobs.runner import load_handlers, run_job
    from tests.web.test_evaluation_pages import pilot_files

    assert w.ctx is not None
    files = pilot_files()
    if (method, path) == ("POST", "/evaluation"):
        parts = [("config", ("report.toml", files.pop("report.toml").encode(), "text/plain"))]
        parts += [("data", (name, text.encode(), "text/plain")) for name, text in files.items()]
        return path, {"data": {"csrf": csrf}, "files": parts}
    if "{evaluation_id}" not in path:
        return path, {}
    assert target is not None
    if not target.id:
        import io

        config = Upload("report.toml", io.BytesIO(files.pop("report.toml").encode()))
        data = [Upload(name, io.BytesIO(text.encode())) for name, text in files.items()]
        analyst = actor_for(w.users["analyst"], "test")
        view = create_evaluation(Library.from_context(w.ctx), analyst, config, data)
        load_handlers()
        assert run_job(w.ctx, view.job_id).status == "done"
        target.id = view.id
    url = path.replace("{evaluation_id}", target.id).replace("{name}", "report.pdf")
    return url, {}


def _newest_evaluation(w: World) -> str:
    """The id of the evaluation stored last (ids sort by time), or ''."""
    from bodycam.evaluation.runs import Library

    assert w.ctx is not None
    folder = Library.from_context(w.ctx).folder
    if not folder.is_dir():
        return ""
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    return names[-1] if names else ""


def _share_call(
    w: World, method: str, path: str, target: Target | None, csrf: str
) -> tuple[str, dict, str]:
    """The URL, form and share cookie of a share page, on a share (view and download) of
    o1's recording the clerk makes for the call; recipient routes get its code or a share
    session opened with it."""
    from bodycam.disclosure import share_access, shares
    from bodycam.evidence.service import Vault
    from bodycam.web.share_pages import SHARE_COOKIE

    assert w.ctx is not None
    o1_stop = next(r.id for r in w.recordings if r.title == "o1 stop")
    if (method, path) == ("POST", "/shares"):
        form = {
            "recordings": o1_stop,
            "recipient": "Perm Test",
            "email": "perm@example.org",
            "role": "defense",
            "days": "3",
        }
        return path, {"data": {"csrf": csrf, **form}}, ""
    if "{" not in path:
        return path, {}, ""
    vault = Vault(w.ctx.sessions, w.ctx.store, w.ctx.settings.officer_sees_own)
    sharing = shares.Sharing(vault, w.ctx.settings.resolved_home / "shares", prepare_ahead=False)
    issued = shares.create_share(
        sharing,
        actor_for(w.users["clerk"], "test"),
        recordings=[o1_stop],
        recipient_name="Perm Test",
        recipient_email="perm@example.org",
        recipient_role="defense",
        allow_download=True,
    )
    assert target is not None
    if "{share_id}" in path:
        target.id = issued.view.id
        kw = {"data": {"csrf": csrf, "reason": "test"}} if method == "POST" else {}
        return path.replace("{share_id}", issued.view.id), kw, ""
    target.id = issued.token
    url = path.replace("{token}", issued.token).replace("{position}", "1")
    if (method, path) == ("POST", "/s/{token}"):
        return url, {"data": {"code": issued.code}}, ""
    secret = share_access.exchange_code(sharing, issued.token, issued.code).secret
    if path.endswith(("/video", "/download")):  # what the share.watermark job does
        share_access.prepare_item(sharing, issued.view.id, 1)
    kw = {"headers": {"Range": "bytes=0-9"}} if path.endswith("/video") else {}
    return url, kw, f"{SHARE_COOKIE}={secret}"


def _axis_call(w: World, method: str, path: str, who: str | None) -> tuple[str, dict, dict]:
    """URL, headers and body of an Axis API call: the registries and a recording container
    (made for the call by the equipment unit's BWS account) exist; the caller's own token."""
    import uuid

    from bodycam.fleet import axis_service as axis

    assert w.ctx is not None
    store = axis.AxisStore.from_context(w.ctx)
    eq = actor_for(w.users["equipment"], "test")
    user, serial = "perm-user", "AXIS-PERM"
    for registry, key, meta in (("Users", user, {"Userid": "1001"}), ("Devices", serial, {})):
        writer = axis.BodyWriter(store)
        axis.put_object(store, eq, registry, key, writer.finish(), meta)
    w.serial[0] += 1
    container = f"{user}_{serial}_{w.serial[0]}"
    axis.put_container(store, eq, container, {})
    secret = w.tokens[who].removeprefix("Bearer ") if who else ""
    headers = {"X-Auth-Token": secret} if who else {}
    if path == "/axis/auth/v1.0":
        name = w.users[who].username if who else ""
        return path, {"X-Auth-User": name, "X-Auth-Key": secret} if who else {}, {}
    account = f"AUTH_{w.users[who].username}" if who else "AUTH_nobody"
    url = path.replace("{account}", account)
    if "{name:path}" in path:
        if method == "PUT":
            url = url.replace("{container}/{name:path}", f"Users/{uuid.uuid4()}")
        elif method == "GET":
            url = url.replace("{container}/{name:path}", "System/Capability.json")
        else:
            url = url.replace("{container}/{name:path}", f"Users/{user}")
        headers["X-Object-Meta-Name"] = "Perm Test"
    elif method == "PUT":
        url = url.replace("{container}", container + "-new")
    else:
        url = url.replace("{container}", container)
        headers["X-Container-Meta-Note"] = "checked"
    return url, headers, {}


def _admin_call(w: World, method: str, path: str, csrf: str) -> tuple[str, dict]:
    """A user administration form, on a user made for the call (the clerk's stand-in)."""
    from bodycam.auth.service import create_user

    assert w.ctx is not None
    if method == "GET":
        return path, {}
    w.serial[0] += 1
    name = f"perm_user_{w.serial[0]}"
    if path == "/admin/users":
        return path, {"data": {"csrf": csrf, "username": name, "role": "analyst"}}
    with transaction(w.ctx.sessions) as s:
        create_user(s, None, name, "records_clerk")
    form = {"role": "analyst"} if path.endswith("/role") else {"active": "0"}
    return path.replace("{username}", name), {"data": {"csrf": csrf, **form}}


def _policy_call(w: World, path: str) -> str:
    """The URL of a policy page, with the example policy published as version 1."""
    from bodycam.policy.cli import DEFAULT_POLICY
    from bodycam.policy.models import PolicyVersion

    assert w.ctx is not None
    with transaction(w.ctx.sessions) as s:
        if s.get(PolicyVersion, 1) is None:
            body = DEFAULT_POLICY.read_text(encoding="utf-8")
            s.add(
                PolicyVersion(
                    version=1,
                    label="example",
                    title="Body-worn camera policy",
                    effective_from=datetime(2026, 1, 1, tzinfo=UTC),
                    body=body,
                    sha256=hashlib.sha256(body.encode()).hexdigest(),
                    rules_file="recording-rules.toml",
                    rules_body=DEFAULT_POLICY.with_name("recording-rules.toml").read_text(),
                    rules_sha256="0" * 64,
                    retention_version=0,
                    clock_version=0,
                    applied_by=w.users["admin"].id,
                )
            )
    return path.replace("{version}", "1")


def _forget_mfa(w: World, who: str) -> None:
    from sqlalchemy import delete

    from bodycam.auth.models import RecoveryCode, UserTotp

    assert w.ctx is not None
    with transaction(w.ctx.sessions) as s:
        s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == w.users[who].id))
        s.execute(delete(UserTotp).where(UserTotp.user_id == w.users[who].id))


def _account_call(w: World, path: str, who: str, csrf: str) -> tuple[str, dict]:
    """The form of an /account write, as ``who``: a code of a fresh authenticator, a token."""
    import time

    import pyotp

    from bodycam.auth import mfa
    from bodycam.auth.service import issue_token

    assert w.ctx is not None
    actor = actor_for(w.users[who], "test")
    if path.startswith("/account/mfa"):
        _forget_mfa(w, who)
        with transaction(w.ctx.sessions) as s:
            totp = pyotp.TOTP(mfa.begin_enrolment(s, actor, "PD").secret)
        if path.endswith("/recovery-codes"):  # enrolled already, with the previous code
            with transaction(w.ctx.sessions) as s:
                mfa.confirm_enrolment(s, actor, totp.at(time.time() - 30))
        return path, {"data": {"csrf": csrf, "code": totp.now()}}
    if "{token_id}" in path:
        with transaction(w.ctx.sessions) as s:
            token_id = issue_token(s, actor, "to revoke", 1).id
        return path.replace("{token_id}", token_id), {"data": {"csrf": csrf}}
    return path, {"data": {"csrf": csrf, "name": "perm test", "days": "1"}}


def call(
    client: TestClient,
    creds,
    w: World,
    method: str,
    path: str,
    who: str | None,
    target: Target | None,
):
    url = path.replace("{recording_id}", target.id if target else "").replace(
        "{record_id}", target.id if target else ""
    )
    if target is not None and target.owner is not None:
        url = url.replace("{officer_id}", target.owner.id).replace(
            "{event_id}", f"E-{target.owner.badge}"
        )
    headers: dict[str, str] = {}
    kw: dict = {}
    sid, csrf = w.sessions.get(who, ("", "")) if who else ("", "")
    if who and path == "/logout":  # sign out a throwaway session, not the one reused here
        sid, csrf = creds.new_session(who)
    if who and url.startswith("/api/"):
        headers["Authorization"] = w.tokens[who]
    elif who:
        headers["Cookie"] = f"{SESSION_COOKIE}={sid}"
    if method == "*":  # the static mount
        method, url = "GET", "/static/style.css"
    if path.startswith("/retention/") and (method == "POST" or "{" in path):
        url, kw = _retention_call(w, path, csrf)
    if "{review_id}" in path:
        assert target is not None
        url = path.replace("{review_id}", _fresh_review(w, target))
        if path.endswith("/complete"):
            kw = {"data": {"csrf": csrf, **dict.fromkeys(CHECKLIST, "no"), "professionalism": "ok"}}
        elif path.endswith("/skip"):
            kw = {"data": {"csrf": csrf, "reason": "test"}}
    if "/redaction" in path:
        url, kw = _redaction_call(w, method, path, target, csrf)
    if path.startswith(("/requests", "/request-status")):
        url, kw = _disclosure_call(w, method, path, target, csrf)
    if path.startswith("/fleet/"):
        url, kw = _fleet_call(w, method, path, target, csrf)
    if path.startswith(("/shares", "/s/")):
        url, kw, share_cookie = _share_call(w, method, path, target, csrf)
        if share_cookie:
            headers["Cookie"] = "; ".join(c for c in (headers.get("Cookie"), share_cookie) if c)
        headers |= kw.pop("headers", {})
    if path.startswith("/releases"):
        url = _release_call(w, path)
    if path.startswith("/policy"):
        url = _policy_call(w, path)
    if path.startswith("/evaluation"):
        url, kw = _evaluation_call(w, method, path, target, csrf)
    if path.startswith("/admin/users"):
        url, kw = _admin_call(w, method, path, csrf)
    if "{job_id}" in path and not path.startswith("/api/v1/redaction"):
        url, kw = _jobs_call(w, method, path, target, csrf)
    if path.startswith("/axis/"):
        url, axis_headers, kw = _axis_call(w, method, path, who)
        headers = axis_headers
    if path.startswith("/api/v1/uploads"):
        url, tus_headers, kw = _upload_call(w, method, path, who, target)
        headers |= tus_headers
    elif (method, path) == ("POST", "/api/v1/recordings"):
        assert target is not None and target.owner is not None
        kw = {
            "params": {"officer": target.owner.badge, "filename": "perm.mp4"},
            "content": w.upload_bytes,
        }
    elif method == "PATCH":
        kw = {"json": {"notes": f"checked by {who}"}}
    elif path.endswith("/content"):
        headers["Range"] = "bytes=0-9"
    elif path == "/recordings/{recording_id}/edit":
        assert target is not None
        kw = {
            "data": {
                "csrf": csrf,
                "title": target.title,
                "category": target.category,
                "notes": f"checked by {who}",
                "tags": "",
                "cases": "",
            }
        }
    elif path == "/logout":
        kw = {"data": {"csrf": csrf}}
    elif path.startswith("/account/") and method == "POST" and who:
        url, kw = _account_call(w, path, who, csrf)
    elif (method, path) == ("POST", "/login"):
        token = client.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
        kw = {"data": {"username": "admin", "password": PASSWORD, "login_token": token}}
    elif (method, path) == ("POST", "/api/v1/fleet/events"):
        kw = {"json": [_fleet_event(w)]}
    resp = client.request(method, url, headers=headers, **kw)
    client.cookies.clear()  # each call carries only the credentials given above
    if path.startswith("/account/mfa") and who:  # leave no authenticator behind (POST /login)
        _forget_mfa(w, who)
    if (method, path) == ("POST", "/evaluation") and target is not None:
        target.id = _newest_evaluation(w)  # what the upload stored, if it stored one
    return resp


def succeeded(resp, rule: Rule, target: Target | None) -> bool:
    if rule.ok is not None and rule.ok.endswith(" or 200") and resp.status_code == 200:
        return True
    if rule.ok is not None:
        want = rule.ok.removesuffix(" or 200").replace("{id}", target.id if target else "")
        return resp.status_code == 303 and resp.headers.get("location") == want
    return 200 <= resp.status_code < 300


def properly_refused(resp, path: str, who: str | None) -> bool:
    if who is None and path.startswith("/axis/"):  # Swift: no token, 401
        return resp.status_code == 401
    if who is None:
        if path.startswith("/api/"):
            return resp.status_code == 401
        return resp.status_code == 303 and resp.headers["location"].startswith("/login?next=")
    return resp.status_code in (403, 404)


def test_every_role_gets_exactly_what_its_permissions_grant(client, ctx, creds, world):
    problems: list[str] = []
    checked = {"granted": 0, "refused": 0}
    for (method, path), rule in sorted(RULES.items()):
        callers = [None, "o1"] if rule.who == PUBLIC else CALLERS  # the public is anyone
        for target in targets(rule, world):
            for who in callers:
                user = world.users[who] if who else None
                expect = granted(rule, user, target)
                denials_before = count_audit(ctx, DENIED, actor=who) if who and not expect else 0
                resp = call(client, creds, world, method, path, who, target)
                where = f"{who or 'anonymous'} {method} {path}" + (
                    f" on {target.label}" if target else ""
                )
                got = f"{resp.status_code} {resp.headers.get('location', '')}".strip()
                if expect:
                    checked["granted"] += 1
                    if not succeeded(resp, rule, target):
                        problems.append(f"{where}: granted, but answered {got}")
                    continue
                checked["refused"] += 1
                if succeeded(resp, rule, target) or 200 <= resp.status_code < 300:
                    problems.append(f"{where}: NOT granted, but answered {got}")
                elif not properly_refused(resp, path, who):
                    problems.append(f"{where}: refused with an unexpected {got}")
                elif (
                    who
                    and is_evidence_route(path)
                    and (method, path) not in DENIAL_NOT_AUDITED
                    and count_audit(ctx, DENIED, actor=who) <= denials_before
                ):
                    problems.append(f"{where}: refused ({got}) without an {DENIED} record")
    assert not problems, f"{len(problems)} authorization problems:\n" + "\n".join(problems)
    # The table exercises both sides (guards against a world where everything is refused).
    assert checked["granted"] >= 80 and checked["refused"] >= 200, checked


def test_refused_upload_is_audited(client, ctx, creds, clips):
    before = count_audit(ctx, DENIED, actor="o1")
    resp = client.post(
        "/api/v1/recordings",
        params={"officer": "2001"},
        content=clips(75).read_bytes(),
        headers=creds.token("o1"),
    )
    assert resp.status_code == 403
    assert count_audit(ctx, DENIED, actor="o1") == before + 1
