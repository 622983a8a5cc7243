"""The clinic's audit trail, calendar feeds, a stored bag's worksheet, and the course's
standing on the care team's home page.

A second clinic (its staff, a patient, a course, a bag and a calendar feed) lives beside
the demo clinic, so every page can be checked for never showing the other's data. Pages
are read as a DOM (BeautifulSoup): assertions are on elements and data-* attributes.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import icalendar
import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from blina.demo import DEMO_PASSWORD, DEMO_ZONE
from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services import calendar_feeds, courses, pharmacy
from blina.services.accounts import create_user, to_actor
from blina.services.actors import Actor
from blina.services.audit import append_audit
from blina.services.patients import create_patient
from blina.store.session import read_only, transaction
from blina.store.tables import (
    AuditCheckpoint,
    AuditEvent,
    BagPreparation,
    CalendarFeed,
    Clinic,
    User,
)
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_in, csrf_of, one, page

STAFF = ("admin", "dr.lee", "nurse.kim", "pharm.ana")
FAMILY = ("alex", "alex.partner")  # tied to P-001


def page_name(soup: BeautifulSoup) -> str:
    body = soup.find("body")
    assert isinstance(body, Tag)
    return str(body.get("data-page"))


def _status(response: Any) -> tuple[int, str]:
    return response.status_code, page_name(page(response))


def _sessions(clinic: DemoClinic) -> Any:
    return clinic.app.state.blina.sessions


def _actor(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return to_actor(user)


def _prepare_bag(clinic: DemoClinic, knowledge: Knowledge, pharmacist: str, course_id: int) -> int:
    """The course's next bag, prepared by ``pharmacist``; every soft check overridden."""
    library = pharmacy.library_for(clinic.app.state.blina.settings, knowledge)
    reasons: dict[str, str] = {}
    for _ in range(2):
        try:
            with transaction(_sessions(clinic)) as session:
                bag = pharmacy.prepare_course_bag(
                    session,
                    actor=_actor(session, pharmacist),
                    now=NOW,
                    knowledge=knowledge,
                    library=library,
                    course_id=course_id,
                    bag_start=None,
                    override_reasons=reasons,
                )
                return bag.id
        except InvalidInput as error:
            codes = [code.strip() for code in str(error.value).split(",")]
            reasons = {code: f"checked {code} with the current label" for code in codes}
    raise AssertionError("the bag was not prepared")


@dataclass(frozen=True)
class Other:
    """The second clinic: its users by name, its patient, course, bag and feed token."""

    clinic_id: int
    users: dict[str, int]
    patient_id: int
    course_id: int
    bag_id: int
    feed_token: str


@pytest.fixture(scope="module")
def other(clinic: DemoClinic, knowledge: Knowledge) -> Other:
    with transaction(_sessions(clinic)) as session:
        row = Clinic(name="Other clinic", zone="America/New_York", phone="", created_at=NOW)
        session.add(row)
        session.flush()
        users = {
            name: create_user(
                session,
                actor=None,
                now=NOW,
                clinic_id=row.id,
                username=name,
                display_name=name,
                role=role,
                password=DEMO_PASSWORD,
            ).id
            for name, role in (
                ("other.admin", "admin"),
                ("other.dr", "physician"),
                ("other.nurse", "nurse"),
                ("other.pharm", "pharmacist"),
            )
        }
        doctor = _actor(session, "other.dr")
        patient = create_patient(
            session, actor=doctor, now=NOW, code="Q-001", display_name="Quinn (other clinic)"
        )
        course = courses.start_course(
            session,
            actor=doctor,
            now=NOW,
            knowledge=knowledge,
            patient_id=patient.id,
            request=courses.CourseRequest(
                confirm_past_start=True,
                regimen_id="relapsed-refractory",
                start=NOW.date() - timedelta(days=1),
                weight_kg=Decimal(70),
                age_years=Decimal(40),
                height_cm=Decimal(170),
            ),
        ).course
        feed = calendar_feeds.create_feed(
            session, actor=_actor(session, "other.nurse"), now=NOW, patient_id=patient.id
        )
        ids = (row.id, patient.id, course.id)
    bag = _prepare_bag(clinic, knowledge, "other.pharm", ids[2])
    return Other(ids[0], users, ids[1], ids[2], bag, feed.token)


