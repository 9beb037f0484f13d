"""The authorization proof at the service layer: every function, every role.

Every public service function that takes an acting user is listed below with
the rule that grants it. The test calls each one as every role (on objects in
and out of the role's scope) and fails on any success the permission table does
not grant, and on any refusal it does grant. A new service function taking an
actor fails ``test_every_service_function_is_covered`` until it is declared here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select

from bodycam import system_health, verify
from bodycam.audit import overview as audit_overview
from bodycam.audit import service as audit_service
from bodycam.audit import trail
from bodycam.auth import login as auth_login
from bodycam.auth import mfa as auth_mfa
from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from bodycam.compliance import dashboard, matching_service, report, review, review_report
from bodycam.compliance import service as compliance_service
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.rules import Rules
from bodycam.compliance.service import CadImportError
from bodycam.db import transaction
from bodycam.disclosure import appeals as disclosure_appeals
from bodycam.disclosure import deadlines as disclosure_deadlines
from bodycam.disclosure import discovery as disclosure_discovery
from bodycam.disclosure import footage as disclosure_footage
from bodycam.disclosure import holds as disclosure_holds
from bodycam.disclosure import release_builder as disclosure_release_builder
from bodycam.disclosure import releases as disclosure_releases
from bodycam.disclosure import report as disclosure_report
from bodycam.disclosure import requests as disclosure_requests
from bodycam.disclosure import search as disclosure_search
from bodycam.disclosure import shares as disclosure_shares
from bodycam.disclosure import workflow as disclosure_workflow
from bodycam.disclosure.clock import DEFAULT_CLOCK
from bodycam.disclosure.errors import DisclosureError
from bodycam.evaluation import cost_actuals
from bodycam.evaluation import runs as evaluation_runs
from bodycam.evidence import service as ev
from bodycam.evidence.service import NotFound, SearchQuery
from bodycam.fleet import axis_service as fleet_axis
from bodycam.fleet import events as fleet_events
from bodycam.fleet import importing as fleet_importing
from bodycam.fleet import imports as fleet_imports
from bodycam.fleet import inventory as fleet_inventory
from bodycam.fleet import recall_uploads as fleet_recall_uploads
from bodycam.fleet import recall_warnings as fleet_recall_warnings
from bodycam.fleet import recalls as fleet_recalls
from bodycam.fleet import reports as fleet_reports
from bodycam.fleet.common import FleetError
from bodycam.jobs import service as jobs_service
from bodycam.policy import complainant as policy_complainant
from bodycam.policy import enforce as policy_enforce
from bodycam.policy import scorecard as policy_scorecard
from bodycam.policy import service as policy_service
from bodycam.policy.document import PolicyError
from bodycam.retention import cases, tiers
from bodycam.retention import service as retention
from bodycam.retention.service import RetentionError

P = Permission
MODULES: list[ModuleType] = [
    ev,
    auth_service,
    auth_login,
    auth_mfa,
    audit_service,
    trail,
    audit_overview,
    system_health,
    verify,
    retention,
    cases,
    tiers,
    fleet_importing,
    fleet_imports,
    fleet_inventory,
    fleet_events,
    fleet_reports,
    fleet_recalls,
    fleet_recall_uploads,
    fleet_recall_warnings,
    fleet_axis,
    compliance_service,
    dashboard,
    matching_service,
    report,
    review,
    review_report,
    jobs_service,
    disclosure_requests,
    disclosure_search,
    disclosure_appeals,
    disclosure_deadlines,
    disclosure_report,
    disclosure_holds,
    disclosure_workflow,
    disclosure_footage,
    disclosure_shares,
    disclosure_releases,
    disclosure_release_builder,
    disclosure_discovery,
    cost_actuals,
    evaluation_runs,
    policy_service,
    policy_enforce,
    policy_complainant,
    policy_scorecard,
]
# Errors raised after the permission check passed (the call was allowed, then failed on
# its input): they count as "allowed".
DOMAIN_ERRORS = (RetentionError, CadImportError, DisclosureError, FleetError, LookupError)
DOMAIN_ERRORS += (fleet_axis.AxisError,)
DOMAIN_ERRORS += (evaluation_runs.EvaluationError,)
DOMAIN_ERRORS += (auth_service.AuthError,)  # MFA and token errors on their input
DOMAIN_ERRORS += (PolicyError,)  # a bad policy, or no policy in force
RULES = Rules.from_toml('[[policy]]\nversion = "t"\neffective_from = 2020-01-01\n')
SCHEDULE = '[categories."Uncategorized"]\nretain = "10 years"\n'
# Functions that take an actor but only record on its behalf, or check a permission named
# by their caller (no rule of their own): the session-level steps a service runs inside
# its own transaction after its own check (automatic holds, a request's history row).
NOT_GATES = {
    "record",
    "record_denial",
    "actor_for",
    "require",
    "place_automatic",
    "release_automatic",
    "sync_holds",
    "release_recording",
    "add_step",
    "revoke_shares_of",  # runs in update_user's transaction, after its auth:user:manage check
    # The camera policy's hook and its rule: run by the evidence service after its own
    # permission and scope checks (covered by view, open_stream and edit).
    "check_recording_access",
    "refusal_for",
    "warn_if_recalled",  # records on the ingesting actor's behalf, after the ingest's check
    "queue_rematch",  # runs in import_cad's transaction; queues only for compliance:match:run
}

ROLES = {  # role -> the test department's user of that role
    Role.OFFICER: "o1",
    Role.SUPERVISOR: "sgt_a",
    Role.RECORDS_CLERK: "clerk",
    Role.AUDITOR: "auditor",
    Role.EXTERNAL: "external",
    Role.EQUIPMENT: "equipment",
    Role.ANALYST: "analyst",
    Role.ADMINISTRATOR: "admin",
}


@dataclass
class World:
    ctx: Any
    vault: ev.Vault
    own: str  # o1's recording, category Traffic Stop (squad North-A)
    other_squad: str  # o3's recording (South-B)
    confidential: str  # o1's recording in a confidential category
    audit_id: str
    job_id: str  # a job of another user (the administrator's)


@dataclass(frozen=True)
class Case:
    """One service call and the rule that says whether ``actor`` may make it."""

    function: str
    call: Callable[[World, Actor], Any]
    granted: Callable[[frozenset[Permission], str], bool]


def any_view(p: frozenset[Permission]) -> bool:
    return bool({P.RECORDING_VIEW_ANY, P.RECORDING_VIEW_SQUAD, P.RECORDING_VIEW_OWN} & p)


def sees_own(p: frozenset[Permission], role: str) -> bool:
    """Scope rule for o1's own Traffic Stop recording (the caller's squad is North-A)."""
    return bool({P.RECORDING_VIEW_ANY, P.RECORDING_VIEW_SQUAD, P.RECORDING_VIEW_OWN} & p) and (
        P.RECORDING_VIEW_ANY in p or P.RECORDING_VIEW_SQUAD in p or role == "officer"
    )


def sees_other_squad(p: frozenset[Permission], role: str) -> bool:
    return P.RECORDING_VIEW_ANY in p


def sees_confidential(p: frozenset[Permission], role: str) -> bool:
    return sees_own(p, role) and P.CONFIDENTIAL_VIEW in p


def _tx(w: World, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    with transaction(w.ctx.sessions) as s:
        return fn(s, *args, **kw)


_n = iter(range(10_000))


def _reads_compliance(p: frozenset[Permission], role: str) -> bool:
    return bool({P.COMPLIANCE_VIEW, P.COMPLIANCE_VIEW_SQUAD, P.COMPLIANCE_VIEW_OWN} & p)


def _reads_o1_compliance(p: frozenset[Permission], role: str) -> bool:
    """o1 is in North-A, the tested supervisor's squad."""
    return (
        P.COMPLIANCE_VIEW in p
        or (P.COMPLIANCE_VIEW_SQUAD in p and role == "supervisor")
        or (P.COMPLIANCE_VIEW_OWN in p and role == "officer")
    )


