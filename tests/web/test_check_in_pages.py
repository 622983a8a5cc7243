"""A patient's page lists their check-ins a page at a time, newest first: a patient with
many check-ins still gets a page of a few screens, and every check-in can be reached."""

from datetime import timedelta

from httpx2 import Response
from sqlalchemy import select

from blina.store.session import transaction
from blina.store.tables import SymptomReport, User
from blina.web.routes.care_team import CHECK_INS_SHOWN
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import page


def _listed(response: Response) -> list[int]:
    soup = page(response)
    return [int(row["data-report"]) for row in soup.select("tr[data-report]")]


def test_check_ins_come_a_page_at_a_time_newest_first(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-003"]
    with transaction(clinic.app.state.blina.sessions) as session:
        nurse = session.execute(select(User.id).where(User.username == "nurse.kim")).scalar_one()
        session.add_all(
            SymptomReport(
                patient_id=patient,
                submitted_by=nurse,
                submitted_at=NOW - timedelta(hours=n),
                idempotency_key=f"many-{n}",
                report={"symptoms": {}, "temperature": 37.0},
                observed_at=NOW - timedelta(hours=n),
                symptoms={},
            )
            for n in range(2 * CHECK_INS_SHOWN + 5, 0, -1)
        )
    with transaction(clinic.app.state.blina.sessions) as session:
        every = list(
            session.execute(
                select(SymptomReport.id)
                .where(SymptomReport.patient_id == patient)
                .order_by(SymptomReport.id.desc())
            ).scalars()
        )
    browser = clinic.browser("nurse.kim")

    seen: list[int] = []
    address = f"/patients/{patient}"
    pages = 0
    while True:
        response = browser.get(address)
        assert response.status_code == 200
        listed = _listed(response)
        assert 0 < len(listed) <= CHECK_INS_SHOWN
        seen += listed
        pages += 1
        older = page(response).select_one('a[href*="check_ins_before="]')
        if older is None:
            break
        address = f"/patients/{patient}" + str(older["href"]).split("#")[0]
    assert seen == every  # all of them, each once, newest first
    assert pages == -(-len(every) // CHECK_INS_SHOWN)
    assert page(response).select_one('a[href="?#reports-title"]') is not None


def test_a_bad_page_address_shows_the_newest_check_ins(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-003"]
    browser = clinic.browser("nurse.kim")
    newest = _listed(browser.get(f"/patients/{patient}"))
    for given in ("abc", "-1", "0", "²", "9" * 40, "1e5"):
        response = browser.get(f"/patients/{patient}", params={"check_ins_before": given})
        assert response.status_code == 200
        assert _listed(response) == newest
