"""The clinic numbers page: the admin sets the numbers a family is shown with a check-in's
answer; the clinic's staff read them; the family has no such page. Read as a DOM."""

from sqlalchemy import select

from blina.store.session import read_only
from blina.store.tables import Clinic
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_of, one, page


def _post(clinic: DemoClinic, who: str, **numbers: str) -> object:
    browser = clinic.browser(who)
    form = page(browser.get("/clinic/numbers"))
    return browser.post(
        "/clinic/numbers",
        data={"csrf_token": csrf_of(form), **numbers},
        follow_redirects=False,
    )


def test_the_admin_sets_the_numbers_and_the_staff_read_them(clinic: DemoClinic) -> None:
    saved = _post(
        clinic, "admin", phone="+33 1 23 45 67 89", emergency_number="112", crisis_line="3114"
    )

    assert saved.status_code == 303  # type: ignore[attr-defined]
    soup = page(clinic.browser("admin").get(saved.headers["location"]))  # type: ignore[attr-defined]
    assert one(soup, "[data-saved]").get_text(strip=True)
    assert one(soup, "#number-emergency_number")["value"] == "112"
    with read_only(clinic.app.state.blina.sessions) as session:
        stored = session.execute(select(Clinic.emergency_number, Clinic.crisis_line)).one()
    assert tuple(stored) == ("112", "3114")
    nurse = page(clinic.browser("nurse.kim").get("/clinic/numbers"))
    assert not nurse.select('form[data-form="clinic-numbers"]')
    assert one(nurse, '[data-number="crisis_line"]').get_text(strip=True) == "3114"


def test_a_number_that_cannot_be_dialled_comes_back_beside_its_field(clinic: DemoClinic) -> None:
    refused = _post(clinic, "admin", phone="", emergency_number="call 112", crisis_line="")

    assert refused.status_code == 422  # type: ignore[attr-defined]
    soup = page(refused)
    assert "emergency_number" in one(soup, '[data-error-for="emergency_number"]').get_text()
    assert one(soup, "#number-emergency_number")["value"] == "call 112"


def test_the_family_has_no_clinic_numbers_page(clinic: DemoClinic) -> None:
    response = clinic.browser("alex.partner").get("/clinic/numbers")

    assert response.status_code == 403
