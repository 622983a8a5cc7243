"""A patient and a user may have a phone number, for the care team to call back.

An alert card says whom to call and on what number: the reporter's own (a patient's or
caregiver's account) or else the patient's (given when registered, or later). Both are
optional: existing rows have none, and the card says so.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("phone")
