"""What the clinic's admin changes in its users' accounts (services.account_admin):
deactivation and a new role end the user's sessions at once; only the clinic's admin
changes its users, and never their own activity or role; a role keeps to the user's tie
to a patient; and the trail, with the records it seals, verifies after every change.

Moved down from the API's tests (tests/api/test_user_accounts.py), which keep the routes'
wiring."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.errors import InvalidInput
from blina.services import account_admin, password_resets
from blina.services.accounts import (
    authenticate,
    create_user,
    own_account,
    set_own_phone,
    to_actor,
)
from blina.services.actors import Actor
from blina.services.audit_checks import verify_chain
from blina.services.audit_key import AuditKey, use_audit_key
from blina.services.errors import NotAuthenticated, NotFound, PermissionDenied
from blina.services.sealed_rows import verify_rows
from blina.store.session import read_only, transaction
from blina.store.tables import AuditEvent
from tests.clinic_factories import NOW, PASSWORD, World, add_world, sign_in

SETTINGS = Settings(login_max_failures=3, login_refusal_delay_seconds=0)


@pytest.fixture
def key(tmp_path: Path) -> AuditKey:
    return AuditKey(b"a test audit key, 32 bytes long!", tmp_path / "audit-head.log")


@pytest.fixture
def keyed(sessions: sessionmaker[Session], key: AuditKey) -> sessionmaker[Session]:
    """Sessions that sign the trail, as the service's do with an audit key."""
    return use_audit_key(sessions, key)


@pytest.fixture
def people(keyed: sessionmaker[Session]) -> tuple[World, dict[str, Actor]]:
    """The world, with a patient's own account in clinic A and an admin in clinic B."""
    with transaction(keyed) as session:
        world = add_world(session)
        more = {
            "patient": _user(session, world.clinic_id, "patient", "patient", world.patient),
            "outsider_admin": _user(session, world.outsider_clinic_id, "admin_b", "admin", None),
        }
    return world, more


def _user(session: Session, clinic: int, name: str, role: str, patient: int | None) -> Actor:
    made = create_user(
        session,
        actor=None,
        now=NOW,
        clinic_id=clinic,
        username=name,
        display_name=name,
        role=role,
        password=PASSWORD,
        patient_id=patient,
    )
    return to_actor(made)


def _token(sessions: sessionmaker[Session], username: str, at: datetime = NOW) -> str | None:
    return sign_in(sessions, username, now=at, settings=SETTINGS).token


def _signed_in(sessions: sessionmaker[Session], token: str | None) -> Actor | None:
    assert token is not None
    with read_only(sessions) as session:
        try:
            return authenticate(session, now=NOW, token=token)
        except NotAuthenticated:
            return None


def _verified(sessions: sessionmaker[Session], key: AuditKey) -> list[tuple[str, int, str]]:
    """The chain checked (it must be intact) and the sealed records that changed."""
    with read_only(sessions) as session:
        chain = verify_chain(session)
        rows = verify_rows(session, key, every_row_signed=True)
    assert chain.ok, chain.problem
    return [(row.table, row.row_id, row.problem) for row in rows.changed]


def _actions(sessions: sessionmaker[Session]) -> list[str]:
    with read_only(sessions) as session:
        query = select(AuditEvent.action).order_by(AuditEvent.seq)
        return list(session.execute(query).scalars())


def test_deactivation_ends_every_token_at_once_and_refuses_sign_in_until_reactivated(
    keyed: sessionmaker[Session], key: AuditKey, people: tuple[World, dict[str, Actor]]
) -> None:
    world, _ = people
    tokens = [_token(keyed, "nurse"), _token(keyed, "nurse")]
    nurse = world.nurse.user_id

    with transaction(keyed) as session:
        record = account_admin.deactivate_user(session, actor=world.admin, now=NOW, user_id=nurse)
    with transaction(keyed) as session:  # again: no change
        again = account_admin.deactivate_user(session, actor=world.admin, now=NOW, user_id=nurse)

    assert (record.active, again.active) == (False, False)
    assert not any(_signed_in(keyed, t) for t in tokens)
    assert _token(keyed, "nurse") is None
    assert _verified(keyed, key) == []
    with transaction(keyed) as session:
        back = account_admin.reactivate_user(session, actor=world.admin, now=NOW, user_id=nurse)
    assert back.active is True
    assert _signed_in(keyed, _token(keyed, "nurse")) is not None
    assert _verified(keyed, key) == []
    assert [a for a in _actions(keyed) if a.startswith("user.")][-2:] == [
        "user.deactivate",
        "user.reactivate",
    ]


