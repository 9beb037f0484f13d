"""cases, query holds, hold sources

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 04:40:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_by", sa.String(length=26), nullable=False),
        sa.Column("opened_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=26), nullable=True),
        sa.Column("closed_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["opened_by"], ["users.id"], name=op.f("fk_cases_opened_by_users")),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name=op.f("fk_cases_closed_by_users")),
        sa.PrimaryKeyConstraint("case_number", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("query", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("source", sa.String(length=20), server_default="manual", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("query")
    op.drop_table("cases")
