"""TOTP second factor (RFC 6238) and one-time recovery codes.

Which users must use it follows from the permission table, not from role names: every
role holding a permission that shows footage (or that can grant itself such a role, like
managing users) needs TOTP when the ``mfa`` setting is ``required``. A TOTP code is
accepted once (its time step is remembered); a recovery code works once. Only the
SHA-256 of a recovery code is stored: each has about 79 random bits, so a fast hash is
enough, as for API tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import Actor
from bodycam.auth.models import RecoveryCode, User, UserTotp, WebSession
from bodycam.auth.permissions import Permission, Role, permissions_for
from bodycam.auth.service import AuthError
from bodycam.ids import utcnow

P = Permission
MFA_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        P.RECORDING_VIEW_OWN,
        P.RECORDING_VIEW_SQUAD,
        P.RECORDING_VIEW_ANY,
        P.RECORDING_DOWNLOAD,
        P.RESTRICTED_VIEW,
        P.CONFIDENTIAL_VIEW,
        P.REDACTION_MANAGE,
        P.REDACTION_APPROVE,
        P.SHARE_MANAGE,
        P.DISCLOSURE_RELEASE_BUILD,
        P.DISCLOSURE_DISCOVERY_BUILD,
        # Not footage itself, but its holder can give any account a footage role.
        P.USER_MANAGE,
    }
)
"""Permissions that show footage (or lead to it): a role holding one needs TOTP."""

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to copy by hand
_PENDING_REUSE = timedelta(minutes=15)
STEP_SECONDS = 30


class MfaError(AuthError):
    """An MFA step failed on its input; the message is a sentence."""


def role_needs_mfa(role: str | Role) -> bool:
    """Whether a role's permissions reach footage (so it needs TOTP when MFA is required)."""
    try:
        perms = permissions_for(Role(role))
    except ValueError:
        return False
    return bool(perms & MFA_PERMISSIONS)


def permissions_need_mfa(permissions: frozenset[Permission]) -> bool:
    """Whether a set of permissions (a token's scopes, say) reaches footage."""
    return bool(permissions & MFA_PERMISSIONS)


def must_enrol(session: Session, user: User, policy: str) -> bool:
    """Whether ``user`` must enrol in TOTP before anything else under ``policy``."""
    return policy == "required" and role_needs_mfa(user.role) and not is_enrolled(session, user.id)


def is_enrolled(session: Session, user_id: str) -> bool:
    """Whether the user has a confirmed TOTP authenticator."""
    row = session.get(UserTotp, user_id)
    return row is not None and row.confirmed_at is not None


@dataclass(frozen=True)
class MfaStatus:
    """A user's second factor as shown on their account page."""

    enrolled: bool
    recovery_codes_left: int


def status(session: Session, user_id: str) -> MfaStatus:
    """Whether ``user_id`` has TOTP and how many unused recovery codes remain."""
    left = session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return MfaStatus(is_enrolled(session, user_id), int(left or 0))


@dataclass(frozen=True)
class Enrolment:
    """A TOTP secret waiting for its first code: shown as text and as a QR code."""

    secret: str
    uri: str

    def qr_svg(self) -> str:
        """The otpauth URI as an inline SVG QR code (made here; nothing is fetched)."""
        return str(segno.make(self.uri, error="m").svg_inline(scale=4, title="TOTP QR code"))


def begin_enrolment(session: Session, actor: Actor, issuer: str) -> Enrolment:
    """A new (or the recent pending) TOTP secret for the acting user to scan or type."""
    row = session.get(UserTotp, actor.user_id)
    if row is not None and row.confirmed_at is not None:
        raise MfaError(
            "You already have an authenticator; ask an administrator to reset it to enrol a new "
            "one."
        )
    now = utcnow()
    if row is None:
        row = UserTotp(user_id=actor.user_id, secret=pyotp.random_base32(), created_at=now)
        session.add(row)
    elif now - row.created_at > _PENDING_REUSE:  # an old pending secret is not reused
        row.secret, row.created_at = pyotp.random_base32(), now
    session.flush()
    uri = pyotp.TOTP(row.secret).provisioning_uri(name=actor.username, issuer_name=issuer)
    return Enrolment(row.secret, uri)