def test_an_admin_neither_deactivates_themself_nor_changes_their_own_role(
    keyed: sessionmaker[Session], people: tuple[World, dict[str, Actor]]
) -> None:
    world, _ = people
    admin = _token(keyed, "admin")
    me = world.admin.user_id

    with transaction(keyed) as session, pytest.raises(PermissionDenied):
        account_admin.deactivate_user(session, actor=world.admin, now=NOW, user_id=me)
    with transaction(keyed) as session, pytest.raises(PermissionDenied):
        account_admin.change_role(session, actor=world.admin, now=NOW, user_id=me, role="nurse")

    assert _signed_in(keyed, admin) is not None


def test_a_new_role_ends_the_user_s_sessions_and_the_next_sign_in_carries_it(
    keyed: sessionmaker[Session], key: AuditKey, people: tuple[World, dict[str, Actor]]
) -> None:
    world, _ = people
    before = _token(keyed, "pharmacist")

    with transaction(keyed) as session:
        record = account_admin.change_role(
            session, actor=world.admin, now=NOW, user_id=world.pharmacist.user_id, role="physician"
        )

    assert record.role == "physician"
    assert _signed_in(keyed, before) is None
    after = _signed_in(keyed, _token(keyed, "pharmacist"))
    assert after is not None
    assert after.role == "physician"
    assert _verified(keyed, key) == []


@pytest.mark.parametrize(
    ("who", "role", "allowed"),
    [
        ("patient", "caregiver", True),  # tied to the same patient
        ("family", "patient", True),
        ("nurse", "admin", True),
        ("nurse", "patient", False),  # a patient is tied to a patient
        ("family", "nurse", False),  # staff are tied to none
        ("nurse", "superuser", False),
    ],
)
def test_a_role_stays_coherent_with_the_user_s_tie_to_a_patient(
    keyed: sessionmaker[Session],
    people: tuple[World, dict[str, Actor]],
    who: str,
    role: str,
    allowed: bool,
) -> None:
    world, more = people
    target = {"patient": more["patient"], "family": world.family, "nurse": world.nurse}[who]

    def change() -> Any:
        with transaction(keyed) as session:
            return account_admin.change_role(
                session, actor=world.admin, now=NOW, user_id=target.user_id, role=role
            )

    if allowed:
        assert change().role == role
    else:
        with pytest.raises(InvalidInput) as refused:
            change()
        assert (refused.value.field, refused.value.value) == ("role", role)


def _deactivate(session: Session, actor: Actor, user_id: int) -> object:
    return account_admin.deactivate_user(session, actor=actor, now=NOW, user_id=user_id)


def _reactivate(session: Session, actor: Actor, user_id: int) -> object:
    return account_admin.reactivate_user(session, actor=actor, now=NOW, user_id=user_id)


def _role(session: Session, actor: Actor, user_id: int) -> object:
    return account_admin.change_role(
        session, actor=actor, now=NOW, user_id=user_id, role="pharmacist"
    )


def _reset_link(session: Session, actor: Actor, user_id: int) -> object:
    return password_resets.issue_reset_link(
        session,
        actor=actor,
        now=NOW,
        user_id=user_id,
        lifetime=timedelta(hours=SETTINGS.password_reset_hours),
    )


@pytest.mark.parametrize("change", [_deactivate, _reactivate, _role, _reset_link])
@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("nurse", PermissionDenied),
        ("patient", PermissionDenied),
        ("family", PermissionDenied),
        ("outsider", PermissionDenied),  # another clinic's physician
        ("outsider_admin", NotFound),  # another clinic's user: not found
    ],
)
def test_only_the_clinic_s_admin_manages_its_users(
    keyed: sessionmaker[Session],
    people: tuple[World, dict[str, Actor]],
    change: Any,
    who: str,
    refusal: type[Exception],
) -> None:
    world, more = people
    actor = {"nurse": world.nurse, "family": world.family, "outsider": world.outsider, **more}[who]
    signed_in = _token(keyed, "pharmacist")

    with transaction(keyed) as session, pytest.raises(refusal):
        change(session, actor, world.pharmacist.user_id)

    assert _signed_in(keyed, signed_in) is not None  # nothing happened to the user


