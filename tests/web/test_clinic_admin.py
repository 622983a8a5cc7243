"""The pages a clinic runs itself with (issue 18): registering a patient, inviting a family
member (the invitee sets their own password and signs in to that patient), and the admin
creating a user who sets their own password through a one-time link. Read as a DOM; each
test works on patients and usernames of its own."""

from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_in, one, page

CHOSEN = "a password of my own"


def _post(browser: TestClient, form_page: str, path: str, **fields: str) -> object:
    token = csrf_in(browser.get(form_page))
    return browser.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)


def _sign_in(browser: TestClient, username: str, password: str) -> int:
    token = csrf_in(browser.get("/login"))
    answer = browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return answer.status_code


def _register(browser: TestClient, code: str, name: str) -> object:
    return _post(browser, "/clinic/patients/new", "/clinic/patients", code=code, display_name=name)


def _invite(browser: TestClient, patient: int, username: str, role: str = "caregiver") -> object:
    family = f"/patients/{patient}/family"
    return _post(
        browser,
        family,
        f"{family}/invitations",
        role=role,
        username=username,
        display_name=f"{username} (family)",
    )


def _invitation_path(answer: object) -> str:
    url = one(page(answer), "[data-invitation-url]")["data-invitation-url"]
    assert isinstance(url, str)
    return urlsplit(url).path


# --- registering a patient ------------------------------------------------------------------


