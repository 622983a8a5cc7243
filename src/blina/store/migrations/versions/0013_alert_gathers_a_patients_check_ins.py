"""An open alert gathers the patient's further alerting check-ins.

While an alert of a patient is open, a further check-in that alerts joins it instead of
opening another: ``check_ins`` counts them, ``latest_report_id`` is the newest, and the
alert takes the most urgent level seen (a more urgent one tells the chain again). One
patient's flood of check-ins made 1,454 open alerts before (issue 16). Existing alerts
count one check-in, their own.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("check_ins", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("latest_report_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_alert_latest_report_id_symptom_report",
            "symptom_report",
            ["latest_report_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alert_latest_report_id_symptom_report", type_="foreignkey")
        batch_op.drop_column("latest_report_id")
        batch_op.drop_column("check_ins")
