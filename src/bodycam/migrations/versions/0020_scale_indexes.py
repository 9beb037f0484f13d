"""trigram indexes for substring search on PostgreSQL; verified audit tree heads

Searching recordings by text (``lower(column) LIKE '%text%'`` over title, notes, file
name and case number) cannot use a B-tree index, so at a department's size every text
search read every recording. On PostgreSQL, ``pg_trgm`` GIN indexes on the lowered
columns answer such a LIKE from the index (``bench/scale.py``). SQLite has no trigram
indexes; there text search scans, as before.

``audit_verified_states`` keeps each tree head a verification found intact, with its
frontier, so the next verification re-hashes only the records sealed after it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-24 07:10:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# (index name, table, column): each a GIN index of lower(column) with gin_trgm_ops.
_TRIGRAM_INDEXES = [
    ("ix_recordings_title_trgm", "recordings", "title"),
    ("ix_recordings_notes_trgm", "recordings", "notes"),
    ("ix_recordings_filename_trgm", "recordings", "original_filename"),
    ("ix_recording_cases_case_number_trgm", "recording_cases", "case_number"),
]


def upgrade() -> None:
    op.create_table(
        "audit_verified_states",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("verified_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("records_checked", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_verified_states")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in _TRIGRAM_INDEXES:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (lower({column}) gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in _TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_table("audit_verified_states")
    # The extension stays: other objects may use it, and it holds no data.
