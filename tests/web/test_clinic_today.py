"""Clinic today: finding a patient by name or code, and the patients a page at a time
(each once, in a stable order), with today's tasks narrowed to the patients found.

Read as a DOM: rows by their data-* attributes, pages by the "more" link.
"""

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from blina.services.patient_search import SEARCH_MAX
from blina.store.session import transaction
from blina.store.tables import Patient
from blina.web.routes.care_team import PATIENTS_PER_PAGE
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import one, page

EXTRA = PATIENTS_PER_PAGE * 2 + 7


@pytest.fixture(scope="module")
def crowded(clinic: DemoClinic) -> dict[str, int]:
    """The demo clinic with ``EXTRA`` more patients, "Q-000" Quinn 0 ... (code -> id)."""
    added: dict[str, int] = {}
    clinic_id = _clinic_id(clinic)
    with transaction(clinic.app.state.blina.sessions) as session:
        for i in range(EXTRA):
            patient = Patient(
                clinic_id=clinic_id, code=f"Q-{i:03}", display_name=f"Quinn {i}", created_at=NOW
            )
            session.add(patient)
            session.flush()
            added[patient.code] = patient.id
    return added


def _clinic_id(clinic: DemoClinic) -> int:
    with transaction(clinic.app.state.blina.sessions) as session:
        found = session.get(Patient, clinic.patients["P-001"])
        assert found is not None
        return found.clinic_id


def _rows(soup: BeautifulSoup) -> list[tuple[int, str]]:
    return [
        (int(str(tr["data-patient"])), str(tr["data-code"]))
        for tr in soup.select("section.patients tr[data-patient]")
    ]


def _walk(browser: TestClient, address: str) -> list[list[tuple[int, str]]]:
    """Every page of patients from ``address``, following "more patients" to the end."""
    pages = []
    following: str | None = address
    while following is not None and len(pages) < 50:
        response = browser.get(following)
        assert response.status_code == 200
        soup = page(response)
        pages.append(_rows(soup))
        more = soup.select_one('section.patients a[data-page="patients-next"]')
        following = None if more is None else str(more["href"]).split("#")[0]
    return pages


@pytest.mark.parametrize("who", ["nurse.kim", "pharm.ana", "admin"])
def test_every_patient_once_across_the_pages_in_a_stable_order(
    clinic: DemoClinic, crowded: dict[str, int], who: str
) -> None:
    pages = _walk(clinic.browser(who), "/")
    walked = [row for p in pages for row in p]
    everyone = {**clinic.patients, **crowded}
    assert sorted(code for _, code in walked) == sorted(everyone)
    assert len(walked) == len(set(walked)), "no patient twice"
    assert [pid for pid, _ in walked] == sorted(everyone.values())
    assert all(len(p) == PATIENTS_PER_PAGE for p in pages[:-1])
    assert 0 < len(pages[-1]) <= PATIENTS_PER_PAGE
    assert len(pages) == -(-len(everyone) // PATIENTS_PER_PAGE)


def test_a_later_page_links_back_to_the_first(clinic: DemoClinic, crowded: dict[str, int]) -> None:
    browser = clinic.browser("dr.lee")
    first = page(browser.get("/"))
    assert not first.select('a[data-page="patients-first"]')
    second = str(one(first, 'a[data-page="patients-next"]')["href"]).split("#")[0]
    back = one(page(browser.get(second)), 'a[data-page="patients-first"]')
    assert str(back["href"]).split("#")[0] == "/"


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("QUINN 1", ["Q-001", *(f"Q-{i:03}" for i in range(10, 20))]),
        ("q-05", [f"Q-{i:03}" for i in range(50, EXTRA) if i < 60]),
        ("  quinn   2 ", ["Q-002", *(f"Q-{i:03}" for i in range(20, 30))]),
        ("p-002", ["P-002"]),
        ("maria", ["P-002"]),
        ("%", []),
        ("_", []),
    ],
)
def test_search_by_name_or_code_ignores_case_and_takes_wildcards_literally(
    clinic: DemoClinic, crowded: dict[str, int], search: str, expected: list[str]
) -> None:
    pages = _walk(clinic.browser("nurse.kim"), f"/?q={search}")
    assert sorted(code for p in pages for _, code in p) == sorted(expected)
    soup = page(clinic.browser("nurse.kim").get("/", params={"q": search}))
    assert one(soup, "#search-q")["value"] == " ".join(search.split())
    if not expected:
        assert one(soup, '[data-empty="patients"]').get_text(strip=True)


def test_a_search_pages_too_and_keeps_itself_in_the_links(
    clinic: DemoClinic, crowded: dict[str, int]
) -> None:
    pages = _walk(clinic.browser("nurse.kim"), "/?q=quinn")
    walked = [code for p in pages for _, code in p]
    assert walked == sorted(crowded)
    assert len(pages) == -(-EXTRA // PATIENTS_PER_PAGE)


def test_today_s_tasks_are_narrowed_to_the_patients_found(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    everything = page(browser.get("/")).select("section.tasks li[data-task-kind]")
    assert everything, "the demo clinic has tasks today"
    for code, patient_id in clinic.patients.items():
        found = page(browser.get("/", params={"q": code})).select(
            "section.tasks li[data-task-kind]"
        )
        assert [li["data-patient"] for li in found] == [
            li["data-patient"] for li in everything if li["data-patient"] == str(patient_id)
        ]


def test_a_search_too_long_is_refused_naming_the_field_and_its_bound(
    clinic: DemoClinic,
) -> None:
    response = clinic.browser("nurse.kim").get("/", params={"q": "x" * (SEARCH_MAX + 1)})
    assert response.status_code == 422
    soup = page(response)
    error = one(soup, '[data-error-for="q"]')
    assert error.get_text(strip=True).startswith("q ")
    assert f"at most {SEARCH_MAX} characters" in error.get_text()
    assert one(soup, "#search-q")["aria-invalid"] == "true"
    assert _rows(soup), "the page still lists the patients"


@pytest.mark.parametrize("after", ["abc", "-1", "0", "1.5", "9" * 30, "٣"])
def test_a_cursor_that_is_no_record_id_is_the_first_page(
    clinic: DemoClinic, crowded: dict[str, int], after: str
) -> None:
    browser = clinic.browser("nurse.kim")
    first = _rows(page(browser.get("/")))
    response = browser.get("/", params={"after": after, "handled_before": after})
    assert response.status_code == 200
    assert _rows(page(response)) == first
