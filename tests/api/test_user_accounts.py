"""Accounts revoked and recovered over the API (issue 16, item 11): deactivation, a new
role, one's own new password and an admin's one-time reset link each end the sessions
they must, at once; only the clinic's admin manages its users; bad input is a 422 naming
the field; and the audit trail, with the records it seals, verifies after every change."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.web.soup import csrf_in, one, page
from typer.testing import CliRunner, Result

from blina.app import create_app
from blina.cli import app as cli
from blina.cli import service as cli_service
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.audit_checks import verify_chain
from blina.services.audit_key import audit_key_of, use_audit_key
from blina.services.patients import create_patient
from blina.services.sealed_rows import verify_rows
from blina.store.session import make_engine, make_session_factory, read_only, transaction
from blina.store.tables import AuditEvent, Clinic, User, table_of

START = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
PUBLIC = "https://blina.example.org"

# username -> (clinic, role, tied to the clinic's patient)
USERS = {
    "admin_a": ("a", "admin", False),
    "nurse_a": ("a", "nurse", False),
    "pharmacist_a": ("a", "pharmacist", False),
    "patient_a": ("a", "patient", True),
    "caregiver_a": ("a", "caregiver", True),
    "admin_b": ("b", "admin", False),
    "nurse_b": ("b", "nurse", False),
}


@dataclass
class MovingClock:
    at: datetime = START

    def now(self) -> datetime:
        return self.at


@dataclass
class Clinics:
    api: TestClient
    sessions: sessionmaker[Session]
    settings: Settings
    clock: MovingClock
    ids: dict[str, int] = field(default_factory=dict)  # username -> user id

    def login(self, username: str, password: str = PASSWORD) -> Any:
        return self.api.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )

    def token(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.login(username, password)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def signed_in(self, headers: dict[str, str]) -> bool:
        status = self.api.get("/api/v1/me", headers=headers).status_code
        assert status in (200, 401)
        return status == 200

    def verified(self) -> list[tuple[str, int, str]]:
        """The chain checked (it must be intact) and the sealed records that changed."""
        key = audit_key_of(self.settings)
        assert key is not None
        with read_only(self.sessions) as session:
            chain = verify_chain(session)
            rows = verify_rows(session, key, every_row_signed=True)
        assert chain.ok, chain.problem
        return [(row.table, row.row_id, row.problem) for row in rows.changed]

    def actions(self) -> list[str]:
        with read_only(self.sessions) as session:
            return list(
                session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars()
            )


@pytest.fixture
def clinics(engine: Engine, knowledge: Knowledge, tmp_path: Path) -> Iterator[Clinics]:
    """Two clinics with their users, an app that signs the audit trail with a key, and a
    clock the test moves."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        audit_key=SecretStr("a test audit key, 32 bytes long!"),
        audit_head_file=tmp_path / "audit-head.log",
        public_url=PUBLIC,
        login_max_failures=3,
        login_refusal_delay_seconds=0,
    )
    sessions = use_audit_key(make_session_factory(engine), audit_key_of(settings))
    ids: dict[str, int] = {}
    with transaction(sessions) as session:
        for key in ("a", "b"):
            clinic = Clinic(name=f"clinic {key}", zone="Europe/Paris", created_at=START)
            session.add(clinic)
            session.flush()
            people = [(u, role, tied) for u, (c, role, tied) in USERS.items() if c == key]
            for username, role, _ in (person for person in people if not person[2]):
                ids[username] = _add_user(session, clinic.id, username, role, None)
            admin = to_actor(session.get_one(User, ids[f"admin_{key}"]))
            patient = create_patient(
                session, actor=admin, now=START, code=f"P-{key}", display_name="P"
            )
            for username, role, _ in (person for person in people if person[2]):
                ids[username] = _add_user(session, clinic.id, username, role, patient.id)
    clock = MovingClock()
    app = create_app(settings, clock=clock, knowledge=knowledge)
    with TestClient(app) as api:
        yield Clinics(api, sessions, settings, clock, ids)
    app.state.blina.engine.dispose()


def _add_user(
    session: Session, clinic_id: int, username: str, role: str, patient_id: int | None
) -> int:
    return create_user(
        session,
        actor=None,
        now=START,
        clinic_id=clinic_id,
        username=username,
        display_name=username,
        role=role,
        password=PASSWORD,
        patient_id=patient_id,
    ).id


def _post(clinics: Clinics, who: dict[str, str], path: str, body: Any = None) -> Any:
    return clinics.api.post(f"/api/v1{path}", json=body, headers=who)


