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

from dataclasses import dataclass, field
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
from bodycam.auth.service import set_password
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import AccessClass, Category, Recording
from bodycam.web.app import create_app
from bodycam.web.deps import SESSION_COOKIE
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
    ("GET", "/"): Rule(SIGNED_IN, ok="/recordings or 200"),
    ("POST", "/logout"): Rule(SIGNED_IN, ok="/login"),
    # Users.
    ("GET", "/api/v1/users"): Rule(perms(P.USER_VIEW)),
    # Evidence API.
    ("POST", "/api/v1/recordings"): Rule(perms(P.RECORDING_INGEST), on=OFFICER),
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
}

CALLERS = [None, "o1", "sgt_a", "clerk", "auditor", "external", "equipment", "analyst", "admin"]

# Refusals known NOT to be audited (none now: the service layer audits every refusal);
# an entry here must come with a reason.
DENIAL_NOT_AUDITED: set[tuple[str, str]] = set()


def is_evidence_route(path: str) -> bool:
    return path.startswith(("/api/v1/recordings", "/recordings"))


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


@dataclass
class World:
    """Users, their credentials and the objects, for one engine."""

    users: dict[str, User]
    recordings: list[Target]
    officers: list[Target]
    audit_record: Target
    upload_bytes: bytes
    tokens: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)


@pytest.fixture
def world(ctx, dept, creds, ingest) -> World:
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
    )
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
    return True


def targets(rule: Rule, w: World) -> list[Target | None]:
    if rule.on in (RECORDING, ANY_RECORDING):
        return list(w.recordings)
    if rule.on == OFFICER:
        return list(w.officers)
    if rule.on == AUDIT_RECORD:
        return [w.audit_record]
    return [None]


# --- making the calls -------------------------------------------------------------------------


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
    if (method, path) == ("POST", "/api/v1/recordings"):
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
    elif (method, path) == ("POST", "/login"):
        token = client.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
        kw = {"data": {"username": "admin", "password": PASSWORD, "login_token": token}}
    resp = client.request(method, url, headers=headers, **kw)
    client.cookies.clear()  # each call carries only the credentials given above
    return resp


def succeeded(resp, rule: Rule, target: Target | None) -> bool:
    if rule.ok is not None and rule.ok.endswith(" or 200") and resp.status_code == 200:
        return True
    if rule.ok is not None:
        want = rule.ok.removesuffix(" or 200").replace("{id}", target.id if target else "")
        return resp.status_code == 303 and resp.headers.get("location") == want
    return 200 <= resp.status_code < 300


def properly_refused(resp, path: str, who: str | None) -> bool:
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