# --- the clinic's audit trail -----------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", 200),
        ("dr.lee", 200),
        ("nurse.kim", 403),
        ("pharm.ana", 403),
        ("alex", 403),
        ("alex.partner", 403),
    ],
)
def test_clinic_audit_is_for_admins_and_physicians(
    clinic: DemoClinic, who: str, expected: int
) -> None:
    browser = clinic.browser(who)
    response = browser.get("/audit")

    assert _status(response) == (expected, "clinic-audit" if expected == 200 else "error")
    home = page(browser.get("/", follow_redirects=True))
    assert bool(home.select('a[data-link="clinic-audit"]')) is (expected == 200)


def test_clinic_audit_refusal_is_audited_and_anonymous_signs_in(clinic: DemoClinic) -> None:
    clinic.browser("nurse.kim").get("/audit")
    clinic.app.state.blina.denials.flush(everything=True)  # counted, then written
    with read_only(_sessions(clinic)) as session:
        denied = session.execute(
            select(AuditEvent.subject_id).where(AuditEvent.action == "access.denied")
        ).scalars()
        assert "GET /audit" in set(denied)
    response = clinic.browser(None).get("/audit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit"


def _rows(soup: BeautifulSoup) -> list[Tag]:
    return soup.select("table.audit > tbody > tr[data-seq]")


def test_clinic_audit_is_newest_first_with_readable_changes_and_the_chain(
    clinic: DemoClinic,
) -> None:
    soup = page(clinic.browser("dr.lee").get("/audit"))

    seqs = [int(str(row["data-seq"])) for row in _rows(soup)]
    assert seqs == sorted(seqs, reverse=True)
    assert one(soup, "[data-chain]")["data-chain"] == "intact"
    interrupt = one(soup, 'tr[data-action="course.interrupt"]')
    assert interrupt["data-who"] == "dr.lee"
    version = one(interrupt, 'table.changes tr[data-field="version"]')
    assert (one(version, "[data-before]").get_text(), one(version, "[data-after]").get_text()) == (
        "1",
        "2",
    )
    event = one(interrupt, 'table.changes tr[data-field="event"]')
    assert one(event, "[data-before]").get_text() == "\u2013"  # none before
    assert '"kind": "interrupt"' in one(event, "[data-after]").get_text()
    assert one(interrupt, "details[data-unchanged]").select('li[data-field="weight_kg"]')
    created = one(soup, 'tr[data-action="clinic.create"]')
    assert created["data-who"] == ""
    assert one(created, 'tr[data-field="name"] [data-after]').get_text() == (
        "Demo clinic (not for clinical use)"
    )


def test_clinic_audit_never_shows_another_clinics_events(clinic: DemoClinic, other: Other) -> None:
    admin, their_admin = clinic.browser("admin"), clinic.browser("other.admin")  # signed in
    with read_only(_sessions(clinic)) as session:
        theirs = {
            str(seq)
            for seq in session.execute(
                select(AuditEvent.seq).where(AuditEvent.clinic_id == other.clinic_id)
            ).scalars()
        }
    assert len(theirs) > 5

    soup = page(admin.get("/audit"))

    assert {str(row["data-seq"]) for row in _rows(soup)}.isdisjoint(theirs)
    assert not set(other.users) & {o.get_text() for o in soup.select("#audit-who option")}
    assert "Q-001" not in soup.get_text()
    mine = page(their_admin.get("/audit"))
    assert {str(row["data-seq"]) for row in _rows(mine)} == theirs
    assert {o.get_text() for o in mine.select("#audit-who option[value!='']")} == set(other.users)


def _many_events(clinic: DemoClinic, count: int) -> list[int]:
    """``count`` events by pharm.ana, one an hour back from NOW; their seqs, oldest first."""
    with transaction(_sessions(clinic)) as session:
        actor = _actor(session, "pharm.ana")
        for index in range(count):
            append_audit(
                session,
                at=NOW - timedelta(hours=count - index),
                actor=actor,
                action="test.paging",
                subject_type="thing",
                subject_id=index,
                after={"n": index},
            )
    with read_only(_sessions(clinic)) as session:
        return list(
            session.execute(
                select(AuditEvent.seq)
                .where(AuditEvent.action == "test.paging")
                .order_by(AuditEvent.seq)
            ).scalars()
        )


def test_clinic_audit_pages_by_100_and_filters_by_actor_action_and_date(
    clinic: DemoClinic,
) -> None:
    seqs = _many_events(clinic, 150)
    browser = clinic.browser("admin")
    with read_only(_sessions(clinic)) as session:
        ana = _actor(session, "pharm.ana").user_id

    first = page(browser.get("/audit", params={"action": "test.paging", "who": str(ana)}))
    assert [int(str(r["data-seq"])) for r in _rows(first)] == seqs[::-1][:100]
    assert not first.select('[data-page-link="newer"]')
    older = str(one(first, 'a[data-page-link="older"]')["href"])
    assert "action=test.paging" in older
    assert f"who={ana}" in older

    second = page(browser.get(older))
    assert [int(str(r["data-seq"])) for r in _rows(second)] == seqs[::-1][100:]
    assert not second.select('[data-page-link="older"]')
    back = page(browser.get(str(one(second, 'a[data-page-link="newer"]')["href"])))
    assert [int(str(r["data-seq"])) for r in _rows(back)] == seqs[::-1][:100]

    day = (NOW - timedelta(hours=30)).astimezone(DEMO_ZONE).date()
    dated = page(
        browser.get(
            "/audit",
            params={"action": "test.paging", "from": day.isoformat(), "to": day.isoformat()},
        )
    )
    times = [date.fromisoformat(str(r["data-at"])[:10]) for r in _rows(dated)]
    expected = sum(
        (NOW - timedelta(hours=150 - i)).astimezone(DEMO_ZONE).date() == day for i in range(150)
    )
    assert len(times) == expected == 24
    assert set(times) == {day}
    assert not dated.select("[data-page-link]")

    doctor = page(browser.get("/audit", params={"who": str(_user_id(clinic, "dr.lee"))}))
    assert {r["data-who"] for r in _rows(doctor)} == {"dr.lee"}


def _user_id(clinic: DemoClinic, username: str) -> int:
    with read_only(_sessions(clinic)) as session:
        return session.execute(select(User.id).where(User.username == username)).scalar_one()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "yesterday"}, "from"), ({"to": "2026-13-01"}, "to"), ({"who": "dr.lee"}, "who")],
)
def test_clinic_audit_bad_filter_is_shown_beside_its_field(
    clinic: DemoClinic, params: dict[str, str], field: str
) -> None:
    response = clinic.browser("admin").get("/audit", params=params)

    assert response.status_code == 422
    soup = page(response)
    assert one(soup, "[data-error-for]")["data-error-for"] == field
    assert not _rows(soup)


