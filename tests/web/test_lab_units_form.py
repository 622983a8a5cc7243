"""The lab form with units (issue 15, item 10): the unit is picked from the test's own
units (an htmx fragment loaded with the form and when the test changes), the value is
graded converted, and an implausible value comes back beside its field naming the unit
it was likely meant in. Read as a DOM."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from blina.demo import DEMO_ZONE
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_of, one, page


def _local(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).astimezone(DEMO_ZONE).strftime("%Y-%m-%dT%H:%M")


def _patient(clinic: DemoClinic, browser: TestClient) -> BeautifulSoup:
    response = browser.get(f"/patients/{clinic.patients['P-002']}")
    assert response.status_code == 200
    return page(response)


def _units(clinic: DemoClinic, who: str, **params: str) -> tuple[int, BeautifulSoup]:
    response = clinic.browser(who).get(
        f"/courses/{clinic.courses['P-002']}/labs/units", params=params
    )
    return response.status_code, page(response)


def test_the_form_loads_the_units_of_the_test_picked(clinic: DemoClinic) -> None:
    form = one(_patient(clinic, clinic.browser("nurse.kim")), 'form[data-form="lab"]')
    slot = one(form, "#lab-unit-slot")

    assert slot["hx-get"] == f"/courses/{clinic.courses['P-002']}/labs/units"
    assert slot["hx-trigger"] == "load, change from:#lab-term"
    assert slot["hx-include"] == "#lab-term, #lab-unit"
    assert one(form, 'label[for="lab-unit"]')
    # before the fragment comes: the test's own unit, as when no unit is sent
    assert [o["value"] for o in one(slot, 'select[name="unit"]').select("option")] == [""]
    assert one(form, "#lab-unit-error")


@pytest.mark.parametrize(
    ("term", "units"),
    [
        ("hemoglobin", ["g/dL", "g/L"]),
        ("neutrophils", ["cells/mm3", "10^9/L"]),
        ("hypocalcemia", ["mmol/L", "mg/dL"]),
        ("hypocalcemia-ionized", ["mmol/L", "mg/dL"]),
        ("alt", ["U/L"]),
    ],
)
def test_the_units_fragment_lists_the_test_s_units_canonical_first(
    clinic: DemoClinic, term: str, units: list[str]
) -> None:
    status, soup = _units(clinic, "nurse.kim", term=term)

    assert status == 200
    options = one(soup, 'select#lab-unit[name="unit"]').select("option")
    assert [o["value"] for o in options] == units
    assert not [o for o in options if o.has_attr("selected")]


def test_the_units_fragment_keeps_the_unit_chosen_when_the_test_has_it(
    clinic: DemoClinic,
) -> None:
    _, kept = _units(clinic, "dr.lee", term="hemoglobin", unit="g/L")
    _, dropped = _units(clinic, "dr.lee", term="alt", unit="g/L")
    _, unknown = _units(clinic, "dr.lee", term="seizure", unit="g/L")

    assert [o["value"] for o in kept.select("option[selected]")] == ["g/L"]
    assert dropped.select("option[selected]") == []
    assert [o["value"] for o in unknown.select("option")] == ["", "g/L"]


def test_a_dropped_unit_asks_for_the_live_grade_again(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    url = f"/courses/{clinic.courses['P-002']}/labs/units"

    dropped = browser.get(url, params={"term": "alt", "unit": "g/L"})
    kept = browser.get(url, params={"term": "hemoglobin", "unit": "g/L"})
    first = browser.get(url, params={"term": "hemoglobin"})

    assert dropped.headers["HX-Trigger-After-Settle"] == "change"
    assert "HX-Trigger-After-Settle" not in kept.headers
    assert "HX-Trigger-After-Settle" not in first.headers


@pytest.mark.parametrize("who", ["alex", "pharm.ana"])
def test_only_physicians_and_nurses_get_the_units(clinic: DemoClinic, who: str) -> None:
    assert _units(clinic, who, term="hemoglobin")[0] == 403


def test_haemoglobin_75_g_per_l_is_graded_3_live_and_recorded(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    course = clinic.courses["P-002"]
    fields = {"term": "hemoglobin", "unit": "g/L", "value": "75", "lln": "120"}

    live = page(browser.get(f"/courses/{course}/labs/grade", params=fields))
    assert one(live, '[data-grade-result="lab"]')["data-grade"] == "3"
    assert "75 g/L (7.5 g/dL) < 8.0 g/dL" in one(live, "[data-decisive]").get_text()
    assert not one(live, "#lab-unit-error").select("[data-error-for]")

    soup = _patient(clinic, browser)
    response = browser.post(
        f"/courses/{course}/labs",
        data={**fields, "taken_at": _local(2), "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = next(
        r
        for r in _patient(clinic, browser).select("section.labs tr[data-lab]")
        if r["data-term"] == "hemoglobin"
    )
    assert row["data-grade"] == "3"
    result = one(row, "[data-value]")
    assert result["data-value"] == "75"
    assert result.get_text(" ").split()[:2] == ["75", "g/L"]


def test_haemoglobin_75_without_its_unit_comes_back_naming_g_per_l(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    soup = _patient(clinic, browser)
    data = {
        "term": "hemoglobin",
        "value": "75",
        "lln": "12",
        "taken_at": _local(1),
        "csrf_token": csrf_of(soup),
    }

    response = browser.post(
        f"/courses/{clinic.courses['P-002']}/labs", data=data, follow_redirects=False
    )

    assert response.status_code == 422
    form = one(page(response), 'form[data-form="lab"]')
    message = one(form, '[data-error-for="value"]').get_text()
    assert message == (
        "Result (in the unit chosen above): 75 g/dL is not allowed: must be within the "
        "plausible range of haemoglobin, "
        ">= 1 and <= 25 g/dL; did you mean 75 g/L?"
    )
    assert one(form, 'input[name="value"]')["aria-invalid"] == "true"
    assert one(form, 'input[name="value"]')["value"] == "75"


def test_a_unit_the_test_has_not_comes_back_beside_the_unit(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser)
    data = {
        "term": "hemoglobin",
        "unit": "mmol/L",
        "value": "6",
        "lln": "7.5",
        "taken_at": _local(1),
        "csrf_token": csrf_of(soup),
    }

    response = browser.post(
        f"/courses/{clinic.courses['P-002']}/labs", data=data, follow_redirects=False
    )

    assert response.status_code == 422
    form = one(page(response), 'form[data-form="lab"]')
    message = one(form, '[data-error-for="unit"]').get_text()
    assert message == (
        "Unit (of the result and of the limits and baseline below): mmol/L is not allowed: "
        "must be a unit of haemoglobin: one of g/dL, g/L"
    )
    unit = one(form, 'select[name="unit"]')
    assert unit["aria-invalid"] == "true"
    assert [o["value"] for o in unit.select("option[selected]")] == ["mmol/L"]
