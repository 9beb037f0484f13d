"""redaction projects keep the transcript of their recording's audio

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 02:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("redaction_projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcript", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("redaction_projects", schema=None) as batch_op:
        batch_op.drop_column("transcript")
