"""Signing in: the password step, the TOTP step, and lockout after repeated failures.

Failures are counted per user name as typed, whether or not such a user exists, so a
lockout looks the same for a real and a made-up name and tells an outsider nothing. A
wrong password and a wrong code both count; only a complete sign-in resets the count (a
right password alone does not, or a thief holding it could try codes without end). Every
step is audited. The functions return rather than raise on failure so that the caller's
transaction commits the failure's audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth import mfa
from bodycam.auth.actor import Actor
from bodycam.auth.models import LoginThrottle, User
from bodycam.auth.passwords import check_password
from bodycam.auth.permissions import Permission, Role
from bodycam.auth.service import _DUMMY_HASH, AuthError, actor_for, get_user
from bodycam.config import Settings
from bodycam.ids import utcnow


@dataclass(frozen=True)
class LoginPolicy:
    """The sign-in rules of a deployment (from its settings)."""

    max_failures: int = 5
    lockout: timedelta | None = timedelta(minutes=30)  # None: until an administrator unlocks
    mfa: str = "optional"

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        """The policy the settings describe."""
        minutes = settings.login_lockout_minutes
        return cls(
            max_failures=settings.login_max_failures,
            lockout=timedelta(minutes=minutes) if minutes else None,
            mfa=settings.mfa,
        )


class Outcome(StrEnum):
    """How a sign-in step ended."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


class Next(StrEnum):
    """What a right password leads to."""

    FULL = "full"  # signed in
    MFA = "mfa"  # give the TOTP (or a recovery) code
    ENROL = "enrol"  # enrol in TOTP before anything else


@dataclass(frozen=True)
class StepResult:
    """The outcome of a sign-in step; ``user`` is set when it was right."""

    outcome: Outcome
    user: User | None = None
    next: Next = Next.FULL
    factor: str = "password"


def _key(username: str) -> str:
    return username[:100]


def _who(user: User | None, username: str, via: str, ip: str) -> Actor:
    if user is not None:
        return actor_for(user, via, ip)
    return Actor("anonymous", _key(username), Role.EXTERNAL, via=via, ip=ip)


def _still_locked(
    session: Session, username: str, user: User | None, policy: LoginPolicy, who: Actor
) -> bool:
    """Whether the name is locked now; a lockout whose time ran out ends here (audited)."""
    row = session.get(LoginThrottle, _key(username), with_for_update=True)
    if row is None or row.locked_at is None:
        return False
    if policy.lockout is not None and utcnow() >= row.locked_at + policy.lockout:
        record(
            session,
            who,
            AuditAction.USER_UNLOCK,
            "user",
            user.id if user else "-",
            {"by": "lockout time ran out", "failures": row.failures},
        )
        session.delete(row)
        session.flush()
        return False
    return True


def _fail(
    session: Session,
    username: str,
    user: User | None,
    policy: LoginPolicy,
    who: Actor,
    reason: str,
) -> Outcome:
    """Count a failure (audited); the name is locked when it reaches the limit."""
    record(
        session,
        who,
        AuditAction.LOGIN_FAILURE,
        "user",
        user.id if user else "-",
        {"reason": reason},
    )
    now = utcnow()
    row = _throttle_row(session, _key(username), now)
    row.failures += 1
    row.last_failure_at = now
    if row.failures < policy.max_failures:
        session.flush()
        return Outcome.WRONG
    row.locked_at = now
    session.flush()
    unlock_at: datetime | None = now + policy.lockout if policy.lockout else None
    record(
        session,
        who,
        AuditAction.LOGIN_LOCKOUT,
        "user",
        user.id if user else "-",
        {"failures": row.failures, "unlock_after": unlock_at or "an administrator unlocks it"},
    )
    return Outcome.LOCKED


def _throttle_row(session: Session, key: str, now: datetime) -> LoginThrottle:
    """The name's counter row, created if missing and locked for this transaction. Two
    failures at once for a new name must not both insert it: insert-or-nothing, then read."""
    values = {"username": key, "failures": 0, "last_failure_at": now}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(LoginThrottle).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(LoginThrottle).values(**values).on_conflict_do_nothing())
    row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    if row is None:  # cannot happen: inserted just above in this transaction
        raise RuntimeError(f"the sign-in counter of {key!r} could not be read back")
    return row