def test_clinic_audit_shows_a_broken_chain(clinic: DemoClinic) -> None:
    admin = clinic.browser("admin")
    admin.get("/audit")  # verified so far: the page's checkpoint
    with transaction(_sessions(clinic)) as session:
        actor = _actor(session, "dr.lee")
        append_audit(
            session, at=NOW, actor=actor, action="test.tamper", subject_type="t", subject_id=1
        )
    with read_only(_sessions(clinic)) as session:
        seq = session.execute(
            select(AuditEvent.seq).where(AuditEvent.action == "test.tamper")
        ).scalar_one()
    tampered = update(AuditEvent).where(AuditEvent.seq == seq)
    with transaction(_sessions(clinic)) as session:
        session.execute(tampered.values(after={"weight_kg": "7"}))
    try:
        soup = page(admin.get("/audit"))
    finally:
        with transaction(_sessions(clinic)) as session:
            session.execute(tampered.values(after=None))

    chain = one(soup, "[data-chain]")
    assert (chain["data-chain"], chain["data-first-bad"]) == ("broken", str(seq))
    assert one(page(admin.get("/audit")), "[data-chain]")["data-chain"] == "intact"
    # Without an audit key (BLINA_AUDIT_KEY), the page says the hashes are not keyed.
    unkeyed = clinic.app.state.blina.settings.audit_key is None
    assert bool(page(admin.get("/audit")).select('[data-chain-keyed="no"]')) is unkeyed


