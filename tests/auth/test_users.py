"""User management: disabling revokes at once, role changes, passwords, login auditing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth import service
from bodycam.auth.actor import PermissionDenied
from bodycam.auth.login import Outcome, password_step
from bodycam.auth.service import AuthError
from bodycam.db import transaction


def test_disabling_revokes_sessions_and_tokens_at_once(ctx, dept):
    admin = dept.actor("admin")
    with transaction(ctx.sessions) as s:
        service.set_password(s, admin, "o1", "a-long-password-1")
        tok = service.issue_token(s, dept.actor("o1"), "dock")
        sid, _ = service.start_session(s, service.get_user(s, "o1"))
    with transaction(ctx.sessions) as s:
        assert service.user_for_token(s, tok.secret) is not None
        service.update_user(s, admin, "o1", active=False)
    from datetime import timedelta

    with transaction(ctx.sessions) as s:
        assert service.user_for_token(s, tok.secret) is None
        assert service.resume_session(s, sid, timedelta(hours=1), timedelta(hours=1)) is None
        assert password_step(s, "o1", "a-long-password-1", "web").user is None
        service.update_user(s, admin, "o1", active=True)
    with transaction(ctx.sessions) as s:  # enabling does not bring old credentials back
        assert service.user_for_token(s, tok.secret) is None
        assert password_step(s, "o1", "a-long-password-1", "web").outcome is Outcome.OK
    with ctx.sessions() as s:
        updates = list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == "auth:user:update")
                .order_by(AuditRecord.at)
            )
        )
    assert [u.details.get("active") for u in updates if "active" in u.details] == [False, True]


def test_role_and_squad_changes_are_checked_and_audited(ctx, dept):
    admin = dept.actor("admin")
    with transaction(ctx.sessions) as s:
        user = service.update_user(s, admin, "o2", role="supervisor", squad="South-B")
        assert user.role == "supervisor"
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="Unknown role"):
        service.update_user(s, admin, "o2", role="chief")
    with transaction(ctx.sessions) as s, pytest.raises(PermissionDenied):
        service.update_user(s, dept.actor("clerk"), "o2", active=False)
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="your own account"):
        service.update_user(s, admin, "admin", active=False)


def test_logins_are_audited_success_and_failure(ctx, dept):
    with transaction(ctx.sessions) as s:
        service.set_password(s, dept.actor("admin"), "clerk", "clerk-password-1")
    with transaction(ctx.sessions) as s:
        assert password_step(s, "clerk", "wrong-password!", "web", "10.1.1.1").user is None
        assert password_step(s, "ghost", "whatever-pass", "web", "10.1.1.2").user is None
        assert password_step(s, "clerk", "clerk-password-1", "web").user is not None
    with ctx.sessions() as s:
        rows = list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.action.like("auth:login:%"))
                .order_by(AuditRecord.at)
            )
        )
    assert [(r.action, r.details.get("reason")) for r in rows] == [
        ("auth:login:failure", "bad password"),
        ("auth:login:failure", "unknown user"),
        ("auth:login:success", None),
    ]
    assert rows[0].ip == "10.1.1.1" and "password" not in str(rows[0].details).replace(
        "bad password", ""
    )


def test_short_passwords_are_refused(ctx, dept):
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="at least 12"):
        service.set_password(s, dept.actor("admin"), "o1", "short")
