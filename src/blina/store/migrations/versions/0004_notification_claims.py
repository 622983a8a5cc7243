"""Notifications are claimed, then sent with no transaction open: the claim time, so a
claim lost with a crashed worker can be taken again.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_at", blina.store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