def test_clinic_audit_verifies_from_its_checkpoint_the_checkpointed_event_included(
    clinic: DemoClinic,
) -> None:
    admin = clinic.browser("admin")
    admin.get("/audit")
    with read_only(_sessions(clinic)) as session:
        seq = session.execute(
            select(AuditCheckpoint.seq).where(AuditCheckpoint.clinic_id == _clinic_id(session))
        ).scalar_one()
        kept = session.execute(select(AuditEvent.after).where(AuditEvent.seq == seq)).scalar()
    tampered = update(AuditEvent).where(AuditEvent.seq == seq)
    with transaction(_sessions(clinic)) as session:
        session.execute(tampered.values(after={**(kept or {}), "weight_kg": "7"}))
    try:
        soup = page(admin.get("/audit"))
    finally:
        with transaction(_sessions(clinic)) as session:
            session.execute(tampered.values(after=kept))

    chain = one(soup, "[data-chain]")
    assert (chain["data-chain"], chain["data-first-bad"]) == ("broken", str(seq))


def _clinic_id(session: Session) -> int:
    return _actor(session, "admin").clinic_id


# --- calendar feeds -----------------------------------------------------------------------


def _make_feed(browser: TestClient, patient_id: int, label: str = "") -> tuple[str, Any]:
    form = page(browser.get(f"/patients/{patient_id}/calendar"))
    response = browser.post(
        f"/patients/{patient_id}/calendar-feeds",
        data={"csrf_token": csrf_of(form), "label": label},
    )
    return str(one(page(response), "input[data-feed-url]")["value"]), response


def _feed(clinic: DemoClinic, token: str) -> CalendarFeed:
    with read_only(_sessions(clinic)) as session:
        digest = hashlib.sha256(token.encode()).hexdigest()
        return session.execute(
            select(CalendarFeed).where(CalendarFeed.token_sha256 == digest)
        ).scalar_one()


