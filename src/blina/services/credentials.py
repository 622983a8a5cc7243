"""Ending what lets a user in: their sessions and bearer tokens, and the reset links not
yet used. Called inside the transaction of the change that ends them (a deactivation, a
new role, a new password), after that transaction locked the user's row: a sign-in
writing at the same time lands either before (its token is ended here) or after (it
finds the change, ``accounts._LET_IN``).
"""

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from blina.store.tables import LoginToken, PasswordReset, table_of

__all__ = ["end_sessions", "revoke_reset_links"]

_TOKENS = table_of(LoginToken)
_RESETS = table_of(PasswordReset)


def end_sessions(session: Session, *, user_id: int, keep_sha256: str | None = None) -> int:
    """Every session and bearer token of the user stops working at once, but the one whose
    SHA-256 is ``keep_sha256`` (the caller's own, when they change their own password).
    How many were ended."""
    statement = delete(_TOKENS).where(_TOKENS.c.user_id == user_id)
    if keep_sha256 is not None:
        statement = statement.where(_TOKENS.c.token_sha256 != keep_sha256)
    return len(session.execute(statement.returning(_TOKENS.c.id)).all())


def revoke_reset_links(session: Session, *, user_id: int, now: datetime) -> int:
    """The user's reset links not yet used stop working (kept, for the record). How many."""
    revoked = session.execute(
        update(_RESETS)
        .where(
            _RESETS.c.user_id == user_id,
            _RESETS.c.used_at.is_(None),
            _RESETS.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(_RESETS.c.id)
    )
    return len(revoked.all())
