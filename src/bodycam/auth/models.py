"""Tables of the auth domain: squads, users, API tokens, web sessions, TOTP and lockouts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class Squad(Base):
    """A squad of officers under a supervisor, within a precinct."""

    __tablename__ = "squads"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    precinct: Mapped[str] = mapped_column(String(100), default="")


class User(Base):
    """A person (or service account) who signs in; one role each."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(40))
    badge: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    squad_id: Mapped[str | None] = mapped_column(ForeignKey("squads.id"), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token for the API and CLI; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    scopes: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    """Permissions the token may use (always within its user's current role); None: all of
    them (tokens issued before scopes existed, and those issued without a scope)."""
    revoked_by: Mapped[str | None] = mapped_column(String(26), default=None)


class WebSession(Base):
    """A signed-in browser session; the cookie holds a random id whose hash is stored."""

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    ip: Mapped[str] = mapped_column(String(64), default="")
    stage: Mapped[str] = mapped_column(String(10), default="full", server_default="full")
    """'full' (signed in), 'mfa' (password right, the code still to give) or 'enrol' (password
    right, the user must enrol in TOTP before anything else)."""
    factor: Mapped[str] = mapped_column(String(20), default="password", server_default="password")
    """How the session was signed in: password, totp, recovery code or enrolment."""


class UserTotp(Base):
    """A user's TOTP secret (RFC 6238); usable once ``confirmed_at`` is set by a first code."""

    __tablename__ = "user_totp"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    """The 30-second time step of the last accepted code: a code is accepted only once."""


class RecoveryCode(Base):
    """A one-time recovery code (only its SHA-256 is stored); ``used_at`` once spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginThrottle(Base):
    """Consecutive failed sign-ins of a user name, known or not (so a lockout does not tell
    an outsider whether the name exists); ``locked_at`` once the limit is reached."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