@pytest.mark.parametrize("who", [*FAMILY, "nurse.kim"])
def test_calendar_feed_made_fetched_without_a_session_then_revoked(
    clinic: DemoClinic, who: str
) -> None:
    browser = clinic.browser(who)
    patient = clinic.patients["P-001"]
    url, made = _make_feed(browser, patient, label=f"{who}'s phone")
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert url == f"http://testserver/calendar/{token}.ics"
    assert (
        one(page(made), 'a[data-link="webcal"]')["href"]
        == f"webcal://testserver/calendar/{token}.ics"
    )

    fetched = clinic.browser(None).get(f"/calendar/{token}.ics")
    assert fetched.status_code == 200
    assert fetched.headers["content-type"].startswith("text/calendar")
    assert "blina_session" not in fetched.request.headers.get("cookie", "")
    calendar = icalendar.Calendar.from_ical(fetched.content)
    summaries = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert any(summary.startswith("Cycle 1") for summary in summaries)
    assert any(summary.startswith("Bag change") for summary in summaries)

    feed = _feed(clinic, token)  # stored as its SHA-256, never as the token
    assert token not in {str(value) for value in vars(feed).values()}
    assert feed.label == f"{who}'s phone"
    again = page(browser.get(f"/patients/{patient}/calendar"))
    assert not again.select("input[data-feed-url]")
    assert token not in str(again)
    revoke = one(again, f'button[data-action="revoke-feed"][data-feed-id="{feed.id}"]')
    assert revoke.find_parent("tr") is not None

    revoked = browser.post(
        f"/calendar-feeds/{feed.id}/revoke",
        data={"csrf_token": csrf_of(again)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"/patients/{patient}/calendar#feeds"
    gone = clinic.browser(None).get(f"/calendar/{token}.ics")
    unknown = clinic.browser(None).get(f"/calendar/{'x' * len(token)}.ics")
    assert gone.status_code == unknown.status_code == 404
    assert (
        one(page(gone), "[data-status]").get_text()
        == one(page(unknown), "[data-status]").get_text()
    )
    with read_only(_sessions(clinic)) as session:
        actions = session.execute(
            select(AuditEvent.action, AuditEvent.actor_id).where(
                AuditEvent.subject_type == "calendar_feed", AuditEvent.subject_id == str(feed.id)
            )
        ).all()
    assert sorted(a for a, _ in actions) == ["calendar_feed.create", "calendar_feed.revoke"]
    assert {actor_id for _, actor_id in actions} == {_user_id(clinic, who)}


def test_calendar_feed_events_are_in_the_patients_audit_trail(clinic: DemoClinic) -> None:
    _make_feed(clinic.browser("alex"), clinic.patients["P-001"])

    soup = page(clinic.browser("admin").get(f"/patients/{clinic.patients['P-001']}/audit"))

    assert soup.select('tr[data-action="calendar_feed.create"]')


def test_a_feed_of_another_clinic_answers_its_own_patient_only(
    clinic: DemoClinic, other: Other
) -> None:
    response = clinic.browser(None).get(f"/calendar/{other.feed_token}.ics")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-TIMEZONE"]) == "America/New_York"

    soup = page(clinic.browser("admin").get(f"/patients/{clinic.patients['P-001']}/calendar"))
    assert str(_feed(clinic, other.feed_token).id) not in {
        str(row["data-feed-id"]) for row in soup.select("tr[data-feed-id]")
    }


@pytest.mark.parametrize(
    ("who", "code"),
    [("alex", "P-002"), ("alex.partner", "P-004"), ("other.nurse", "P-001")],
)
def test_no_feed_for_a_patient_out_of_reach(clinic: DemoClinic, who: str, code: str) -> None:
    browser = clinic.browser(who)
    token = csrf_in(browser.get("/login", follow_redirects=True))
    response = browser.post(
        f"/patients/{clinic.patients[code]}/calendar-feeds", data={"csrf_token": token}
    )
    assert _status(response) == (404, "error")


def test_no_revoking_another_clinics_feed(clinic: DemoClinic, other: Other) -> None:
    feed_id = _feed(clinic, other.feed_token).id
    for who in ("admin", "alex"):
        browser = clinic.browser(who)
        token = csrf_in(browser.get("/patients/{}/calendar".format(clinic.patients["P-001"])))
        response = browser.post(f"/calendar-feeds/{feed_id}/revoke", data={"csrf_token": token})
        assert _status(response) == (404, "error")
    assert _feed(clinic, other.feed_token).revoked_at is None


def test_feed_forms_refuse_a_post_without_a_valid_csrf_token(clinic: DemoClinic) -> None:
    browser = clinic.browser("alex")
    patient = clinic.patients["P-001"]
    made = browser.post(f"/patients/{patient}/calendar-feeds", data={"csrf_token": "0" * 64})
    revoke = browser.post("/calendar-feeds/1/revoke", data={})
    assert made.status_code == revoke.status_code == 403


def test_a_too_long_feed_label_is_shown_beside_the_field(clinic: DemoClinic) -> None:
    browser = clinic.browser("alex.partner")
    patient = clinic.patients["P-001"]
    form = page(browser.get(f"/patients/{patient}/calendar"))
    before = len(form.select("tr[data-feed-id]"))

    response = browser.post(
        f"/patients/{patient}/calendar-feeds",
        data={"csrf_token": csrf_of(form), "label": "x" * 101},
    )

    assert response.status_code == 422
    soup = page(response)
    assert one(soup, "[data-error-for]")["data-error-for"] == "label"
    assert not soup.select("input[data-feed-url]")
    assert len(soup.select("tr[data-feed-id]")) == before


# --- a stored bag's worksheet -------------------------------------------------------------


@pytest.fixture(scope="module")
def bags(clinic: DemoClinic, knowledge: Knowledge) -> dict[str, int]:
    """P-002's bags: one verified (pharm.ana, then pharm.ben), one waiting."""
    course = clinic.courses["P-002"]
    verified = _prepare_bag(clinic, knowledge, "pharm.ana", course)
    with transaction(_sessions(clinic)) as session:
        pharmacy.verify_bag(
            session,
            actor=_actor(session, "pharm.ben"),
            now=NOW,
            knowledge=knowledge,
            bag_id=verified,
        )
    waiting = _prepare_bag(clinic, knowledge, "pharm.ben", course)
    return {"verified": verified, "waiting": waiting}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("pharm.ana", 200),
        ("pharm.ben", 200),
        ("nurse.kim", 200),
        ("dr.lee", 200),
        ("admin", 200),
        ("alex", 403),
        ("alex.partner", 403),
        ("other.pharm", 404),
    ],
)
def test_worksheet_is_for_the_clinics_staff(
    clinic: DemoClinic, other: Other, bags: dict[str, int], who: str, expected: int
) -> None:
    response = clinic.browser(who).get(f"/bags/{bags['verified']}/worksheet")

    assert _status(response) == (expected, "worksheet" if expected == 200 else "error")
    if expected != 200:
        assert not page(response).select("[data-worksheet]")


