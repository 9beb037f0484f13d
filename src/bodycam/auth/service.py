"""User management and authentication, with authorization in the service layer."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import Actor
from bodycam.auth.models import ApiToken, Squad, User, WebSession
from bodycam.auth.passwords import check_password, hash_password, password_problem
from bodycam.auth.permissions import Permission, Role
from bodycam.disclosure.shares import revoke_shares_of
from bodycam.ids import utcnow

TOKEN_PREFIX = "bcm_"
_DUMMY_HASH = hash_password("not-a-real-password-for-timing")


class AuthError(Exception):
    """Authentication failed or input was invalid; the message is a sentence."""


def sha256_hex(value: str) -> str:
    """Hex SHA-256 of a secret (tokens and session ids are stored only hashed)."""
    return hashlib.sha256(value.encode()).hexdigest()


def actor_for(user: User, via: str, ip: str = "") -> Actor:
    """The actor acting as ``user`` through ``via`` (cli, api, web, job)."""
    return Actor.for_user(
        user_id=user.id,
        username=user.username,
        role=user.role,
        badge=user.badge,
        squad_id=user.squad_id,
        via=via,
        ip=ip,
    )


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise AuthError(f"Unknown role {role!r}; choose one of: {roles}.") from None


def get_user(session: Session, username: str) -> User | None:
    """The user named ``username``."""
    return session.scalars(select(User).where(User.username == username)).first()


def get_or_create_squad(session: Session, name: str, precinct: str = "") -> Squad:
    """The squad called ``name``, created when missing."""
    squad = session.scalars(select(Squad).where(Squad.name == name)).first()
    if squad is None:
        squad = Squad(name=name, precinct=precinct)
        session.add(squad)
        session.flush()
    return squad


def create_user(
    session: Session,
    actor: Actor | None,
    username: str,
    role: str,
    *,
    password: str | None = None,
    badge: str | None = None,
    squad: str | None = None,
    display_name: str = "",
    precinct: str = "",
) -> User:
    """Create a user; ``actor`` None only while bootstrapping the first administrator."""
    if actor is not None:
        actor.require(Permission.USER_MANAGE, "create users")
    role_v = _parse_role(role)
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AuthError(
            f"The user name {username!r} must be letters, digits, dots, dashes or underscores."
        )
    if get_user(session, username) is not None:
        raise AuthError(f"A user named {username} already exists.")
    if badge and session.scalars(select(User).where(User.badge == badge)).first():
        raise AuthError(f"Badge {badge} already belongs to another user.")
    if password is not None and (problem := password_problem(password)):
        raise AuthError(problem)
    squad_row = get_or_create_squad(session, squad, precinct) if squad else None
    user = User(
        username=username,
        role=role_v.value,
        badge=badge,
        squad_id=squad_row.id if squad_row else None,
        display_name=display_name or username,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    by = actor or Actor(user.id, username, role_v, via="bootstrap")
    record(
        session,
        by,
        AuditAction.USER_CREATE,
        "user",
        user.id,
        {"username": username, "role": role_v.value, "badge": badge, "squad": squad},
    )
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    """Every user, for those who may view users."""
    actor.require(Permission.USER_VIEW, "list users")
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, actor: Actor, username: str, password: str) -> None:
    """Set a user's password (administrators, or the user themselves)."""
    if actor.username != username:
        actor.require(Permission.USER_MANAGE, "set another user's password")
    user = get_user(session, username)
    if user is None:
        raise AuthError(f"There is no user named {username}.")
    if problem := password_problem(password):
        raise AuthError(problem)
    user.password_hash = hash_password(password)
    record(session, actor, AuditAction.USER_UPDATE, "user", user.id, {"changed": "password"})


