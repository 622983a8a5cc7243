"""A bag's slot is its start and its dose; a course knows when its plan ends.

After a restart at another dose where a bag began, the new plan's slot starts when the old
bag did: the bag made for the old dose (removed from the pump, or waiting and marked do not
hang) no longer holds the new slot, so the restart's bag can be prepared. The unique index
over live bags becomes (course, start, dose).

``course.plan_end`` is when the current plan's last bag ends, written with the task index
whenever the plan changes: a bag still waiting once it has passed is one not to hang (the
course is completed), on the task list as in the course state. Existing courses get it the
next time their plan changes; until then the task list reads the stored marks alone, as
before.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_LIVE_BAG = sa.text("status NOT IN ('discarded', 'voided')")


def _live_slot_index(*columns: str) -> None:
    op.create_index(
        "ux_bag_live_slot",
        "bag_preparation",
        list(columns),
        unique=True,
        sqlite_where=_LIVE_BAG,
        postgresql_where=_LIVE_BAG,
    )


def upgrade() -> None:
    op.drop_index("ux_bag_live_slot", table_name="bag_preparation")
    _live_slot_index("course_id", "slot_start", "dose_mcg_per_day")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan_end", blina.store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("plan_end")
    op.drop_index("ux_bag_live_slot", table_name="bag_preparation")
    _live_slot_index("course_id", "slot_start")
