"""Web fixtures: the app on the test context, an HTTP client, credentials and recordings.

The ``client`` is NOT entered as a context manager, so the app's lifespan (the background
audit sealer, every 2 s) does not run during these tests. It got in the way: on SQLite a
request whose transaction reads and then writes (sign-in: read the user, hash, write the
audit record) fails at once with "database is locked" when the sealer commits in between,
because bodycam.db opens transactions with a deferred BEGIN (SQLITE_BUSY_SNAPSHOT is not
retried by the busy timeout). That bug is reported, not papered over; the lifespan itself
is covered by ``test_lifespan_seals_what_was_recorded`` in test_api.py, which cannot race.
Proofs and the checkpoint endpoint seal on demand, so nothing here needs the sealer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth import service as auth_service
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence import service as ev
from bodycam.evidence.service import Vault
from bodycam.web.app import create_app
from bodycam.web.deps import SESSION_COOKIE
from tests.conftest import Dept

PASSWORD = "correct horse battery"


@pytest.fixture
def app(ctx: Context) -> FastAPI:
    """The app sharing the test database and blob store."""
    return create_app(ctx.settings, ctx)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client without the lifespan that does not follow redirects (tests look at them)."""
    c = TestClient(app, follow_redirects=False)
    yield c
    c.close()


@dataclass
class Creds:
    """API tokens and web sessions of the department's users, made on first use."""

    ctx: Context
    dept: Dept
    _tokens: dict[str, str] = field(default_factory=dict)
    _sessions: dict[str, tuple[str, str]] = field(default_factory=dict)

    def token(self, name: str) -> dict[str, str]:
        """Headers carrying an API token of user ``name``."""
        if name not in self._tokens:
            with transaction(self.ctx.sessions) as s:
                issued = auth_service.issue_token(s, self.dept.actor(name), f"test {name}")
            self._tokens[name] = issued.secret
        return {"Authorization": f"Bearer {self._tokens[name]}"}

    def new_session(self, name: str) -> tuple[str, str]:
        """A fresh web session of ``name``: (cookie value, csrf token)."""
        with transaction(self.ctx.sessions) as s:
            return auth_service.start_session(s, self.dept.users[name])

    def session(self, name: str) -> tuple[str, str]:
        """The (reused) web session of ``name``."""
        if name not in self._sessions:
            self._sessions[name] = self.new_session(name)
        return self._sessions[name]

    def cookie(self, name: str) -> dict[str, str]:
        """Headers carrying the session cookie of ``name``."""
        return {"Cookie": f"{SESSION_COOKIE}={self.session(name)[0]}"}

    def csrf(self, name: str) -> str:
        """The csrf token of ``name``'s session."""
        return self.session(name)[1]


@pytest.fixture
def creds(ctx: Context, dept: Dept) -> Creds:
    """Credentials of every user of ``dept``."""
    return Creds(ctx, dept)


def count_audit(ctx: Context, action: str | None = None, **where: str) -> int:
    """Audit records with ``action`` (and column values ``where``)."""
    stmt = select(func.count()).select_from(AuditRecord)
    if action is not None:
        stmt = stmt.where(AuditRecord.action == action)
    for col, value in where.items():
        stmt = stmt.where(getattr(AuditRecord, col) == value)
    with ctx.sessions() as s:
        return s.scalar(stmt) or 0


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Rec:
    """A recording ingested for a test."""

    id: str
    sha256: str
    path: Path
    seed: int


@pytest.fixture
def ingest(vault: Vault, dept: Dept, clips: Callable[..., Path]) -> Callable[..., Rec]:
    """Ingest ``clips(seed)`` for the officer with ``badge`` through the service."""

    def do(seed: int, badge: str = "1001", **kw: object) -> Rec:
        path = clips(seed)
        res = ev.ingest_file(vault, dept.actor("clerk"), path, officer_badge=badge, **kw)  # type: ignore[arg-type]
        return Rec(res.id, res.sha256, path, seed)

    return do