def test_a_nurse_registers_a_patient_and_lands_on_their_page(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    link = one(page(nurse.get("/")), 'nav a[data-link="clinic-patients"]')
    assert link["href"] == "/clinic/patients"
    assert one(page(nurse.get("/clinic/patients")), 'a[data-link="register-patient"]')

    done = _register(nurse, "W-100", "Robin Web")

    assert done.status_code == 303  # type: ignore[attr-defined]
    location = done.headers["location"]  # type: ignore[attr-defined]
    patient = int(location.rsplit("/", 1)[1])
    assert location == f"/patients/{patient}"
    assert nurse.get(location).status_code == 200
    row = one(page(nurse.get("/clinic/patients")), f'tr[data-patient="{patient}"]')
    assert row["data-code"] == "W-100"
    assert "Robin Web" in row.get_text()
    audit = page(clinic.browser("dr.lee").get(f"/patients/{patient}/audit"))
    assert "patient.create" in audit.get_text()


def test_a_refused_registration_names_the_field_and_keeps_what_was_typed(
    clinic: DemoClinic,
) -> None:
    nurse = clinic.browser("nurse.kim")
    _register(nurse, "W-200", "First")

    taken = _register(nurse, "W-200", "Second")
    unnamed = _register(nurse, "W-201", "   ")
    too_long = _register(nurse, "W" * 65, "Third")

    assert taken.status_code == 422  # type: ignore[attr-defined]
    soup = page(taken)
    assert "Another patient" in one(soup, '[data-error-for="code"]').get_text()
    assert one(soup, "#code")["aria-invalid"] == "true"
    assert one(soup, "#display_name")["value"] == "Second"
    assert "1 to 200" in one(page(unnamed), '[data-error-for="display_name"]').get_text()
    assert "1 to 64" in one(page(too_long), '[data-error-for="code"]').get_text()
    codes = [r["data-code"] for r in page(nurse.get("/clinic/patients")).select("tr[data-code]")]
    assert codes.count("W-200") == 1
    assert "W-201" not in codes


def test_only_the_care_team_registers_patients(clinic: DemoClinic) -> None:
    pharmacist, family = clinic.browser("pharm.ana"), clinic.browser("alex.partner")

    assert pharmacist.get("/clinic/patients/new").status_code == 403
    assert _register(pharmacist, "W-300", "Nobody").status_code == 403  # type: ignore[attr-defined]
    soup = page(pharmacist.get("/clinic/patients"))
    assert not soup.select('a[data-link="register-patient"]')
    assert not soup.select('a[data-link="family-access"]')
    assert not page(pharmacist.get("/")).select('nav a[data-link="clinic-patients"]')
    assert family.get("/clinic/patients").status_code == 403
    assert family.get("/clinic/patients/new").status_code == 403
    assert clinic.browser("dr.lee").get("/clinic/patients/new").status_code == 200
    assert clinic.browser("admin").get("/clinic/patients/new").status_code == 200


# --- inviting a family member ---------------------------------------------------------------


def test_an_invited_caregiver_sets_a_password_and_sees_that_patient_s_today_page(
    clinic: DemoClinic,
) -> None:
    nurse = clinic.browser("nurse.kim")
    registered = _register(nurse, "W-400", "Invited Patient")
    patient = int(registered.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]

    issued = _invite(nurse, patient, "web.caregiver")

    assert issued.status_code == 200  # type: ignore[attr-defined]
    path = _invitation_path(issued)
    assert path.startswith("/invite/")
    family_page = page(nurse.get(f"/patients/{patient}/family"))
    assert not family_page.select("[data-invitation-url]")  # shown once
    assert one(family_page, 'tr[data-username="web.caregiver"]')["data-state"] == "pending"
    invitee = clinic.browser(None)
    opened = invitee.get(path)
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert opened.headers["cache-control"] == "no-store"
    assert one(page(opened), "[data-invitation-for]")["data-invitation-for"] == "web.caregiver"
    token = csrf_in(opened)

    typo = invitee.post(
        path, data={"csrf_token": token, "password": CHOSEN, "password_again": "something else"}
    )
    short = invitee.post(
        path, data={"csrf_token": token, "password": "short", "password_again": "short"}
    )
    done = invitee.post(
        path, data={"csrf_token": token, "password": CHOSEN, "password_again": CHOSEN}
    )

    assert typo.status_code == 422
    assert one(page(typo), '[data-error-for="password_again"]')
    assert short.status_code == 422
    assert "10 to 200" in one(page(short), '[data-error-for="password"]').get_text()
    assert done.status_code == 200
    assert one(page(done), "[data-invitation]")["data-invitation"] == "done"
    assert _sign_in(invitee, "web.caregiver", CHOSEN) == 303
    today = page(invitee.get("/today"))
    assert one(today, 'a[data-link="check-in"]')["href"] == f"/patients/{patient}/check-in"
    assert invitee.get(f"/patients/{clinic.patients['P-001']}").status_code == 404
    row = one(page(nurse.get(f"/patients/{patient}/family")), 'tr[data-username="web.caregiver"]')
    assert row["data-state"] == "used"


def test_a_used_revoked_or_unknown_invitation_gets_one_answer(clinic: DemoClinic) -> None:
    physician = clinic.browser("dr.lee")
    patient = clinic.patients["P-002"]
    used = _invitation_path(_invite(physician, patient, "web.used", role="patient"))
    revoked = _invitation_path(_invite(physician, patient, "web.revoked"))
    stranger = clinic.browser(None)
    token = csrf_in(stranger.get(used))
    stranger.post(used, data={"csrf_token": token, "password": CHOSEN, "password_again": CHOSEN})
    invitation = one(
        page(physician.get(f"/patients/{patient}/family")), 'tr[data-username="web.revoked"]'
    )["data-invitation"]

    revoking = _post(
        physician,
        f"/patients/{patient}/family",
        f"/patients/{patient}/family/invitations/{invitation}/revoke",
    )

    assert revoking.status_code == 303  # type: ignore[attr-defined]
    after = page(physician.get(revoking.headers["location"]))  # type: ignore[attr-defined]
    assert one(after, "[data-done]")["data-done"] == "revoked"
    assert one(after, 'tr[data-username="web.revoked"]')["data-state"] == "revoked"
    assert not one(after, 'tr[data-username="web.revoked"]').select("form")
    answers = []
    for path in (used, revoked, "/invite/no-such-token"):
        answer = stranger.get(path)
        answers.append((answer.status_code, one(page(answer), "main").get_text()))
        posted = stranger.post(
            path, data={"csrf_token": token, "password": CHOSEN, "password_again": CHOSEN}
        )
        assert posted.status_code == 404
        assert posted.headers["cache-control"] == "no-store"
    assert answers[0][0] == 404
    assert answers == [answers[0]] * 3


def test_a_refused_invitation_names_the_field(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    patient = clinic.patients["P-001"]

    taken = _invite(nurse, patient, "alex.partner")
    spaced = _invite(nurse, patient, "two words")
    staff = _invite(nurse, patient, "web.staff", role="nurse")

    for answer, field in ((taken, "username"), (spaced, "username"), (staff, "role")):
        assert answer.status_code == 422  # type: ignore[attr-defined]
        assert one(page(answer), f'[data-error-for="{field}"]')
    assert "already has" in one(page(taken), '[data-error-for="username"]').get_text()
    assert not page(spaced).select("[data-invitation-url]")


def test_a_caregiver_or_a_pharmacist_cannot_invite(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-001"]
    caregiver, pharmacist = clinic.browser("alex.partner"), clinic.browser("pharm.ana")

    for browser in (caregiver, pharmacist):
        assert browser.get(f"/patients/{patient}/family").status_code == 403
        token = csrf_in(browser.get("/account"))
        refused = browser.post(
            f"/patients/{patient}/family/invitations",
            data={
                "csrf_token": token,
                "role": "caregiver",
                "username": "web.sneaky",
                "display_name": "Sneaky",
            },
        )
        assert refused.status_code == 403
    assert "web.sneaky" not in page(clinic.browser("admin").get("/clinic/users")).get_text()


def test_the_family_page_reads_in_spanish(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    nurse.cookies.set("blina_lang", "es")
    path = _invitation_path(_invite(nurse, clinic.patients["P-001"], "web.spanish"))

    soup = page(nurse.get(f"/patients/{clinic.patients['P-001']}/family"))
    invitee = clinic.browser(None)
    invitee.cookies.set("blina_lang", "es")

    assert one(soup, 'form[data-form="invite"] h2').get_text() == "Invitar a un familiar"
    assert one(soup, 'tr[data-username="web.spanish"] .state').get_text() == "pendiente"
    assert "Su nombre de usuario es web.spanish" in page(invitee.get(path)).get_text()
    nurse.cookies.set("blina_lang", "en")


# --- the admin creates a user -----------------------------------------------------------------


def _create(admin: TestClient, **fields: str) -> object:
    return _post(admin, "/clinic/users/new", "/clinic/users", **fields)


def test_the_admin_creates_a_user_who_sets_their_own_password(clinic: DemoClinic) -> None:
    admin = clinic.browser("admin")
    assert one(page(admin.get("/clinic/users")), 'a[data-link="create-user"]')["href"] == (
        "/clinic/users/new"
    )

    created = _create(
        admin, username="web.nurse", display_name="Web Nurse", role="nurse", patient_id=""
    )

    assert created.status_code == 200  # type: ignore[attr-defined]
    soup = page(created)
    assert one(soup, "[data-done]")["data-done"] == "created"
    row = one(soup, 'tr[data-username="web.nurse"]')
    assert (row["data-role"], row["data-active"]) == ("nurse", "yes")
    url = one(soup, f'[data-reset-link="{row["data-user"]}"] [data-reset-url]')["data-reset-url"]
    assert isinstance(url, str)
    assert not page(admin.get("/clinic/users")).select("[data-reset-url]")  # shown once
    newcomer = clinic.browser(None)
    assert _sign_in(newcomer, "web.nurse", "!no-password") == 401
    path = urlsplit(url).path
    token = csrf_in(newcomer.get(path))
    newcomer.post(path, data={"csrf_token": token, "password": CHOSEN, "password_again": CHOSEN})
    assert _sign_in(newcomer, "web.nurse", CHOSEN) == 303


def test_a_new_user_s_tie_to_a_patient_follows_the_role(clinic: DemoClinic) -> None:
    admin = clinic.browser("admin")
    patient = str(clinic.patients["P-001"])

    staff_tied = _create(
        admin, username="web.a", display_name="A", role="physician", patient_id=patient
    )
    family_untied = _create(
        admin, username="web.b", display_name="B", role="caregiver", patient_id=""
    )
    taken = _create(admin, username="dr.lee", display_name="C", role="nurse", patient_id="")
    unnamed = _create(admin, username="web.d", display_name=" ", role="nurse", patient_id="")
    tied = _create(admin, username="web.e", display_name="E", role="caregiver", patient_id=patient)

    for answer, field in (
        (staff_tied, "patient_id"),
        (family_untied, "patient_id"),
        (taken, "username"),
        (unnamed, "display_name"),
    ):
        assert answer.status_code == 422, field  # type: ignore[attr-defined]
        assert one(page(answer), f'[data-error-for="{field}"]')
    assert one(page(staff_tied), "#username")["value"] == "web.a"
    assert tied.status_code == 200  # type: ignore[attr-defined]
    users = page(admin.get("/clinic/users"))
    assert {r["data-username"] for r in users.select("tr[data-username]")} >= {"web.e"}
    assert not users.select('tr[data-username="web.a"], tr[data-username="web.b"]')
    options = [o["value"] for o in one(users, 'tr[data-username="web.e"]').select("option")]
    assert options == ["patient", "caregiver"]


def test_only_the_admin_creates_users(clinic: DemoClinic) -> None:
    for who in ("nurse.kim", "dr.lee", "alex.partner"):
        browser = clinic.browser(who)
        assert browser.get("/clinic/users/new").status_code == 403
        token = csrf_in(browser.get("/account"))
        refused = browser.post(
            "/clinic/users",
            data={
                "csrf_token": token,
                "username": f"web.by.{who}",
                "display_name": "X",
                "role": "nurse",
                "patient_id": "",
            },
        )
        assert refused.status_code == 403, who
    names = page(clinic.browser("admin").get("/clinic/users")).get_text()
    assert "web.by." not in names
