"""A new cycle after an interruption before the step-up, on the patient page: the plan
offers the step-up again, and the physician takes the offer on the event form.

A patient of the demo clinic whose course began 20 days ago (relapsed/refractory, 24-h
bags) was stopped on day 4 at 9 mcg/day; the infusion restarts now, more than 7 days later:
a new cycle. Read as a DOM.
"""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from blina.demo import DEMO_ZONE
from blina.services.accounts import to_actor
from blina.services.courses import CourseRequest, record_event, start_course
from blina.services.patients import create_patient
from blina.store.session import transaction
from blina.store.tables import User
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_of, one, page


def _stopped_before_its_step_up(clinic: DemoClinic) -> tuple[int, int]:
    state = clinic.app.state.blina
    with transaction(state.sessions) as session:
        doctor = to_actor(
            session.execute(select(User).where(User.username == "dr.lee")).scalar_one()
        )
        patient = create_patient(
            session, actor=doctor, now=NOW, code="P-STEP", display_name="Step Up"
        )
        request = CourseRequest(
            regimen_id="relapsed-refractory",
            start=(NOW - timedelta(days=20)).astimezone(DEMO_ZONE).date(),
            weight_kg=Decimal(70),
            age_years=Decimal(40),
            confirm_past_start=True,
        )
        view = start_course(
            session,
            actor=doctor,
            now=NOW,
            knowledge=state.knowledge,
            patient_id=patient.id,
            request=request,
        )
        first = view.plan.bags[0].start
        record_event(
            session,
            actor=doctor,
            now=NOW,
            knowledge=state.knowledge,
            course_id=view.course.id,
            expected_version=view.course.version,
            event={
                "kind": "interrupt",
                "at": (first + timedelta(days=3)).isoformat(),
                "cause": "infection",
                "grade": 2,
            },
        )
        return patient.id, view.course.id


def test_the_step_up_is_offered_again_and_taken_on_the_event_form(clinic: DemoClinic) -> None:
    patient, course = _stopped_before_its_step_up(clinic)
    browser = clinic.browser("dr.lee")

    # Still stopped, 16 days on: the restart will start cycle 2, and the page offers the
    # step-up before the physician records it.
    soup = page(browser.get(f"/patients/{patient}"))
    offer = one(soup, 'section.decisions li[data-action="step-up"]')
    assert "never reached the full dose" in offer.get_text()
    assert "record the restart at 9 mcg/day" in offer.get_text()

    restart = {
        "csrf_token": csrf_of(soup),
        "version": one(soup, 'form[data-form="event"] input[name="version"]')["value"],
        "kind": "restart",
        "at": NOW.astimezone(DEMO_ZONE).strftime("%Y-%m-%dT%H:%M"),
        "dose_mcg_per_day": "9",
    }
    taken = browser.post(f"/courses/{course}/events", data=restart, follow_redirects=False)

    assert taken.status_code == 303, page(taken).get_text()
    soup = page(browser.get(f"/patients/{patient}"))
    decisions = soup.select('section.decisions li[data-action="restart"]')
    assert any("repeats cycle 1's step-up" in li.get_text() for li in decisions)
    assert "9 mcg/day" in one(soup, "section.state-banner").get_text()
