"""The patient page in sections (Now, Plan, Bags, Toxicity, Labs, Check-ins, Log) with an
in-page navigation; tables that a phone shows as labelled cards; the timeline with its
dates, today's mark and the hospital days; and a refused form's error summary at the top
of that form, in the form's words and the clinic's time, with focus and fields marked.

On the demo clinic at its fixed instant (10 Dec 2026, 10:30 in Paris). Read as a DOM.
"""

import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from babel.dates import format_datetime
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from blina.demo import DEMO_ZONE
from blina.domain.errors import BlinaError, InvalidInput, UnknownId
from blina.services.errors import Conflict
from blina.web.form_errors import FORMS, plain_words, premedication_suffix
from blina.web.i18n import gettext_for
from blina.web.viewmodels import today_mark
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_in, csrf_of, one, page

ALL_PARTS = ["now", "plan", "bags", "toxicity", "labs", "check-ins", "log"]
TODAY = NOW.astimezone(DEMO_ZONE).date()


def _local(hours_ago: float) -> str:
    """A time ``hours_ago`` before the test's now, as a datetime-local field sends it."""
    return (NOW - timedelta(hours=hours_ago)).astimezone(DEMO_ZONE).strftime("%Y-%m-%dT%H:%M")


def _shown(local: str) -> str:
    """A datetime-local value as the page shows a moment (the clinic's time, English)."""
    at = datetime.fromisoformat(local).replace(tzinfo=DEMO_ZONE)
    return format_datetime(at, "EEE d MMM HH:mm", locale="en")


def _patient(clinic: DemoClinic, browser: TestClient, code: str) -> BeautifulSoup:
    response = browser.get(f"/patients/{clinic.patients[code]}")
    assert response.status_code == 200
    return page(response)


# --- sections ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "parts"),
    [
        ("dr.lee", ALL_PARTS),
        ("nurse.kim", ALL_PARTS),
        ("pharm.ana", ALL_PARTS),
        ("alex.partner", ["now", "plan", "toxicity", "labs", "check-ins", "log"]),
    ],
)
def test_the_sections_come_in_order_with_a_navigation_to_each(
    clinic: DemoClinic, who: str, parts: list[str]
) -> None:
    soup = _patient(clinic, clinic.browser(who), "P-001")
    nav = one(soup, "nav.sections")
    assert [a["href"] for a in nav.select("a")] == [f"#{part}" for part in parts]
    assert [s["id"] for s in soup.select("main [data-section]")] == parts
    for part in parts:
        assert one(soup, f"#{part}")["data-section"] == part
    # the navigation comes before the first section, right under the title and links
    assert nav.find_next(attrs={"data-section": True})["id"] == "now"


def test_the_current_state_comes_first(clinic: DemoClinic) -> None:
    soup = _patient(clinic, clinic.browser("nurse.kim"), "P-001")
    now = one(soup, "#now")
    first = next(child for child in now.children if isinstance(child, Tag))
    assert "state-banner" in first["class"]


def test_each_section_holds_its_records(clinic: DemoClinic) -> None:
    soup = _patient(clinic, clinic.browser("dr.lee"), "P-001")
    inside = {
        "plan": ["figure.timeline", "table.calendar", 'form[data-form="end"]'],
        "bags": ['form[data-form="hang"]'],
        "toxicity": ['form[data-form="crs"]', 'form[data-form="icans"]', "#grading-log"],
        "labs": ['form[data-form="lab"]'],
        "check-ins": ["section.reports", "#temperature"],
        "log": ["#decisions"],
    }
    for part, selectors in inside.items():
        for selector in selectors:
            assert one(one(soup, f"#{part}"), selector), (part, selector)
    assert one(one(soup, "#toxicity"), 'form[data-form="event"]')


# --- tables as labelled cards ------------------------------------------------------------


def _columns(table: Tag) -> list[str]:
    return [th.get_text(" ", strip=True) for th in table.select("thead th")]


@pytest.mark.parametrize(
    ("who", "code", "selector"),
    [
        ("dr.lee", "P-001", "table.calendar"),
        ("alex.partner", "P-001", "table.calendar"),
        ("nurse.kim", "P-001", "section.reports table"),
    ],
)
def test_each_cell_of_a_card_table_is_labelled_with_its_column(
    clinic: DemoClinic, checked_in: None, who: str, code: str, selector: str
) -> None:
    table = one(_patient(clinic, clinic.browser(who), code), selector)
    assert "stack" in table["class"]
    columns = _columns(table)
    rows = table.select("tbody tr")
    assert rows
    for row in rows:
        assert [td["data-label"] for td in row.select("td")] == columns


