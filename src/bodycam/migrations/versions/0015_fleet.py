"""camera fleet: docks, cameras, assignments, history, device events, recalls

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_docks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("precinct", sa.String(length=100), nullable=False),
        sa.Column("ports", sa.Integer(), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_docks")),
    )
    with op.batch_alter_table("fleet_docks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fleet_docks_precinct"), ["precinct"], unique=False)

    op.create_table(
        "fleet_cameras",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("hardware_revision", sa.String(length=40), nullable=False),
        sa.Column("battery_lot", sa.String(length=64), nullable=False),
        sa.Column("firmware_version", sa.String(length=40), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("dock_id", sa.String(length=64), nullable=True),
        sa.Column("firmware_seen_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dock_id"], ["fleet_docks.id"], name=op.f("fk_fleet_cameras_dock_id_fleet_docks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_cameras")),
        sa.UniqueConstraint("serial", name=op.f("uq_fleet_cameras_serial")),
    )
    with op.batch_alter_table("fleet_cameras", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fleet_cameras_battery_lot"), ["battery_lot"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fleet_cameras_firmware_version"), ["firmware_version"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fleet_cameras_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_fleet_cameras_status"), ["status"], unique=False)

    op.create_table(
        "fleet_assignments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("camera_id", sa.String(length=26), nullable=False),
        sa.Column("officer_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("dock_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("open_camera", sa.String(length=26), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=False),
        sa.Column("ended_by", sa.String(length=26), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["fleet_cameras.id"],
            name=op.f("fk_fleet_assignments_camera_id_fleet_cameras"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_fleet_assignments_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["dock_id"], ["fleet_docks.id"], name=op.f("fk_fleet_assignments_dock_id_fleet_docks")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by"], ["users.id"], name=op.f("fk_fleet_assignments_ended_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_fleet_assignments_officer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_assignments")),
        sa.UniqueConstraint("camera_id", "started_at", name=op.f("uq_fleet_assignments_camera_id")),
        sa.UniqueConstraint("open_camera", name=op.f("uq_fleet_assignments_open_camera")),
    )
    with op.batch_alter_table("fleet_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fleet_assignments_camera_id"), ["camera_id"], unique=False
        )
        batch_op.create_index(
            "ix_fleet_assignments_officer_started", ["officer_id", "started_at"], unique=False
        )

    op.create_table(
        "fleet_history",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("object_type", sa.String(length=10), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_fleet_history_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_history")),
    )
    with op.batch_alter_table("fleet_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fleet_history_object_at", ["object_type", "object_id", "at"], unique=False
        )

    op.create_table(
        "fleet_imports",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(length=26), nullable=False),
        sa.Column("imported_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["users.id"], name=op.f("fk_fleet_imports_imported_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_imports")),
    )
    with op.batch_alter_table("fleet_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fleet_imports_sha256"), ["sha256"], unique=False)

    op.create_table(
        "fleet_recalls",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("criterion", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_fleet_recalls_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_recalls")),
    )
    with op.batch_alter_table("fleet_recalls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fleet_recalls_kind"), ["kind"], unique=False)

    op.create_table(
        "fleet_events",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dock_id", sa.String(length=64), nullable=True),
        sa.Column("battery_pct", sa.Integer(), nullable=True),
        sa.Column("firmware", sa.String(length=40), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("batch_id", sa.String(length=26), nullable=False),
        sa.Column("received_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["fleet_imports.id"], name=op.f("fk_fleet_events_batch_id_fleet_imports")
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["fleet_cameras.id"],
            name=op.f("fk_fleet_events_camera_id_fleet_cameras"),
        ),
        sa.ForeignKeyConstraint(
            ["dock_id"], ["fleet_docks.id"], name=op.f("fk_fleet_events_dock_id_fleet_docks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_events")),
        sa.UniqueConstraint("key", name=op.f("uq_fleet_events_key")),
    )
    with op.batch_alter_table("fleet_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fleet_events_at"), ["at"], unique=False)
        batch_op.create_index("ix_fleet_events_camera_at", ["camera_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fleet_events_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_fleet_events_sha256"), ["sha256"], unique=False)

    op.create_table(
        "fleet_recall_items",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recall_id", sa.String(length=26), nullable=False),
        sa.Column("camera_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=False),
        sa.Column("previous_firmware", sa.String(length=40), nullable=False),
        sa.Column("replacement_serial", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("resolved_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=26), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["fleet_cameras.id"],
            name=op.f("fk_fleet_recall_items_camera_id_fleet_cameras"),
        ),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["fleet_recalls.id"],
            name=op.f("fk_fleet_recall_items_recall_id_fleet_recalls"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_fleet_recall_items_resolved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_recall_items")),
        sa.UniqueConstraint("recall_id", "camera_id", name=op.f("uq_fleet_recall_items_recall_id")),
    )
    with op.batch_alter_table("fleet_recall_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fleet_recall_items_camera_id"), ["camera_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fleet_recall_items_recall_id"), ["recall_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fleet_recall_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_recall_items_recall_id"))
        batch_op.drop_index(batch_op.f("ix_fleet_recall_items_camera_id"))

    op.drop_table("fleet_recall_items")
    with op.batch_alter_table("fleet_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_events_sha256"))
        batch_op.drop_index(batch_op.f("ix_fleet_events_kind"))
        batch_op.drop_index("ix_fleet_events_camera_at")
        batch_op.drop_index(batch_op.f("ix_fleet_events_at"))

    op.drop_table("fleet_events")
    with op.batch_alter_table("fleet_recalls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_recalls_kind"))

    op.drop_table("fleet_recalls")
    with op.batch_alter_table("fleet_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_imports_sha256"))

    op.drop_table("fleet_imports")
    with op.batch_alter_table("fleet_history", schema=None) as batch_op:
        batch_op.drop_index("ix_fleet_history_object_at")

    op.drop_table("fleet_history")
    with op.batch_alter_table("fleet_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_fleet_assignments_officer_started")
        batch_op.drop_index(batch_op.f("ix_fleet_assignments_camera_id"))

    op.drop_table("fleet_assignments")
    with op.batch_alter_table("fleet_cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_cameras_status"))
        batch_op.drop_index(batch_op.f("ix_fleet_cameras_model"))
        batch_op.drop_index(batch_op.f("ix_fleet_cameras_firmware_version"))
        batch_op.drop_index(batch_op.f("ix_fleet_cameras_battery_lot"))

    op.drop_table("fleet_cameras")
    with op.batch_alter_table("fleet_docks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_docks_precinct"))

    op.drop_table("fleet_docks")
