"""A bag-change task keeps its slot's key beside its time.

A bag hung late moves the rest of its cycle later (the re-plan counts the time bags ran),
so a bag-change task's time is no longer the start its bag was prepared for: the task
list finds the bag by the slot's key (``Bag.key``), which a late hang does not move.
Existing bag-change tasks get their own time as key (no course had a moved slot before).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("course_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("slot_key", blina.store.types.UTCDateTime(timezone=True), nullable=True)
        )
    task = sa.table(
        "course_task",
        sa.column("kind", sa.String()),
        sa.column("at", blina.store.types.UTCDateTime(timezone=True)),
        sa.column("slot_key", blina.store.types.UTCDateTime(timezone=True)),
    )
    op.execute(task.update().where(task.c.kind == "bag-change").values(slot_key=task.c.at))


def downgrade() -> None:
    with op.batch_alter_table("course_task", schema=None) as batch_op:
        batch_op.drop_column("slot_key")
