"""API tokens: scopes within the user's role, expiry, listing, revoking, audited use; and
disabling a user ends their sessions, tokens and shares at once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bodycam.audit.models import AuditRecord
from bodycam.auth import service
from bodycam.auth.actor import PermissionDenied
from bodycam.auth.models import ApiToken
from bodycam.auth.permissions import Permission
from bodycam.auth.service import AuthError
from bodycam.db import transaction
from bodycam.ids import utcnow

P = Permission


def audit(ctx, action: str) -> list[AuditRecord]:
    with ctx.sessions() as s:
        return list(
            s.scalars(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.at)
            )
        )


def test_scopes_are_a_subset_of_the_users_permissions(ctx, dept):
    clerk = dept.actor("clerk")
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="lacks it"):
        service.issue_token(s, clerk, "t", 30, [P.USER_MANAGE.value])
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="no permission"):
        service.issue_token(s, clerk, "t", 30, ["evidence:everything"])
    for days in (0, -1, 366, None):
        with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="1 to 365 days"):
            service.issue_token(s, clerk, "t", days)
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="Name the token"):
        service.issue_token(s, clerk, "  ", 30)
    with transaction(ctx.sessions) as s:
        tok = service.issue_token(
            s, clerk, "ingest script", 30, [P.RECORDING_INGEST.value, P.RECORDING_INGEST.value]
        )
    assert tok.scopes == [P.RECORDING_INGEST.value]
    assert timedelta(days=29, hours=23) < tok.expires_at - utcnow() <= timedelta(days=30)
    with transaction(ctx.sessions) as s:
        actor = service.actor_for_token(s, tok.secret, "api", "10.0.0.1", "GET /api/v1/me")
    assert actor is not None and actor.permissions == {P.RECORDING_INGEST}
    [made] = audit(ctx, "auth:token:create")
    assert made.details["scopes"] == [P.RECORDING_INGEST.value]


def test_a_token_never_exceeds_its_users_current_role(ctx, dept):
    with transaction(ctx.sessions) as s:
        wide = service.issue_token(s, dept.actor("sgt_a"), "all", 30)
        narrow = service.issue_token(
            s, dept.actor("sgt_a"), "edit", 30, [P.RECORDING_EDIT.value, P.RECORDING_INGEST.value]
        )
    with transaction(ctx.sessions) as s:
        service.update_user(s, dept.actor("admin"), "sgt_a", role="officer")
    with transaction(ctx.sessions) as s:
        a_wide = service.actor_for_token(s, wide.secret)
        a_narrow = service.actor_for_token(s, narrow.secret)
    officer = dept.actor("o1").permissions
    assert a_wide.permissions == officer  # the new role, not the old one
    assert a_narrow.permissions == {P.RECORDING_INGEST}  # the edit scope is gone with the role
    [change] = [r for r in audit(ctx, "auth:user:update") if "role" in r.details]
    assert change.details["role"] == {"old": "supervisor", "new": "officer"}
    assert P.RECORDING_VIEW_SQUAD.value in change.details["permissions"]["removed"]
    assert change.details["permissions"]["added"] == []


def test_every_use_is_one_audit_record_and_bad_tokens_get_nothing(ctx, dept):
    with transaction(ctx.sessions) as s:
        tok = service.issue_token(s, dept.actor("o1"), "dock", 30)
    for i in range(3):
        with transaction(ctx.sessions) as s:
            assert service.actor_for_token(s, tok.secret, "api", "10.0.0.2", f"GET /x/{i}")
    uses = audit(ctx, "auth:token:use")
    assert [(u.actor, u.object_id, u.details["path"], u.ip) for u in uses] == [
        ("o1", tok.id, f"/x/{i}", "10.0.0.2") for i in range(3)
    ]
    with transaction(ctx.sessions) as s:
        assert service.actor_for_token(s, "bcm_not-a-token") is None
        assert service.actor_for_token(s, "not even the prefix") is None
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with transaction(ctx.sessions) as s:
        assert service.actor_for_token(s, tok.secret) is None  # expired
    assert len(audit(ctx, "auth:token:use")) == 3


def test_list_and_revoke_own_tokens_or_anyones_as_administrator(ctx, dept):
    o1, o2, admin = dept.actor("o1"), dept.actor("o2"), dept.actor("admin")
    with transaction(ctx.sessions) as s:
        a = service.issue_token(s, o1, "a", 30)
        b = service.issue_token(s, o1, "b", 30)
    with ctx.sessions() as s:
        assert {t.id for t in service.list_tokens(s, o1)} == {a.id, b.id}
        assert service.list_tokens(s, o2) == []
        assert {t.id for t in service.list_tokens(s, admin, "o1")} == {a.id, b.id}
    with ctx.sessions() as s, pytest.raises(PermissionDenied):
        service.list_tokens(s, o2, "o1")
    with transaction(ctx.sessions) as s, pytest.raises(PermissionDenied):
        service.revoke_token(s, o2, a.id)
    with transaction(ctx.sessions) as s:
        service.revoke_token(s, o1, a.id)
        service.revoke_token(s, admin, b.id)
    with transaction(ctx.sessions) as s:
        assert service.actor_for_token(s, a.secret) is None
        assert service.actor_for_token(s, b.secret) is None
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="already revoked"):
        service.revoke_token(s, o1, a.id)
    revokes = audit(ctx, "auth:token:revoke")
    assert [(r.actor, r.object_id, r.details["user"]) for r in revokes] == [
        ("o1", a.id, "o1"),
        ("admin", b.id, "o1"),
    ]


def test_disabling_ends_sessions_tokens_and_shares_at_once(ctx, dept, vault, clips):
    from bodycam.disclosure import shares
    from bodycam.disclosure.share_models import Share
    from bodycam.evidence import service as ev

    clerk = dept.actor("clerk")
    rec = ev.ingest_file(vault, clerk, clips(81), officer_badge="1001").id
    sharing = shares.Sharing(vault, ctx.settings.resolved_home / "shares", prepare_ahead=False)
    made = shares.create_share(
        sharing,
        clerk,
        recordings=[rec],
        recipient_name="Defense",
        recipient_email="d@example.org",
        recipient_role="defense",
    )
    with transaction(ctx.sessions) as s:
        tok = service.issue_token(s, clerk, "script", 30)
        sid, _ = service.start_session(s, dept.users["clerk"])
    with transaction(ctx.sessions) as s:
        service.update_user(s, dept.actor("admin"), "clerk", active=False)
    with transaction(ctx.sessions) as s:
        assert service.actor_for_token(s, tok.secret) is None
        assert service.resume_session(s, sid, timedelta(hours=1), timedelta(hours=1)) is None
        share = s.get(Share, made.view.id)
        assert share.revoked_at is not None
    [disable] = [r for r in audit(ctx, "auth:user:update") if "active" in r.details]
    assert disable.details["revoked"] == {"sessions": 1, "tokens": 1, "shares": 1}
    assert len(audit(ctx, "disclosure:share:revoke")) == 1


def test_cli_tokens_create_list_revoke(home, ctx):
    made = home(
        "tokens",
        "create",
        "dock",
        "--days",
        "7",
        "--scope",
        "evidence:recording:ingest",
        user="ofc",
    )
    secret = made.stdout.strip()
    assert secret.startswith("bcm_") and "scopes: evidence:recording:ingest" in made.stderr
    rows = [json.loads(x) for x in home("tokens", "list", "--json", user="ofc").stdout.splitlines()]
    assert [(r["name"], r["scopes"], r["revoked_at"]) for r in rows] == [
        ("dock", ["evidence:recording:ingest"], None)
    ]
    too_wide = home("tokens", "create", "x", "--scope", "auth:user:manage", user="ofc", check=None)
    assert too_wide.returncode == 1 and "lacks it" in too_wide.stderr
    denied = home("tokens", "list", "--user", "ofc", user="clerk", check=None)
    assert denied.returncode == 3
    home("tokens", "revoke", rows[0]["id"], user="chief")
    rows = [
        json.loads(x)
        for x in home("tokens", "list", "--json", "--user", "ofc", user="chief").stdout.splitlines()
    ]
    assert rows[0]["revoked_at"] is not None
