"""external shares: links with a code for a named recipient, their items, sessions, history

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_org", sa.String(length=200), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("recipient_role", sa.String(length=20), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=26), nullable=True),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=26), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.Column("code_issued_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failed_codes", sa.Integer(), nullable=False),
        sa.Column("locked_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_shares_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_shares_request_id_disclosure_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_shares_revoked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_shares_token_sha256")),
    )
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shares_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_shares_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "share_items",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("share_id", sa.String(length=26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("copy_id", sa.String(length=26), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("watermark_sha256", sa.String(length=64), nullable=True),
        sa.Column("watermark_size", sa.BigInteger(), nullable=True),
        sa.Column("watermarked_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["copy_id"], ["redacted_copies.id"], name=op.f("fk_share_items_copy_id_redacted_copies")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_share_items_recording_id_recordings"),
        ),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_share_items_share_id_shares")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_items")),
        sa.UniqueConstraint("share_id", "position", name=op.f("uq_share_items_share_id")),
    )
    with op.batch_alter_table("share_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_items_recording_id"), ["recording_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_share_items_share_id"), ["share_id"], unique=False)
    op.create_table(
        "share_sessions",
        sa.Column("id_sha256", sa.String(length=64), nullable=False),
        sa.Column("share_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_share_sessions_share_id_shares")
        ),
        sa.PrimaryKeyConstraint("id_sha256", name=op.f("pk_share_sessions")),
    )
    with op.batch_alter_table("share_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_sessions_share_id"), ["share_id"], unique=False)
    op.create_table(
        "share_accesses",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("share_id", sa.String(length=26), nullable=False),
        sa.Column("at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_share_accesses_share_id_shares")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_accesses")),
    )
    with op.batch_alter_table("share_accesses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_accesses_share_id"), ["share_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("share_accesses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_accesses_share_id"))
    op.drop_table("share_accesses")
    with op.batch_alter_table("share_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_sessions_share_id"))
    op.drop_table("share_sessions")
    with op.batch_alter_table("share_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_items_share_id"))
        batch_op.drop_index(batch_op.f("ix_share_items_recording_id"))
    op.drop_table("share_items")
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shares_expires_at"))
        batch_op.drop_index(batch_op.f("ix_shares_created_by"))
    op.drop_table("shares")
