"""authentication hardening: TOTP, recovery codes, lockout, sessions, token scopes

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 07:10:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_totp",
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_totp_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_totp")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_recovery_codes_code_sha256")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=26), nullable=True))
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=10), server_default="full", nullable=False)
        )
        batch_op.add_column(
            sa.Column("factor", sa.String(length=20), server_default="password", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("factor")
        batch_op.drop_column("stage")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("scopes")
    op.drop_table("login_throttle")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")
    op.drop_table("user_totp")
