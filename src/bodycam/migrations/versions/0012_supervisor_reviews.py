"""supervisor reviews

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 04:07:00.437493
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervisor_reviews",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("cycle", sa.String(length=10), nullable=False),
        sa.Column("officer_id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("squad_id", sa.String(length=26), nullable=True),
        sa.Column("supervisor_id", sa.String(length=26), nullable=True),
        sa.Column("required_event", sa.Boolean(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sampled_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sampled_by", sa.String(length=26), nullable=False),
        sa.Column("late_activation", sa.Boolean(), nullable=True),
        sa.Column("early_deactivation", sa.Boolean(), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=True),
        sa.Column("obstructed", sa.Boolean(), nullable=True),
        sa.Column("wrong_category", sa.Boolean(), nullable=True),
        sa.Column("expected_category", sa.String(length=100), nullable=True),
        sa.Column("professionalism", sa.String(length=10), nullable=True),
        sa.Column("training_need", sa.Boolean(), nullable=True),
        sa.Column("commendation", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=26), nullable=True),
        sa.Column("reviewed_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_supervisor_reviews_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_supervisor_reviews_recording_id_recordings"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_supervisor_reviews_reviewed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["sampled_by"], ["users.id"], name=op.f("fk_supervisor_reviews_sampled_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["squad_id"], ["squads.id"], name=op.f("fk_supervisor_reviews_squad_id_squads")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["users.id"], name=op.f("fk_supervisor_reviews_supervisor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisor_reviews")),
        sa.UniqueConstraint("cycle", "recording_id", name=op.f("uq_supervisor_reviews_cycle")),
    )
    with op.batch_alter_table("supervisor_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervisor_reviews_officer_id"), ["officer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervisor_reviews_recording_id"), ["recording_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervisor_reviews_squad_id"), ["squad_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_supervisor_reviews_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_supervisor_reviews_supervisor_id"), ["supervisor_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supervisor_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervisor_reviews_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_supervisor_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_supervisor_reviews_squad_id"))
        batch_op.drop_index(batch_op.f("ix_supervisor_reviews_recording_id"))
        batch_op.drop_index(batch_op.f("ix_supervisor_reviews_officer_id"))

    op.drop_table("supervisor_reviews")