def _user_id(w: World, name: str) -> str:
    from bodycam.auth.models import User

    with w.ctx.sessions() as s:
        return s.scalars(select(User.id).where(User.username == name)).one()


def _open_case(w: World) -> str:
    """A case opened by the records clerk, for a close to act on."""
    number = f"CC-{next(_n)}"
    cases.open_case(w.ctx.sessions, _clerk(w), number)
    return number


def _clerk(w: World) -> Actor:
    from bodycam.auth.models import User

    with w.ctx.sessions() as s:
        user = s.scalars(select(User).where(User.username == "clerk")).one()
        return auth_service.actor_for(user, "test")


def _review(w: World, recording: str, supervisor: str) -> str:
    """A new pending supervisor review of ``recording``, assigned to ``supervisor``."""
    from sqlalchemy import select

    from bodycam.auth.models import User
    from bodycam.compliance.review_models import SupervisorReview
    from bodycam.evidence.models import Recording

    with transaction(w.ctx.sessions) as s:
        rec = s.get(Recording, recording)
        sup = s.scalars(select(User).where(User.username == supervisor)).one()
        officer = s.get(User, rec.officer_id)
        r = SupervisorReview(
            cycle=f"T{next(_n)}",
            officer_id=officer.id,
            recording_id=recording,
            squad_id=officer.squad_id,
            supervisor_id=sup.id,
            sampled_by=sup.id,
        )
        s.add(r)
        s.flush()
        return r.id


def _request(w: World) -> str:
    """A new public-records request logged by the records clerk."""
    return disclosure_requests.create_request(
        w.ctx.sessions, _clerk(w), requester_name="x", requester_type="public", description="x"
    ).number


def _reads_clock(p: frozenset[Permission], role: str) -> bool:
    return bool({P.DISCLOSURE_VIEW, P.DISCLOSURE_CLOCK} & p)


def _manages_requests(p: frozenset[Permission], role: str) -> bool:
    return P.DISCLOSURE_MANAGE in p


def _sharing(w: World) -> disclosure_shares.Sharing:
    return disclosure_shares.Sharing(
        w.vault, w.ctx.settings.resolved_home / "shares", prepare_ahead=False
    )


def _share(w: World) -> str:
    """A new share of o1's recording, made by the records clerk."""
    return disclosure_shares.create_share(
        _sharing(w),
        _clerk(w),
        recordings=[w.own],
        recipient_name="x",
        recipient_email="x@example.org",
        recipient_role="defense",
    ).view.id


def _reads_reviews(p: frozenset[Permission], role: str) -> bool:
    return bool({P.COMPLIANCE_REVIEW_VIEW, P.COMPLIANCE_REVIEW_PERFORM} & p)


def _o2(w: World) -> Actor:
    from bodycam.auth.models import User

    with w.ctx.sessions() as s:
        user = s.scalars(select(User).where(User.username == "o2")).one()
        return auth_service.actor_for(user, "t")


def _token_of(w: World, owner: Actor) -> str:
    """A new API token of ``owner``, for a revoke to act on."""
    return _tx(w, auth_service.issue_token, owner, f"t{next(_n)}").id


