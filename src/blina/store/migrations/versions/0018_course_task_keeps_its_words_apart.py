"""A task keeps its figures and names apart from its English text.

The task list is read in English and in Spanish: the page writes a task's words at display
time, in the reader's language, from the figures and names it was written from (the
cycle, the bag's number and dose and length, the drug, ...), kept as JSON beside the
English ``text`` (which the API goes on returning unchanged). Existing rows have none
and are shown with their stored text until the course's tasks are next rewritten.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("course_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("course_task", schema=None) as batch_op:
        batch_op.drop_column("params")
