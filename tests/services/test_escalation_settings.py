"""The clinic's escalation chain, set by the admin: checked, kept in order with each
address in its normal form, replacing the chain before it, audited; each clinic its own."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.services.errors import PermissionDenied
from blina.services.escalation import Chain, ChainContact, set_escalation_chain
from blina.store.session import read_only, transaction
from blina.store.tables import AlertPolicy, ClinicContact
from tests.clinic_factories import NOW, World, audited

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
