"""A notification keeps a copy of its contact and waits before a retry; an escalation
time is a whole number of minutes from 1 to 10080 (issue 16).

``notification.contact_id`` pointed at the clinic's contact, so once a message had gone
out the chain could no longer be changed: deleting a contact broke the reference. The
notification already kept the address or URL it went to (``channel``, ``target``); it now
keeps the contact's name as it was (``contact_name``, filled from the contact) and no
reference. ``next_attempt_at`` holds a failed message back until its next try.

Escalation times outside 1 to 10080 minutes were accepted before and broke every alerting
check-in of their clinic (2**62) or escalated at once (0 or less): they are brought into
the range, on the side that escalates sooner, and the range is checked on entry from now on.

The downgrade gives each notification back a contact of its clinic with the same name; a
notification whose contact is gone (the chain changed since) has none, and the downgrade
stops on it rather than delete the record of a message sent.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SHORTEST = 1
_LONGEST = 7 * 24 * 60  # minutes: a week, blina.services.escalation.MINUTES_MAX then


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("contact_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "next_attempt_at", blina.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute(
        "UPDATE notification SET contact_name = (SELECT clinic_contact.name FROM clinic_contact"
        " WHERE clinic_contact.id = notification.contact_id)"
    )
    with op.batch_alter_table("notification") as batch_op:
        batch_op.alter_column("contact_name", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column("contact_id")  # and its foreign key with it
    op.execute(f"UPDATE alert_policy SET minutes = {_LONGEST} WHERE minutes > {_LONGEST}")
    op.execute(f"UPDATE alert_policy SET minutes = {_SHORTEST} WHERE minutes < {_SHORTEST}")


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE notification SET contact_id = (SELECT min(clinic_contact.id)"
        " FROM clinic_contact JOIN patient ON patient.clinic_id = clinic_contact.clinic_id"
        " JOIN alert ON alert.patient_id = patient.id"
        " WHERE alert.id = notification.alert_id"
        " AND clinic_contact.name = notification.contact_name)"
    )
    with op.batch_alter_table("notification") as batch_op:
        batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "notification_contact_id_fkey", "clinic_contact", ["contact_id"], ["id"]
        )
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("contact_name")
