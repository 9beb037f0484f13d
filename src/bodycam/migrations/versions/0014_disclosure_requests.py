"""public-records requests, their clocks and appeals; automatic holds' origin

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_disclosure_counters")),
    )
    op.create_table(
        "disclosure_clocks",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_disclosure_clocks_created_by_users")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_disclosure_clocks")),
    )
    op.create_table(
        "disclosure_requests",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("requester_contact", sa.String(length=200), nullable=False),
        sa.Column("requester_type", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("range_start", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("range_end", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("officer_badges", sa.JSON(), nullable=False),
        sa.Column("event_numbers", sa.JSON(), nullable=False),
        sa.Column("received_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("jurisdiction", sa.String(length=40), nullable=False),
        sa.Column("critical_incident", sa.Boolean(), nullable=False),
        sa.Column("incident_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("exemption", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_disclosure_requests_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_disclosure_requests_number")),
    )
    with op.batch_alter_table("disclosure_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_requests_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_disclosure_requests_status"), ["status"], unique=False)
    op.create_table(
        "disclosure_request_recordings",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("request_id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("attached_by", sa.String(length=26), nullable=False),
        sa.Column("attached_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attached_by"],
            ["users.id"],
            name=op.f("fk_disclosure_request_recordings_attached_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_disclosure_request_recordings_recording_id_recordings"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_request_recordings_request_id_disclosure_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_request_recordings")),
        sa.UniqueConstraint(
            "request_id", "recording_id", name=op.f("uq_disclosure_request_recordings_request_id")
        ),
    )
    with op.batch_alter_table("disclosure_request_recordings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_request_recordings_recording_id"),
            ["recording_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_disclosure_request_recordings_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "disclosure_steps",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("request_id", sa.String(length=26), nullable=False),
        sa.Column("at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_steps_request_id_disclosure_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_disclosure_steps_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_steps")),
    )
    with op.batch_alter_table("disclosure_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_steps_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "disclosure_appeals",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("request_id", sa.String(length=26), nullable=False),
        sa.Column("filed_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(length=26), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("decided_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=26), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_disclosure_appeals_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["users.id"], name=op.f("fk_disclosure_appeals_filed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_appeals_request_id_disclosure_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_appeals")),
    )
    with op.batch_alter_table("disclosure_appeals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_appeals_request_id"), ["request_id"], unique=False
        )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_legal_holds_origin"), ["origin"], unique=False)
    # Automatic holds placed before this revision were all opened by a case, whose number
    # is their target: give them their origin, so closing the case still releases them.
    op.execute("UPDATE legal_holds SET origin = target WHERE source = 'open_case'")


def downgrade() -> None:
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_origin"))
        batch_op.drop_column("origin")
    op.drop_table("disclosure_appeals")
    op.drop_table("disclosure_steps")
    op.drop_table("disclosure_request_recordings")
    op.drop_table("disclosure_requests")
    op.drop_table("disclosure_clocks")
    op.drop_table("disclosure_counters")
