"""The care team's patient page offers the course's estimated exposure as a picture,
labelled as a model-based estimate; families and other clinics do not get it."""

from tests.web.conftest import DemoClinic
from tests.web.soup import one, page


def test_the_patient_page_offers_the_estimate_and_the_picture_draws(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-001"]
    browser = clinic.browser("nurse.kim")
    section = one(page(browser.get(f"/patients/{patient}")), "section.exposure")
    assert "never a measured level" in section.get_text()
    image = one(section, "img")
    assert image["alt"]
    picture = browser.get(str(image["src"]))
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/svg+xml"
    assert picture.headers["cache-control"] == "no-store, private"
    assert picture.content.startswith(b"<?xml")
    assert b"<dc:title>Model-based estimate, not a measured level</dc:title>" in picture.content


def test_a_family_gets_neither_the_section_nor_the_picture(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-001"]
    staff = clinic.browser("nurse.kim")
    src = one(page(staff.get(f"/patients/{patient}")), "section.exposure img")["src"]
    family = clinic.browser("alex.partner")
    assert not page(family.get(f"/patients/{patient}")).select("section.exposure")
    assert family.get(str(src)).status_code == 403


def test_a_bad_basis_is_refused_in_words(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-001"]
    browser = clinic.browser("nurse.kim")
    src = str(one(page(browser.get(f"/patients/{patient}")), "section.exposure img")["src"])
    refused = browser.get(src.split("?")[0], params={"basis": "guessed"})
    assert refused.status_code == 422
    assert "planned or delivered" in refused.text
