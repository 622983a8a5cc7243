"""A check-in's time and answers in columns of their own: each later check-in's triage
reads the patient's latest few, and through the JSON it parsed every earlier report
whole (about 2.7 kB with its triage) to take two small fields out of it.

Existing rows are filled from their stored report: its ``observed_at`` (the time given,
with its offset) and ``symptoms`` (the answers). A report that lacks the time takes the
time it was submitted; one that lacks the answers gets none.

Revision ID: 0006
Revises: 0005
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CHUNK = 1000
_REPORTS = sa.table(
    "symptom_report",
    sa.column("id", sa.Integer()),
    sa.column("submitted_at", blina.store.types.UTCDateTime()),
    sa.column("report", sa.JSON()),
    sa.column("observed_at", blina.store.types.UTCDateTime()),
    sa.column("symptoms", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("symptom_report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("observed_at", blina.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("symptoms", sa.JSON(), nullable=True))
    _fill_from_reports(op.get_bind())
    with op.batch_alter_table("symptom_report", schema=None) as batch_op:
        batch_op.alter_column("observed_at", nullable=False)
        batch_op.alter_column("symptoms", nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("symptom_report", schema=None) as batch_op:
        batch_op.drop_column("symptoms")
        batch_op.drop_column("observed_at")


def _fill_from_reports(connection: sa.Connection) -> None:
    """Each row's two columns from its report, a thousand rows at a time."""
    fill = (
        _REPORTS.update()
        .where(_REPORTS.c.id == sa.bindparam("row_id"))
        .values(observed_at=sa.bindparam("observed"), symptoms=sa.bindparam("answers"))
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_REPORTS.c.id, _REPORTS.c.submitted_at, _REPORTS.c.report)
            .where(_REPORTS.c.id > last)
            .order_by(_REPORTS.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        connection.execute(
            fill,
            [
                {"row_id": id_, **_look_back(submitted_at, report)}
                for id_, submitted_at, report in rows
            ],
        )
        last = rows[-1].id


def _look_back(submitted_at: datetime, report: dict[str, Any]) -> dict[str, Any]:
    observed = report.get("observed_at")
    answers = report.get("symptoms")
    return {
        "observed": submitted_at if observed is None else datetime.fromisoformat(observed),
        "answers": answers if isinstance(answers, dict) else {},
    }
