"""Alerts, escalation and notifications: the clinic's contact chain and acknowledgement
times, an escalation schedule on each alert, and a notification outbox.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clinic_id", "level"),
    )
    op.create_table(
        "clinic_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clinic_id", "position"),
    )
    with op.batch_alter_table("clinic_contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clinic_contact_clinic_id"), ["clinic_id"], unique=False
        )

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", blina.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["clinic_contact.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_notification_pending", ["status", "created_at"], unique=False)

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("symptom_report_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("escalation_step", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "next_escalation_at", blina.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_alert_due", ["status", "next_escalation_at"], unique=False)
        batch_op.create_foreign_key(
            "fk_alert_symptom_report", "symptom_report", ["symptom_report_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint("fk_alert_symptom_report", type_="foreignkey")
        batch_op.drop_index("ix_alert_due")
        batch_op.drop_column("next_escalation_at")
        batch_op.drop_column("escalation_step")
        batch_op.drop_column("symptom_report_id")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_pending")
        batch_op.drop_index(batch_op.f("ix_notification_alert_id"))

    op.drop_table("notification")
    with op.batch_alter_table("clinic_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinic_contact_clinic_id"))

    op.drop_table("clinic_contact")
    op.drop_table("alert_policy")
