"""The clinic's emergency number and crisis line, shown with a check-in's answer (issue 15):
the number for emergency services where the clinic is (112 in France, 999 in the UK, 911
in the US) and a crisis line for thoughts of self-harm. Both are clinic settings, not
clinical facts; existing clinics get none (empty), and the answer then says "your
emergency number".

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("emergency_number", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("crisis_line", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_column("crisis_line")
        batch_op.drop_column("emergency_number")