def test_worksheet_of_another_clinics_bag_or_no_bag_is_not_found(
    clinic: DemoClinic, other: Other
) -> None:
    browser = clinic.browser("pharm.ana")
    assert _status(browser.get(f"/bags/{other.bag_id}/worksheet")) == (404, "error")
    assert _status(browser.get("/bags/99999/worksheet")) == (404, "error")
    mine = clinic.browser("other.pharm").get(f"/bags/{other.bag_id}/worksheet")
    assert _status(mine) == (200, "worksheet")


def _stored_recipe(clinic: DemoClinic, bag_id: int) -> dict[str, Any]:
    with read_only(_sessions(clinic)) as session:
        bag = session.get(BagPreparation, bag_id)
        assert bag is not None
        return dict(bag.recipe)


def _volume(soup: BeautifulSoup, key: str) -> Decimal:
    return Decimal(str(one(soup, f'tr[data-field="{key}"] td[data-value]')["data-value"]))


def test_worksheet_shows_the_stored_recipe_and_who_prepared_and_checked(
    clinic: DemoClinic, bags: dict[str, int]
) -> None:
    recipe = _stored_recipe(clinic, bags["verified"])

    soup = page(clinic.browser("nurse.kim").get(f"/bags/{bags['verified']}/worksheet"))

    sheet = one(soup, "article.worksheet")
    for key in ("saline_ml", "stabilizer_ml", "drug_ml", "total_ml", "rate_ml_per_h"):
        assert _volume(sheet, key) == Decimal(str(recipe[key])), key
    assert one(sheet, '[data-field="dose"]').get_text() == recipe["prescription"]["description"]
    assert one(sheet, '[data-field="patient_identifier"]').get_text() == "P-002"
    assert one(sheet, '[data-field="patient_name"]').get_text().startswith("Maria")
    prepared = one(sheet, '[data-sign="prepared-by"] [data-signed-by]')
    checked = one(sheet, '[data-sign="checked-by"] [data-signed-by]')
    assert (prepared["data-signed-by"], checked["data-signed-by"]) == ("pharm.ana", "pharm.ben")
    assert one(sheet, '[data-sign="checked-by"] [data-signed-at]')["data-signed-at"] == (
        NOW.astimezone(DEMO_ZONE).strftime("%Y-%m-%d %H:%M")
    )
    overridden = {str(s["data-override"]): s.get_text() for s in sheet.select("[data-override]")}
    assert overridden == recipe["overrides"]
    assert overridden, "the demo library leaves soft checks, each with its reason"
    assert one(soup, "[data-bag]")["data-verified"] == "yes"
    assert next(s["data-step"] for s in sheet.select("li[data-step]")) == "verify"