def test_the_calendar_cards_keep_premedication_and_bag_changes(clinic: DemoClinic) -> None:
    table = one(_patient(clinic, clinic.browser("nurse.kim"), "P-001"), "table.calendar")
    assert {"Premedication", "Bag changes"} <= set(_columns(table))
    labels = {td["data-label"] for td in table.select("tbody td")}
    assert {"Premedication", "Bag changes"} <= labels
    assert table.select('td[data-label="Premedication"] [data-drug]')


@pytest.fixture(scope="module")
def checked_in(clinic: DemoClinic) -> None:
    """A check-in from P-001's family, for the check-ins table to have a row."""
    family = clinic.browser("alex.partner")
    form = page(family.get(f"/patients/{clinic.patients['P-001']}/check-in"))
    response = family.post(
        f"/patients/{clinic.patients['P-001']}/check-in",
        data={"temperature": "37.2", "temperature_unit": "C", "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )
    assert response.status_code in (200, 303), page(response).get_text()


# --- the timeline ------------------------------------------------------------------------


def test_the_timeline_shows_its_dates_today_and_the_hospital_days(clinic: DemoClinic) -> None:
    soup = _patient(clinic, clinic.browser("nurse.kim"), "P-001")
    timeline = one(soup, "#plan figure.timeline")
    rows = one(soup, "table.calendar").select("tbody tr")
    first, last = rows[0]["data-first"], rows[-1]["data-last"]
    assert one(timeline, 'time[data-end="first"]')["datetime"] == first
    assert one(timeline, 'time[data-end="last"]')["datetime"] == last
    assert one(timeline, 'time[data-end="first"]').get_text() == _day(date.fromisoformat(first))

    mark = one(timeline, "line.today-mark")
    assert mark["data-today"] == TODAY.isoformat()
    x = float(mark["x1"])
    (today_rect,) = [
        r
        for r in timeline.select("rect[data-kind]")
        if float(r["x"]) <= x < float(r["x"]) + float(r["width"])
    ]
    (today_row,) = [r for r in rows if r["data-first"] <= TODAY.isoformat() <= r["data-last"]]
    assert today_rect["data-kind"] == today_row["data-kind"]
    assert today_row.has_attr("data-today")
    assert _day(TODAY) in one(timeline, "[data-today-key]").get_text()

    hospital = [r for r in rows if r["data-kind"] == "hospital"]
    spans = timeline.select("[data-hospital-span]")
    assert [s["data-hospital-span"] for s in spans] == [r["data-first"] for r in hospital]
    days = sum(
        (date.fromisoformat(r["data-last"]) - date.fromisoformat(r["data-first"])).days + 1
        for r in hospital
    )
    assert int(one(timeline, "[data-hospital-days]")["data-hospital-days"]) == days


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


@pytest.mark.parametrize(
    ("today", "mark"),
    [
        (date(2026, 12, 4), None),  # before the course
        (date(2026, 12, 5), "5.000"),  # its first of 10 days, the middle of the day
        (date(2026, 12, 14), "95.000"),  # its last
        (date(2026, 12, 15), None),  # after
    ],
)
def test_today_is_marked_only_while_the_course_runs(today: date, mark: str | None) -> None:
    plan: Any = SimpleNamespace(first_day=date(2026, 12, 5), last_day=date(2026, 12, 14))
    assert today_mark(plan, today) == mark


# --- the error summary -------------------------------------------------------------------

_CODE_WORDS = re.compile(r"events\[|\+\d\d:\d\d|\d{4}-\d\d-\d\dT\d|[a-z]+_[a-z]+")


def _label_of(soup: BeautifulSoup, element: Tag) -> str:
    """The label the form shows for a field (its <label for>, or its fieldset's legend)."""
    label = soup.find("label", attrs={"for": element["id"]})
    if isinstance(label, Tag):
        return label.get_text(" ", strip=True)
    return one(element, "legend").get_text(" ", strip=True)


def _summary(soup: BeautifulSoup, container: Tag, *, fragment: bool = True) -> Tag:
    """The error summary, checked: the first thing in ``container`` (the form that failed),
    the one element the page focuses, reached by the form's own address; every line in
    plain words, each field's line linking to the field, which is marked and described."""
    summary = next(child for child in container.children if isinstance(child, Tag))
    assert "error-summary" in summary["class"]
    assert summary["tabindex"] == "-1"
    assert soup.select("[autofocus]") == [summary]
    if fragment:
        form = container if container.name == "form" else container.find("form")
        assert isinstance(form, Tag)
        assert form["action"].endswith(f"#{summary['id']}")
    lines = summary.select("li")
    assert lines
    for line in lines:
        text = line.get_text(" ", strip=True)
        assert not _CODE_WORDS.search(text), text
        link = line.find("a")
        if link is None:
            continue
        field = one(soup, f"[id='{link['href'][1:]}']")
        assert text.startswith(f"{_label_of(soup, field)}: "), text
        assert field["aria-invalid"] == "true"
        described = one(soup, f"[id='{field['aria-describedby']}']")
        assert text in described.get_text(" ", strip=True)
    return summary


def test_a_refused_event_is_summarised_at_the_top_of_its_form(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-002")
    form = one(soup, 'form[data-form="event"]')
    future = _local(-48)
    data = {
        "csrf_token": csrf_of(soup),
        "version": one(form, 'input[name="version"]')["value"],
        "kind": "interrupt",
        "at": future,
        "cause": "crs",
        "grade": "2",
    }
    response = browser.post(form["action"], data=data, follow_redirects=False)
    assert response.status_code == 422
    soup = page(response)
    form = one(soup, 'form[data-form="event"]')
    summary = _summary(soup, form)
    (line,) = summary.select("li")
    text = line.get_text(" ", strip=True)
    assert text == (
        f"When (clinic time): {_shown(future)} is not allowed: "
        f"must be not after now ({_shown(_local(0))})"
    )
    assert one(form, "#event-at")["value"] == future  # what was typed
    assert one(form, 'select[name="cause"] option[selected]')["value"] == "crs"
    assert one(soup, 'details[data-panel="event"]').has_attr("open")


def test_an_event_before_the_course_names_the_first_infusion_in_clinic_time(
    clinic: DemoClinic,
) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-002")
    form = one(soup, 'form[data-form="event"]')
    data = {
        "csrf_token": csrf_of(soup),
        "version": one(form, 'input[name="version"]')["value"],
        "kind": "interrupt",
        "at": "2026-01-01T08:00",
        "cause": "crs",
        "grade": "2",
    }
    response = browser.post(form["action"], data=data, follow_redirects=False)
    assert response.status_code == 422
    soup = page(response)
    text = _summary(soup, one(soup, 'form[data-form="event"]')).get_text(" ", strip=True)
    assert "When (clinic time): Thu 1 Jan 08:00 is not allowed" in text
    assert "must be on or after the first infusion, " in text


@pytest.mark.parametrize(
    ("form_name", "fields", "label"),
    [
        ("crs", {"scale": "crs", "temperature_c": "warm"}, "Temperature (C)"),
        (
            "icans",
            {"scale": "icans", "age_years": "7", "consciousness": "awake", "ice_score": "5"},
            "ICE score (0-10, from 12 years)",
        ),
        ("lab", {"term": "alt", "value": "300", "taken_at": _local(1)}, None),
    ],
)
def test_a_refused_grading_or_lab_value_is_summarised_in_its_form(
    clinic: DemoClinic, form_name: str, fields: dict[str, str], label: str | None
) -> None:
    browser = clinic.browser("nurse.kim")
    soup = _patient(clinic, browser, "P-002")
    form = one(soup, f'form[data-form="{form_name}"]')
    response = browser.post(
        form["action"], data={**fields, "csrf_token": csrf_of(soup)}, follow_redirects=False
    )
    assert response.status_code == 422
    soup = page(response)
    form = one(soup, f'form[data-form="{form_name}"]')
    summary = _summary(soup, form)
    assert summary.select("li a")
    if label is not None:
        assert summary.get_text(" ", strip=True).startswith(
            f"Not saved: correct what is marked {label}: "
        )
    assert one(soup, f'details[data-panel="{form_name}"]').has_attr("open")
    # the other forms are left as they were: closed, nothing marked
    assert len(soup.select("details.form-panel[open]")) == 1


def test_ending_a_course_without_its_reason_is_summarised_in_its_form(
    clinic: DemoClinic,
) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-001")
    form = one(soup, 'form[data-form="end"]')
    data = {
        "csrf_token": csrf_of(soup),
        "version": one(form, 'input[name="version"]')["value"],
        "outcome": "discontinued",
        "reason": "",
    }
    response = browser.post(form["action"], data=data, follow_redirects=False)
    assert response.status_code == 422
    soup = page(response)
    form = one(soup, 'form[data-form="end"]')
    summary = _summary(soup, form)
    assert "reason" in summary.get_text().lower()
    assert one(form, 'input[name="outcome"][checked]')["value"] == "discontinued"


def test_a_course_start_out_of_range_is_summarised_at_the_top_of_the_form(
    clinic: DemoClinic,
) -> None:
    patient = clinic.patients["P-004"]
    browser = clinic.browser("dr.lee")
    csrf = csrf_in(browser.get(f"/patients/{patient}/courses/new"))
    data = {
        "indication": "relapsed-refractory",
        "start": "9999-12-31",
        "weight_kg": "70",
        "age_years": "40",
        "csrf_token": csrf,
    }
    response = browser.post(f"/patients/{patient}/courses", data=data, follow_redirects=False)
    assert response.status_code == 422
    soup = page(response)
    summary = _summary(soup, one(soup, "form.course"))
    assert summary.get_text(" ", strip=True) == (
        "Not saved: correct what is marked First infusion day: 9999-12-31 is not allowed: "
        "must be a date from 1900-01-01 to 2200-12-31"
    )
    assert one(soup, "#weight_kg")["value"] == "70"


def test_every_label_of_a_summary_is_in_both_catalogs() -> None:
    for language in ("en", "es"):
        gettext = gettext_for(language)
        for fields in FORMS.values():
            for label, _ in fields.values():
                assert gettext(label) != label or language == "en", (language, label)


# --- the banner's and the bags' forms (P-003: a new course from today 11:00 Paris) ----------

NEW_COURSE = {
    "indication": "relapsed-refractory",
    "start": "2026-12-10",
    "start_time": "11:00",
    "weight_kg": "21.5",
    "height_cm": "118",
    "age_years": "7",
    "bag_hours": "48",
    "cycles": "",
}


@pytest.fixture(scope="module")
def restarted(clinic: DemoClinic) -> int:
    """P-003 with its demo course cancelled and a new one starting today at 11:00 Paris:
    its first premedication is due now."""
    doctor = clinic.browser("dr.lee")
    patient = clinic.patients["P-003"]
    soup = page(doctor.get(f"/patients/{patient}"))
    end = one(soup, 'form[data-form="end"]')
    ended = doctor.post(
        end["action"],
        data={
            "outcome": "cancelled",
            "reason": "entered in error",
            "version": one(end, 'input[name="version"]')["value"],
            "csrf_token": csrf_of(soup),
        },
        follow_redirects=False,
    )
    assert ended.status_code == 303
    form = page(doctor.get(f"/patients/{patient}/courses/new"))
    started = doctor.post(
        f"/patients/{patient}/courses",
        data={**NEW_COURSE, "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )
    assert started.status_code == 303, page(started).get_text()
    return patient


def _post_from_page(
    browser: TestClient, patient: int, action: str, data: dict[str, str]
) -> BeautifulSoup:
    soup = page(browser.get(f"/patients/{patient}"))
    response = browser.post(
        action, data={**data, "csrf_token": csrf_of(soup)}, follow_redirects=False
    )
    assert response.status_code in (403, 409, 422), response.status_code
    return page(response)


def test_a_premedication_given_in_the_future_is_summarised_in_its_own_form(
    clinic: DemoClinic, restarted: int
) -> None:
    nurse = clinic.browser("nurse.kim")
    soup = page(nurse.get(f"/patients/{restarted}"))
    form = soup.select('form[data-form="premedication-given"]')[0]
    fields = {i["name"]: i["value"] for i in form.select("input[name]")}
    late = _local(-1)
    soup = _post_from_page(nurse, restarted, form["action"], {**fields, "given_at": late})
    failed = [
        f
        for f in soup.select('form[data-form="premedication-given"]')
        if f.select(".error-summary")
    ]
    assert len(failed) == 1
    assert one(failed[0], 'input[name="drug"]')["value"] == fields["drug"]
    assert one(failed[0], 'input[name="due"]')["value"] == fields["due"]
    summary = _summary(soup, failed[0])
    assert summary.get_text(" ", strip=True) == (
        f"Not saved: correct what is marked Given at (clinic time): {_shown(late)} is not "
        f"allowed: must be not after now ({_shown(_local(0))})"
    )
    assert one(failed[0], 'input[name="given_at"]')["value"] == late


def test_a_bag_refused_on_its_row_is_summarised_at_the_top_of_its_actions(
    clinic: DemoClinic, restarted: int
) -> None:
    ana = clinic.browser("pharm.ana")
    soup = page(ana.get(f"/patients/{restarted}"))
    prepare = one(soup, "form.prepare")
    data = {"csrf_token": csrf_of(soup)}
    response = ana.post(prepare["action"], data=data, follow_redirects=False)
    if response.status_code == 422:  # soft checks to override, each with a reason
        codes = [i["name"] for i in page(response).select("form.prepare input[name^=override-]")]
        data = {**data, **dict.fromkeys(codes, "checked against the current label")}
        response = ana.post(prepare["action"], data=data, follow_redirects=False)
    assert response.status_code == 303, page(response).get_text()
    bag = page(ana.get(f"/patients/{restarted}")).select("tr[data-bag]")[-1]["data-bag"]
    ben = clinic.browser("pharm.ben")
    verified = ben.post(
        f"/bags/{bag}/verify",
        data={"csrf_token": csrf_in(ben.get(f"/patients/{restarted}"))},
        follow_redirects=False,
    )
    assert verified.status_code == 303
    soup = _post_from_page(ana, restarted, f"/bags/{bag}/dispense", {"to": "moon"})
    cell = one(soup, f'tr[data-bag="{bag}"] td[data-label="Verified"]')
    summary = _summary(soup, cell)
    line = one(summary, "li")
    assert line["data-error-for"] == f"verify-{bag}"
    assert line.get_text(" ", strip=True).startswith("Dispense to: moon is not allowed")
    assert one(cell, "form[data-form=dispense]")["action"].endswith(f"#{summary['id']}")


def test_a_bag_not_to_hang_is_summarised_in_the_hang_form(
    clinic: DemoClinic, restarted: int
) -> None:
    nurse = clinic.browser("nurse.kim")
    entered = {"code": "NOSUCHBAG", "rate_ml_per_h": "5", "volume_ml": "240"}
    soup = _post_from_page(nurse, restarted, f"/patients/{restarted}/bags/hang", entered)
    form = one(soup, 'form[data-form="hang"]')
    summary = _summary(soup, form)
    assert one(summary, "li")["data-error-for"] == "hang"
    assert [one(form, f"#hang-{n}")["value"] for n in ("code", "rate", "volume")] == [
        "NOSUCHBAG",
        "5",
        "240",
    ]


# --- the plain words, unit by unit -------------------------------------------------------


def _paris(at: datetime) -> str:
    return format_datetime(at.astimezone(DEMO_ZONE), "EEE d MMM HH:mm", locale="en")


@pytest.mark.parametrize(
    ("error", "form", "field", "text"),
    [
        pytest.param(
            InvalidInput(
                "events[1].at",
                "2026-12-10T08:00:00+00:00",
                "after events[0].at (2026-12-09T23:30:00+00:00)",
            ),
            "event",
            "at",
            "When (clinic time): Thu 10 Dec 09:00 is not allowed: must be after the time "
            "of the event before (Thu 10 Dec 00:30)",
            id="event-path-and-utc",
        ),
        pytest.param(
            InvalidInput("ice_items", "(missing)", "given"),
            "icans",
            "ice_score",
            "ICE score (0-10, from 12 years): nothing entered: must be given",
            id="alias-and-missing",
        ),
        pytest.param(
            InvalidInput("override_reasons", "X", "a reason for each"),
            "hang",
            None,
            "override reasons: X is not allowed: must be a reason for each",
            id="a-field-the-form-has-not",
        ),
        pytest.param(
            UnknownId("indication", "nope", ["a", "b"]),
            "course",
            "indication",
            "Indication: nope is not known: must be one of a, b",
            id="unknown-id",
        ),
        pytest.param(
            Conflict("course 1 has changed since 2026-12-10T09:00:00+00:00"),
            "event",
            None,
            "course 1 has changed since Thu 10 Dec 10:00",
            id="the-form-as-a-whole",
        ),
        pytest.param(
            InvalidInput("at", "9999-12-31T23:59:00+00:00", "a date"),
            "event",
            "at",
            "When (clinic time): 9999-12-31T23:59:00+00:00 is not allowed: must be a date",
            id="a-moment-no-zone-shows",
        ),
    ],
)
def test_a_refusal_in_the_forms_words(
    error: BlinaError, form: str, field: str | None, text: str
) -> None:
    refusal = plain_words(error, form, gettext_for("en"), _paris)
    assert (refusal.field, refusal.text) == (field, text)


def test_a_premedication_form_is_named_by_its_drug_and_due_minute() -> None:
    assert premedication_suffix("dexamethasone", "2026-12-10T10:00:00+01:00") == (
        "-dexamethasone-202612101000"
    )
    assert premedication_suffix("dexamethasone", "soon") == ""
