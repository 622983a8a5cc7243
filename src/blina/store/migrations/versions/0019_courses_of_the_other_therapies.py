"""A course of a therapy other than blinatumomab can be stored (issue 19).

``therapy_course`` keeps, per patient, the therapy's key and the physician's planning
inputs as JSON, from which its plan is derived on every read; its status (active,
completed, discontinued, cancelled with ``ended_reason``), a version for optimistic
concurrency, who prescribed it, when, and its audit MAC. A partial unique index keeps one
active therapy course per patient (the services refuse one beside an active course of
blinatumomab too).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "therapy_course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("therapy", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ended_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prescribed_by", sa.Integer(), nullable=False),
        sa.Column("created_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("audit_mac", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["prescribed_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("therapy_course", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_therapy_course_patient_id"), ["patient_id"], unique=False
        )
    op.create_index(
        "ux_therapy_course_active_patient",
        "therapy_course",
        ["patient_id"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("ux_therapy_course_active_patient", table_name="therapy_course")
    with op.batch_alter_table("therapy_course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_therapy_course_patient_id"))
    op.drop_table("therapy_course")
