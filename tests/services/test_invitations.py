"""Invitations for a family member (issue 18): known once, stored hashed, working once and
until they expire, revoked by a newer one of the same username or by hand; only the care
team invites, only as the patient or a caregiver of a patient of its clinic; the account
made signs in and sees that patient; every step audited. And an account made by the admin
with no password, to be set through a reset link."""

import hashlib
import threading
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.errors import InvalidInput
from blina.services import invitations, password_resets
from blina.services.accounts import NO_PASSWORD, create_user, to_actor
from blina.services.actors import Actor, Role
from blina.services.audit_checks import verify_chain
from blina.services.audit_reading import events_for_patient
from blina.services.errors import Conflict, NotFound, PermissionDenied
from blina.services.invitations import InvitationState
from blina.services.login_limits import LoginLimits
from blina.store.session import read_only, transaction
from blina.store.tables import AuditEvent, Invitation, User
from tests.clinic_factories import NOW, PASSWORD, World, audited, sign_in

DAY = timedelta(hours=24)
CHOSEN = "a password of my own"
SETTINGS = Settings()


def _issue(
    sessions: sessionmaker[Session],
    world: World,
    *,
    by: Actor | None = None,
    username: str = "maria.g",
    role: str = "caregiver",
    patient_id: int | None = None,
    at: timedelta = timedelta(0),
) -> invitations.IssuedInvitation:
    with transaction(sessions) as session:
        return invitations.issue_invitation(
            session,
            actor=by or world.nurse,
            now=NOW + at,
            patient_id=world.patient if patient_id is None else patient_id,
            role=role,
            username=username,
            display_name="  Maria (mother)  ",
            lifetime=DAY,
        )


def _accept(
    sessions: sessionmaker[Session],
    token: str,
    *,
    at: timedelta = timedelta(0),
    password: str = CHOSEN,
) -> invitations.InvitationTarget:
    return invitations.accept_invitation(
        sessions, limits=LoginLimits(SETTINGS), now=NOW + at, token=token, password=password
    )


def _sign_in(sessions: sessionmaker[Session], username: str, password: str) -> Actor | None:
    return sign_in(sessions, username, password=password).actor


def _states(sessions: sessionmaker[Session], world: World, at: timedelta) -> dict[str, str]:
    with read_only(sessions) as session:
        found = invitations.list_invitations(
            session, actor=world.physician, now=NOW + at, patient_id=world.patient
        )
    return {f"{row.username}#{row.id}": row.state.value for row in found}


def test_a_token_is_known_once_and_only_its_hash_is_kept(
    sessions: sessionmaker[Session], world: World
) -> None:
    issued = _issue(sessions, world)

    assert issued.expires_at == NOW + DAY
    assert len(issued.token) >= 43  # 32 random bytes, URL-safe base64
    with read_only(sessions) as session:
        stored = session.execute(select(Invitation.token_sha256)).scalar_one()
        events = session.execute(select(AuditEvent.before, AuditEvent.after)).all()
    assert stored == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in repr(events)


def test_the_invitee_sets_a_password_once_and_signs_in_to_that_patient_only(
    sessions: sessionmaker[Session], world: World
) -> None:
    issued = _issue(sessions, world)

    target = _accept(sessions, issued.token, at=timedelta(hours=23, minutes=59))

    assert (target.username, target.role) == ("maria.g", "caregiver")
    actor = _sign_in(sessions, "maria.g", CHOSEN)
    assert actor is not None
    assert (actor.role, actor.patient_id, actor.clinic_id) == (
        Role.CAREGIVER,
        world.patient,
        world.clinic_id,
    )
    with read_only(sessions) as session:
        user = session.execute(select(User).where(User.username == "maria.g")).scalar_one()
        assert user.display_name == "Maria (mother)"
        assert user.password_hash.startswith("$argon2")
    with pytest.raises(NotFound, match=r"^this invitation cannot be used$"):  # used
        _accept(sessions, issued.token, password="yet another password")
    assert _sign_in(sessions, "maria.g", "yet another password") is None


