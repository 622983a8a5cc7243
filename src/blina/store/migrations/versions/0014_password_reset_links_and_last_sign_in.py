"""Accounts can be recovered: one-time password reset links, and each user's last sign-in.

``password_reset`` keeps the links an admin issues (issue 16, item 11): only the SHA-256
of a link's token, when it expires, and when it was used or revoked. ``app_user`` gets
``last_login_at``, written by the sign-in that lets the user in (empty until then).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import blina.store.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_reset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("created_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", blina.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", blina.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", blina.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["issued_by"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("password_reset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_reset_user_id"), ["user_id"], unique=False)
    op.add_column(
        "app_user",
        sa.Column("last_login_at", blina.store.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
    with op.batch_alter_table("password_reset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_user_id"))
    op.drop_table("password_reset")
