"""An acknowledged alert says what was done, in the nurse's or physician's words.

``what_was_done`` is the short line the hand-over list shows beside the outcome chosen
(at most 280 characters; None for alerts acknowledged before it was asked, and for an
API client that does not send it). The acknowledged list is read newest first by the
time of acknowledgement: ``ix_alert_acknowledged_at`` serves it.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("what_was_done", sa.String(length=280), nullable=True))
        batch_op.create_index("ix_alert_acknowledged_at", ["acknowledged_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_acknowledged_at")
        batch_op.drop_column("what_was_done")