def test_an_expired_unknown_or_revoked_invitation_gets_one_answer(
    sessions: sessionmaker[Session], world: World
) -> None:
    expired = _issue(sessions, world, username="late")
    revoked = _issue(sessions, world, username="withdrawn")
    with transaction(sessions) as session:
        invitations.revoke_invitation(
            session,
            actor=world.nurse,
            now=NOW,
            patient_id=world.patient,
            invitation_id=revoked.invitation_id,
        )

    answers = []
    for token, at in [(expired.token, DAY), (revoked.token, timedelta(0)), ("no-such", DAY)]:
        with pytest.raises(NotFound) as refused:
            _accept(sessions, token, at=at)
        answers.append(str(refused.value))

    assert answers == [invitations.UNUSABLE] * 3
    with read_only(sessions) as session:
        assert (
            session.execute(select(User).where(User.username.in_(["late", "withdrawn"]))).all()
            == []
        )


def test_a_newer_invitation_of_the_same_username_revokes_the_older_only(
    sessions: sessionmaker[Session], world: World
) -> None:
    first = _issue(sessions, world)
    other = _issue(sessions, world, username="sam.father")
    second = _issue(sessions, world, at=timedelta(hours=1))

    with pytest.raises(NotFound):
        _accept(sessions, first.token)
    assert _states(sessions, world, timedelta(hours=2)) == {
        f"maria.g#{second.invitation_id}": "pending",
        f"sam.father#{other.invitation_id}": "pending",
        f"maria.g#{first.invitation_id}": "revoked",
    }
    assert _accept(sessions, second.token).username == "maria.g"


def test_the_list_says_each_invitation_s_state(
    sessions: sessionmaker[Session], world: World
) -> None:
    used = _issue(sessions, world, username="used")
    _accept(sessions, used.token)
    expired = _issue(sessions, world, username="expired", at=-DAY)
    pending = _issue(sessions, world, username="pending")
    revoked = _issue(sessions, world, username="revoked")
    with transaction(sessions) as session:
        again = invitations.revoke_invitation(
            session,
            actor=world.admin,
            now=NOW,
            patient_id=world.patient,
            invitation_id=revoked.invitation_id,
        )
        assert again.state is InvitationState.REVOKED

    assert _states(sessions, world, timedelta(minutes=1)) == {
        f"revoked#{revoked.invitation_id}": "revoked",
        f"pending#{pending.invitation_id}": "pending",
        f"expired#{expired.invitation_id}": "expired",
        f"used#{used.invitation_id}": "used",
    }


def test_revoking_what_is_no_longer_pending_changes_and_records_nothing(
    sessions: sessionmaker[Session], world: World
) -> None:
    used = _issue(sessions, world)
    _accept(sessions, used.token)
    pending = _issue(sessions, world, username="second")

    with transaction(sessions) as session:
        for invitation_id in (used.invitation_id, pending.invitation_id, pending.invitation_id):
            invitations.revoke_invitation(
                session,
                actor=world.nurse,
                now=NOW,
                patient_id=world.patient,
                invitation_id=invitation_id,
            )

    with read_only(sessions) as session:
        revokes = audited(session, "invitation.revoke")
        assert [e.after for e in revokes] == [
            {"invitation_id": pending.invitation_id, "username": "second"}
        ]
    assert _sign_in(sessions, "maria.g", CHOSEN) is not None  # a used one made its account


def test_only_the_care_team_of_the_patient_s_clinic_invites(
    sessions: sessionmaker[Session], world: World
) -> None:
    for who in (world.pharmacist, world.family):
        with pytest.raises(PermissionDenied, match="invite a family member"):
            _issue(sessions, world, by=who)
    with pytest.raises(NotFound):
        _issue(sessions, world, by=world.outsider)
    with pytest.raises(NotFound):
        _issue(sessions, world, patient_id=world.outsider_patient)
    for who in (world.physician, world.nurse, world.admin):
        assert _issue(sessions, world, by=who).patient_id == world.patient
    with read_only(sessions) as session:
        with pytest.raises(PermissionDenied):
            invitations.list_invitations(
                session, actor=world.family, now=NOW, patient_id=world.patient
            )
        with pytest.raises(NotFound):
            invitations.list_invitations(
                session, actor=world.outsider, now=NOW, patient_id=world.patient
            )


