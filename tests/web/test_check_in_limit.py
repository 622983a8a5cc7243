"""The family's check-in past the hourly limit: the form comes back with what was entered,
says it was not saved and when to send it again, and whom to call (429)."""

from datetime import timedelta

from sqlalchemy import select

from blina.services.reports import CHECK_INS_PER_HOUR
from blina.store.session import transaction
from blina.store.tables import SymptomReport, User
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_of, one, page


def test_past_the_hourly_limit_the_form_says_it_was_not_saved(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-002"]
    with transaction(clinic.app.state.blina.sessions) as session:
        nurse = session.execute(select(User.id).where(User.username == "nurse.kim")).scalar_one()
        session.add_all(
            SymptomReport(
                patient_id=patient,
                submitted_by=nurse,
                submitted_at=NOW - timedelta(minutes=30),
                idempotency_key=f"earlier-{n}",
                report={"symptoms": {}},
                observed_at=NOW - timedelta(minutes=30),
                symptoms={},
            )
            for n in range(CHECK_INS_PER_HOUR)
        )
    browser = clinic.browser("nurse.kim")
    form = page(browser.get(f"/patients/{patient}/check-in"))

    refused = browser.post(
        f"/patients/{patient}/check-in",
        data={"csrf_token": csrf_of(form), "idempotency_key": "past-limit", "temperature": "37.0"},
    )

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    soup = page(refused)
    assert one(soup, '[data-error-for="check-in"]')["data-wait-minutes"] == "31"
    assert one(soup, "#temperature")["value"] == "37.0"
