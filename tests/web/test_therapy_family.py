"""The pages that read a course of another therapy (issue 19): the family's Today page and
calendar (page, .ics, subscription feed), the clinic's task list and the patient page's
"Now", each from the plan the stored course derives; a blinatumomab family's pages stay
as they were.

The demo's Robin (P-005) is four days before an obecabtagene first infusion. A CAR-T
patient three days after a tisagenlecleucel infusion, with the site's stay-near and
no-driving days, is added here (``under_way``) for the restrictions and the daily checks.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from icalendar import Calendar

from blina.demo import DEMO_PASSWORD, DEMO_ZONE
from blina.domain.therapies.inputs import TherapyInputs
from blina.domain.therapies.model import EntryKind, TherapyPlan
from blina.domain.therapies.today import clinic_entries, therapy_today
from blina.domain.triage.rules import TriageLevel
from blina.knowledge import Knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.patients import create_patient
from blina.services.therapy_courses import active_therapy_course, start_therapy_course
from blina.store.session import read_only, transaction
from blina.store.tables import User
from blina.web.family_views import therapy_signs
from blina.web.i18n import LANG_COOKIE
from blina.web.therapy_family import therapy_calendar_rows, word_keys
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_in, one, page

TODAY = NOW.astimezone(DEMO_ZONE).date()


@dataclass(frozen=True)
class UnderWay:
    patient: int
    plan: TherapyPlan


def _plan(clinic: DemoClinic, patient: int) -> TherapyPlan:
    state = clinic.app.state.blina
    with read_only(state.sessions) as session:
        view = active_therapy_course(session, patient, knowledge=state.knowledge)
    assert view is not None
    return view.plan


@pytest.fixture(scope="module")
def under_way(clinic: DemoClinic) -> UnderWay:
    """P-T3: tisagenlecleucel given three days ago (day 0), the site's 28 days near the
    centre and 56 without driving (test inputs: the current labels' periods are NOT
    RETRIEVED), and its caregiver "t3.family"."""
    state = clinic.app.state.blina
    with transaction(state.sessions) as session:
        doctor = to_actor(session.query(User).filter_by(username="dr.lee").one())
        patient = create_patient(
            session, actor=doctor, now=NOW, code="P-T3", display_name="T3 (CAR-T day 3)"
        )
        start_therapy_course(
            session,
            actor=doctor,
            now=NOW,
            knowledge=state.knowledge,
            patient_id=patient.id,
            inputs=TherapyInputs(
                therapy="tisagenlecleucel",
                start=TODAY - timedelta(days=3),
                weight_kg=Decimal(30),
                bsa_m2=Decimal("1.1"),
                stay_near_days=28,
                no_driving_days=56,
            ),
        )
        create_user(
            session,
            actor=None,
            now=NOW,
            clinic_id=doctor.clinic_id,
            username="t3.family",
            display_name="t3.family",
            role="caregiver",
            password=DEMO_PASSWORD,
            patient_id=patient.id,
        )
    return UnderWay(patient.id, _plan(clinic, patient.id))


def _dose_days(plan: TherapyPlan) -> list[date]:
    return [d.on for d in plan.days if any(e.kind is EntryKind.DOSE for e in d.entries)]


def _days_of(plan: TherapyPlan, kind: EntryKind) -> list[date]:
    return [d.on for d in plan.days if any(e.kind is kind for e in d.entries)]


# --- Today --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["robin", "robin.partner"])
def test_a_car_t_family_s_today_names_the_therapy_and_the_next_dose_day(
    clinic: DemoClinic, who: str
) -> None:
    plan = _plan(clinic, clinic.patients["P-005"])
    read = therapy_today(plan, TODAY)

    soup = page(clinic.browser(who).get("/today"))

    part = one(soup, "[data-therapy-today]")
    assert part["data-therapy-today"] == "obecabtagene"
    assert part["data-phase"] == read.phase.value
    assert "AUCATZYL" in one(part, "[data-therapy-name]").get_text()
    assert read.next_dose is not None
    assert one(part, "[data-next-dose]")["data-next-dose"] == read.next_dose.on.isoformat()
    assert read.next_dose.on == _dose_days(plan)[0]
    # the care team's numbers as for blinatumomab; nothing of a pump or a bag
    assert one(soup, "[data-help-now]").select("[data-emergency-sign]")
    assert not soup.select("[data-next-bag], [data-hospital-days], [data-bag-now]")
    assert "pump" not in part.get_text()


def test_today_under_way_says_the_day_what_happens_and_the_restrictions(
    clinic: DemoClinic, under_way: UnderWay
) -> None:
    plan = under_way.plan
    read = therapy_today(plan, TODAY)
    assert read.day is not None

    soup = page(clinic.browser("t3.family").get("/today"))

    part = one(soup, "[data-therapy-today]")
    assert one(part, "[data-today-label]")["data-today-label"] == read.day.label == "day 3"
    assert "day 3" in one(part, "[data-today-label]").get_text()
    assert [li["data-happens"] for li in part.select("[data-happens]")] == list(
        word_keys(plan, read.day)
    )
    assert "daily-check" in word_keys(plan, read.day)
    near, driving = _days_of(plan, EntryKind.STAY_NEAR), _days_of(plan, EntryKind.NO_DRIVING)
    assert one(soup, "[data-stay-near-until]")["data-stay-near-until"] == near[-1].isoformat()
    assert one(soup, "[data-no-driving-until]")["data-no-driving-until"] == driving[-1].isoformat()
    assert one(part, "[data-next-dose]")["data-next-dose"] == ""  # one infusion, given


def test_today_in_spanish_counts_the_day_in_spanish(
    clinic: DemoClinic, under_way: UnderWay
) -> None:
    browser = clinic.browser("t3.family")
    browser.cookies.set(LANG_COOKIE, "es")

    soup = page(browser.get("/today"))

    label = " ".join(one(soup, "[data-today-label]").get_text().split())
    assert label == "Hoy es el día 3."
    assert "Permanezca cerca del centro de tratamiento" in one(soup, "[data-stay-near-until]").text


def test_a_blinatumomab_family_s_today_is_unchanged(clinic: DemoClinic) -> None:
    soup = page(clinic.browser("alex").get("/today"))

    assert not soup.select("[data-therapy-today]")
    assert soup.select("[data-next-bag]")


# --- the calendar -------------------------------------------------------------------------


def _calendar(clinic: DemoClinic, who: str, patient: int) -> BeautifulSoup:
    return page(clinic.browser(who).get(f"/patients/{patient}/calendar"))


def test_the_calendar_shows_the_therapy_s_days_doses_alone(
    clinic: DemoClinic, under_way: UnderWay
) -> None:
    plan = under_way.plan
    rows = therapy_calendar_rows(plan)

    soup = _calendar(clinic, "t3.family", under_way.patient)

    table = one(soup, "[data-therapy-calendar]")
    shown = table.select("tbody tr")
    assert [(tr["data-first"], tr["data-last"]) for tr in shown] == [
        (r.first.on.isoformat(), r.last.on.isoformat()) for r in rows
    ]
    assert [tr["data-first"] for tr in shown if tr.has_attr("data-dose")] == [
        d.isoformat() for d in _dose_days(plan)
    ]
    # every planned day is in exactly one row
    covered = [
        d.on
        for d in plan.days
        for tr in shown
        if tr["data-first"] <= d.on.isoformat() <= tr["data-last"]
    ]
    assert covered == [d.on for d in plan.days]
    [today] = table.select("tr[data-today]")
    assert today["data-first"] <= TODAY.isoformat() <= today["data-last"]
    assert not soup.select("[data-regimen]")


def test_the_ics_and_the_feed_hold_one_event_per_planned_day(
    clinic: DemoClinic, under_way: UnderWay
) -> None:
    browser = clinic.browser("t3.family")
    path = f"/patients/{under_way.patient}/calendar"
    download = browser.get(f"{path}.ics")
    made = browser.post(
        f"/patients/{under_way.patient}/calendar-feeds",
        data={"label": "phone", "csrf_token": csrf_in(browser.get(path))},
    )
    url = str(one(page(made), "[data-feed-url]")["data-feed-url"])
    feed = clinic.browser(None).get("/calendar/" + url.rsplit("/calendar/", 1)[1])

    for answer in (download, feed):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/calendar")
        events = Calendar.from_ical(answer.content).walk("VEVENT")
        assert [e.decoded("dtstart") for e in events] == [d.on for d in under_way.plan.days]


# --- the clinic ---------------------------------------------------------------------------


def test_the_clinic_s_tasks_of_today_hold_the_therapy_s_rows(
    clinic: DemoClinic, under_way: UnderWay
) -> None:
    day = next(d for d in under_way.plan.days if d.on == TODAY)

    soup = page(clinic.browser("nurse.kim").get("/"))

    rows = soup.select(f'li[data-patient="{under_way.patient}"]')
    assert [li["data-task-kind"] for li in rows] == [
        f"therapy-{e.kind.value}" for e in clinic_entries(day)
    ]
    assert all(one(li, "[data-therapy]")["data-therapy"] == "tisagenlecleucel" for li in rows)


def test_the_patient_page_shows_the_course_now(clinic: DemoClinic, under_way: UnderWay) -> None:
    read = therapy_today(under_way.plan, TODAY)
    assert read.day is not None
    assert read.stay_near_until is not None

    soup = page(clinic.browser("nurse.kim").get(f"/patients/{under_way.patient}"))

    now = one(soup, "[data-therapy-now]")
    assert now["data-therapy-now"] == read.phase.value
    assert one(now, "[data-today-label]")["data-today-label"] == read.day.label
    assert [(li["data-kind"], li["data-what"]) for li in now.select("li[data-kind]")] == [
        (e.kind.value, e.what) for e in clinic_entries(read.day)
    ]
    assert one(now, "[data-stay-near-until]")["data-stay-near-until"] == (
        read.stay_near_until.isoformat()
    )


# --- the therapy's own warning signs ------------------------------------------------------


def test_today_lists_the_therapy_s_own_warning_signs_emergency_first(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    rules = knowledge.triage
    own = [
        r
        for r in rules.rules
        if "obecabtagene" in r.therapies
        and r.level in (TriageLevel.EMERGENCY, TriageLevel.CALL_NOW)
    ]
    assert own, "the CAR-T rules of triage.toml"
    guide = rules.therapies["obecabtagene"]

    soup = page(clinic.browser("robin").get("/today"))

    part = one(soup, "[data-therapy-signs]")
    shown = part.select("[data-rule]")
    assert sorted(str(d["data-rule"]) for d in shown) == sorted(r.id for r in own)
    groups = part.select("[data-sign-group]")
    tops = []
    for group in groups:
        levels = [TriageLevel(str(d["data-level"])).rank for d in group.select("[data-rule]")]
        assert levels == sorted(levels, reverse=True), "emergency first"
        tops.append(levels[0])
        windowed = {d.has_attr("data-window") for d in group.select("[data-rule]")}
        assert windowed == {group["data-sign-group"] == "window"}
    assert tops == sorted(tops, reverse=True)
    assert [g["data-sign-group"] for g in groups] == ["window", "any-time"]
    by_id = {r.id: r for r in own}
    for d in shown:
        rule = by_id[str(d["data-rule"])]
        assert d.has_attr("data-window") is rule.infusion_window
        if rule.infusion_window:
            assert d["data-window"] == str(guide.window_days)
        signs = {str(li["data-sign"]) for li in d.select("[data-sign]")}
        assert signs == (set() if rule.symptoms >= set(rules.symptoms) else set(rule.symptoms))
    # the sign asked only after CAR-T cells is among the call-now ones for Robin, not Alex
    only_car_t = {s.id for s in rules.symptoms.values() if "obecabtagene" in s.therapies}
    assert only_car_t
    robin = {str(li["data-red-flag"]) for li in soup.select("[data-red-flag]")}
    alex = {
        str(li["data-red-flag"])
        for li in page(clinic.browser("alex").get("/today")).select("[data-red-flag]")
    }
    assert only_car_t <= robin
    assert not only_car_t & alex


def test_a_blinatumomab_family_s_today_lists_no_therapy_signs(clinic: DemoClinic) -> None:
    soup = page(clinic.browser("alex").get("/today"))

    assert not soup.select("[data-therapy-signs]")


def test_the_check_in_form_asks_a_car_t_family_its_own_signs(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    only_car_t = {s.id for s in knowledge.triage.symptoms.values() if "obecabtagene" in s.therapies}
    robin = clinic.patients["P-005"]
    alex = clinic.patients["P-001"]

    asked_robin = page(clinic.browser("robin").get(f"/patients/{robin}/check-in"))
    asked_alex = page(clinic.browser("alex").get(f"/patients/{alex}/check-in"))

    def ticks(soup: BeautifulSoup) -> set[str]:
        return {str(i["data-symptom"]) for i in soup.select("input[data-symptom]")}

    assert only_car_t
    assert only_car_t <= ticks(asked_robin)
    assert not only_car_t & ticks(asked_alex)


def test_a_car_t_family_s_check_in_is_triaged_with_its_therapy(clinic: DemoClinic) -> None:
    """From the page, as through the API (tests/api/test_therapy_triage.py)."""
    robin = clinic.patients["P-005"]
    browser = clinic.browser("robin.partner")
    path = f"/patients/{robin}/check-in"
    token = csrf_in(browser.get(path))

    answer = page(browser.post(path, data={"csrf_token": token, "symptom": ["trouble-writing"]}))

    triage = one(answer, "section.triage")
    assert triage["data-level"] == "call-now"
    assert answer.select('[data-rule="car-t-trouble-writing"]')


def test_therapy_signs_of_a_therapy_without_a_window_and_of_one_triage_does_not_know(
    knowledge: Knowledge,
) -> None:
    rules = knowledge.triage
    vod = therapy_signs(rules, "inotuzumab")

    assert vod is not None
    assert vod.window_days is None
    assert [window for window, _ in vod.groups] == [False]
    assert {r.id for r in vod.rules} == {
        r.id
        for r in rules.rules
        if "inotuzumab" in r.therapies and r.level in (TriageLevel.EMERGENCY, TriageLevel.CALL_NOW)
    }
    assert therapy_signs(rules, "no-such-therapy") is None


def test_a_car_t_patient_s_alert_card_says_the_therapy_and_its_day(
    clinic: DemoClinic, under_way: UnderWay
) -> None:
    """The care team's card reads the same course as the family's pages: the therapy, its
    day as the label counts it, the next dose and the stay near the centre."""
    browser = clinic.browser("t3.family")
    path = f"/patients/{under_way.patient}/check-in"
    sent = browser.post(
        path,
        data={"csrf_token": csrf_in(browser.get(path)), "symptom": ["trouble-writing"]},
    )
    assert one(page(sent), "section.triage")["data-level"] == "call-now"

    soup = page(clinic.browser("nurse.kim").get("/"))

    card = one(soup, f'section.alerts li[data-card="{under_way.patient}"]')
    today = therapy_today(under_way.plan, TODAY)
    assert one(card, "[data-therapy-now]")["data-therapy-now"] == "tisagenlecleucel"
    assert today.day is not None
    assert one(card, "[data-therapy-day]")["data-therapy-day"] == today.day.label == "day 3"
    assert today.stay_near_until is not None
    assert one(card, "[data-stay-near-until]")["data-stay-near-until"] == (
        today.stay_near_until.isoformat()
    )
    assert not card.select('[data-course-now="none"]'), "a course, of another therapy"