def _match_step(secret: str, code: str, last_step: int | None, at: float | None = None) -> int:
    """The time step ``code`` belongs to (this one or a neighbour), or -1; used steps fail."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return -1
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code) and (
            last_step is None or step > last_step
        ):
            return step
    return -1


def _new_codes(session: Session, user_id: str) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        session.add(RecoveryCode(user_id=user_id, code_sha256=_code_hash(raw)))
    session.flush()
    return codes


def _code_hash(code: str) -> str:
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def confirm_enrolment(session: Session, actor: Actor, code: str) -> list[str]:
    """Confirm the pending secret with a first code; returns ten recovery codes (shown once)."""
    row = session.get(UserTotp, actor.user_id)
    if row is None or row.confirmed_at is not None:
        raise MfaError("There is no authenticator waiting to be confirmed; start again.")
    step = _match_step(row.secret, code, None)
    if step < 0:
        raise MfaError(
            "The code is wrong or too old: type the 6 digits the app shows now, and check "
            "that this device's clock is right."
        )
    row.confirmed_at, row.last_step = utcnow(), step
    codes = _new_codes(session, actor.user_id)
    record(
        session,
        actor,
        AuditAction.MFA_ENROL,
        "user",
        actor.user_id,
        {"recovery_codes_issued": len(codes)},
    )
    return codes


def new_recovery_codes(session: Session, actor: Actor, code: str) -> list[str]:
    """Replace the acting user's recovery codes (needs a current TOTP code); the new ones."""
    row = session.get(UserTotp, actor.user_id)
    if row is None or row.confirmed_at is None:
        raise MfaError("You have no authenticator yet; enrol first.")
    step = _match_step(row.secret, code, row.last_step)
    if step < 0:
        raise MfaError("The code is wrong or was already used; type the code the app shows now.")
    row.last_step = step
    codes = _new_codes(session, actor.user_id)
    record(
        session,
        actor,
        AuditAction.MFA_RECOVERY_CODES,
        "user",
        actor.user_id,
        {"recovery_codes_issued": len(codes)},
    )
    return codes


def check_second_factor(session: Session, user_id: str, code: str) -> str | None:
    """Spend a TOTP code or a recovery code of ``user_id``: 'totp', 'recovery code' or None."""
    row = session.get(UserTotp, user_id, with_for_update=True)
    if row is None or row.confirmed_at is None:
        return None
    step = _match_step(row.secret, code, row.last_step)
    if step >= 0:
        row.last_step = step
        return "totp"
    if len("".join(ch for ch in code if ch.isalnum())) != 16:
        return None
    used = session.scalars(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_sha256 == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    ).first()
    if used is None:
        return None
    used.used_at = utcnow()
    return "recovery code"


def reset_mfa(session: Session, actor: Actor, username: str) -> int:
    """Remove a user's authenticator and recovery codes and end their sessions (administrators);
    returns how many sessions ended. The user enrols again at their next sign-in."""
    actor.require(Permission.USER_MANAGE, "reset another user's authenticator")
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise MfaError(f"There is no user named {username}.")
    row = session.get(UserTotp, user.id)
    codes = session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    )
    if row is None and not codes:
        raise MfaError(f"{username} has no authenticator to reset.")
    if row is not None:
        session.delete(row)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = utcnow()
    ended = 0
    for ws in session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
    ):
        ws.revoked_at = now
        ended += 1
    record(
        session,
        actor,
        AuditAction.MFA_RESET,
        "user",
        user.id,
        {"username": username, "sessions_ended": ended},
    )
    return ended