def _succeed(session: Session, username: str) -> None:
    row = session.get(LoginThrottle, _key(username))
    if row is not None:
        session.delete(row)
        session.flush()


def password_step(
    session: Session,
    username: str,
    password: str,
    via: str,
    ip: str = "",
    policy: LoginPolicy | None = None,
) -> StepResult:
    """Check a user name and password under ``policy`` (lockout, MFA); every try audited."""
    policy = policy or LoginPolicy()
    user = get_user(session, username)
    who = _who(user, username, via, ip)
    if _still_locked(session, username, user, policy, who):
        record(
            session,
            who,
            AuditAction.LOGIN_FAILURE,
            "user",
            user.id if user else "-",
            {"reason": "locked"},
        )
        return StepResult(Outcome.LOCKED)
    if user is None:
        check_password(_DUMMY_HASH, password)  # same work as a real check: no timing oracle
    if user is None or not user.active or not check_password(user.password_hash, password):
        reason = (
            "unknown user" if user is None else "disabled" if not user.active else "bad password"
        )
        return StepResult(_fail(session, username, user, policy, who, reason))
    if mfa.is_enrolled(session, user.id):
        record(session, who, AuditAction.LOGIN_PASSWORD, "user", user.id, {"next": "totp code"})
        return StepResult(Outcome.OK, user, Next.MFA)
    _succeed(session, username)
    if mfa.must_enrol(session, user, policy.mfa):
        record(session, who, AuditAction.LOGIN_PASSWORD, "user", user.id, {"next": "enrol in totp"})
        return StepResult(Outcome.OK, user, Next.ENROL)
    record(session, who, AuditAction.LOGIN_SUCCESS, "user", user.id, {"factor": "password"})
    return StepResult(Outcome.OK, user, Next.FULL)


def code_step(
    session: Session,
    user: User,
    code: str,
    via: str,
    ip: str = "",
    policy: LoginPolicy | None = None,
) -> StepResult:
    """Check the second factor of a user whose password was right; every try audited."""
    policy = policy or LoginPolicy()
    who = actor_for(user, via, ip)
    if _still_locked(session, user.username, user, policy, who):
        record(session, who, AuditAction.LOGIN_FAILURE, "user", user.id, {"reason": "locked"})
        return StepResult(Outcome.LOCKED)
    if not user.active:
        return StepResult(_fail(session, user.username, user, policy, who, "disabled"))
    factor = mfa.check_second_factor(session, user.id, code)
    if factor is None:
        return StepResult(_fail(session, user.username, user, policy, who, "bad code"))
    _succeed(session, user.username)
    details: dict[str, object] = {"factor": factor}
    if factor == "recovery code":
        details["recovery_codes_left"] = mfa.status(session, user.id).recovery_codes_left
    record(session, who, AuditAction.LOGIN_SUCCESS, "user", user.id, details)
    return StepResult(Outcome.OK, user, Next.FULL, factor)


def is_locked(session: Session, username: str, policy: LoginPolicy | None = None) -> bool:
    """Whether ``username`` is locked now (without ending an expired lockout)."""
    policy = policy or LoginPolicy()
    row = session.get(LoginThrottle, _key(username))
    if row is None or row.locked_at is None:
        return False
    return policy.lockout is None or utcnow() < row.locked_at + policy.lockout


def unlock(session: Session, actor: Actor, username: str) -> int:
    """Unlock a locked user name (administrators); returns the failures it had. Audited."""
    actor.require(Permission.USER_MANAGE, "unlock user names")
    row = session.get(LoginThrottle, _key(username), with_for_update=True)
    if row is None or row.locked_at is None:
        raise AuthError(f"The user name {username} is not locked.")
    user = get_user(session, username)
    failures = row.failures
    session.delete(row)
    record(
        session,
        actor,
        AuditAction.USER_UNLOCK,
        "user",
        user.id if user else "-",
        {"by": "administrator", "username": _key(username), "failures": failures},
    )
    return failures
