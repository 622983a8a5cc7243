"""The clinic's escalation chain, set by the admin: checked, kept in order with each
address in its normal form, replacing the chain before it, audited; each clinic its own."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services import notify
from blina.services.alerts import alert_notifications
from blina.services.errors import NotFound, PermissionDenied
from blina.services.escalation import Chain, ChainContact, set_escalation_chain
from blina.services.notify import deliver_pending
from blina.services.reports import submit_report
from blina.store.session import read_only, transaction
from blina.store.tables import AlertPolicy, ClinicContact, Notification
from tests.clinic_factories import NOW, World, audited
from tests.services.test_alerts import FEVER_AND_CONFUSION

NURSE = ChainContact("on-call nurse", email="Nurse@Café.example")
HEAD = ChainContact("unit head", webhook_url="https://pager.example/hook")


def _set(sessions: sessionmaker[Session], world: World, chain: Chain, who: str = "admin") -> Chain:
    with transaction(sessions) as session:
        return set_escalation_chain(session, actor=getattr(world, who), now=NOW, chain=chain)


def _kept(
    sessions: sessionmaker[Session], clinic_id: int
) -> tuple[list[tuple[int, str, str | None]], dict[str, int]]:
    with read_only(sessions) as session:
        contacts = session.execute(
            select(ClinicContact.position, ClinicContact.name, ClinicContact.email)
            .where(ClinicContact.clinic_id == clinic_id)
            .order_by(ClinicContact.position)
        ).all()
        minutes = session.execute(
            select(AlertPolicy.level, AlertPolicy.minutes).where(AlertPolicy.clinic_id == clinic_id)
        ).all()
    return [tuple(row) for row in contacts], dict(minutes)


def test_the_admin_sets_the_chain_in_order_and_it_is_audited(
    sessions: sessionmaker[Session], world: World
) -> None:
    kept = _set(sessions, world, Chain([NURSE, HEAD], {"emergency": 5, "call-now": 15}))

    assert kept.contacts[0].email == "Nurse@xn--caf-dma.example"
    assert _kept(sessions, world.clinic_id) == (
        [(1, "on-call nurse", "Nurse@xn--caf-dma.example"), (2, "unit head", None)],
        {"emergency": 5, "call-now": 15},
    )
    with read_only(sessions) as session:
        [event] = audited(session, "clinic.escalation")
    assert event.subject_id == str(world.clinic_id)
    assert [c["name"] for c in event.after["contacts"]] == ["on-call nurse", "unit head"]
    assert event.after["minutes"] == {"emergency": 5, "call-now": 15}


def test_a_new_chain_replaces_the_old_one_and_leaves_other_clinics_alone(
    sessions: sessionmaker[Session], world: World
) -> None:
    _set(sessions, world, Chain([NURSE, HEAD], {"emergency": 5}))
    _set(sessions, world, Chain([HEAD], {}))

    assert _kept(sessions, world.clinic_id) == ([(1, "unit head", None)], {})
    assert _kept(sessions, world.outsider_clinic_id) == ([], {})


def test_a_chain_out_of_bounds_is_refused_and_the_old_one_stays(
    sessions: sessionmaker[Session], world: World
) -> None:
    _set(sessions, world, Chain([NURSE], {"emergency": 5}))

    with pytest.raises(InvalidInput) as refused:
        _set(sessions, world, Chain([NURSE], {"emergency": 0}))

    assert refused.value.field == "minutes.emergency"
    assert _kept(sessions, world.clinic_id)[1] == {"emergency": 5}


@pytest.mark.parametrize("who", ["physician", "nurse", "pharmacist", "family"])
def test_only_the_admin_sets_the_chain(
    sessions: sessionmaker[Session], world: World, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        _set(sessions, world, Chain([NURSE], {}), who=who)


# --- the chain changes after notifications went out (issue 16; moved down from the API) ----


def _alert(sessions: sessionmaker[Session], world: World, knowledge: Knowledge, key: str) -> int:
    """An alerting check-in of "P1" by its family; the alert's id."""
    with transaction(sessions) as session:
        submitted = submit_report(
            session,
            actor=world.family,
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient,
            idempotency_key=key,
            check_in=FEVER_AND_CONFUSION,
        )
    assert submitted.alert_id is not None
    return submitted.alert_id


def test_the_chain_changes_after_notifications_went_out_and_they_still_say_where(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 16: the notifications referred to the contacts, so replacing a contact who
    had been told failed and the chain could never change again."""
    hook = "https://pager.clinic.example/hooks/s3cret-token"
    _set(sessions, world, Chain([ChainContact("on-call nurse", "oncall@clinic.example", hook)], {}))
    alert_id = _alert(sessions, world, knowledge, "escalation-change")
    monkeypatch.setattr(notify, "_send", lambda note, settings: None)
    assert deliver_pending(sessions, settings=Settings(), now=NOW) == 2

    _set(sessions, world, Chain([ChainContact("new nurse", email="new@clinic.example")], {}))
    _set(sessions, world, Chain([NURSE], {}))  # and again

    with read_only(sessions) as session:
        sent = alert_notifications(session, actor=world.nurse, alert_id=alert_id)
        targets = session.execute(
            select(Notification.target).where(Notification.alert_id == alert_id)
        ).scalars()
        assert hook in set(targets)
    assert [(n.contact_name, n.channel, n.where, n.status) for n in sent] == [
        ("on-call nurse", "email", "oncall@clinic.example", "sent"),
        ("on-call nurse", "webhook", "https://pager.clinic.example", "sent"),
    ]


@pytest.mark.parametrize(("who", "refusal"), [("family", PermissionDenied), ("outsider", NotFound)])
def test_whom_an_alert_went_to_is_the_clinic_care_teams_to_see(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    who: str,
    refusal: type[Exception],
) -> None:
    alert_id = _alert(sessions, world, knowledge, f"seen-by-{who}")

    with read_only(sessions) as session, pytest.raises(refusal):
        alert_notifications(session, actor=getattr(world, who), alert_id=alert_id)
