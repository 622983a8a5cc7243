"""The staff therapy planner (``/plan``): each therapy's plan, warnings (boxed first),
gaps and sources in English and Spanish, with and without htmx; refusals that name the
field; staff only."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from blina.domain.therapies.cycle_doses import Response, Transplant
from blina.domain.therapies.model import TherapyPlan
from blina.interop.json.therapy_plan import sources_used
from blina.knowledge import Knowledge
from blina.services.therapy_catalog import is_boxed, warnings_boxed_first
from blina.services.therapy_planning import TherapyInputs, plan_therapy
from blina.web.formatting import formatter_for
from blina.web.i18n import gettext_for
from blina.web.sentences import Speaker
from tests.web.conftest import DemoClinic
from tests.web.soup import fragment, one, page

FORMS = {
    "inotuzumab": {
        "bsa_m2": "1.72",
        "start": "2027-01-04",
        "transplant": "planned",
        "responses": "cri",
    },
    "rituximab": {
        "height_cm": "110",
        "weight_kg": "20",
        "host_day1.copdam1": "2027-01-10",
        "host_day1.cym-cyve1": "2027-03-01",
    },
    "gemtuzumab": {"bsa_m2": "1.9", "weight_kg": "80", "host_day1.induction": "2027-01-04"},
    "tisagenlecleucel": {
        "start": "2027-03-01",
        "weight_kg": "38",
        "height_cm": "140",
        "leukapheresis_on": "2027-01-20",
        "product_ready_on": "2027-02-19",
        "bridging": "vincristine and dexamethasone",
        "bridging_start": "2027-02-01",
    },
    "brexucabtagene": {
        "start": "2027-03-01",
        "weight_kg": "70",
        "bsa_m2": "1.85",
        "lymphodepletion_start": "2027-02-25",
        "stay_near_days": "28",
        "no_driving_days": "56",
    },
    "obecabtagene": {
        "start": "2027-03-01",
        "weight_kg": "60",
        "marrow_blasts_percent": "12",
        "first_dose_crs_grade": "2",
        "first_dose_icans_grade": "0",
        "second_dose_on": "2027-03-18",
    },
}


def _expected(knowledge: Knowledge, therapy: str) -> TherapyPlan:
    """The plan the page must show: the service's, for the same inputs."""
    inputs = {
        "inotuzumab": TherapyInputs(
            "inotuzumab",
            bsa_m2=Decimal("1.72"),
            start=date(2027, 1, 4),
            transplant=Transplant.PLANNED,
            responses=(Response.CRI,),
        ),
        "rituximab": TherapyInputs(
            "rituximab",
            height_cm=Decimal(110),
            weight_kg=Decimal(20),
            host_day1={"copdam1": date(2027, 1, 10), "cym-cyve1": date(2027, 3, 1)},
        ),
        "gemtuzumab": TherapyInputs(
            "gemtuzumab",
            bsa_m2=Decimal("1.9"),
            weight_kg=Decimal(80),
            host_day1={"induction": date(2027, 1, 4)},
        ),
        "tisagenlecleucel": TherapyInputs(
            "tisagenlecleucel",
            start=date(2027, 3, 1),
            weight_kg=Decimal(38),
            height_cm=Decimal(140),
            leukapheresis_on=date(2027, 1, 20),
            product_ready_on=date(2027, 2, 19),
            bridging="vincristine and dexamethasone",
            bridging_start=date(2027, 2, 1),
        ),
        "brexucabtagene": TherapyInputs(
            "brexucabtagene",
            start=date(2027, 3, 1),
            weight_kg=Decimal(70),
            bsa_m2=Decimal("1.85"),
            lymphodepletion_start=date(2027, 2, 25),
            stay_near_days=28,
            no_driving_days=56,
        ),
        "obecabtagene": TherapyInputs(
            "obecabtagene",
            start=date(2027, 3, 1),
            weight_kg=Decimal(60),
            marrow_blasts_percent=Decimal(12),
            first_dose_crs_grade=2,
            first_dose_icans_grade=0,
            second_dose_on=date(2027, 3, 18),
        ),
    }[therapy]
    plan = plan_therapy(knowledge, inputs)
    return replace(plan, warnings=warnings_boxed_first(plan))