@pytest.mark.parametrize(
    ("field", "changes", "allowed"),
    [
        ("role", {"role": "nurse"}, "one of patient, caregiver"),
        ("role", {"role": "owner"}, "one of patient, caregiver"),
        ("username", {"username": "maria g"}, "letters, digits"),
        ("username", {"username": "nurse"}, "a name no other user has"),
        ("username", {"username": ""}, "letters, digits"),
    ],
)
def test_a_refused_invitation_names_the_field(
    sessions: sessionmaker[Session],
    world: World,
    field: str,
    changes: dict[str, str],
    allowed: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _issue(sessions, world, **changes)  # type: ignore[arg-type]

    assert refused.value.field == field
    assert allowed in str(refused.value)
    with read_only(sessions) as session:
        assert session.execute(select(Invitation)).first() is None


def test_an_empty_display_name_is_refused(sessions: sessionmaker[Session], world: World) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput, match="display_name"):
        invitations.issue_invitation(
            session,
            actor=world.nurse,
            now=NOW,
            patient_id=world.patient,
            role="patient",
            username="alex.himself",
            display_name="   ",
            lifetime=DAY,
        )


def test_a_username_taken_since_is_a_conflict_and_the_invitation_stays_usable(
    sessions: sessionmaker[Session], world: World
) -> None:
    issued = _issue(sessions, world)
    with transaction(sessions) as session:
        create_user(
            session,
            actor=world.admin,
            now=NOW,
            clinic_id=world.clinic_id,
            username="maria.g",
            display_name="Another Maria",
            role="nurse",
            password=PASSWORD,
        )

    with pytest.raises(Conflict, match="new invitation"):
        _accept(sessions, issued.token)

    assert _states(sessions, world, timedelta(0)) == {f"maria.g#{issued.invitation_id}": "pending"}


def test_a_password_against_the_rule_is_refused_and_the_invitation_stays_usable(
    sessions: sessionmaker[Session], world: World
) -> None:
    issued = _issue(sessions, world)

    with pytest.raises(InvalidInput, match="password"):
        _accept(sessions, issued.token, password="short")

    assert _accept(sessions, issued.token).username == "maria.g"


def test_every_step_is_audited_in_the_patient_s_trail_and_the_chain_holds(
    sessions: sessionmaker[Session], world: World
) -> None:
    first = _issue(sessions, world)
    second = _issue(sessions, world)
    with transaction(sessions) as session:
        invitations.revoke_invitation(
            session,
            actor=world.nurse,
            now=NOW,
            patient_id=world.patient,
            invitation_id=second.invitation_id,
        )
    third = _issue(sessions, world, by=world.physician, role="patient", username="alex.h")
    _accept(sessions, third.token)

    with read_only(sessions) as session:
        trail = events_for_patient(session, actor=world.physician, patient_id=world.patient)
        chain = verify_chain(session)
        user_id = session.execute(select(User.id).where(User.username == "alex.h")).scalar_one()
    steps = [(e.action, e.actor_id, e.after) for e in trail if e.action.startswith("invitation.")]
    assert steps == [
        (
            "invitation.issue",
            world.nurse.user_id,
            {
                "invitation_id": first.invitation_id,
                "role": "caregiver",
                "username": "maria.g",
                "expires_at": (NOW + DAY).isoformat(),
                "older_invitations_revoked": 0,
            },
        ),
        (
            "invitation.issue",
            world.nurse.user_id,
            {
                "invitation_id": second.invitation_id,
                "role": "caregiver",
                "username": "maria.g",
                "expires_at": (NOW + DAY).isoformat(),
                "older_invitations_revoked": 1,
            },
        ),
        (
            "invitation.revoke",
            world.nurse.user_id,
            {"invitation_id": second.invitation_id, "username": "maria.g"},
        ),
        (
            "invitation.issue",
            world.physician.user_id,
            {
                "invitation_id": third.invitation_id,
                "role": "patient",
                "username": "alex.h",
                "expires_at": (NOW + DAY).isoformat(),
                "older_invitations_revoked": 0,
            },
        ),
        (
            "invitation.accept",
            None,
            {
                "invitation_id": third.invitation_id,
                "user_id": user_id,
                "username": "alex.h",
                "role": "patient",
                "phone": None,
            },
        ),
    ]
    assert chain.ok, chain.problem


