"""The clinic's escalation chain: who is told of an alert, in what order, and how long an
alert of each level waits for an acknowledgement before the next contact is told.

Everything is checked when it is entered, in the words every edge shows: an address that
cannot be sent to would otherwise be found only by the worker, at night, with an alert
waiting on it (issue 16). The chain can be replaced at any time: a notification keeps a
copy of the contact it went to, not a reference.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.domain.triage.rules import TriageLevel
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.store.tables import AlertPolicy, ClinicContact

__all__ = [
    "MINUTES_ALLOWED",
    "MINUTES_MAX",
    "MINUTES_MIN",
    "Chain",
    "ChainContact",
    "checked_chain",
    "set_escalation_chain",
]

# A site parameter with no clinical source; the bounds only keep it meaningful. Under a
# minute nobody can answer; past a week an alert has been handled some other way (and
# 2**62 minutes is past the calendar's end, which broke every alerting check-in).
MINUTES_MIN = 1
MINUTES_MAX = 7 * 24 * 60
MINUTES_ALLOWED = f"a whole number of minutes from {MINUTES_MIN} to {MINUTES_MAX} (7 days)"

_NAME_MAX = 200
_EMAIL_MAX = 200  # the columns' lengths
_WEBHOOK_MAX = 500
_EMAIL_ALLOWED = "an e-mail address such as name@clinic.org"
_WEBHOOK_ALLOWED = (
    "an http:// or https:// address with a host, such as https://pager.clinic.org/hook,"
    f" at most {_WEBHOOK_MAX} characters, with no spaces, line breaks or non-ASCII characters"
)


@dataclass(frozen=True, slots=True)
class ChainContact:
    """One step of the chain; an empty address is no address."""

    name: str
    email: str | None = None
    webhook_url: str | None = None


@dataclass(frozen=True, slots=True)
class Chain:
    """The contacts in order, and the minutes each level waits before moving on (a level
    with no time tells every contact at once)."""

    contacts: Sequence[ChainContact]
    minutes: Mapping[str, int]


def set_escalation_chain(session: Session, *, actor: Actor, now: datetime, chain: Chain) -> Chain:
    """Replace the clinic's chain and times (admin); the chain as kept (addresses in their
    normal form)."""
    require_role(actor, Role.ADMIN, doing="set the clinic's escalation chain")
    kept = checked_chain(chain)
    clinic = actor.clinic_id
    session.execute(delete(AlertPolicy).where(AlertPolicy.clinic_id == clinic))
    session.execute(delete(ClinicContact).where(ClinicContact.clinic_id == clinic))
    session.flush()
    for position, contact in enumerate(kept.contacts, start=1):
        session.add(
            ClinicContact(
                clinic_id=clinic,
                position=position,
                name=contact.name,
                email=contact.email,
                webhook_url=contact.webhook_url,
            )
        )
    for level, minutes in kept.minutes.items():
        session.add(AlertPolicy(clinic_id=clinic, level=level, minutes=minutes))
    append_audit(
        session,
        at=now,
        actor=actor,
        action="clinic.escalation",
        subject_type="clinic",
        subject_id=clinic,
        after={
            "contacts": [
                {"name": c.name, "email": c.email, "webhook_url": c.webhook_url}
                for c in kept.contacts
            ],
            "minutes": dict(kept.minutes),
        },
    )
    return kept


def checked_chain(chain: Chain) -> Chain:
    """The chain with every field checked; raises ``InvalidInput`` naming the first bad
    one (``contacts.0.email``, ``minutes.call-now``)."""
    if not chain.contacts:
        raise InvalidInput("contacts", "(none)", "at least one contact")
    contacts = [_checked_contact(f"contacts.{i}", c) for i, c in enumerate(chain.contacts)]
    levels = [str(level) for level in TriageLevel]
    for level, minutes in chain.minutes.items():
        if level not in levels:
            raise InvalidInput("minutes", level, f"keyed by a level: one of {', '.join(levels)}")
        if not MINUTES_MIN <= minutes <= MINUTES_MAX:
            raise InvalidInput(f"minutes.{level}", minutes, MINUTES_ALLOWED)
    return Chain(contacts, dict(chain.minutes))


def _checked_contact(field: str, contact: ChainContact) -> ChainContact:
    name = contact.name.strip()
    if not name or len(name) > _NAME_MAX:
        raise InvalidInput(f"{field}.name", contact.name, f"1 to {_NAME_MAX} characters")
    email = _email(f"{field}.email", contact.email) if contact.email else None
    webhook = _webhook(f"{field}.webhook_url", contact.webhook_url) if contact.webhook_url else None
    if email is None and webhook is None:
        # A step nobody can be told on would let the alert wait on it in silence.
        raise InvalidInput(field, name, "given an email, a webhook_url, or both")
    return ChainContact(name, email, webhook)


def _email(field: str, value: str) -> str:
    """The address in its normal form, in ASCII (an international domain in its IDNA
    form), so that any mail server takes it: a local part that needs SMTPUTF8 is refused.
    Checked by its syntax only, with no DNS look-up: the service may run where DNS does
    not reach, and the clinic's mail server delivers."""
    try:
        normal = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidInput(field, value, f"{_EMAIL_ALLOWED} ({error})") from None
    address = normal.ascii_email
    assert address is not None  # None only for an address that needs SMTPUTF8
    if len(address) > _EMAIL_MAX:
        raise InvalidInput(field, value, f"{_EMAIL_ALLOWED}, at most {_EMAIL_MAX} characters")
    return address


def _webhook(field: str, value: str) -> str:
    """An address urllib can POST to as it stands: printable ASCII, no space (a line break
    would let the address write headers of its own), an http(s) scheme and a host."""
    if len(value) > _WEBHOOK_MAX or not all("!" <= character <= "~" for character in value):
        raise InvalidInput(field, value, _WEBHOOK_ALLOWED)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (reading it checks the port: a number from 0 to 65535)
    except ValueError:  # "http://[": an unclosed IPv6 host; a port that is no number
        raise InvalidInput(field, value, _WEBHOOK_ALLOWED) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(field, value, _WEBHOOK_ALLOWED)
    return value
