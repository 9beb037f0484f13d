"""Axis Body Worn Integration API: registered users, devices and recording containers

Also the recall warnings written when a camera under an open recall uploads.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-24 07:10:00
"""

import sqlalchemy as sa
from alembic import op

import bodycam.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _registered() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("registered_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "axis_containers",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("user_uuid", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", bodycam.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_axis_containers_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_containers")),
        sa.UniqueConstraint("name", name=op.f("uq_axis_containers_name")),
    )
    op.create_table(
        "axis_devices",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("camera_id", sa.String(length=26), nullable=True),
        *_registered(),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["fleet_cameras.id"],
            name=op.f("fk_axis_devices_camera_id_fleet_cameras"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_axis_devices_registered_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_devices")),
        sa.UniqueConstraint("serial", name=op.f("uq_axis_devices_serial")),
    )
    op.create_table(
        "axis_systems",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("system_id", sa.String(length=100), nullable=False),
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        *_registered(),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_axis_systems_registered_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_systems")),
        sa.UniqueConstraint("system_id", name=op.f("uq_axis_systems_system_id")),
    )
    op.create_table(
        "axis_users",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("uuid", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("user_key", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("officer_id", sa.String(length=26), nullable=True),
        *_registered(),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_axis_users_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_axis_users_registered_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_users")),
        sa.UniqueConstraint("uuid", name=op.f("uq_axis_users_uuid")),
    )
    op.create_table(
        "axis_objects",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("container_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=True),
        sa.Column("uploaded_by", sa.String(length=26), nullable=False),
        sa.Column("uploaded_at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["axis_containers.id"],
            name=op.f("fk_axis_objects_container_id_axis_containers"),
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_axis_objects_recording_id_recordings"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_axis_objects_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_objects")),
        sa.UniqueConstraint("container_id", "name", name=op.f("uq_axis_objects_container_id")),
    )
    op.create_table(
        "fleet_recall_warnings",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recall_id", sa.String(length=26), nullable=False),
        sa.Column("camera_id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("at", bodycam.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["fleet_cameras.id"],
            name=op.f("fk_fleet_recall_warnings_camera_id_fleet_cameras"),
        ),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["fleet_recalls.id"],
            name=op.f("fk_fleet_recall_warnings_recall_id_fleet_recalls"),
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_fleet_recall_warnings_recording_id_recordings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_recall_warnings")),
        sa.UniqueConstraint(
            "recall_id", "recording_id", name=op.f("uq_fleet_recall_warnings_recall_id")
        ),
    )
    with op.batch_alter_table("fleet_recall_warnings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fleet_recall_warnings_camera_id"), ["camera_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fleet_recall_warnings_recall_id"), ["recall_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fleet_recall_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_recall_warnings_recall_id"))
        batch_op.drop_index(batch_op.f("ix_fleet_recall_warnings_camera_id"))

    op.drop_table("fleet_recall_warnings")
    op.drop_table("axis_objects")
    op.drop_table("axis_users")
    op.drop_table("axis_systems")
    op.drop_table("axis_devices")
    op.drop_table("axis_containers")
