"""A check-in's idempotency key belongs to the person who sent it and to what was sent.

The key is scoped per submitter (a caregiver or nurse re-using the patient's key no longer
gets the patient's report back) and stored with the SHA-256 of the canonical request, so
the same key with a different check-in is refused instead of answered with the first one.
Existing reports keep no hash (None): a retry of one of them with the same key is refused
as a different check-in, the safe side (the phone sends it again under a new key).

Revision ID: 0010
Revises: 0009
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


_NEW = "uq_symptom_report_submitter_key"
# The first schema left the (patient, key) constraint unnamed: PostgreSQL named it, SQLite's
# batch copy names it by this convention.
_OLD_ON_POSTGRESQL = "symptom_report_patient_id_idempotency_key_key"
_OLD_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
_OLD_ON_SQLITE = "uq_symptom_report_patient_id_idempotency_key"


def _batch() -> Any:
    if op.get_bind().dialect.name == "postgresql":
        return op.batch_alter_table("symptom_report")
    return op.batch_alter_table("symptom_report", naming_convention=_OLD_CONVENTION)


def _old_name() -> str:
    postgresql = op.get_bind().dialect.name == "postgresql"
    return _OLD_ON_POSTGRESQL if postgresql else _OLD_ON_SQLITE


def upgrade() -> None:
    with _batch() as batch_op:
        batch_op.add_column(sa.Column("request_sha256", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(_old_name(), type_="unique")
        batch_op.create_unique_constraint(_NEW, ["patient_id", "submitted_by", "idempotency_key"])


def downgrade() -> None:
    # Back to one key per patient: reports that share a patient and a key (sent by
    # different people) break the older constraint, and the downgrade stops on them
    # rather than delete a check-in.
    with _batch() as batch_op:
        batch_op.drop_constraint(_NEW, type_="unique")
        batch_op.create_unique_constraint(_old_name(), ["patient_id", "idempotency_key"])
        batch_op.drop_column("request_sha256")
