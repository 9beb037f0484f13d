"""signed release packages for public-records requests

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_releases",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("request_id", sa.String(length=26), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("key_name", sa.String(length=200), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_disclosure_releases_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_releases_request_id_disclosure_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_releases")),
    )
    with op.batch_alter_table("disclosure_releases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_releases_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disclosure_releases_manifest_sha256"), ["manifest_sha256"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disclosure_releases_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("disclosure_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_releases_request_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_releases_manifest_sha256"))
        batch_op.drop_index(batch_op.f("ix_disclosure_releases_created_at"))

    op.drop_table("disclosure_releases")