# --- a user's own phone number (issue 18) ----------------------------------------------------


def test_a_family_member_s_own_number_set_by_them_or_the_admin_is_audited_and_sealed_rows_hold(
    keyed: sessionmaker[Session], key: AuditKey, people: tuple[World, dict[str, Actor]]
) -> None:
    world, more = people
    with transaction(keyed) as session:
        mine = set_own_phone(session, actor=world.family, now=NOW, phone=" +1 555 0111 ")
        same = set_own_phone(session, actor=world.family, now=NOW, phone="+1 555 0111")
        theirs = account_admin.set_phone(
            session, actor=world.admin, now=NOW, user_id=more["patient"].user_id, phone="5550100122"
        )
    with read_only(keyed) as session:
        own = own_account(session, actor=world.family)
        events = session.execute(
            select(AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action == "user.phone")
            .order_by(AuditEvent.seq)
        ).all()

    assert (mine.phone, same.phone, own.phone) == ("+1 555 0111",) * 3
    assert theirs.phone == "5550100122"
    assert [tuple(e) for e in events] == [
        (
            world.family.user_id,
            str(world.family.user_id),
            {"phone": None},
            {"phone": "+1 555 0111"},
        ),
        (
            world.admin.user_id,
            str(more["patient"].user_id),
            {"phone": None},
            {"phone": "5550100122"},
        ),
    ], "the same number again records nothing"
    assert _verified(keyed, key) == []


def test_a_number_is_refused_naming_it_and_only_the_family_or_the_admin_set_one(
    keyed: sessionmaker[Session], people: tuple[World, dict[str, Actor]]
) -> None:
    world, more = people
    target = more["patient"].user_id
    with transaction(keyed) as session, pytest.raises(InvalidInput) as refused:
        set_own_phone(session, actor=world.family, now=NOW, phone="five 55555")
    assert refused.value.field == "phone"
    with transaction(keyed) as session, pytest.raises(PermissionDenied):
        set_own_phone(session, actor=world.nurse, now=NOW, phone="+1 555 0100")
    with transaction(keyed) as session, pytest.raises(PermissionDenied):
        account_admin.set_phone(
            session, actor=world.nurse, now=NOW, user_id=target, phone="+1 555 0100"
        )
    with transaction(keyed) as session, pytest.raises(NotFound):
        account_admin.set_phone(
            session, actor=more["outsider_admin"], now=NOW, user_id=target, phone="+1 555 0100"
        )
    with transaction(keyed) as session, pytest.raises(InvalidInput):
        account_admin.set_phone(session, actor=world.admin, now=NOW, user_id=target, phone="+")
    with read_only(keyed) as session:
        assert own_account(session, actor=world.family).phone is None
        assert own_account(session, actor=more["patient"]).phone is None
        assert not session.execute(
            select(AuditEvent.seq).where(AuditEvent.action == "user.phone")
        ).first()


def test_an_admin_gives_a_new_user_a_number_audited_with_the_creation(
    keyed: sessionmaker[Session], people: tuple[World, dict[str, Actor]]
) -> None:
    world, _ = people
    with transaction(keyed) as session:
        made = create_user(
            session,
            actor=world.admin,
            now=NOW,
            clinic_id=world.clinic_id,
            username="maria.g",
            display_name="Maria",
            role="caregiver",
            password=None,
            patient_id=world.patient,
            phone="+1 555 0133",
        )
        with pytest.raises(InvalidInput):
            create_user(
                session,
                actor=world.admin,
                now=NOW,
                clinic_id=world.clinic_id,
                username="other.g",
                display_name="Other",
                role="caregiver",
                password=None,
                patient_id=world.patient,
                phone="0",
            )
    with read_only(keyed) as session:
        after = session.execute(
            select(AuditEvent.after).where(
                AuditEvent.action == "user.create", AuditEvent.subject_id == str(made.id)
            )
        ).scalar_one()
    assert made.phone == "+1 555 0133"
    assert after["phone"] == "+1 555 0133"
