"""Finding a clinic's patients by name or code, a page at a time (Clinic today).

Pages are keyed by the patient's id, as the API's lists are (``api/paging.py``): a page
starts after the last id of the one before, so a patient registered while someone pages
lands at the end and no patient is shown twice or skipped.
"""

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.records import PatientRecord, copy_of
from blina.store.tables import Patient

__all__ = ["SEARCH_MAX", "find_patients", "matches", "search_text"]

# A code is at most 64 characters and a name 200: a search longer than a name finds none.
SEARCH_MAX = 200


def search_text(given: str) -> str:
    """The search as used: spaces trimmed and runs of them made one; refused, naming the
    field and its bound, when longer than ``SEARCH_MAX``."""
    text = " ".join(given.split())
    if len(text) > SEARCH_MAX:
        raise InvalidInput("q", f"({len(text)} characters)", f"at most {SEARCH_MAX} characters")
    return text


def matches(text: str, *words: str) -> bool:
    """Whether ``text`` (as ``search_text`` gives it) is in one of ``words``, ignoring
    case; the empty search matches everything. ``find_patients``'s test, for lists built
    in memory (today's tasks); SQLite's ``lower()`` folds ASCII letters only, so there a
    search for "maría" misses "MARÍA" (PostgreSQL folds both)."""
    wanted = text.casefold()
    return any(wanted in word.casefold() for word in words)


def find_patients(
    session: Session, *, actor: Actor, text: str = "", after: int | None = None, limit: int
) -> list[PatientRecord]:
    """The clinic's patients whose code or name contains ``text`` (ignoring case; empty:
    every patient), by id, after the id ``after``, at most ``limit``."""
    require_role(
        actor,
        Role.NURSE,
        Role.PHYSICIAN,
        Role.PHARMACIST,
        Role.ADMIN,
        doing="search the clinic's patients",
    )
    text = search_text(text)
    query = (
        select(Patient)
        .where(Patient.clinic_id == actor.clinic_id)
        .order_by(Patient.id)
        .limit(limit)
    )
    if text:
        wanted = text.lower()
        query = query.where(
            or_(
                func.lower(Patient.code).contains(wanted, autoescape=True),
                func.lower(Patient.display_name).contains(wanted, autoescape=True),
            )
        )
    if after is not None:
        query = query.where(Patient.id > after)
    return [copy_of(PatientRecord, row) for row in session.execute(query).scalars()]
