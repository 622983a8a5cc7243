"""The audit trail is signed with a key kept outside the database (issue 16).

Each audit event gets a ``mac`` (HMAC-SHA256 of its hash with the audit key) and the head
the event from which every event carries one (``mac_from``); the audited records (check-
ins, courses, bags, users, gradings) get an ``audit_mac`` of their audited columns; a
clinic's audit page keeps how far it verified the trail (``audit_checkpoint``). Every new
column is empty here: the key is not known to a migration. Rows written before the trail
is keyed are signed by the first keyed write (blina.services.audit).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_AUDITED = ("app_user", "course", "bag_preparation", "toxicity_assessment", "symptom_report")


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("mac", sa.String(length=64), nullable=True))
    op.add_column("audit_head", sa.Column("mac_from", sa.Integer(), nullable=True))
    for table in _AUDITED:
        op.add_column(table, sa.Column("audit_mac", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_checkpoint",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.PrimaryKeyConstraint("clinic_id"),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoint")
    for table in _AUDITED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("audit_mac")
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.drop_column("mac_from")
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("mac")