def _locked_name(w: World) -> str:
    """A user name locked by failed sign-ins, for an unlock to act on."""
    from bodycam.auth.models import LoginThrottle
    from bodycam.ids import utcnow

    name = f"locked{next(_n)}"
    with transaction(w.ctx.sessions) as s:
        s.add(LoginThrottle(username=name, failures=5, locked_at=utcnow()))
    return name


def _forget_mfa(w: World, actor: Actor) -> None:
    from sqlalchemy import delete

    from bodycam.auth.models import RecoveryCode, UserTotp

    with transaction(w.ctx.sessions) as s:
        s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.user_id))
        s.execute(delete(UserTotp).where(UserTotp.user_id == actor.user_id))


def _enrol(w: World, actor: Actor) -> str:
    """Enrol ``actor`` afresh (with the previous step's code); returns the current code."""
    import time

    import pyotp

    _forget_mfa(w, actor)
    secret = _tx(w, auth_mfa.begin_enrolment, actor, "PD").secret
    _tx(w, auth_mfa.confirm_enrolment, actor, pyotp.TOTP(secret).at(time.time() - 30))
    return pyotp.TOTP(secret).now()


CASES = [
    Case(
        "retry_job",
        lambda w, a: jobs_service.retry_job(w.ctx.sessions, a, w.job_id),
        lambda p, r: P.JOBS_VIEW in p,
    ),
    Case("search", lambda w, a: ev.search(w.vault, a, SearchQuery()), lambda p, r: any_view(p)),
    Case("view", lambda w, a: ev.view(w.vault, a, w.own), sees_own),
    Case("view", lambda w, a: ev.view(w.vault, a, w.other_squad), sees_other_squad),
    Case("view", lambda w, a: ev.view(w.vault, a, w.confidential), sees_confidential),
    Case("open_stream", lambda w, a: ev.open_stream(w.vault, a, w.own, "bytes=0-9"), sees_own),
    Case(
        "open_stream",
        lambda w, a: ev.open_stream(w.vault, a, w.other_squad, None),
        sees_other_squad,
    ),
    Case(
        "open_stream",
        lambda w, a: ev.open_stream(w.vault, a, w.own, None, download=True),
        lambda p, r: sees_own(p, r) and P.RECORDING_DOWNLOAD in p,
    ),
    Case(
        "edit",
        lambda w, a: ev.edit(w.vault, a, w.own, {"notes": f"n{next(_n)}"}),
        lambda p, r: sees_own(p, r) and P.RECORDING_EDIT in p,
    ),
    Case(
        "edit",
        lambda w, a: ev.edit(w.vault, a, w.other_squad, {"notes": f"n{next(_n)}"}),
        lambda p, r: sees_other_squad(p, r) and P.RECORDING_EDIT in p,
    ),
    Case(
        "ingest_file",
        lambda w, a: ev.ingest_file(w.vault, a, w.ctx.clip, officer_badge="1001"),
        lambda p, r: P.RECORDING_INGEST in p,
    ),
    Case(
        "ingest_file",
        lambda w, a: ev.ingest_file(w.vault, a, w.ctx.clip, officer_badge="2001"),
        lambda p, r: P.RECORDING_INGEST in p and P.RECORDING_VIEW_ANY in p,
    ),
    Case(
        "authorize_ingest",
        lambda w, a: ev.authorize_ingest(w.vault, a, "2001"),
        lambda p, r: P.RECORDING_INGEST in p and P.RECORDING_VIEW_ANY in p,
    ),
    Case(
        "update_user",
        lambda w, a: _tx(w, auth_service.update_user, a, "o2", squad=f"S{next(_n)}"),
        lambda p, r: P.USER_MANAGE in p,
    ),
    Case(
        "create_category",
        lambda w, a: ev.create_category(w.vault, a, f"C{next(_n)}"),
        lambda p, r: P.CATEGORY_MANAGE in p,
    ),
    Case(
        "create_user",
        lambda w, a: _tx(w, auth_service.create_user, a, f"u{next(_n)}", "officer"),
        lambda p, r: P.USER_MANAGE in p,
    ),
    Case(
        "list_users", lambda w, a: _tx(w, auth_service.list_users, a), lambda p, r: P.USER_VIEW in p
    ),
    Case(
        "set_password",
        lambda w, a: _tx(w, auth_service.set_password, a, "o2", "long-enough-pw"),
        lambda p, r: P.USER_MANAGE in p,
    ),
    Case("issue_token", lambda w, a: _tx(w, auth_service.issue_token, a, "t"), lambda p, r: True),
    # Issue 12: token management, lockout, TOTP (every user manages their own).
    Case("list_tokens", lambda w, a: _tx(w, auth_service.list_tokens, a), lambda p, r: True),
    Case(
        "list_tokens",
        lambda w, a: _tx(w, auth_service.list_tokens, a, "o2"),
        lambda p, r: P.USER_MANAGE in p,
    ),
    Case(
        "revoke_token",
        lambda w, a: _tx(w, auth_service.revoke_token, a, _token_of(w, a)),
        lambda p, r: True,
    ),
    Case(
        "revoke_token",
        lambda w, a: _tx(w, auth_service.revoke_token, a, _token_of(w, _o2(w))),
        lambda p, r: P.USER_MANAGE in p,
    ),
    Case(
        "unlock",
        lambda w, a: _tx(w, auth_login.unlock, a, _locked_name(w)),
        lambda p, r: P.USER_MANAGE in p,
    ),
    Case(
        "begin_enrolment",
        lambda w, a: (_forget_mfa(w, a), _tx(w, auth_mfa.begin_enrolment, a, "PD")),
        lambda p, r: True,
    ),
    Case("confirm_enrolment", lambda w, a: _enrol(w, a), lambda p, r: True),
    Case(
        "new_recovery_codes",
        lambda w, a: _tx(w, auth_mfa.new_recovery_codes, a, _enrol(w, a)),
        lambda p, r: True,
    ),
    Case(
        "reset_mfa",
        lambda w, a: _tx(w, auth_mfa.reset_mfa, a, (_enrol(w, _o2(w)), "o2")[1]),
        lambda p, r: P.USER_MANAGE in p,
    ),
    Case(
        "recording_trail",
        lambda w, a: trail.recording_trail(w.ctx.sessions, a, w.own),
        lambda p, r: P.AUDIT_VIEW in p,
    ),
    Case(
        "recording_trail",
        lambda w, a: trail.recording_trail(w.ctx.sessions, a, w.own, export_format="csv"),
        lambda p, r: P.AUDIT_EXPORT in p,
    ),
    Case(
        "proof_document",
        lambda w, a: audit_service.proof_document(w.ctx.sessions, w.ctx.signer, a, w.audit_id),
        lambda p, r: P.AUDIT_EXPORT in p,
    ),
    Case("verify_all", lambda w, a: verify.verify_all(w.ctx, a), lambda p, r: P.AUDIT_VERIFY in p),
    Case(
        "verify_audit_since",
        lambda w, a: verify.verify_audit_since(w.ctx, a),
        lambda p, r: P.AUDIT_VERIFY in p,
    ),
    Case(
        "search_log",
        lambda w, a: audit_overview.search_log(w.ctx.sessions, a, audit_overview.AuditQuery()),
        lambda p, r: P.AUDIT_VIEW in p,
    ),
    Case(
        "access_report",
        lambda w, a: audit_overview.access_report(w.ctx.sessions, a, recording_id=w.own),
        lambda p, r: P.AUDIT_VIEW in p,
    ),
    Case(
        "activity_counts",
        lambda w, a: audit_overview.activity_counts(
            w.ctx.sessions, a, datetime(2020, 1, 1, tzinfo=UTC)
        ),
        lambda p, r: P.AUDIT_VIEW in p,
    ),
    Case(
        "verification_status",
        lambda w, a: audit_overview.verification_status(w.ctx, a),
        lambda p, r: bool({P.AUDIT_VIEW, P.AUDIT_VERIFY} & p),
    ),
    Case(
        "system_health",
        lambda w, a: system_health.system_health(w.ctx, a),
        lambda p, r: P.SYSTEM_HEALTH_VIEW in p,
    ),
    Case(
        "import_schedule",
        lambda w, a: retention.import_schedule(w.ctx.sessions, a, SCHEDULE),
        lambda p, r: P.RETENTION_SCHEDULE in p,
    ),
    Case(
        "schedule_versions",
        lambda w, a: retention.schedule_versions(w.ctx.sessions, a),
        lambda p, r: P.RETENTION_VIEW in p,
    ),
    Case(
        "open_case",
        lambda w, a: cases.open_case(w.ctx.sessions, a, f"PC-{next(_n)}"),
        lambda p, r: P.RETENTION_HOLD in p,
    ),
    Case(
        "close_case",
        lambda w, a: cases.close_case(w.ctx.sessions, a, _open_case(w), "closed"),
        lambda p, r: P.RETENTION_HOLD in p,
    ),
    Case(
        "list_cases",
        lambda w, a: cases.list_cases(w.ctx.sessions, a),
        lambda p, r: P.RETENTION_VIEW in p,
    ),
    Case(
        "export_schedule",
        lambda w, a: retention.export_schedule(w.ctx.sessions, a),
        lambda p, r: P.RETENTION_VIEW in p,
    ),
    Case(
        "holds_on",
        lambda w, a: retention.holds_on(w.ctx.sessions, a, w.own),
        lambda p, r: P.RETENTION_VIEW in p,
    ),
    Case(
        "place_hold",
        lambda w, a: retention.place_hold(
            w.ctx.sessions, a, case=f"C{next(_n)}", reason_type="case", reason="x"
        ),
        lambda p, r: P.RETENTION_HOLD in p,
    ),
    Case(
        "release_hold",
        lambda w, a: retention.release_hold(w.ctx.sessions, a, "no-such-hold", "x"),
        lambda p, r: P.RETENTION_HOLD in p,
    ),
    Case(
        "list_holds",
        lambda w, a: retention.list_holds(w.ctx.sessions, a),
        lambda p, r: P.RETENTION_VIEW in p,
    ),
    Case(
        "upcoming",
        lambda w, a: retention.upcoming(w.ctx.sessions, a),
        lambda p, r: P.RETENTION_VIEW in p,
    ),
    Case(
        "approve_deletions",
        lambda w, a: retention.approve_deletions(w.ctx.sessions, a),
        lambda p, r: P.RETENTION_APPROVE in p,
    ),
    Case(
        "undo_deletion",
        lambda w, a: retention.undo_deletion(w.ctx.sessions, a, w.own, "x"),
        lambda p, r: P.RETENTION_APPROVE in p,
    ),
    Case(
        "archive", lambda w, a: tiers.archive(w.ctx, a, [w.own]), lambda p, r: P.RETENTION_TIER in p
    ),
    Case(
        "restore", lambda w, a: tiers.restore(w.ctx, a, w.own), lambda p, r: P.RETENTION_TIER in p
    ),
    Case("usage", lambda w, a: tiers.usage(w.ctx, a), lambda p, r: P.RETENTION_VIEW in p),
    Case(
        "import_cad",
        lambda w, a: compliance_service.import_cad(
            w.ctx.sessions, a, w.ctx.clip, load_preset("generic")
        ),
        lambda p, r: P.COMPLIANCE_IMPORT in p,
    ),
    Case(
        "run_matching",
        lambda w, a: matching_service.run_matching(w.ctx.sessions, a, RULES),
        lambda p, r: P.COMPLIANCE_MATCH in p,
    ),
    Case(
        "queue_matching",
        lambda w, a: matching_service.queue_matching(
            w.ctx.sessions, a, '[[policy]]\nversion = "t"\neffective_from = 2020-01-01\n'
        ),
        lambda p, r: P.COMPLIANCE_MATCH in p,
    ),
    Case("results", lambda w, a: matching_service.results(w.ctx.sessions, a), _reads_compliance),
    Case(
        "compliance_report",
        lambda w, a: report.compliance_report(w.ctx.sessions, a, by="officer"),
        _reads_compliance,
    ),
    Case(
        "trend",
        lambda w, a: report.trend(w.ctx.sessions, a, by="all", period="month", tz="UTC"),
        _reads_compliance,
    ),
    Case(
        "visible_officers",
        lambda w, a: dashboard.visible_officers(w.ctx.sessions, a),
        _reads_compliance,
    ),
    Case(
        "officer_verdicts",  # o1 (North-A): everyone, the North-A supervisor, o1 themself
        lambda w, a: dashboard.officer_verdicts(w.ctx.sessions, a, _user_id(w, "o1"))[1],
        _reads_o1_compliance,
    ),
    Case(
        "officer_verdicts",  # o3 (South-B): only those who see every officer
        lambda w, a: dashboard.officer_verdicts(w.ctx.sessions, a, _user_id(w, "o3"))[1],
        lambda p, r: P.COMPLIANCE_VIEW in p,
    ),
    Case(
        "event_detail",  # no such event: a reader gets "not found", others are refused
        lambda w, a: dashboard.event_detail(w.ctx.sessions, a, "NO-SUCH-EVENT"),
        _reads_compliance,
    ),
    Case(
        "sample_cycle",
        lambda w, a: review.sample_cycle(w.ctx.sessions, a, "2026-03", seed="s", tz="UTC"),
        lambda p, r: P.COMPLIANCE_REVIEW_SAMPLE in p,
    ),
    Case("list_reviews", lambda w, a: review.list_reviews(w.ctx.sessions, a), _reads_reviews),
    Case(
        "show_review",  # o1's recording, assigned to sgt_a (the supervisor tested)
        lambda w, a: review.show_review(w.ctx.sessions, a, _review(w, w.own, "sgt_a")),
        _reads_reviews,
    ),
    Case(
        "show_review",  # o3's recording, South-B: sgt_b's
        lambda w, a: review.show_review(w.ctx.sessions, a, _review(w, w.other_squad, "sgt_b")),
        lambda p, r: P.COMPLIANCE_REVIEW_VIEW in p,
    ),
    Case(
        "complete_review",
        lambda w, a: review.complete_review(
            w.ctx.sessions,
            a,
            _review(w, w.own, "sgt_a"),
            dict.fromkeys(review.CHECKLIST, "no") | {"professionalism": "ok"},
        ),
        lambda p, r: P.COMPLIANCE_REVIEW_PERFORM in p,
    ),
    Case(
        "complete_review",
        lambda w, a: review.complete_review(
            w.ctx.sessions, a, _review(w, w.other_squad, "sgt_b"), {}
        ),
        lambda p, r: False,  # another squad's: no role tested may
    ),
    Case(
        "skip_review",
        lambda w, a: review.skip_review(w.ctx.sessions, a, _review(w, w.own, "sgt_a"), "x"),
        lambda p, r: P.COMPLIANCE_REVIEW_PERFORM in p,
    ),
    Case(
        "skip_review",
        lambda w, a: review.skip_review(w.ctx.sessions, a, _review(w, w.other_squad, "sgt_b"), "x"),
        lambda p, r: False,
    ),
    Case(
        "review_report",
        lambda w, a: review_report.review_report(w.ctx.sessions, a, "2026-03", tz="UTC"),
        lambda p, r: P.COMPLIANCE_REVIEW_REPORT in p,
    ),
    Case(
        "create_request",
        lambda w, a: disclosure_requests.create_request(
            w.ctx.sessions, a, requester_name="x", requester_type="media", description="x"
        ),
        _manages_requests,
    ),
    Case(
        "get_request",
        lambda w, a: disclosure_requests.get_request(w.ctx.sessions, a, _request(w)),
        lambda p, r: P.DISCLOSURE_VIEW in p,
    ),
    Case(
        "list_requests",
        lambda w, a: disclosure_requests.list_requests(w.ctx.sessions, a),
        lambda p, r: P.DISCLOSURE_VIEW in p,
    ),
    Case(
        "change_status",
        lambda w, a: disclosure_workflow.change_status(
            w.ctx.sessions, a, _request(w), "acknowledged"
        ),
        _manages_requests,
    ),
    Case(
        "extend_deadline",
        lambda w, a: disclosure_workflow.extend_deadline(w.ctx.sessions, a, _request(w), 1, "x"),
        _manages_requests,
    ),
    Case(
        "attach",
        lambda w, a: disclosure_footage.attach(w.vault, a, _request(w), [w.own]),
        _manages_requests,
    ),
    Case(
        "detach",  # nothing attached: refused on its input once allowed
        lambda w, a: disclosure_footage.detach(w.ctx.sessions, a, _request(w), [w.own]),
        _manages_requests,
    ),
    Case(
        "search_footage",
        lambda w, a: disclosure_search.search_footage(w.vault, a, _request(w)),
        _manages_requests,
    ),
    Case(
        "file_appeal",  # open and on time: refused on its input once allowed
        lambda w, a: disclosure_appeals.file_appeal(w.ctx.sessions, a, _request(w), "x"),
        _manages_requests,
    ),
    Case(
        "decide_appeal",
        lambda w, a: disclosure_appeals.decide_appeal(w.ctx.sessions, a, _request(w), "denied"),
        _manages_requests,
    ),
    Case(
        "request_report",
        lambda w, a: disclosure_report.request_report(w.ctx.sessions, a),
        lambda p, r: P.DISCLOSURE_VIEW in p,
    ),
    Case(
        "import_clock",
        lambda w, a: disclosure_deadlines.import_clock(w.ctx.sessions, a, DEFAULT_CLOCK),
        lambda p, r: P.DISCLOSURE_CLOCK in p,
    ),
    Case(
        "build_release",  # a request just received: refused on its input once allowed
        lambda w, a: disclosure_releases.build_release(w.ctx, a, _request(w)),
        lambda p, r: P.DISCLOSURE_RELEASE_BUILD in p,
    ),
    Case(
        "release_choices",
        lambda w, a: disclosure_release_builder.release_choices(w.ctx, a, _request(w)),
        lambda p, r: P.DISCLOSURE_RELEASE_BUILD in p,
    ),
    Case(
        "queue_release",  # nothing ticked: refused on its input once allowed
        lambda w, a: disclosure_release_builder.queue_release(w.ctx, a, _request(w), []),
        lambda p, r: P.DISCLOSURE_RELEASE_BUILD in p,
    ),
    Case(
        "release_build",  # no such build: refused on its input once allowed
        lambda w, a: disclosure_release_builder.release_build(w.ctx, a, _request(w), "NOPE"),
        lambda p, r: P.DISCLOSURE_RELEASE_BUILD in p,
    ),
    Case(
        "build_bundle",  # a case with no recording: refused on its input once allowed
        lambda w, a: disclosure_discovery.build_bundle(
            w.ctx, a, "NO-SUCH-CASE", w.ctx.settings.resolved_home / f"bundle-{next(_n)}"
        ),
        lambda p, r: P.DISCLOSURE_DISCOVERY_BUILD in p,
    ),
    Case(
        "export_clock",
        lambda w, a: disclosure_deadlines.export_clock(w.ctx.sessions, a),
        _reads_clock,
    ),
    Case(
        "clock_versions",
        lambda w, a: disclosure_deadlines.clock_versions(w.ctx.sessions, a),
        _reads_clock,
    ),
    Case(
        "cost_actuals",
        lambda w, a: cost_actuals.cost_actuals(w.ctx.sessions, a),
        lambda p, r: P.EVALUATION_COST_VIEW in p,
    ),
    # Evaluations: no configuration, or an unknown id: refused on the input once allowed.
    Case(
        "create_evaluation",
        lambda w, a: evaluation_runs.create_evaluation(_evaluations(w), a, None, []),
        lambda p, r: P.EVALUATION_RUN in p,
    ),
    Case(
        "list_evaluations",
        lambda w, a: evaluation_runs.list_evaluations(_evaluations(w), a),
        lambda p, r: P.EVALUATION_VIEW in p,
    ),
    Case(
        "get_evaluation",
        lambda w, a: evaluation_runs.get_evaluation(_evaluations(w), a, "NOPE"),
        lambda p, r: P.EVALUATION_VIEW in p,
    ),
    Case(
        "report_file",
        lambda w, a: evaluation_runs.report_file(_evaluations(w), a, "NOPE", "report.pdf"),
        lambda p, r: P.EVALUATION_VIEW in p,
    ),
    Case(
        "create_share",
        lambda w, a: disclosure_shares.create_share(
            _sharing(w),
            a,
            recordings=[w.own],
            recipient_name="x",
            recipient_email="x@example.org",
            recipient_role="prosecutor",
        ),
        lambda p, r: P.SHARE_MANAGE in p,
    ),
    Case(
        "list_shares",
        lambda w, a: disclosure_shares.list_shares(_sharing(w), a),
        lambda p, r: P.SHARE_VIEW in p,
    ),
    Case(
        "get_share",
        lambda w, a: disclosure_shares.get_share(_sharing(w), a, _share(w)),
        lambda p, r: P.SHARE_VIEW in p,
    ),
    Case(
        "revoke_share",
        lambda w, a: disclosure_shares.revoke_share(_sharing(w), a, _share(w), "x"),
        lambda p, r: P.SHARE_MANAGE in p,
    ),
    Case(
        "new_code",
        lambda w, a: disclosure_shares.new_code(_sharing(w), a, _share(w)),
        lambda p, r: P.SHARE_MANAGE in p,
    ),
    Case("list_jobs", lambda w, a: jobs_service.list_jobs(w.ctx.sessions, a), lambda p, r: True),
    Case("page_jobs", lambda w, a: jobs_service.page_jobs(w.ctx.sessions, a), lambda p, r: True),
    Case(
        "page_jobs",
        lambda w, a: jobs_service.page_jobs(w.ctx.sessions, a, everyone=True),
        lambda p, r: P.JOBS_VIEW in p,
    ),
    Case(
        "list_jobs",
        lambda w, a: jobs_service.list_jobs(w.ctx.sessions, a, everyone=True),
        lambda p, r: P.JOBS_VIEW in p,
    ),
    Case(
        "get_job",
        lambda w, a: jobs_service.get_job(w.ctx.sessions, a, w.job_id),
        lambda p, r: P.JOBS_VIEW in p,
    ),
    # Fleet: each call acts on nothing in the way (an unknown serial, recall or criterion)
    # or on a file of its own; an input error after the check counts as allowed.
    Case(
        "run_import",
        lambda w, a: fleet_importing.run_import(
            w.ctx.sessions,
            a,
            "docks",
            _fleet_file(w, "docks.csv", "dock,precinct,ports\n"),
            fleet_imports.DOCK_COLUMNS,
            {"dock"},
            lambda s, run: None,
        ),
        lambda p, r: P.FLEET_MANAGE in p,
    ),
    Case(
        "import_cameras",
        lambda w, a: fleet_imports.import_cameras(
            w.ctx.sessions, a, _fleet_file(w, "cameras.csv", "serial,model\nPERM-1,AX-3\n")
        ),
        lambda p, r: P.FLEET_MANAGE in p,
    ),
    Case(
        "import_docks",
        lambda w, a: fleet_imports.import_docks(
            w.ctx.sessions, a, _fleet_file(w, "docks.csv", "dock,precinct,ports\nP-1,North,4\n")
        ),
        lambda p, r: P.FLEET_MANAGE in p,
    ),
    Case(
        "import_assignments",
        lambda w, a: fleet_imports.import_assignments(
            w.ctx.sessions,
            a,
            _fleet_file(w, "a.csv", "serial,badge,kind,start\nNOPE,1001,personal,2026-01-01Z\n"),
        ),
        lambda p, r: P.FLEET_MANAGE in p,
    ),
    Case(
        "list_cameras",
        lambda w, a: fleet_inventory.list_cameras(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "list_docks",
        lambda w, a: fleet_inventory.list_docks(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "camera_detail",
        lambda w, a: fleet_inventory.camera_detail(w.ctx.sessions, a, "NOPE"),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "assign_camera",
        lambda w, a: fleet_inventory.assign_camera(w.ctx.sessions, a, "NOPE", "1001"),
        lambda p, r: P.FLEET_MANAGE in p,
    ),
    Case(
        "return_camera",
        lambda w, a: fleet_inventory.return_camera(w.ctx.sessions, a, "NOPE"),
        lambda p, r: P.FLEET_MANAGE in p,
    ),
    Case(
        "update_camera",
        lambda w, a: fleet_inventory.update_camera(w.ctx.sessions, a, "NOPE", {"model": "X"}),
        lambda p, r: P.FLEET_MANAGE in p,
    ),
    Case(
        "import_dock_log",
        lambda w, a: fleet_events.import_dock_log(w.ctx.sessions, a, _fleet_file(w, "d.jsonl", "")),
        lambda p, r: P.FLEET_EVENTS_INGEST in p,
    ),
    Case(
        "ingest_events",
        lambda w, a: fleet_events.ingest_events(w.ctx.sessions, a, []),
        lambda p, r: P.FLEET_EVENTS_INGEST in p,
    ),
    Case(
        "not_docked",
        lambda w, a: fleet_reports.not_docked(w.ctx.sessions, a, 3),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "late_uploads",
        lambda w, a: fleet_reports.late_uploads(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "power_cycling",
        lambda w, a: fleet_reports.power_cycling(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "battery_by_lot",
        lambda w, a: fleet_reports.battery_by_lot(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "create_recall",
        lambda w, a: fleet_recalls.create_recall(w.ctx.sessions, a, model="NONE", reason="x"),
        lambda p, r: P.FLEET_RECALL_MANAGE in p,
    ),
    Case(
        "create_rollout",
        lambda w, a: fleet_recalls.create_rollout(
            w.ctx.sessions, a, "9.9", model="NONE", reason="x"
        ),
        lambda p, r: P.FLEET_RECALL_MANAGE in p,
    ),
    Case(
        "resolve_recall",
        lambda w, a: fleet_recalls.resolve_recall(w.ctx.sessions, a, "NOPE", "NOPE", "returned"),
        lambda p, r: P.FLEET_RECALL_MANAGE in p,
    ),
    Case(
        "list_campaigns",
        lambda w, a: fleet_recalls.list_campaigns(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "show_campaign",
        lambda w, a: fleet_recalls.show_campaign(w.ctx.sessions, a, "NOPE"),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    # The camera policy: apply, statements, complainant sessions, scorecard. Each call acts
    # on nothing in the way (bad text, no policy in force, an unknown session).
    Case(
        "apply_policy",
        lambda w, a: policy_service.apply_policy(
            w.ctx.sessions, a, "[policy", file="p.toml", base_dir=Path(".")
        ),
        lambda p, r: P.POLICY_MANAGE in p,
    ),
    Case(
        "record_statement",
        lambda w, a: policy_enforce.record_statement(
            w.ctx.sessions, a, officer_badge="1001", event=f"E-{next(_n)}"
        ),
        lambda p, r: P.POLICY_STATEMENT in p and (P.RECORDING_VIEW_ANY in p or r == "supervisor"),
    ),
    Case(
        "record_statement",
        lambda w, a: policy_enforce.record_statement(
            w.ctx.sessions, a, officer_badge="2001", event=f"E-{next(_n)}"
        ),
        lambda p, r: P.POLICY_STATEMENT in p and P.RECORDING_VIEW_ANY in p,
    ),
    Case(
        "list_statements",
        lambda w, a: policy_enforce.list_statements(w.ctx.sessions, a),
        lambda p, r: P.POLICY_STATEMENT in p,
    ),
    Case(
        "arrange_session",
        lambda w, a: policy_complainant.arrange_session(
            _sharing(w),
            a,
            complaint_number="IA-1",
            complainant_name="x",
            complainant_email="x@example.org",
            supervisor="sgt_a",
            recordings=[w.own],
        ),
        lambda p, r: P.POLICY_COMPLAINANT in p,
    ),
    Case(
        "end_session",
        lambda w, a: policy_complainant.end_session(_sharing(w), a, "NOPE", "x"),
        lambda p, r: P.POLICY_COMPLAINANT in p,
    ),
    Case(
        "list_sessions",
        lambda w, a: policy_complainant.list_sessions(_sharing(w), a),
        lambda p, r: P.POLICY_COMPLAINANT in p,
    ),
    Case(
        "score",
        lambda w, a: policy_scorecard.score(w.ctx, a),
        lambda p, r: P.POLICY_SCORECARD in p,
    ),
    Case(
        "write_scorecard",
        lambda w, a: policy_scorecard.write_scorecard(
            w.ctx, a, w.ctx.settings.resolved_home / "scorecard"
        ),
        lambda p, r: P.POLICY_SCORECARD in p,
    ),
    Case(
        "recalled_uploads",
        lambda w, a: fleet_recall_uploads.recalled_uploads(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
]


def _evaluations(w: World) -> evaluation_runs.Library:
    return evaluation_runs.Library.from_context(w.ctx)


def _axis(w: World) -> fleet_axis.AxisStore:
    return fleet_axis.AxisStore.from_context(w.ctx)


def _empty_body(w: World) -> fleet_axis.Body:
    return fleet_axis.BodyWriter(_axis(w)).finish()


def _axis_grant(p: frozenset[Permission], role: str) -> bool:
    return P.FLEET_AXIS_UPLOAD in p


CASES += [
    Case(
        "list_warnings",
        lambda w, a: fleet_recall_warnings.list_warnings(w.ctx.sessions, a),
        lambda p, r: P.FLEET_VIEW in p,
    ),
    Case(
        "put_container",
        lambda w, a: fleet_axis.put_container(_axis(w), a, "Users", {}),
        _axis_grant,
    ),
    Case(
        "post_container",
        lambda w, a: fleet_axis.post_container(_axis(w), a, "u_AX-1_1", {}),
        _axis_grant,
    ),
    Case(
        "container_info",
        lambda w, a: fleet_axis.container_info(_axis(w), a, "Users"),
        _axis_grant,
    ),
    Case("list_containers", lambda w, a: fleet_axis.list_containers(_axis(w), a), _axis_grant),
    Case("check_put", lambda w, a: fleet_axis.check_put(_axis(w), a, "Users", "u", 0), _axis_grant),
    Case(
        "put_object",
        lambda w, a: fleet_axis.put_object(_axis(w), a, "Devices", "AX-P", _empty_body(w), {}),
        _axis_grant,
    ),
    Case(
        "post_object",
        lambda w, a: fleet_axis.post_object(_axis(w), a, "Users", "nobody", {}),
        _axis_grant,
    ),
    Case(
        "object_info",
        lambda w, a: fleet_axis.object_info(_axis(w), a, "System", "Capability.json"),
        _axis_grant,
    ),
    Case(
        "complete_container",
        lambda w, a: fleet_axis.complete_container(_axis(w), a, "u_AX-1_1"),
        _axis_grant,
    ),
]


def _fleet_file(w: World, name: str, text: str) -> Path:
    """A small inventory file or dock log under the deployment's home."""
    path = w.ctx.settings.resolved_home / "fleet" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _takes_actor(fn: Callable[..., Any]) -> bool:
    return any("Actor" in str(p.annotation) for p in inspect.signature(fn).parameters.values())


def test_every_service_function_is_covered():
    declared = {c.function for c in CASES}
    found = {
        name
        for mod in MODULES
        for name, fn in vars(mod).items()
        if inspect.isfunction(fn)
        and fn.__module__ == mod.__name__
        and not name.startswith("_")
        and _takes_actor(fn)
        and name not in NOT_GATES
    }
    assert found - declared == set(), f"declare a permission rule for: {sorted(found - declared)}"
    assert declared - found == set(), f"no such service function: {sorted(declared - found)}"


@pytest.fixture
def world(ctx, dept, vault, clips):
    clerk = dept.actor("clerk")
    own = ev.ingest_file(vault, clerk, clips(71), officer_badge="1001", category="Traffic Stop").id
    other = ev.ingest_file(vault, clerk, clips(72), officer_badge="2001").id
    conf = ev.ingest_file(
        vault, clerk, clips(73), officer_badge="1001", category="Sexual Assault"
    ).id
    from sqlalchemy import select

    from bodycam.audit.models import AuditRecord

    with ctx.sessions() as s:
        audit_id = s.scalars(select(AuditRecord.id).limit(1)).one()
    ctx.clip = clips(74)
    from bodycam.jobs.runner import submit

    with transaction(ctx.sessions) as s:
        job_id = submit(s, "test.nothing", {}, created_by=dept.users["admin"].id).id
    return World(ctx, vault, own, other, conf, audit_id, job_id)


def test_every_role_gets_exactly_what_the_table_grants(world, dept):
    wrong = []
    for case in CASES:
        for role, username in ROLES.items():
            actor = dept.actor(username)
            allowed = case.granted(ROLE_PERMISSIONS[role], role.value)
            try:
                result = case.call(world, actor)
                if isinstance(result, tuple) and len(result) == 3:  # drain streams
                    for _ in result[2]:
                        pass
                ok = True
            except (PermissionDenied, NotFound):
                ok = False
            except DOMAIN_ERRORS:  # past the permission check, refused on its input
                ok = True
            if ok != allowed:
                wrong.append(
                    f"{case.function} as {role.value}: {'allowed' if ok else 'refused'}, "
                    f"table says {'allow' if allowed else 'refuse'}"
                )
    assert wrong == []
