"""Migrations build the schema from an empty database on both engines, matching the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bodycam.db import Base, make_engine, upgrade


# SQLite cannot reflect expression indexes, so Alembic skips comparing them there (with
# a warning); tests/audit/test_bodies.py checks them through SQLite's query plans.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_upgrade_empty_database_matches_models(empty_url):
    upgrade(empty_url)
    upgrade(empty_url)  # idempotent: a second run is a no-op
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert set(Base.metadata.tables) <= tables
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; add an Alembic migration: {diff}"
