"""agency camera policy versions, officer statements, complainant viewing sessions

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 07:10:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("effective_from", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rules_file", sa.String(length=500), nullable=False),
        sa.Column("rules_body", sa.Text(), nullable=False),
        sa.Column("rules_sha256", sa.String(length=64), nullable=False),
        sa.Column("retention_version", sa.Integer(), nullable=False),
        sa.Column("clock_version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("applied_by", sa.String(length=26), nullable=False),
        sa.Column("applied_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applied_by"], ["users.id"], name=op.f("fk_policy_versions_applied_by_users")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("label", name=op.f("uq_policy_versions_label")),
    )
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_versions_effective_from"), ["effective_from"], unique=False
        )
    op.create_table(
        "policy_statements",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("officer_id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=True),
        sa.Column("given_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=26), nullable=False),
        sa.Column("recorded_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_policy_statements_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_policy_statements_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_policy_statements_recording_id_recordings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_statements")),
    )
    with op.batch_alter_table("policy_statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_statements_event"), ["event"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_policy_statements_officer_id"), ["officer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_policy_statements_recording_id"), ["recording_id"], unique=False
        )
    op.create_table(
        "policy_complainant_sessions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("share_id", sa.String(length=26), nullable=False),
        sa.Column("complaint_number", sa.String(length=64), nullable=False),
        sa.Column("complainant_name", sa.String(length=200), nullable=False),
        sa.Column("supervisor_id", sa.String(length=26), nullable=False),
        sa.Column("arranged_by", sa.String(length=26), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("starts_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=26), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arranged_by"],
            ["users.id"],
            name=op.f("fk_policy_complainant_sessions_arranged_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by"], ["users.id"], name=op.f("fk_policy_complainant_sessions_ended_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_policy_complainant_sessions_share_id_shares")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["users.id"],
            name=op.f("fk_policy_complainant_sessions_supervisor_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_complainant_sessions")),
        sa.UniqueConstraint("share_id", name=op.f("uq_policy_complainant_sessions_share_id")),
    )
    with op.batch_alter_table("policy_complainant_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_complainant_sessions_complaint_number"),
            ["complaint_number"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_policy_complainant_sessions_ends_at"), ["ends_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_policy_complainant_sessions_supervisor_id"),
            ["supervisor_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("policy_complainant_sessions")
    op.drop_table("policy_statements")
    op.drop_table("policy_versions")