def update_user(
    session: Session,
    actor: Actor,
    username: str,
    *,
    active: bool | None = None,
    role: str | None = None,
    squad: str | None = None,
) -> User:
    """Disable or enable a user, or change their role or squad (administrators).

    Disabling revokes the user's web sessions and API tokens at once.
    """
    actor.require(Permission.USER_MANAGE, "change users")
    user = get_user(session, username)
    if user is None:
        raise AuthError(f"There is no user named {username}.")
    changes: dict[str, object] = {}
    if role is not None:
        new_role = _parse_role(role).value
        if new_role != user.role:
            changes["role"] = {"old": user.role, "new": new_role}
            user.role = new_role
    if squad is not None:
        squad_id = get_or_create_squad(session, squad).id if squad else None
        if squad_id != user.squad_id:
            changes["squad"] = squad or None
            user.squad_id = squad_id
    if active is not None and active != user.active:
        if not active and user.id == actor.user_id:
            raise AuthError("You cannot disable your own account.")
        user.active = active
        changes["active"] = active
        if not active:
            now = utcnow()
            for tok in session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            ):
                tok.revoked_at = now
            for ws in session.scalars(
                select(WebSession).where(
                    WebSession.user_id == user.id, WebSession.revoked_at.is_(None)
                )
            ):
                ws.revoked_at = now
            revoke_shares_of(session, actor, user.id, now=now)  # their shares end too
    if changes:
        record(session, actor, AuditAction.USER_UPDATE, "user", user.id, changes)
    return user


def authenticate_password(
    session: Session, username: str, password: str, via: str, ip: str = ""
) -> User | None:
    """Check a password; every success and failure is audited; None on failure.

    It returns rather than raises on failure so the caller's transaction commits
    the failure's audit record.
    """
    user = get_user(session, username)
    if user is None:
        check_password(_DUMMY_HASH, password)  # same work as a real check: no timing oracle
    if user is None or not user.active or not check_password(user.password_hash, password):
        reason = (
            "unknown user" if user is None else "disabled" if not user.active else "bad password"
        )
        who = (
            actor_for(user, via, ip)
            if user is not None
            else Actor("anonymous", username[:100], Role.EXTERNAL, via=via, ip=ip)
        )
        record(
            session,
            who,
            AuditAction.LOGIN_FAILURE,
            "user",
            user.id if user else "-",
            {"reason": reason},
        )
        return None
    record(session, actor_for(user, via, ip), AuditAction.LOGIN_SUCCESS, "user", user.id)
    return user


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued API token; ``secret`` is shown once and never stored."""

    id: str
    secret: str
    expires_at: datetime | None


def issue_token(session: Session, actor: Actor, name: str, days: int | None = 90) -> IssuedToken:
    """Issue an API token acting as ``actor``'s own user."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=days) if days else None
    tok = ApiToken(
        user_id=actor.user_id, name=name, token_sha256=sha256_hex(secret), expires_at=expires
    )
    session.add(tok)
    session.flush()
    record(
        session,
        actor,
        AuditAction.TOKEN_CREATE,
        "token",
        tok.id,
        {"name": name, "expires_at": expires},
    )
    return IssuedToken(tok.id, secret, expires)


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user behind a valid, unexpired, unrevoked token."""
    tok = session.scalars(
        select(ApiToken).where(ApiToken.token_sha256 == sha256_hex(secret))
    ).first()
    now = utcnow()
    if tok is None or tok.revoked_at is not None or (tok.expires_at and tok.expires_at <= now):
        return None
    user = session.get(User, tok.user_id)
    if user is None or not user.active:
        return None
    tok.last_used_at = now
    return user


def start_session(session: Session, user: User, ip: str = "") -> tuple[str, str]:
    """Open a web session; returns (cookie value, csrf token). A new id at every login."""
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(WebSession(id_sha256=sha256_hex(sid), user_id=user.id, csrf_token=csrf, ip=ip))
    return sid, csrf


def resume_session(
    session: Session, sid: str, idle: timedelta, absolute: timedelta
) -> tuple[User, WebSession] | None:
    """The user of a live web session (idle and absolute timeouts applied)."""
    ws = session.get(WebSession, sha256_hex(sid))
    now = utcnow()
    if ws is None or ws.revoked_at is not None:
        return None
    if now - ws.last_seen_at > idle or now - ws.created_at > absolute:
        ws.revoked_at = now
        return None
    user = session.get(User, ws.user_id)
    if user is None or not user.active:
        return None
    ws.last_seen_at = now
    return user, ws


def end_session(session: Session, sid: str) -> None:
    """Revoke a web session (logout)."""
    ws = session.get(WebSession, sha256_hex(sid))
    if ws is not None and ws.revoked_at is None:
        ws.revoked_at = utcnow()