def _url(path: str, therapy: str, fields: dict[str, str]) -> str:
    return f"{path}?{urlencode({'therapy': therapy, **fields})}"


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("therapy", sorted(FORMS))
def test_each_therapy_shows_its_plan_gaps_and_sources(
    clinic: DemoClinic, knowledge: Knowledge, therapy: str, language: str
) -> None:
    response = clinic.browser("dr.lee").get(
        _url("/plan", therapy, {**FORMS[therapy], "show": "1"}),
        headers={"accept-language": language},
    )
    assert response.status_code == 200, response.text[:500]
    soup = page(response)
    _ = gettext_for(language)
    said = Speaker(formatter_for(language)).words  # the knowledge's and the domain's words
    assert one(soup, "html")["lang"] == language
    assert one(soup, "h1").get_text() == _("Plan a therapy")
    expected = _expected(knowledge, therapy)
    shown = one(soup, '[data-preview="plan"]')
    assert shown["data-therapy"] == therapy
    days = shown.select("tbody[data-date]")
    assert [(d["data-date"], d["data-label"]) for d in days] == [
        (day.on.isoformat(), day.label) for day in expected.days
    ]
    for rendered, day in zip(days, expected.days, strict=True):
        rows = rendered.select("tr[data-kind]")
        assert [(r["data-kind"], r["data-what"]) for r in rows] == [
            (str(e.kind), e.what) for e in day.entries
        ]
        for row, entry in zip(rows, day.entries, strict=True):
            dose = "" if entry.dose is None else f"{entry.dose} {entry.unit}"
            assert one(row, "[data-dose]").get_text() == dose
            assert one(row, "[data-basis]").get_text() == (said(entry.basis) if entry.basis else "")
    warnings = shown.select("[data-warning]")
    assert [w["data-warning"] for w in warnings] == [w.what for w in expected.warnings]
    boxed = [w["data-boxed"] == "yes" for w in warnings]
    assert boxed == [is_boxed(w) for w in expected.warnings]
    assert any(boxed)
    assert boxed == sorted(boxed, reverse=True), "boxed warnings come first"
    gaps = shown.select("[data-gap]")
    assert [g["data-gap"] for g in gaps] == [g.source for g in expected.gaps]
    for rendered_gap, gap in zip(gaps, expected.gaps, strict=True):
        assert said(gap.fact) in rendered_gap.get_text()
        assert said(gap.instead) in rendered_gap.get_text()
    assert one(soup, "#gaps-title").get_text() == _("Not in the sources blina has")
    cited = [li["data-source"] for li in shown.select("section.sources li")]
    assert cited == sorted(sources_used(expected))
    for li in shown.select("section.sources li"):
        assert knowledge.sources[str(li["data-source"])].reference in li.get_text()


@pytest.mark.parametrize("therapy", sorted(FORMS))
def test_the_preview_is_the_plan_alone(clinic: DemoClinic, therapy: str) -> None:
    response = clinic.browser("nurse.kim").get(_url("/plan/preview", therapy, FORMS[therapy]))
    assert response.status_code == 200
    soup = fragment(response)
    assert soup.find("html") is None
    assert one(soup, '[data-preview="plan"]')["data-therapy"] == therapy


def test_the_form_sends_the_preview_and_works_without_it(clinic: DemoClinic) -> None:
    soup = page(clinic.browser("pharm.ana").get("/plan?therapy=rituximab"))
    form = one(soup, "form.therapy-form")
    assert form["method"] == "get"
    assert form["action"] == "/plan"
    assert form["hx-get"] == "/plan/preview"
    assert one(form, 'input[name="therapy"]')["value"] == "rituximab"
    courses = [i["name"] for i in form.select('input[name^="host_day1."]')]
    assert courses == [
        "host_day1.copdam1",
        "host_day1.copdam2",
        "host_day1.cym-cyve1",
        "host_day1.cym-cyve2",
    ]
    assert not form.select('[name="transplant"]'), "cycle inputs are inotuzumab's"
    assert one(soup, '[data-preview="empty"]')


