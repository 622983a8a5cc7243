"""Who did it, in words: the names a page shows beside a record's user ids (who prepared
a bag, graded a reaction, made a calendar feed, appears in the audit trail)."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.services.actors import Actor
from blina.store.tables import User

__all__ = ["signatures", "usernames"]


def usernames(session: Session, *, actor: Actor, ids: Iterable[int]) -> dict[int, str]:
    """The usernames of the actor's clinic's users among ``ids``."""
    found = session.execute(
        select(User.id, User.username).where(
            User.id.in_(set(ids)), User.clinic_id == actor.clinic_id
        )
    )
    return dict(found.all())


def signatures(session: Session, *, actor: Actor, ids: Iterable[int]) -> dict[int, str]:
    """Names to sign a worksheet with: the display name, and the username when it
    differs."""
    found = session.execute(
        select(User.id, User.display_name, User.username).where(
            User.id.in_(set(ids)), User.clinic_id == actor.clinic_id
        )
    )
    return {
        user_id: name if name == username else f"{name} ({username})"
        for user_id, name, username in found
    }