def test_worksheet_of_a_bag_not_yet_verified_leaves_the_checker_blank(
    clinic: DemoClinic, bags: dict[str, int]
) -> None:
    soup = page(clinic.browser("pharm.ana").get(f"/bags/{bags['waiting']}/worksheet"))

    assert one(soup, "[data-bag]")["data-verified"] == "no"
    assert one(soup, '[data-sign="prepared-by"] [data-signed-by]')["data-signed-by"] == "pharm.ben"
    assert not soup.select('[data-sign="checked-by"] [data-signed-by]')
    assert soup.select('[data-sign="checked-by"] .blank')


def test_the_bag_list_links_each_worksheet(clinic: DemoClinic, bags: dict[str, int]) -> None:
    soup = page(clinic.browser("pharm.ben").get(f"/patients/{clinic.patients['P-002']}"))

    for bag_id in bags.values():
        link = one(soup, f'tr[data-bag="{bag_id}"] a[data-link="worksheet"]')
        assert link["href"] == f"/bags/{bag_id}/worksheet"


def test_a_stored_recipe_that_cannot_be_read_back_is_refused(
    clinic: DemoClinic, bags: dict[str, int]
) -> None:
    bag_id = bags["waiting"]
    kept = _stored_recipe(clinic, bag_id)
    broken = {k: v for k, v in kept.items() if k != "total_ml"}
    stored = update(BagPreparation).where(BagPreparation.id == bag_id)
    with transaction(_sessions(clinic)) as session:
        session.execute(stored.values(recipe=broken))
    try:
        response = clinic.browser("pharm.ana").get(f"/bags/{bag_id}/worksheet")
    finally:
        with transaction(_sessions(clinic)) as session:
            session.execute(stored.values(recipe=kept))

    assert _status(response) == (422, "error")
    assert "total_ml" in one(page(response), "[data-status]").get_text()


# --- the home page: interrupted and discontinued courses ----------------------------------


def _home_status(clinic: DemoClinic, code: str) -> Tag:
    soup = page(clinic.browser("nurse.kim").get("/"))
    return one(soup, f'tr[data-code="{code}"] p.status')


def test_home_shows_an_interrupted_course_since_the_interruption(clinic: DemoClinic) -> None:
    status = _home_status(clinic, "P-004")

    assert status["data-state"] == "interrupted"
    assert status["data-cycle"] == ""
    since = (NOW - timedelta(hours=6)).astimezone(DEMO_ZONE)
    assert status["data-since"] == since.isoformat()
    assert "Thu 10 Dec 04:30" in status.get_text()  # in the reader's language
    assert not _home_status(clinic, "P-001").get("data-state")


def test_home_shows_a_discontinued_course_as_discontinued(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    at = NOW - timedelta(hours=1)
    with transaction(_sessions(clinic)) as session:
        course = courses.get_course(
            session,
            actor=_actor(session, "dr.lee"),
            now=NOW,
            knowledge=knowledge,
            course_id=clinic.courses["P-003"],
        ).course
        courses.record_event(
            session,
            actor=_actor(session, "dr.lee"),
            now=NOW,
            knowledge=knowledge,
            course_id=course.id,
            expected_version=course.version,
            event={"at": at.isoformat(), "kind": "discontinue", "reason": "test"},
        )

    status = _home_status(clinic, "P-003")

    assert status["data-state"] == "discontinued"
    assert status["data-since"] == at.astimezone(DEMO_ZONE).isoformat()
    assert status["data-cycle"] == ""
