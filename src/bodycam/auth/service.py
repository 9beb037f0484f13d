"""User management and authentication, with authorization in the service layer."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import Actor
from bodycam.auth.models import ApiToken, Squad, User, WebSession
from bodycam.auth.passwords import hash_password, password_problem
from bodycam.auth.permissions import Permission, Role, permissions_for
from bodycam.disclosure.shares import revoke_shares_of
from bodycam.ids import utcnow

TOKEN_PREFIX = "bcm_"  # the tokens' public prefix, not a secret  # nosec B105
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


def revoke_credentials(
    session: Session, user_id: str, now: datetime | None = None
) -> dict[str, int]:
    """End every live web session and API token of ``user_id``; how many of each."""
    now = now or utcnow()
    counts = {"sessions": 0, "tokens": 0}
    for tok in session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ):
        tok.revoked_at = now
        counts["tokens"] += 1
    for ws in session.scalars(
        select(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    ):
        ws.revoked_at = now
        counts["sessions"] += 1
    return counts


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

    Disabling revokes the user's web sessions, API tokens and the external shares they
    made, in this transaction. A role change is audited with the permissions it adds and
    removes; the user's tokens never exceed the new role (their scopes are cut to it).
    """
    actor.require(Permission.USER_MANAGE, "change users")
    user = get_user(session, username)
    if user is None:
        raise AuthError(f"There is no user named {username}.")
    changes: dict[str, object] = {}
    if role is not None:
        new_role = _parse_role(role)
        if new_role.value != user.role:
            old = permissions_for(_parse_role(user.role))
            new = permissions_for(new_role)
            changes["role"] = {"old": user.role, "new": new_role.value}
            changes["permissions"] = {
                "added": sorted(p.value for p in new - old),
                "removed": sorted(p.value for p in old - new),
            }
            user.role = new_role.value
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
            counts = revoke_credentials(session, user.id, now)
            shares = revoke_shares_of(session, actor, user.id, now=now)  # their shares end too
            changes["revoked"] = {**counts, "shares": len(shares)}
    if changes:
        record(session, actor, AuditAction.USER_UPDATE, "user", user.id, changes)
    return user


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued API token; ``secret`` is shown once and never stored."""

    id: str
    secret: str
    expires_at: datetime | None
    scopes: list[str] | None = None


def _parse_scopes(actor: Actor, scopes: list[str] | None) -> list[str] | None:
    if not scopes:
        return None
    chosen = set()
    for name in scopes:
        try:
            perm = Permission(name.strip())
        except ValueError:
            raise AuthError(f"There is no permission {name!r} to give a token.") from None
        if not actor.can(perm):
            raise AuthError(
                f"A token cannot carry {perm.value}: your role ({actor.role.value}) lacks it."
            )
        chosen.add(perm.value)
    return sorted(chosen)


def issue_token(
    session: Session,
    actor: Actor,
    name: str,
    days: int | None = 90,
    scopes: list[str] | None = None,
    *,
    max_days: int = 365,
) -> IssuedToken:
    """Issue an API token of ``actor``'s own user, limited to ``scopes`` (a subset of the
    user's permissions; none: all of them) and expiring after ``days`` (1 to ``max_days``)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AuthError("Name the token (what it is for), in at most 100 characters.")
    if days is None or not 1 <= days <= max_days:
        raise AuthError(f"A token expires after 1 to {max_days} days; {days} is not allowed.")
    chosen = _parse_scopes(actor, scopes)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=days)
    tok = ApiToken(
        user_id=actor.user_id,
        name=name,
        token_sha256=sha256_hex(secret),
        expires_at=expires,
        scopes=chosen,
    )
    session.add(tok)
    session.flush()
    record(
        session,
        actor,
        AuditAction.TOKEN_CREATE,
        "token",
        tok.id,
        {"name": name, "expires_at": expires, "scopes": chosen or "all of the user's"},
    )
    return IssuedToken(tok.id, secret, expires, chosen)


def list_tokens(session: Session, actor: Actor, username: str | None = None) -> list[ApiToken]:
    """The API tokens of the acting user, or of ``username`` for administrators (newest first)."""
    user_id = actor.user_id
    if username is not None and username != actor.username:
        actor.require(Permission.USER_MANAGE, "list another user's tokens")
        user = get_user(session, username)
        if user is None:
            raise AuthError(f"There is no user named {username}.")
        user_id = user.id
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
        )
    )