def _refusal(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    by_field = {e["field"]: e for e in response.json()["errors"]}
    assert field in by_field, response.json()
    return by_field[field]  # type: ignore[no-any-return]


# --- deactivation and reactivation ----------------------------------------------------------


def test_deactivation_ends_every_token_at_once_and_refuses_sign_in_until_reactivated(
    clinics: Clinics,
) -> None:
    """The routes' wiring; the rule (a repeated deactivation changes nothing, the trail
    and sealed rows verify, the actions audited) is services/test_account_admin's."""
    admin = clinics.token("admin_a")
    tokens = [clinics.token("nurse_a"), clinics.token("nurse_a")]
    nurse = clinics.ids["nurse_a"]

    answer = _post(clinics, admin, f"/users/{nurse}/deactivate")

    assert answer.status_code == 200
    assert answer.json()["active"] is False
    assert not any(clinics.signed_in(t) for t in tokens)
    assert clinics.login("nurse_a").status_code == 401
    reactivated = _post(clinics, admin, f"/users/{nurse}/reactivate")
    assert reactivated.status_code == 200
    assert reactivated.json()["active"] is True


def test_an_admin_neither_deactivates_themself_nor_changes_their_own_role(
    clinics: Clinics,
) -> None:
    admin = clinics.token("admin_a")
    me = clinics.ids["admin_a"]

    assert _post(clinics, admin, f"/users/{me}/deactivate").status_code == 403
    role = clinics.api.put(f"/api/v1/users/{me}/role", json={"role": "nurse"}, headers=admin)
    assert role.status_code == 403
    assert clinics.signed_in(admin)


# --- a new role -------------------------------------------------------------------------------


def test_a_new_role_ends_the_user_s_sessions_and_the_next_sign_in_carries_it(
    clinics: Clinics,
) -> None:
    admin = clinics.token("admin_a")
    before = clinics.token("pharmacist_a")

    answer = clinics.api.put(
        f"/api/v1/users/{clinics.ids['pharmacist_a']}/role",
        json={"role": "physician"},
        headers=admin,
    )

    assert answer.status_code == 200
    assert answer.json()["role"] == "physician"
    assert not clinics.signed_in(before)
    after = clinics.token("pharmacist_a")
    assert clinics.api.get("/api/v1/me", headers=after).json()["role"] == "physician"


def test_a_role_the_user_s_tie_to_a_patient_refuses_answers_422_naming_it(
    clinics: Clinics,
) -> None:
    """Which roles fit which tie is services/test_account_admin's
    (test_a_role_stays_coherent_with_the_user_s_tie_to_a_patient)."""
    answer = clinics.api.put(
        f"/api/v1/users/{clinics.ids['nurse_a']}/role",
        json={"role": "patient"},
        headers=clinics.token("admin_a"),
    )

    assert _refusal(answer, "role")["value"] == "patient"


# --- one's own password -----------------------------------------------------------------------


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(clinics: Clinics) -> None:
    this, other, bearer = (clinics.token("nurse_a") for _ in range(3))

    changed = _post(
        clinics,
        this,
        "/me/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert changed.status_code == 204
    assert clinics.signed_in(this)
    assert not clinics.signed_in(other)
    assert not clinics.signed_in(bearer)
    assert clinics.login("nurse_a").status_code == 401
    assert clinics.signed_in(clinics.token("nurse_a", NEW_PASSWORD))
    assert clinics.verified() == []
    assert "user.password" in clinics.actions()


def test_a_wrong_current_password_is_a_failed_attempt_that_pauses_the_account(
    clinics: Clinics,
) -> None:
    """The answers' wiring (422, then 429 with Retry-After); what the attempts count,
    audit and pause is services/test_accounts'
    (test_change_password_wrong_current_one_is_a_failed_attempt_that_pauses_the_account)."""
    signed_in = clinics.token("nurse_a")
    wrong = {"current_password": "not the password", "new_password": NEW_PASSWORD}

    refusals = [_post(clinics, signed_in, "/me/password", wrong) for _ in range(3)]
    paused = _post(clinics, signed_in, "/me/password", {**wrong, "current_password": PASSWORD})

    for refusal in refusals:
        assert _refusal(refusal, "current_password")["value"] == "(hidden)"
    assert paused.status_code == 429
    assert int(paused.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # the service's refusal (the rest of the rule: services/test_accounts,
        # test_change_password_refused_as_input_names_the_field_and_changes_nothing)
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        # the request's own bounds
        ({"current_password": PASSWORD, "new_password": "x" * 201}, "new_password"),
        ({"current_password": PASSWORD, "new_password": 12345678901}, "new_password"),
        ({"current_password": "", "new_password": NEW_PASSWORD}, "current_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "role": "x"}, "role"),
    ],
    ids=["short", "too-long", "number", "empty", "missing", "extra"],
)
def test_a_password_change_refused_as_input_names_the_field(
    clinics: Clinics, body: dict[str, Any], field: str
) -> None:
    signed_in = clinics.token("nurse_a")

    refused = _post(clinics, signed_in, "/me/password", body)

    _refusal(refused, field)
    assert PASSWORD not in refused.text
    assert clinics.login("nurse_a").status_code == 200  # nothing was changed or counted


# --- the one-time reset link ------------------------------------------------------------------


def _issue(clinics: Clinics, admin: dict[str, str], who: str) -> dict[str, Any]:
    issued = _post(clinics, admin, f"/users/{clinics.ids[who]}/reset-link")
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    return issued.json()  # type: ignore[no-any-return]


def _use(clinics: Clinics, url: str, password: str = NEW_PASSWORD) -> Any:
    """The reset page opened by someone signed out, and the new password sent."""
    path = url.removeprefix(PUBLIC)
    browser = TestClient(clinics.api.app)
    form = browser.get(path)
    if form.status_code != 200:
        return form
    return browser.post(
        path,
        data={"csrf_token": csrf_in(form), "password": password, "password_again": password},
    )


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(clinics: Clinics) -> None:
    admin = clinics.token("admin_a")
    session = clinics.token("nurse_a")
    for _ in range(3):  # the account paused by wrong passwords
        assert clinics.login("nurse_a", "not the password").status_code == 401

    link = _issue(clinics, admin, "nurse_a")
    assert link["url"].startswith(f"{PUBLIC}/reset/")
    assert datetime.fromisoformat(link["expires_at"]) == START + timedelta(hours=24)
    opened = clinics.api.get(link["url"].removeprefix(PUBLIC))
    assert opened.status_code == 200
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert opened.headers["cache-control"] == "no-store"
    assert one(page(opened), "[data-reset-for]")["data-reset-for"] == "nurse_a"

    done = _use(clinics, link["url"])

    assert one(page(done), "[data-reset]")["data-reset"] == "done"
    assert done.headers["referrer-policy"] == "no-referrer"
    assert not clinics.signed_in(session)
    assert clinics.signed_in(clinics.token("nurse_a", NEW_PASSWORD))  # the pause is lifted
    again = _use(clinics, link["url"], "yet another password")
    assert again.status_code == 404
    assert one(page(again), "[data-reset]")["data-reset"] == "unusable"
    assert clinics.verified() == []
    assert clinics.actions()[-3:] == ["user.reset_link", "user.password_reset", "login"]


def test_a_replaced_an_expired_and_an_unknown_link_get_the_same_refusal(
    clinics: Clinics,
) -> None:
    admin = clinics.token("admin_a")
    older = _issue(clinics, admin, "nurse_a")
    newer = _issue(clinics, admin, "nurse_a")
    expiring = _issue(clinics, admin, "pharmacist_a")

    replaced = _use(clinics, older["url"])
    assert one(page(_use(clinics, newer["url"])), "[data-reset]")["data-reset"] == "done"
    clinics.clock.at += timedelta(hours=24)
    expired = _use(clinics, expiring["url"])
    unknown = _use(clinics, f"{PUBLIC}/reset/{'x' * 43}")

    refusals = [replaced, expired, unknown]
    assert [r.status_code for r in refusals] == [404, 404, 404]
    assert len({one(page(r), "[data-reset]").get_text(strip=True) for r in refusals}) == 1
    assert all(r.headers["referrer-policy"] == "no-referrer" for r in refusals)
    assert clinics.login("pharmacist_a").status_code == 200  # the expired link changed nothing
    assert clinics.verified() == []


def test_a_deactivation_revokes_the_user_s_reset_link_and_none_is_issued_while_inactive(
    clinics: Clinics,
) -> None:
    admin = clinics.token("admin_a")
    link = _issue(clinics, admin, "nurse_a")
    nurse = clinics.ids["nurse_a"]
    _post(clinics, admin, f"/users/{nurse}/deactivate")

    assert _use(clinics, link["url"]).status_code == 404
    assert _post(clinics, admin, f"/users/{nurse}/reset-link").status_code == 409
    _post(clinics, admin, f"/users/{nurse}/reactivate")
    assert clinics.login("nurse_a").status_code == 200


# --- who may: the clinic's admin alone --------------------------------------------------------

ADMIN_CALLS = [
    ("POST", "/users/{id}/deactivate", None),
    ("POST", "/users/{id}/reactivate", None),
    ("PUT", "/users/{id}/role", {"role": "pharmacist"}),
    ("POST", "/users/{id}/reset-link", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("nurse_a", 403),
        ("admin_b", 404),  # another clinic's user: not found
    ],
)
def test_only_the_clinic_s_admin_manages_its_users(
    clinics: Clinics, method: str, path: str, body: Any, who: str, expected: int
) -> None:
    """Each route's refusals as answers; every role and clinic against every change is
    services/test_account_admin's (test_only_the_clinic_s_admin_manages_its_users)."""
    target = clinics.ids["pharmacist_a"]
    signed_in = clinics.token("pharmacist_a")

    answer = clinics.api.request(
        method,
        f"/api/v1{path.format(id=target)}",
        json=body,
        headers=clinics.token(who),
    )

    assert answer.status_code == expected, answer.text
    assert clinics.signed_in(signed_in)  # nothing happened to the user


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/users/{id}/role", {"role": ""}, "role"),
        ("/users/{id}/role", {"role": "r" * 21}, "role"),
        ("/users/{id}/role", {"role": "nurse\x00"}, "role"),
        ("/users/{id}/role", {"role": 3}, "role"),
        ("/users/{id}/role", {}, "role"),
        ("/users/0/role", {"role": "nurse"}, "user_id"),
        ("/users/abc/role", {"role": "nurse"}, "user_id"),
        ("/users/99999999999/role", {"role": "nurse"}, "user_id"),
    ],
)
def test_a_role_change_refused_as_input_names_the_field(
    clinics: Clinics, path: str, body: Any, field: str
) -> None:
    answer = clinics.api.put(
        f"/api/v1{path.format(id=clinics.ids['nurse_a'])}",
        json=body,
        headers=clinics.token("admin_a"),
    )

    _refusal(answer, field)


