"""Bags from the bench to the pump, premedication recorded as given, one active course
per patient.

A bag gets a short code (printed on its worksheet and label), the slot it was made for
(its start and dose, copied from its stored recipe), a status, and the columns of each
step: dispensed, hung (with the pump's rate and volume as entered), removed (volume
left), discarded or voided (with a reason). One bag per slot of a course: a partial unique
index over the bags that hold it (all but discarded and voided).

Existing bags keep their history: a verified one is ``verified``, else ``prepared``; each
gets the code ``L`` and its id. A patient with more than one active course keeps the
newest active; the older ones are ended as ``completed`` with the reason saying so (the
audit trail keeps what happened before). Task rows get ``ref`` (a premedication's drug).

Revision ID: 0007
Revises: 0006
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LIVE_BAG = sa.text("status NOT IN ('discarded', 'voided')")
_ACTIVE_COURSE = sa.text("status = 'active'")
_BAGS = sa.table(
    "bag_preparation",
    sa.column("id", sa.Integer()),
    sa.column("recipe", sa.JSON()),
    sa.column("verified_by", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("slot_start", blina.store.types.UTCDateTime()),
    sa.column("dose_mcg_per_day", blina.store.types.ExactDecimal()),
    sa.column("status", sa.String()),
)
_COURSES = sa.table(
    "course",
    sa.column("id", sa.Integer()),
    sa.column("patient_id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("ended_reason", sa.Text()),
)


def _user(name: str) -> sa.Column[Any]:
    fk = sa.ForeignKey("app_user.id", name=f"fk_bag_preparation_{name}_app_user")
    return sa.Column(name, sa.Integer(), fk, nullable=True)


def _moment(name: str) -> sa.Column[Any]:
    return sa.Column(name, blina.store.types.UTCDateTime(timezone=True), nullable=True)


def _amount(name: str) -> sa.Column[Any]:
    return sa.Column(name, blina.store.types.ExactDecimal(), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("bag_preparation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=16), nullable=True))
        batch_op.add_column(_moment("slot_start"))
        batch_op.add_column(_amount("dose_mcg_per_day"))
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("do_not_hang", sa.Text(), nullable=True))
        batch_op.add_column(_user("dispensed_by"))
        batch_op.add_column(_moment("dispensed_at"))
        batch_op.add_column(sa.Column("dispensed_to", sa.String(length=10), nullable=True))
        batch_op.add_column(_user("hung_by"))
        batch_op.add_column(_moment("hung_at"))
        batch_op.add_column(_amount("pump_rate_ml_per_h"))
        batch_op.add_column(_amount("pump_volume_ml"))
        batch_op.add_column(_user("removed_by"))
        batch_op.add_column(_moment("removed_at"))
        batch_op.add_column(_amount("volume_left_ml"))
        batch_op.add_column(_user("ended_by"))
        batch_op.add_column(_moment("ended_at"))
        batch_op.add_column(sa.Column("ended_reason", sa.Text(), nullable=True))
    connection = op.get_bind()
    _fill_bags(connection)
    with op.batch_alter_table("bag_preparation", schema=None) as batch_op:
        for name in ("code", "slot_start", "dose_mcg_per_day", "status"):
            batch_op.alter_column(name, nullable=False)
        batch_op.create_unique_constraint("uq_bag_preparation_code", ["code"])
    op.create_index(
        "ux_bag_live_slot",
        "bag_preparation",
        ["course_id", "slot_start"],
        unique=True,
        sqlite_where=_LIVE_BAG,
        postgresql_where=_LIVE_BAG,
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("backdated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _one_active_course(connection)
    op.create_index(
        "ux_course_active_patient",
        "course",
        ["patient_id"],
        unique=True,
        sqlite_where=_ACTIVE_COURSE,
        postgresql_where=_ACTIVE_COURSE,
    )
    with op.batch_alter_table("course_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ref", sa.String(length=100), nullable=False, server_default="")
        )
    op.create_table(
        "premedication_given",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("due", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("drug", sa.String(length=100), nullable=False),
        sa.Column("dose", sa.String(length=60), nullable=False),
        sa.Column("given_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("given_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["given_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("course_id", "due", "drug"),
    )
    op.create_index(op.f("ix_premedication_given_course_id"), "premedication_given", ["course_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_premedication_given_course_id"), table_name="premedication_given")
    op.drop_table("premedication_given")
    with op.batch_alter_table("course_task", schema=None) as batch_op:
        batch_op.drop_column("ref")
    op.drop_index("ux_course_active_patient", table_name="course")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("backdated")
        batch_op.drop_column("ended_reason")
    op.drop_index("ux_bag_live_slot", table_name="bag_preparation")
    with op.batch_alter_table("bag_preparation", schema=None) as batch_op:
        batch_op.drop_constraint("uq_bag_preparation_code", type_="unique")
        for name in (
            "ended_reason",
            "ended_at",
            "ended_by",
            "volume_left_ml",
            "removed_at",
            "removed_by",
            "pump_volume_ml",
            "pump_rate_ml_per_h",
            "hung_at",
            "hung_by",
            "dispensed_to",
            "dispensed_at",
            "dispensed_by",
            "do_not_hang",
            "status",
            "dose_mcg_per_day",
            "slot_start",
            "code",
        ):
            batch_op.drop_column(name)


def _fill_bags(connection: sa.Connection) -> None:
    """Each stored bag's slot from its recipe; its status from its verification."""
    rows = connection.execute(sa.select(_BAGS.c.id, _BAGS.c.recipe, _BAGS.c.verified_by)).all()
    if not rows:
        return
    fill = (
        _BAGS.update()
        .where(_BAGS.c.id == sa.bindparam("row_id"))
        .values(
            code=sa.bindparam("new_code"),
            slot_start=sa.bindparam("start"),
            dose_mcg_per_day=sa.bindparam("dose"),
            status=sa.bindparam("new_status"),
        )
    )
    connection.execute(
        fill,
        [
            {
                "row_id": id_,
                "new_code": f"L{id_}",
                "start": datetime.fromisoformat(str(recipe["bag_start"])),
                "dose": Decimal(str(recipe["prescription"]["dose_mcg_per_day"])),
                "new_status": "prepared" if verified_by is None else "verified",
            }
            for id_, recipe, verified_by in rows
        ],
    )


def _one_active_course(connection: sa.Connection) -> None:
    """Older active courses of a patient who has several are ended as completed."""
    active = connection.execute(
        sa.select(_COURSES.c.id, _COURSES.c.patient_id)
        .where(_COURSES.c.status == "active")
        .order_by(_COURSES.c.patient_id, _COURSES.c.id.desc())
    ).all()
    newest: dict[int, int] = {}
    for id_, patient_id in active:
        if patient_id not in newest:
            newest[patient_id] = id_
            continue
        connection.execute(
            _COURSES.update()
            .where(_COURSES.c.id == id_)
            .values(
                status="completed",
                ended_reason=f"ended by migration 0007: course {newest[patient_id]} is the "
                "patient's active course (one active course per patient)",
            )
        )
