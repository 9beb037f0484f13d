"""Lockout after consecutive failed sign-ins (password or code), and the ways it ends."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from bodycam.audit.models import AuditRecord
from bodycam.auth import login, mfa, service
from bodycam.auth.actor import PermissionDenied
from bodycam.auth.login import LoginPolicy, Next, Outcome, code_step, password_step
from bodycam.auth.models import LoginThrottle
from bodycam.auth.service import AuthError
from bodycam.db import transaction
from bodycam.ids import utcnow

PW = "a-long-password-1"


@pytest.fixture
def o1(ctx, dept):
    with transaction(ctx.sessions) as s:
        service.set_password(s, dept.actor("admin"), "o1", PW)
    return dept.users["o1"]


def tries(ctx, name: str, password: str, n: int, policy: LoginPolicy | None = None) -> list[str]:
    got = []
    for _ in range(n):
        with transaction(ctx.sessions) as s:
            got.append(password_step(s, name, password, "web", "10.0.0.9", policy).outcome.value)
    return got


def audit(ctx, action: str) -> list[AuditRecord]:
    with ctx.sessions() as s:
        return list(
            s.scalars(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.at)
            )
        )


def test_five_wrong_passwords_lock_the_name_even_for_the_right_password(ctx, o1):
    assert tries(ctx, "o1", "wrong-password-x", 5) == ["wrong"] * 4 + ["locked"]
    assert tries(ctx, "o1", PW, 1) == ["locked"]
    [lock] = audit(ctx, "auth:login:lockout")
    assert lock.actor == "o1" and lock.object_id == o1.id and lock.details["failures"] == 5
    reasons = [r.details["reason"] for r in audit(ctx, "auth:login:failure")]
    assert reasons == ["bad password"] * 5 + ["locked"]
    assert audit(ctx, "auth:login:success") == []


def test_a_made_up_name_locks_the_same_way(ctx, o1):
    # An outsider cannot tell a real name from a made-up one by its lockout.
    assert tries(ctx, "nobody", "wrong-password-x", 6) == ["wrong"] * 4 + ["locked"] * 2
    [lock] = audit(ctx, "auth:login:lockout")
    assert lock.actor == "nobody" and lock.object_id == "-"


def test_a_complete_sign_in_resets_the_count(ctx, o1):
    assert tries(ctx, "o1", "wrong-password-x", 4) == ["wrong"] * 4
    assert tries(ctx, "o1", PW, 1) == ["ok"]
    assert tries(ctx, "o1", "wrong-password-x", 4) == ["wrong"] * 4
    with ctx.sessions() as s:
        assert s.get(LoginThrottle, "o1").failures == 4


def test_wrong_codes_count_and_a_right_password_does_not_reset_them(ctx, dept, o1):
    actor = dept.actor("o1")
    with transaction(ctx.sessions) as s:
        secret = mfa.begin_enrolment(s, actor, "PD").secret
    with transaction(ctx.sessions) as s:
        mfa.confirm_enrolment(s, actor, pyotp.TOTP(secret).at(time.time() - 30))
    outcomes = []
    for _ in range(5):
        with transaction(ctx.sessions) as s:
            step = password_step(s, "o1", PW, "web")
            assert step.outcome is Outcome.OK and step.next is Next.MFA
            outcomes.append(code_step(s, step.user, "000001", "web").outcome.value)
    assert outcomes == ["wrong"] * 4 + ["locked"]
    with transaction(ctx.sessions) as s:
        assert password_step(s, "o1", PW, "web").outcome is Outcome.LOCKED
        user = service.get_user(s, "o1")
        right = code_step(s, user, pyotp.TOTP(secret).now(), "web")
        assert right.outcome is Outcome.LOCKED  # a right code does not get past a lock
    assert [r.details["reason"] for r in audit(ctx, "auth:login:failure")][:5] == ["bad code"] * 5


def test_an_administrator_unlocks_and_it_is_audited(ctx, dept, o1):
    tries(ctx, "o1", "wrong-password-x", 5)
    with transaction(ctx.sessions) as s, pytest.raises(PermissionDenied):
        login.unlock(s, dept.actor("clerk"), "o1")
    with transaction(ctx.sessions) as s:
        assert login.unlock(s, dept.actor("admin"), "o1") == 5
    assert tries(ctx, "o1", PW, 1) == ["ok"]
    [rec] = audit(ctx, "auth:user:unlock")
    assert rec.actor == "admin" and rec.object_id == o1.id
    assert rec.details == {"by": "administrator", "username": "o1", "failures": 5}
    with transaction(ctx.sessions) as s, pytest.raises(AuthError, match="not locked"):
        login.unlock(s, dept.actor("admin"), "o1")


def test_a_lockout_ends_by_itself_after_its_time_unless_set_to_zero(ctx, o1):
    tries(ctx, "o1", "wrong-password-x", 5)
    forever = LoginPolicy(lockout=None)
    with transaction(ctx.sessions) as s:
        s.execute(update(LoginThrottle).values(locked_at=utcnow() - timedelta(days=30)))
    assert tries(ctx, "o1", PW, 1, forever) == ["locked"]
    with ctx.sessions() as s:
        assert login.is_locked(s, "o1", forever) and not login.is_locked(s, "o1")
    assert tries(ctx, "o1", PW, 1, LoginPolicy(lockout=timedelta(minutes=30))) == ["ok"]
    [rec] = audit(ctx, "auth:user:unlock")
    assert rec.details["by"] == "lockout time ran out"


def test_cli_unlock(home, ctx):
    tries(ctx, "ofc", "wrong-password-x", 5)
    denied = home("users", "unlock", "ofc", user="clerk", check=None)
    assert denied.returncode == 3
    ok = home("users", "unlock", "ofc", user="chief")
    assert "Unlocked ofc (it had 5 failed sign-ins in a row)." in ok.stderr
    again = home("users", "unlock", "ofc", user="chief", check=None)
    assert again.returncode == 1 and "The user name ofc is not locked." in again.stderr
