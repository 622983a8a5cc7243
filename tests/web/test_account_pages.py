"""The account pages: the admin's list of the clinic's users and the changes made from it,
every user's own password change, and the page a reset link opens without signing in.
Read as a DOM; each test changes a user of its own."""

from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from blina.demo import DEMO_PASSWORD, DEMO_USERS
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_in, csrf_of, one, page

NEW_PASSWORD = "a brand new passphrase"


def _signed_in(browser: TestClient) -> bool:
    answer = browser.get("/account", follow_redirects=False)
    assert answer.status_code in (200, 303)
    return answer.status_code == 200


def _sign_in(browser: TestClient, username: str, password: str) -> int:
    form = page(browser.get("/login"))
    answer = browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )
    return answer.status_code


def _user_id(admin: TestClient, username: str) -> str:
    row = one(page(admin.get("/clinic/users")), f'tr[data-username="{username}"]')
    return str(row["data-user"])


def _post(admin: TestClient, path: str, **fields: str) -> object:
    form = page(admin.get("/clinic/users"))
    return admin.post(path, data={"csrf_token": csrf_of(form), **fields}, follow_redirects=False)


def test_the_admin_lists_the_clinic_s_users_and_no_one_else_may(clinic: DemoClinic) -> None:
    admin = clinic.browser("admin")

    soup = page(admin.get("/clinic/users"))

    assert {row["data-username"] for row in soup.select("tr[data-user]")} == set(DEMO_USERS)
    me = one(soup, 'tr[data-username="admin"]')
    assert me.select("[data-self]")
    assert not me.select("form")  # no change of one's own account from here
    assert [o["value"] for o in soup.select('tr[data-username="alex"] option')] == [
        "patient",
        "caregiver",
    ]
    assert one(page(admin.get("/")), 'nav a[data-link="clinic-users"]')["href"] == "/clinic/users"
    for who in ("nurse.kim", "alex.partner"):
        browser = clinic.browser(who)
        assert browser.get("/clinic/users").status_code == 403
        assert not page(browser.get("/account")).select('a[data-link="clinic-users"]')


def test_deactivating_signs_the_user_out_at_once_until_reactivated(clinic: DemoClinic) -> None:
    admin, ben = clinic.browser("admin"), clinic.browser("pharm.ben")
    ben_id = _user_id(admin, "pharm.ben")

    done = _post(admin, f"/clinic/users/{ben_id}/deactivate")

    assert done.status_code == 303  # type: ignore[attr-defined]
    after = page(admin.get(done.headers["location"]))  # type: ignore[attr-defined]
    assert one(after, "[data-done]")["data-done"] == "deactivated"
    assert one(after, f'tr[data-user="{ben_id}"]')["data-active"] == "no"
    assert not _signed_in(ben)
    assert _sign_in(clinic.browser(None), "pharm.ben", DEMO_PASSWORD) == 401

    _post(admin, f"/clinic/users/{ben_id}/reactivate")

    assert _sign_in(clinic.browser(None), "pharm.ben", DEMO_PASSWORD) == 303


def test_a_new_role_signs_the_user_out_and_one_that_does_not_fit_is_refused_in_its_row(
    clinic: DemoClinic,
) -> None:
    admin, ana = clinic.browser("admin"), clinic.browser("pharm.ana")
    ana_id, alex_id = _user_id(admin, "pharm.ana"), _user_id(admin, "alex")

    changed = _post(admin, f"/clinic/users/{ana_id}/role", role="nurse")
    refused = _post(admin, f"/clinic/users/{alex_id}/role", role="nurse")

    assert changed.status_code == 303  # type: ignore[attr-defined]
    assert not _signed_in(ana)
    soup = page(admin.get("/clinic/users"))
    assert one(soup, f'tr[data-user="{ana_id}"]')["data-role"] == "nurse"
    assert refused.status_code == 422  # type: ignore[attr-defined]
    error = one(page(refused), f'tr[data-user="{alex_id}"] [data-error-for="role"]')
    assert "role" in error.get_text()
    _post(admin, f"/clinic/users/{ana_id}/role", role="pharmacist")


def test_a_reset_link_is_shown_once_and_its_page_sets_a_new_password_once(
    clinic: DemoClinic,
) -> None:
    admin, lee = clinic.browser("admin"), clinic.browser("dr.lee")
    lee_id = _user_id(admin, "dr.lee")

    issued = _post(admin, f"/clinic/users/{lee_id}/reset-link")

    assert issued.status_code == 200  # type: ignore[attr-defined]
    url = one(page(issued), f'[data-reset-link="{lee_id}"] [data-reset-url]')["data-reset-url"]
    assert isinstance(url, str)
    assert not page(admin.get("/clinic/users")).select("[data-reset-url]")  # shown once
    path = urlsplit(url).path
    stranger = clinic.browser(None)
    form = stranger.get(path)
    assert form.headers["referrer-policy"] == "no-referrer"
    assert form.headers["cache-control"] == "no-store"
    token = csrf_in(form)
    typo = stranger.post(
        path,
        data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": "another one"},
    )
    assert typo.status_code == 422
    assert one(page(typo), '[data-error-for="password_again"]')

    done = stranger.post(
        path,
        data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )

    assert one(page(done), "[data-reset]")["data-reset"] == "done"
    assert not _signed_in(lee)
    assert _sign_in(clinic.browser(None), "dr.lee", NEW_PASSWORD) == 303
    again = stranger.get(path)
    assert again.status_code == 404
    assert one(page(again), "[data-reset]")["data-reset"] == "unusable"
    assert again.headers["referrer-policy"] == "no-referrer"


def test_my_account_changes_my_password_and_signs_me_out_elsewhere(clinic: DemoClinic) -> None:
    here, elsewhere = clinic.browser("nurse.kim"), clinic.browser("nurse.kim")
    token = csrf_in(here.get("/account"))

    def change(current: str, new: str, again: str) -> object:
        fields = {"current_password": current, "new_password": new, "new_password_again": again}
        return here.post(
            "/account/password", data={"csrf_token": token, **fields}, follow_redirects=False
        )

    wrong = change("not my password", NEW_PASSWORD, NEW_PASSWORD)
    typo = change(DEMO_PASSWORD, NEW_PASSWORD, "another one")
    done = change(DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)

    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert one(page(wrong), '[data-error-for="current_password"]')
    assert typo.status_code == 422  # type: ignore[attr-defined]
    assert one(page(typo), '[data-error-for="new_password_again"]')
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert one(page(here.get(done.headers["location"])), "[data-saved]")  # type: ignore[attr-defined]
    assert not _signed_in(elsewhere)
    assert _sign_in(clinic.browser(None), "nurse.kim", NEW_PASSWORD) == 303


def test_the_account_pages_speak_spanish(clinic: DemoClinic) -> None:
    browser = clinic.browser("admin")
    browser.cookies.set("blina_lang", "es")

    users = page(browser.get("/clinic/users"))
    account = page(browser.get("/account"))

    assert one(users, "h1").get_text() == "Usuarios"
    assert one(users, 'tr[data-username="alex"] td[data-label="Rol"]').get_text() == "paciente"
    assert one(account, "h1").get_text() == "Mi cuenta"
