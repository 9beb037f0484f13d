"""Shared fixtures: both database engines, a fresh context per test, a small department.

Every test that takes ``ctx`` runs twice: on SQLite and on PostgreSQL (the CI
server named by BODYCAM_TEST_DATABASE_URL, or a throwaway one). Migrations run
once per engine per xdist worker; each test starts from empty tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.service import actor_for, create_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import Base, make_engine, transaction, upgrade
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.evidence.service import Vault, ensure_category
from bodycam.synth.video import make_clip

pytest_plugins = ["tests.fixtures.s3_server", "tests.fixtures.postgres"]

ENGINES = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Command-line tests (the ``home`` fixture) run on SQLite only, unless marked
    ``both_engines``: every command is a thin layer over service functions whose own
    tests run on both engines, and each command costs a new Python process (about a
    second), so running them twice made the suite minutes longer for no new check."""
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        engine = spec.params.get("db_url") if spec is not None else None
        cli_only = "home" in getattr(item, "fixturenames", ())
        if engine == "postgresql" and cli_only and item.get_closest_marker("both_engines") is None:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _worker(request: pytest.FixtureRequest) -> str:
    """A name for this test process's databases: the xdist worker and the process id, so
    two test runs on one server (a developer's and CI's, say) never share a database."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


@pytest.fixture(scope="session", params=ENGINES)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated empty database on each engine (one per xdist worker)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'bodycam.db'}"
        upgrade(url)
        yield url
        return
    from tests.fixtures.postgres import drop_database, fresh_database

    server = request.getfixturevalue("postgres_server_url")
    name = f"bodycam_test_{_worker(request)}"
    url = fresh_database(server, name)
    upgrade(url)
    yield url
    drop_database(server, name)


@pytest.fixture(params=ENGINES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new empty database (no schema) on each engine, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    from tests.fixtures.postgres import drop_database, fresh_database

    server = request.getfixturevalue("postgres_server_url")
    name = f"bodycam_empty_{_worker(request)}"
    yield fresh_database(server, name)
    drop_database(server, name)


def wipe(url: str) -> None:
    """Delete every row of every table (children first)."""
    engine = make_engine(url)
    with engine.begin() as c:
        for table in reversed(Base.metadata.sorted_tables):
            c.execute(text(f"DELETE FROM {table.name}"))
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings of a fresh deployment on ``db_url`` with a local store under tmp_path."""
    wipe(db_url)
    return Settings(
        home=tmp_path / "home",
        database_url=db_url,
        storage_url=f"file://{tmp_path / 'home' / 'blobs'}",
    )


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    """An opened context with the built-in category."""
    settings.resolved_home.mkdir(parents=True, exist_ok=True)
    context = Context.from_settings(settings, create_key=True)
    with transaction(context.sessions) as s:
        ensure_category(s, UNCATEGORIZED)
    yield context
    context.close()


@dataclass
class Dept:
    """A small department: users by short name and their actors."""

    users: dict[str, User]

    def actor(self, name: str, via: str = "cli") -> Actor:
        """The actor of user ``name``."""
        return actor_for(self.users[name], via)


PEOPLE = [
    # name, role, badge, squad
    ("admin", "administrator", None, None),
    ("clerk", "records_clerk", None, None),
    ("auditor", "auditor", None, None),
    ("external", "external", None, None),
    ("equipment", "equipment", None, None),
    ("analyst", "analyst", None, None),
    ("sgt_a", "supervisor", "9001", "North-A"),
    ("sgt_b", "supervisor", "9002", "South-B"),
    ("o1", "officer", "1001", "North-A"),
    ("o2", "officer", "1002", "North-A"),
    ("o3", "officer", "2001", "South-B"),
]


@pytest.fixture
def dept(ctx: Context) -> Dept:
    """Users of every role (no passwords) and the standard categories."""
    users = {}
    with transaction(ctx.sessions) as s:
        for name, role, badge, squad in PEOPLE:
            users[name] = create_user(s, None, name, role, badge=badge, squad=squad)
        ensure_category(s, "Traffic Stop")
        ensure_category(s, "Domestic Violence", "restricted")
        ensure_category(s, "Sexual Assault", "confidential")
    return Dept(users)


@pytest.fixture
def vault(ctx: Context) -> Vault:
    """Evidence collaborators of ``ctx``."""
    return Vault(ctx.sessions, ctx.store, ctx.settings.officer_sees_own)


CLIP_EPOCH = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Make (once per session) a small real clip for a seed: ``clips(seed)``."""
    folder = tmp_path_factory.mktemp("clips")

    def get(seed: int, seconds: float = 1.0, audio: bool = True) -> Path:
        path = folder / f"clip-{seed}-{seconds}-{int(audio)}.mp4"
        if not path.exists():
            make_clip(
                path,
                seconds=seconds,
                width=160,
                height=96,
                fps=10,
                seed=seed,
                audio=audio,
                creation_time=CLIP_EPOCH + timedelta(hours=seed),
            )
        return path

    return get


BODYCAM = [sys.executable, "-m", "bodycam.cli"]


@pytest.fixture
def home(
    ctx: Context, settings: Settings, tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """A deployment on the test database, driven only through the CLI."""
    env = os.environ | {
        "BODYCAM_HOME": str(settings.resolved_home),
        "BODYCAM_DATABASE_URL": settings.resolved_database_url,
        "BODYCAM_STORAGE_URL": settings.resolved_storage_url,
        "BODYCAM_ADMIN_PASSWORD": "correct-horse-battery",
    }
    env.pop("BODYCAM_USER", None)

    def run(
        *args: str, user: str | None = None, check: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        e = env | ({"BODYCAM_USER": user} if user else {})
        p = subprocess.run([*BODYCAM, *args], capture_output=True, text=True, env=e, cwd=tmp_path)
        if check is not None:
            assert p.returncode == check, (args, p.returncode, p.stdout, p.stderr)
        return p

    with transaction(ctx.sessions) as s:
        create_user(s, None, "chief", "administrator")
        create_user(s, None, "clerk", "records_clerk")
        create_user(s, None, "aud", "auditor")
        create_user(s, None, "ofc", "officer", badge="501", squad="A")
    return run