def test_the_picker_lists_every_therapy_and_sends_blinatumomab_to_its_course_planner(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    soup = page(clinic.browser("dr.lee").get("/plan"))
    listed = [li["data-therapy"] for li in soup.select(".therapy-picker li")]
    products = sorted(knowledge.car_t.products)
    assert listed == ["blinatumomab", *sorted(knowledge.therapies), *products]
    blinatumomab = one(soup, '[data-therapy="blinatumomab"] a')
    assert blinatumomab["href"] == "/clinic/patients"
    for key in [*knowledge.therapies, *products]:
        assert one(soup, f'[data-therapy="{key}"] a')["href"] == f"/plan?therapy={key}"
    assert not soup.select("form.therapy-form")


@pytest.mark.parametrize(
    ("therapy", "fields", "field"),
    [
        ("inotuzumab", {"bsa_m2": "0", "start": "2027-01-04", "transplant": "planned"}, "bsa_m2"),
        ("inotuzumab", {"bsa_m2": "1.7", "transplant": "planned"}, "start"),
        ("inotuzumab", {"bsa_m2": "1.7", "start": "2027-01-04"}, "transplant"),
        ("inotuzumab", {**FORMS["inotuzumab"], "transplant": "soon"}, "transplant"),
        ("inotuzumab", {**FORMS["inotuzumab"], "responses": "cr, great"}, "responses"),
        ("inotuzumab", {**FORMS["inotuzumab"], "first_cycle_days": "30"}, "first_cycle_days"),
        ("inotuzumab", {**FORMS["inotuzumab"], "mrd": "maybe"}, "mrd"),
        ("inotuzumab", {**FORMS["inotuzumab"], "dose_date": "D8=2027-01-11"}, "dose_date"),
        ("inotuzumab", {**FORMS["inotuzumab"], "dose_date": "C9D8=2027-01-11"}, "dose_date"),
        ("inotuzumab", {**FORMS["inotuzumab"], "blasts_per_mm3": "-5"}, "blasts_per_mm3"),
        ("inotuzumab", {**FORMS["inotuzumab"], "start": "2027-02-30"}, "start"),
        ("rituximab", {"height_cm": "110", "weight_kg": "20"}, "host_day1"),
        ("rituximab", {**FORMS["rituximab"], "weight_kg": "2000"}, "weight_kg"),
        ("rituximab", {**FORMS["rituximab"], "height_cm": "abc"}, "height_cm"),
        ("gemtuzumab", {**FORMS["gemtuzumab"], "host_day1.induction": "soon"}, "host_day1"),
        ("tisagenlecleucel", {**FORMS["tisagenlecleucel"], "start": ""}, "start"),
        ("tisagenlecleucel", {**FORMS["tisagenlecleucel"], "weight_kg": ""}, "weight_kg"),
        ("tisagenlecleucel", {**FORMS["tisagenlecleucel"], "height_cm": ""}, "bsa_m2"),
        ("tisagenlecleucel", {**FORMS["tisagenlecleucel"], "bridging": ""}, "bridging"),
        (
            "tisagenlecleucel",
            {**FORMS["tisagenlecleucel"], "leukapheresis_on": "2027-03-05"},
            "leukapheresis_on",
        ),
        (
            "tisagenlecleucel",
            {**FORMS["tisagenlecleucel"], "stay_near_days": "3"},
            "stay_near_days",
        ),
        (
            "brexucabtagene",
            {**FORMS["brexucabtagene"], "lymphodepletion_start": "2027-02-28"},
            "lymphodepletion_start",
        ),
        ("brexucabtagene", {**FORMS["brexucabtagene"], "no_driving_days": "x"}, "no_driving_days"),
        (
            "obecabtagene",
            {**FORMS["obecabtagene"], "marrow_blasts_percent": ""},
            "marrow_blasts_percent",
        ),
        (
            "obecabtagene",
            {**FORMS["obecabtagene"], "marrow_blasts_percent": "120"},
            "marrow_blasts_percent",
        ),
        (
            "obecabtagene",
            {**FORMS["obecabtagene"], "first_dose_icans_grade": ""},
            "first_dose_icans_grade",
        ),
        (
            "obecabtagene",
            {**FORMS["obecabtagene"], "first_dose_crs_grade": "5"},
            "first_dose_crs_grade",
        ),
        ("obecabtagene", {**FORMS["obecabtagene"], "first_dose_crs_grade": "3"}, "second_dose_on"),
    ],
)
@pytest.mark.parametrize("language", ["en", "es"])
def test_a_refusal_names_the_field_beside_it(
    clinic: DemoClinic, therapy: str, fields: dict[str, str], field: str, language: str
) -> None:
    browser = clinic.browser("dr.lee")
    response = browser.get(
        _url("/plan", therapy, {**fields, "show": "1"}), headers={"accept-language": language}
    )
    assert response.status_code == 422
    soup = page(response)
    assert one(soup, "html")["lang"] == language
    message = one(soup, f'#therapy-plan [data-error-for="{field}"]').get_text()
    assert message.startswith(field)
    beside = soup.select(f'form [data-error-for="{field}"]')
    assert [p.get_text() for p in beside] == [message]
    assert not soup.select('[data-preview="plan"]')
    preview = browser.get(_url("/plan/preview", therapy, fields))
    assert preview.status_code == 200  # htmx swaps a 200 only
    assert one(page(preview), f'[data-error-for="{field}"]').get_text() == message


@pytest.mark.parametrize(
    ("therapy", "field", "value"),
    [
        ("tisagenlecleucel", "marrow_blasts_percent", "12"),
        ("tisagenlecleucel", "second_dose_withheld", "1"),
        ("inotuzumab", "bridging", "dexamethasone"),
        ("obecabtagene", "transplant", "planned"),
    ],
)
def test_a_field_of_another_therapy_is_refused_not_ignored(
    clinic: DemoClinic, therapy: str, field: str, value: str
) -> None:
    """A field the chosen therapy's form does not show (a hand-made URL) is refused as the
    service refuses it, in the plan's place."""
    response = clinic.browser("dr.lee").get(
        _url("/plan", therapy, {**FORMS[therapy], field: value, "show": "1"})
    )
    assert response.status_code == 422
    soup = page(response)
    assert not soup.select(f'form [name="{field}"]')
    message = one(soup, f'#therapy-plan [data-error-for="{field}"]').get_text()
    assert message.startswith(field)
    assert "left out" in message
    assert not soup.select('[data-preview="plan"]')


def test_an_unknown_therapy_is_refused_naming_the_field(clinic: DemoClinic) -> None:
    response = clinic.browser("dr.lee").get("/plan?therapy=aspirin")
    assert response.status_code == 422
    assert "therapy" in response.text


@pytest.mark.parametrize("who", ["alex", "alex.partner"])
def test_a_family_member_may_not_plan(clinic: DemoClinic, who: str) -> None:
    browser = clinic.browser(who)
    for path in ("/plan", "/plan/preview?therapy=rituximab&bsa_m2=1"):
        assert browser.get(path).status_code == 403
    assert not page(browser.get("/today")).select('[data-link="therapy-planner"]')


def test_someone_signed_out_is_sent_to_sign_in(clinic: DemoClinic) -> None:
    response = clinic.browser(None).get("/plan", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login?next=/plan")


@pytest.mark.parametrize("who", ["admin", "dr.lee", "nurse.kim", "pharm.ana"])
def test_every_staff_member_has_the_planner_in_the_navigation(clinic: DemoClinic, who: str) -> None:
    soup = page(clinic.browser(who).get("/plan"))
    assert one(soup, 'nav [data-link="therapy-planner"]')["href"] == "/plan"


CELL_FIELDS = [
    "start",
    "leukapheresis_on",
    "product_ready_on",
    "bridging",
    "bridging_start",
    "lymphodepletion_start",
]
SPLIT_FIELDS = [
    "marrow_blasts_percent",
    "first_dose_crs_grade",
    "first_dose_icans_grade",
    "second_dose_on",
    "second_dose_withheld",
]
PERIOD_FIELDS = ["stay_near_days", "no_driving_days"]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("therapy", ["tisagenlecleucel", "brexucabtagene", "obecabtagene"])
def test_each_car_t_form_asks_what_its_journey_reads(
    clinic: DemoClinic, knowledge: Knowledge, therapy: str, language: str
) -> None:
    """Day 0, weight, height/BSA where lymphodepletion is per m2, the journey's recorded
    dates, obecabtagene's split-dose fields, the periods; labels in the page's language."""
    product = knowledge.car_t.products[therapy]
    soup = page(
        clinic.browser("dr.lee").get(
            f"/plan?therapy={therapy}", headers={"accept-language": language}
        )
    )
    _ = gettext_for(language)
    form = one(soup, "form.therapy-form")
    names = [i["name"] for i in form.select("[name]") if i["name"] not in ("therapy", "show")]
    body = ["bsa_m2", "height_cm"] if product.lymphodepletion.drugs else []
    split = SPLIT_FIELDS if product.split is not None else []
    assert names == [*body, "weight_kg", "age_years", *CELL_FIELDS, *split, *PERIOD_FIELDS]
    assert one(form, ".cell-journey legend").get_text() == _("CAR-T journey")
    start = one(form, 'label[for="start"]').get_text()
    day = "Day 1: the first cell infusion" if split else "Day 0: the cell infusion"
    assert start == _(day)
    assert one(form, 'label[for="no_driving_days"]').get_text() == _("Days without driving")
    assert one(form, "#bridging").get("inputmode") is None  # words, not a number
    assert one(form, "#stay_near_days")["inputmode"] == "numeric"
    if split:
        assert one(form, ".split-dose legend").get_text() == _("Split dose")
        grades = [o["value"] for o in form.select("#first_dose_crs_grade option")]
        assert grades == ["", "0", "1", "2", "3", "4"]
    if language == "es":
        assert one(form, ".cell-journey legend").get_text() == "Recorrido CAR-T"


def test_the_car_t_form_keeps_what_was_entered(clinic: DemoClinic) -> None:
    soup = page(
        clinic.browser("dr.lee").get(
            _url("/plan", "obecabtagene", {**FORMS["obecabtagene"], "second_dose_withheld": "1"})
        )
    )
    form = one(soup, "form.therapy-form")
    assert one(form, "#bridging")["value"] == ""
    assert one(form, "#marrow_blasts_percent")["value"] == "12"
    assert one(form, '#first_dose_crs_grade option[value="2"]').has_attr("selected")
    assert one(form, "#second_dose_withheld").has_attr("checked")
