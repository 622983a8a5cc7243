"""A family member can be invited: one-time invitation links (issue 18).

``invitation`` keeps the links the care team issues for a patient or a caregiver to make
their own account: the patient, the role and the username the account will have, only the
SHA-256 of the link's token, when it expires, and when it was used (and the account it
made) or revoked. An index on the clinic and username finds the older invitations a newer
one of the same username revokes.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("created_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", blina.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", blina.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["issued_by"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitation_clinic_username", ["clinic_id", "username"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invitation_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_patient_id"))
        batch_op.drop_index("ix_invitation_clinic_username")
    op.drop_table("invitation")