def test_no_one_signed_out_reaches_the_account_endpoints(clinics: Clinics) -> None:
    target = clinics.ids["nurse_a"]
    for method, path, body in [*ADMIN_CALLS, ("POST", "/me/password", None)]:
        answer = clinics.api.request(method, f"/api/v1{path.format(id=target)}", json=body)
        assert answer.status_code == 401


# --- the audit trail ----------------------------------------------------------------------------


def test_the_trail_verifies_after_each_change_and_a_direct_edit_of_a_role_is_still_found(
    engine: Engine, clinics: Clinics, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = clinics.token("admin_a")
    nurse = clinics.ids["nurse_a"]
    changes: list[Callable[[], Any]] = [
        lambda: _post(clinics, admin, f"/users/{nurse}/deactivate"),
        lambda: _post(clinics, admin, f"/users/{nurse}/reactivate"),
        lambda: clinics.api.put(
            f"/api/v1/users/{nurse}/role", json={"role": "physician"}, headers=admin
        ),
        lambda: _post(
            clinics,
            clinics.token("nurse_a"),
            "/me/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        ),
        lambda: _use(clinics, _issue(clinics, admin, "nurse_a")["url"], "the reset password"),
    ]
    for change in changes:
        assert change().status_code < 300
        assert clinics.verified() == []
    verify = _blina_audit_verify(clinics.settings, monkeypatch)
    assert verify.exit_code == 0, verify.output
    assert "audited records intact" in verify.stdout

    users = table_of(User)
    with engine.begin() as connection:
        connection.execute(update(users).where(users.c.id == nurse).values(role="admin"))

    assert clinics.verified() == [("app_user", nurse, "its content does not match its audit MAC")]
    edited = _blina_audit_verify(clinics.settings, monkeypatch)
    assert edited.exit_code == 1
    assert f"audited record CHANGED: app_user {nurse}" in edited.stderr


def _blina_audit_verify(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Result:
    """`blina audit verify` on the app's database, with its key and head file; the engine
    it makes is closed after it (the command's process would have ended)."""
    assert settings.audit_key is not None
    for name, value in [
        ("BLINA_DATABASE_URL", settings.database_url),
        ("BLINA_AUDIT_KEY", settings.audit_key.get_secret_value()),
        ("BLINA_AUDIT_HEAD_FILE", str(settings.audit_head_file)),
    ]:
        monkeypatch.setenv(name, value)
    engines: list[Engine] = []

    def kept(url: str) -> Engine:
        engines.append(make_engine(url))
        return engines[-1]

    with monkeypatch.context() as patch:
        patch.setattr(cli_service, "make_engine", kept)
        result = CliRunner().invoke(cli, ["audit", "verify"])
    for made in engines:
        made.dispose()
    return result


# --- family invitations (issue 18) ------------------------------------------------------------

CHOSEN = "a password of my own"


def _patient_of(clinics: Clinics, who: str) -> int:
    found = clinics.api.get("/api/v1/patients", headers=clinics.token(who))
    assert found.status_code == 200, found.text
    return int(found.json()[0]["id"])


def _invite(
    clinics: Clinics, who: str, patient: int, username: str, role: str = "caregiver"
) -> Any:
    return _post(
        clinics,
        clinics.token(who),
        f"/patients/{patient}/invitations",
        {"role": role, "username": username, "display_name": f"{username} (family)"},
    )


def test_an_invitation_makes_an_account_tied_to_the_patient_and_the_trail_verifies(
    clinics: Clinics, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = _patient_of(clinics, "nurse_a")
    nurse = clinics.token("nurse_a")

    replaced = _invite(clinics, "nurse_a", patient, "grandma")
    issued = _invite(clinics, "nurse_a", patient, "grandma")
    withdrawn = _invite(clinics, "nurse_a", patient, "uncle")
    revoked = _post(
        clinics, nurse, f"/patients/{patient}/invitations/{withdrawn.json()['id']}/revoke"
    )

    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    body = issued.json()
    assert body["url"].startswith(f"{PUBLIC}/invite/")
    assert (body["username"], body["role"]) == ("grandma", "caregiver")
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert _use(clinics, replaced.json()["url"], CHOSEN).status_code == 404
    assert _use(clinics, withdrawn.json()["url"], CHOSEN).status_code == 404
    assert _use(clinics, body["url"], CHOSEN).status_code == 200
    me = clinics.api.get("/api/v1/me", headers=clinics.token("grandma", CHOSEN))
    assert (me.json()["role"], me.json()["patient_id"]) == ("caregiver", patient)
    listed = clinics.api.get(f"/api/v1/patients/{patient}/invitations", headers=nurse).json()
    assert [(i["username"], i["state"]) for i in listed] == [
        ("uncle", "revoked"),
        ("grandma", "used"),
        ("grandma", "revoked"),
    ]
    assert listed[1]["user_id"] is not None
    assert [a for a in clinics.actions() if a.startswith("invitation.")] == [
        "invitation.issue",
        "invitation.issue",
        "invitation.issue",
        "invitation.revoke",
        "invitation.accept",
    ]
    assert clinics.verified() == []
    verify = _blina_audit_verify(clinics.settings, monkeypatch)
    assert verify.exit_code == 0, verify.output


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("pharmacist_a", 403),
        ("patient_a", 403),
        ("caregiver_a", 403),
        ("nurse_b", 404),
        ("admin_b", 404),
        ("admin_a", 201),
    ],
)
def test_only_the_care_team_of_the_patient_s_clinic_invites(
    clinics: Clinics, who: str, expected: int
) -> None:
    patient = _patient_of(clinics, "nurse_a")
    headers = clinics.token(who)

    issued = _invite(clinics, who, patient, f"invited.by.{who}")
    listed = clinics.api.get(f"/api/v1/patients/{patient}/invitations", headers=headers)
    revoked = _post(clinics, headers, f"/patients/{patient}/invitations/1/revoke")

    assert issued.status_code == expected, issued.text
    assert listed.status_code == (200 if expected == 201 else expected)
    assert revoked.status_code in ((200, 404) if expected == 201 else (expected,))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "nurse", "username": "x.y", "display_name": "X"}, "role"),
        ({"role": "caregiver", "username": "two words", "display_name": "X"}, "username"),
        ({"role": "caregiver", "username": "nurse_a", "display_name": "X"}, "username"),
        ({"role": "caregiver", "username": "", "display_name": "X"}, "username"),
        ({"role": "caregiver", "username": "x.y", "display_name": " "}, "display_name"),
        ({"role": "caregiver", "username": "x\x00y", "display_name": "X"}, "username"),
        ({"role": "caregiver", "username": "x.y"}, "display_name"),
    ],
)
def test_a_refused_invitation_names_the_field(
    clinics: Clinics, body: dict[str, str], field: str
) -> None:
    patient = _patient_of(clinics, "nurse_a")

    answer = _post(clinics, clinics.token("nurse_a"), f"/patients/{patient}/invitations", body)

    _refusal(answer, field)