def revoke_token(session: Session, actor: Actor, token_id: str) -> ApiToken:
    """Revoke an API token: one's own, or anyone's for administrators. Audited."""
    tok = session.get(ApiToken, token_id, with_for_update=True)
    if tok is None:
        raise AuthError(f"There is no API token {token_id}.")
    if tok.user_id != actor.user_id:
        actor.require(Permission.USER_MANAGE, "revoke another user's token")
    if tok.revoked_at is not None:
        raise AuthError(f"The token {token_id} is already revoked.")
    tok.revoked_at = utcnow()
    tok.revoked_by = actor.user_id
    owner = session.get(User, tok.user_id)
    record(
        session,
        actor,
        AuditAction.TOKEN_REVOKE,
        "token",
        tok.id,
        {"name": tok.name, "user": owner.username if owner else tok.user_id},
    )
    return tok


_LAST_USED_GRANULARITY = timedelta(minutes=1)


def actor_for_token(
    session: Session, secret: str, via: str = "api", ip: str = "", request: str = ""
) -> Actor | None:
    """The actor of a valid, unexpired, unrevoked token of an active user, holding only the
    token's scopes within the user's current role; None otherwise. Each use is audited
    (one record; ``request`` is the method and path), in the caller's transaction."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_sha256 == sha256_hex(secret))
    ).first()
    if found is None:
        return None
    tok, user = found
    now = utcnow()
    if tok.revoked_at is not None or (tok.expires_at and tok.expires_at <= now) or not user.active:
        return None
    if tok.last_used_at is None or now - tok.last_used_at >= _LAST_USED_GRANULARITY:
        tok.last_used_at = now  # coarse, so a busy script does not rewrite the row each call
    actor = actor_for(user, via, ip)
    if tok.scopes is not None:
        allowed = {p for p in actor.permissions if p.value in tok.scopes}
        actor = replace(actor, permissions=frozenset(allowed))
    method, _, path = request.partition(" ")
    record(
        session,
        actor,
        AuditAction.TOKEN_USE,
        "token",
        tok.id,
        {"method": method, "path": path[:300]},
    )
    return actor


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user behind a valid token (audited as a use, like every request)."""
    actor = actor_for_token(session, secret)
    return session.get(User, actor.user_id) if actor else None


MFA_CHALLENGE = timedelta(minutes=10)
"""How long a password-only session may wait for its TOTP code."""


def start_session(
    session: Session, user: User, ip: str = "", *, stage: str = "full", factor: str = "password"
) -> tuple[str, str]:
    """Open a web session; returns (cookie value, csrf token). A new id at every login and at
    every step up (after the code, after enrolment), so no id is ever fixed in advance."""
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(
        WebSession(
            id_sha256=sha256_hex(sid),
            user_id=user.id,
            csrf_token=csrf,
            ip=ip,
            stage=stage,
            factor=factor,
        )
    )
    session.flush()
    return sid, csrf


def resume_session(
    session: Session,
    sid: str,
    idle: timedelta,
    absolute: timedelta,
    *,
    stages: tuple[str, ...] = ("full",),
) -> tuple[User, WebSession] | None:
    """The user of a live web session in one of ``stages`` (idle and absolute timeouts
    applied; a session waiting for its code lives at most ten minutes)."""
    ws = session.get(WebSession, sha256_hex(sid))
    now = utcnow()
    if ws is None or ws.revoked_at is not None or ws.stage not in stages:
        return None
    limit = min(absolute, MFA_CHALLENGE) if ws.stage == "mfa" else absolute
    if now - ws.last_seen_at > idle or now - ws.created_at > limit:
        ws.revoked_at = now
        return None
    user = session.get(User, ws.user_id)
    if user is None or not user.active:
        return None
    ws.last_seen_at = now
    return user, ws


def step_up_session(
    session: Session, ws: WebSession, user: User, ip: str = "", *, factor: str
) -> tuple[str, str]:
    """End a partial session and open a full one with a new id (after the code or enrolment)."""
    ws.revoked_at = utcnow()
    return start_session(session, user, ip, stage="full", factor=factor)


def end_session(session: Session, sid: str) -> None:
    """Revoke a web session (logout)."""
    ws = session.get(WebSession, sha256_hex(sid))
    if ws is not None and ws.revoked_at is None:
        ws.revoked_at = utcnow()
