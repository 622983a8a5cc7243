"""The clinic's numbers a family is shown with a check-in's answer: the care team's phone,
the number for emergency services where the clinic is (112 in France, 999 in the UK, 911
in the US) and a crisis line for thoughts of self-harm.

They are clinic settings, not clinical facts: blina ships none, and an answer given while
one is empty says "your local emergency number" instead. The admin sets them; every
change is audited. A number is checked when it is entered, as the page dials it
(``tel:``): digits with the usual separators, or it would fail the family when it is
needed.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.records import ClinicRecord, copy_of
from blina.store.tables import Clinic

__all__ = ["ClinicNumbers", "clinic_numbers", "clinic_of", "set_clinic_numbers"]

# The columns' widths.
_WIDTHS = {"phone": 64, "emergency_number": 32, "crisis_line": 64}
# What a dialled number may hold after an optional leading +: ASCII digits, spaces, and
# the separators people write.
_DIGITS = frozenset("0123456789")
_DIALABLE = _DIGITS | frozenset(" -().")
_ALLOWED = (
    "empty, or a number to dial: digits with an optional leading +, spaces, hyphens, "
    "dots and parentheses, at most {width} characters"
)


@dataclass(frozen=True, slots=True)
class ClinicNumbers:
    phone: str
    emergency_number: str
    crisis_line: str


def clinic_of(session: Session, *, actor: Actor) -> ClinicRecord:
    """The actor's own clinic: its name, time zone and numbers (everyone signed in works
    in, or is cared for by, exactly one clinic)."""
    return copy_of(ClinicRecord, _clinic(session, actor))


def clinic_numbers(session: Session, *, actor: Actor) -> ClinicNumbers:
    """The clinic's numbers, for its staff."""
    require_role(
        actor,
        Role.ADMIN,
        Role.PHYSICIAN,
        Role.NURSE,
        Role.PHARMACIST,
        doing="see the clinic's numbers",
    )
    return _numbers(_clinic(session, actor))


def set_clinic_numbers(
    session: Session, *, actor: Actor, now: datetime, numbers: ClinicNumbers
) -> ClinicNumbers:
    """Set the clinic's numbers (admin); each one is checked first, and a refusal names
    the field and what is allowed. Answers the numbers as kept (trimmed)."""
    require_role(actor, Role.ADMIN, doing="set the clinic's numbers")
    kept = ClinicNumbers(
        phone=_dialable("phone", numbers.phone),
        emergency_number=_dialable("emergency_number", numbers.emergency_number),
        crisis_line=_dialable("crisis_line", numbers.crisis_line),
    )
    clinic = _clinic(session, actor)
    before = _numbers(clinic)
    clinic.phone = kept.phone
    clinic.emergency_number = kept.emergency_number
    clinic.crisis_line = kept.crisis_line
    append_audit(
        session,
        at=now,
        actor=actor,
        action="clinic.numbers",
        subject_type="clinic",
        subject_id=clinic.id,
        before=_as_dict(before),
        after=_as_dict(kept),
    )
    return kept


def _dialable(field: str, value: str) -> str:
    """The number trimmed, or why it cannot be dialled."""
    number = value.strip()
    width = _WIDTHS[field]
    body = number.removeprefix("+")
    dialable = set(body) <= _DIALABLE and not _DIGITS.isdisjoint(body)
    if number and (len(number) > width or not dialable):
        raise InvalidInput(field, number, _ALLOWED.format(width=width))
    return number


def _clinic(session: Session, actor: Actor) -> Clinic:
    clinic = session.get(Clinic, actor.clinic_id)
    assert clinic is not None  # a signed-in actor's clinic exists
    return clinic


def _numbers(clinic: Clinic) -> ClinicNumbers:
    return ClinicNumbers(clinic.phone, clinic.emergency_number, clinic.crisis_line)


def _as_dict(numbers: ClinicNumbers) -> dict[str, str]:
    return {
        "phone": numbers.phone,
        "emergency_number": numbers.emergency_number,
        "crisis_line": numbers.crisis_line,
    }