def test_the_invitation_lifetime_setting_is_bounded() -> None:
    assert Settings().invitation_hours == 72
    for hours in (0, 24 * 14 + 1):
        with pytest.raises(ValidationError, match="invitation_hours"):
            Settings(invitation_hours=hours)


# --- an account the admin makes with no password -----------------------------------------


def test_an_account_made_without_a_password_opens_only_through_its_reset_link(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        user = create_user(
            session,
            actor=world.admin,
            now=NOW,
            clinic_id=world.clinic_id,
            username="new.nurse",
            display_name="New Nurse",
            role="nurse",
            password=None,
        )
        assert user.password_hash == NO_PASSWORD
        issued = password_resets.issue_reset_link(
            session, actor=world.admin, now=NOW, user_id=user.id, lifetime=DAY
        )

    for guess in ("", NO_PASSWORD, "a long password"):
        assert _sign_in(sessions, "new.nurse", guess) is None
    password_resets.use_reset_link(
        sessions, limits=LoginLimits(SETTINGS), now=NOW, token=issued.token, password=CHOSEN
    )
    actor = _sign_in(sessions, "new.nurse", CHOSEN)
    assert actor is not None
    with read_only(sessions) as session:
        assert to_actor(session.get_one(User, actor.user_id)) == actor


# --- at the same moment ------------------------------------------------------------------------


def test_of_two_invitations_of_one_username_at_once_the_later_waits_and_revokes_the_earlier(
    sessions: sessionmaker[Session], world: World
) -> None:
    later: list[invitations.IssuedInvitation] = []
    with transaction(sessions) as session:
        earlier = invitations.issue_invitation(
            session,
            actor=world.nurse,
            now=NOW,
            patient_id=world.patient,
            role="caregiver",
            username="maria.g",
            display_name="Maria",
            lifetime=DAY,
        )
        other = threading.Thread(target=lambda: later.append(_issue(sessions, world)))
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive()  # it waits for this transaction (the clinic's row lock)
    other.join(timeout=30)

    assert len(later) == 1
    assert _states(sessions, world, timedelta(0)) == {
        f"maria.g#{later[0].invitation_id}": "pending",
        f"maria.g#{earlier.invitation_id}": "revoked",
    }


def test_of_two_uses_of_one_invitation_at_once_one_makes_the_account(
    sessions: sessionmaker[Session], world: World
) -> None:
    issued = _issue(sessions, world)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def use(password: str) -> None:
        start.wait()
        try:
            _accept(sessions, issued.token, password=password)
            outcomes.append("made")
        except NotFound:
            outcomes.append("refused")

    threads = [threading.Thread(target=use, args=(f"password number {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["made", "refused"]
    with read_only(sessions) as session:
        assert len(session.execute(select(User).where(User.username == "maria.g")).all()) == 1


def test_the_invitee_gives_their_own_number_kept_and_audited_or_refused_naming_it(
    sessions: sessionmaker[Session], world: World
) -> None:
    issued = _issue(sessions, world)
    limits = LoginLimits(SETTINGS)

    with pytest.raises(InvalidInput) as refused:
        invitations.accept_invitation(
            sessions, limits=limits, now=NOW, token=issued.token, password=CHOSEN, phone="555-01"
        )
    assert refused.value.field == "phone"
    invitations.accept_invitation(
        sessions, limits=limits, now=NOW, token=issued.token, password=CHOSEN, phone=" +1 555 0111"
    )

    with read_only(sessions) as session:
        phone = session.execute(select(User.phone).where(User.username == "maria.g")).scalar_one()
        event = audited(session, "invitation.accept")[-1]
    assert phone == "+1 555 0111"
    assert event.after is not None
    assert event.after["phone"] == "+1 555 0111"
