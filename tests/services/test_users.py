"""Who did it, in words (services.users): names of the actor's clinic only."""

from sqlalchemy.orm import Session, sessionmaker

from blina.services.accounts import create_user
from blina.services.users import signatures, usernames
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, PASSWORD, World


def test_usernames_are_of_the_actor_s_clinic_only(
    sessions: sessionmaker[Session], world: World
) -> None:
    ids = [world.nurse.user_id, world.pharmacist.user_id, world.outsider.user_id, 10**6]
    with read_only(sessions) as session:
        found = usernames(session, actor=world.physician, ids=ids)
    assert found == {world.nurse.user_id: "nurse", world.pharmacist.user_id: "pharmacist"}


def test_a_signature_adds_the_username_when_the_display_name_differs(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        ana = create_user(
            session,
            actor=None,
            now=NOW,
            clinic_id=world.clinic_id,
            username="ana.g",
            display_name="Ana García",
            role="pharmacist",
            password=PASSWORD,
        )
    ids = [ana.id, world.checker.user_id, world.outsider.user_id]
    with read_only(sessions) as session:
        found = signatures(session, actor=world.pharmacist, ids=ids)
    assert found == {ana.id: "Ana García (ana.g)", world.checker.user_id: "checker"}
