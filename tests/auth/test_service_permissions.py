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
from types import ModuleType
from typing import Any

import pytest

from bodycam import verify
from bodycam.audit import service as audit_service
from bodycam.audit import trail
from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from bodycam.compliance import matching_service, report
from bodycam.compliance import service as compliance_service
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.rules import Rules
from bodycam.compliance.service import CadImportError
from bodycam.db import transaction
from bodycam.evidence import service as ev
from bodycam.evidence.service import NotFound, SearchQuery
from bodycam.jobs import service as jobs_service
from bodycam.retention import service as retention
from bodycam.retention import tiers
from bodycam.retention.service import RetentionError

P = Permission
MODULES: list[ModuleType] = [
    ev,
    auth_service,
    audit_service,
    trail,
    verify,
    retention,
    tiers,
    compliance_service,
    matching_service,
    report,
    jobs_service,
]
# Errors raised after the permission check passed (the call was allowed, then failed on
# its input): they count as "allowed".
DOMAIN_ERRORS = (RetentionError, CadImportError, LookupError)
RULES = Rules.from_toml('[[policy]]\nversion = "t"\neffective_from = 2020-01-01\n')
SCHEDULE = '[categories."Uncategorized"]\nretain = "10 years"\n'
# Functions that take an actor but only record on its behalf, or check a permission named
# by their caller (no rule of their own).
NOT_GATES = {"record", "record_denial", "actor_for", "require"}

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

CASES = [
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
        "import_schedule",
        lambda w, a: retention.import_schedule(w.ctx.sessions, a, SCHEDULE),
        lambda p, r: P.RETENTION_SCHEDULE in p,
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
        "results",
        lambda w, a: matching_service.results(w.ctx.sessions, a),
        lambda p, r: P.COMPLIANCE_VIEW in p,
    ),
    Case(
        "compliance_report",
        lambda w, a: report.compliance_report(w.ctx.sessions, a, by="officer"),
        lambda p, r: P.COMPLIANCE_VIEW in p,
    ),
    Case("list_jobs", lambda w, a: jobs_service.list_jobs(w.ctx.sessions, a), lambda p, r: True),
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
]


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
