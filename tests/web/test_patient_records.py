"""The patient page's records: the gradings recorded on the course, lab values with
their CTCAE grades (recorded, and graded live as the form is filled), and the check-ins'
temperatures drawn as a chart with the triage lines.

Read as a DOM: assertions are on elements and data-* attributes. The patients are
shared out so the tests of this module do not see each other's records: P-001 gets
gradings and check-ins, P-002 lab values, P-003 stays empty.
"""

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from blina.demo import DEMO_PASSWORD, DEMO_ZONE
from blina.domain.toxicity import Relative
from blina.domain.triage.check_in import Temperature, TemperatureUnit
from blina.knowledge import Knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.labs import LAB_SCALE
from blina.services.reports import CheckInRequest, submit_report
from blina.store.session import read_only, transaction
from blina.store.tables import AuditEvent, Clinic, ToxicityAssessment, User
from blina.web.charts import HEIGHT, WIDTH
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_in, csrf_of, one, page

CRS_GRADE_3 = {
    "scale": "crs",
    "temperature_c": "39.5",
    "hypotension": "one-vasopressor",
    "oxygen": "low-flow",
}


def _local(hours_ago: float) -> str:
    """A time ``hours_ago`` before the test's now, as a datetime-local field holds it."""
    return (NOW - timedelta(hours=hours_ago)).astimezone(DEMO_ZONE).strftime("%Y-%m-%dT%H:%M")


def _patient(clinic: DemoClinic, browser: TestClient, code: str) -> BeautifulSoup:
    response = browser.get(f"/patients/{clinic.patients[code]}")
    assert response.status_code == 200
    return page(response)


def _alt_grade_2(knowledge: Knowledge) -> tuple[dict[str, str], str]:
    """An ALT just above its grade 2 limit (normal baseline), from the knowledge file;
    the form's fields and the band's own text."""
    band = next(
        b
        for b in knowledge.toxicity.ctcae.terms["alt"].bands
        if b.grade == 2 and b.relative is Relative.ULN
    )
    uln = Decimal(40)
    value = band.threshold * uln + 1
    return {"term": "alt", "value": str(value), "uln": str(uln), "taken_at": _local(3)}, band.text


def _stored(clinic: DemoClinic) -> tuple[int, int]:
    """How many assessments and audit events are stored."""
    with read_only(clinic.app.state.blina.sessions) as session:
        assessments = session.execute(select(func.count(ToxicityAssessment.id))).scalar_one()
        events = session.execute(select(func.count(AuditEvent.seq))).scalar_one()
    return assessments, events


# --- empty states -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dr.lee", "nurse.kim", "pharm.ana"])
def test_a_patient_without_records_shows_the_empty_states(clinic: DemoClinic, who: str) -> None:
    soup = _patient(clinic, clinic.browser(who), "P-003")
    assert {p["data-empty"] for p in soup.select("[data-empty]")} >= {
        "gradings",
        "labs",
        "temperature",
    }
    assert not soup.select("tr[data-grading]")
    assert not soup.select("tr[data-lab]")
    assert not soup.select("svg circle.point")


# --- recorded gradings ------------------------------------------------------------------


def test_recorded_gradings_are_listed_latest_first(clinic: DemoClinic) -> None:
    course = clinic.courses["P-001"]
    nurse = clinic.browser("nurse.kim")
    soup = _patient(clinic, nurse, "P-001")
    response = nurse.post(
        f"/courses/{course}/assessments",
        data={**CRS_GRADE_3, "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    physician = clinic.browser("dr.lee")
    icans = {"scale": "icans", "age_years": "41", "consciousness": "awake", "ice_score": "8"}
    response = physician.post(
        f"/courses/{course}/assessments",
        data={**icans, "csrf_token": csrf_of(_patient(clinic, physician, "P-001"))},
        follow_redirects=False,
    )
    assert response.status_code == 303

    for who in ("dr.lee", "nurse.kim", "alex"):
        rows = _patient(clinic, clinic.browser(who), "P-001").select(
            "section.grading-log tr[data-grading]"
        )
        assert [(r["data-grade"], r["data-action"]) for r in rows] == [
            ("1", "continue"),
            ("3", "interrupt"),
        ], who
        assert [one(r, "[data-by]").get_text() for r in rows] == ["dr.lee", "nurse.kim"]
        crs = rows[1]
        assert [li.get_text().split(":")[0] for li in crs.select("[data-decisive]")] == [
            "hypotension"
        ]
        assert one(crs, "time")["datetime"] == NOW.astimezone(DEMO_ZONE).isoformat()


def test_lab_values_are_not_listed_among_the_gradings(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    browser = clinic.browser("dr.lee")
    fields, _ = _alt_grade_2(knowledge)
    soup = _patient(clinic, browser, "P-002")
    response = browser.post(
        f"/courses/{clinic.courses['P-002']}/labs",
        data={**fields, "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    soup = _patient(clinic, browser, "P-002")
    assert soup.select("section.labs tr[data-lab]")
    assert not soup.select("section.grading-log tr[data-grading]")


# --- lab values -------------------------------------------------------------------------


def test_the_lab_form_offers_the_lab_terms_of_the_knowledge_file(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    soup = _patient(clinic, clinic.browser("nurse.kim"), "P-002")
    form = one(soup, 'form[data-form="lab"]')
    assert form["action"] == f"/courses/{clinic.courses['P-002']}/labs#lab-problems"
    assert form["hx-get"] == f"/courses/{clinic.courses['P-002']}/labs/grade"
    options = {o["value"]: o for o in form.select('select[name="term"] option')}
    lab_terms = [t for t in knowledge.toxicity.ctcae.terms.values() if t.bands and not t.febrile]
    assert list(options) == [t.id for t in lab_terms]
    for term in lab_terms:
        assert options[term.id]["data-unit"] == term.unit
    assert options["neutrophils"]["data-against"] == "lln"
    assert options["alt"]["data-against"] == "uln baseline"


def test_a_lab_value_is_recorded_and_shown_with_its_grade(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    browser = clinic.browser("nurse.kim")
    course = clinic.courses["P-002"]
    fields, band_text = _alt_grade_2(knowledge)
    before = _stored(clinic)
    soup = _patient(clinic, browser, "P-002")
    response = browser.post(
        f"/courses/{course}/labs",
        data={**fields, "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{clinic.patients['P-002']}#labs"
    assert _stored(clinic) == (before[0] + 1, before[1] + 1)

    row = _patient(clinic, clinic.browser("dr.lee"), "P-002").select("section.labs tr[data-lab]")[0]
    assert (row["data-term"], row["data-grade"]) == ("alt", "2")
    assert one(row, "[data-value]")["data-value"] == fields["value"]
    assert one(row, '[data-reference="uln"]')
    assert band_text in one(row, "[data-rule]").get_text()
    taken = (NOW - timedelta(hours=3)).astimezone(DEMO_ZONE).replace(second=0, microsecond=0)
    assert one(row, "time")["datetime"] == taken.isoformat()
    with read_only(clinic.app.state.blina.sessions) as session:
        stored = session.execute(
            select(ToxicityAssessment).order_by(ToxicityAssessment.id.desc()).limit(1)
        ).scalar_one()
        audit = session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "lab.record")
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).scalar_one()
    assert (stored.scale, stored.grade, stored.course_id) == (LAB_SCALE, 2, course)
    assert stored.inputs["value"] == fields["value"]  # exact, as entered
    assert (audit.action, audit.subject_id, audit.after) == (
        "lab.record",
        str(course),
        {
            "assessment": stored.id,
            "term": "alt",
            "value": fields["value"],
            "unit": "U/L",
            "grade": 2,
            "taken_at": taken.astimezone(UTC).isoformat(),
        },
    )


def test_a_lab_value_is_graded_as_the_form_is_filled(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    fields, band_text = _alt_grade_2(knowledge)
    browser = clinic.browser("dr.lee")
    before = _stored(clinic)
    response = browser.get(f"/courses/{clinic.courses['P-002']}/labs/grade", params=fields)
    assert response.status_code == 200
    soup = page(response)
    result = one(soup, '[data-grade-result="lab"]')
    assert result["data-grade"] == "2"
    assert band_text in one(result, "[data-decisive]").get_text()
    assert not result.select("[data-action]")
    slot = one(soup, "#lab-value-error")  # cleared out of band
    assert slot["hx-swap-oob"] == "true"
    assert not slot.select("[data-error-for]")
    assert _stored(clinic) == before


def test_the_live_grade_names_a_missing_reference(clinic: DemoClinic) -> None:
    params = {"term": "alt", "value": "300", "taken_at": _local(1)}
    soup = page(
        clinic.browser("nurse.kim").get(
            f"/courses/{clinic.courses['P-002']}/labs/grade", params=params
        )
    )
    assert one(soup, '[data-grade-result="lab"]')["data-grade"] == "none"
    message = one(one(soup, "#lab-uln-error"), '[data-error-for="uln"]').get_text()
    assert message.startswith(
        "Upper limit of normal (ULN), where the test is graded against it or against a "
        "baseline: nothing entered: must be given for alt"
    )


LAB_LABELS = {
    "value": "Result (in the unit chosen above)",
    "lln": "Lower limit of normal (LLN), where the test is graded against it",
    "uln": "Upper limit of normal (ULN), where the test is graded against it or against a baseline",
    "baseline": "Baseline (optional), where the test is graded against it",
    "term": "Test",
    "symptomatic": "Symptoms (where the grade depends on them)",
    "taken_at": "Sample taken (clinic time)",
}
NEUTROPHILS = {"term": "neutrophils", "value": "800", "lln": "1500"}


@pytest.mark.parametrize(
    ("fields", "field", "allowed"),
    [
        pytest.param({**NEUTROPHILS, "value": "-5"}, "value", ">= 0", id="negative"),
        pytest.param({**NEUTROPHILS, "value": "many"}, "value", "a number", id="not-a-number"),
        pytest.param({**NEUTROPHILS, "value": ""}, "value", "given", id="missing-value"),
        pytest.param({**NEUTROPHILS, "lln": "0"}, "lln", "a number > 0", id="zero-lln"),
        pytest.param({"term": "alt", "value": "300"}, "uln", "given for alt", id="missing-uln"),
        pytest.param({**NEUTROPHILS, "baseline": "900"}, "baseline", "only for", id="no-baseline"),
        pytest.param({"term": "seizure", "value": "1"}, "term", "one of", id="clinical-term"),
        pytest.param({**NEUTROPHILS, "symptomatic": "maybe"}, "symptomatic", "yes, no", id="symp"),
        pytest.param({**NEUTROPHILS, "taken_at": "later"}, "taken_at", "a date", id="bad-time"),
        pytest.param(
            {**NEUTROPHILS, "taken_at": _local(-24)}, "taken_at", "not after", id="future"
        ),
    ],
)
def test_a_bad_lab_value_is_refused_beside_its_field_and_nothing_is_stored(
    clinic: DemoClinic, fields: dict[str, str], field: str, allowed: str
) -> None:
    browser = clinic.browser("nurse.kim")
    soup = _patient(clinic, browser, "P-002")
    data = {"taken_at": _local(1), **fields, "csrf_token": csrf_of(soup)}
    before = _stored(clinic)
    response = browser.post(
        f"/courses/{clinic.courses['P-002']}/labs", data=data, follow_redirects=False
    )
    assert response.status_code == 422
    form = one(page(response), 'form[data-form="lab"]')
    message = one(form, f'[data-error-for="{field}"]').get_text()
    assert message.startswith(f"{LAB_LABELS[field]}: ")  # the form's label, not the field's name
    assert allowed in message.split("must be", 1)[1]
    assert len(form.select("[data-error-for]")) == 1
    if field in ("value", "lln", "uln", "baseline", "taken_at"):
        assert one(form, f'[name="{field}"]')["aria-invalid"] == "true"
    # what was typed is shown again
    assert one(form, 'input[name="value"]')["value"] == fields.get("value", "")
    assert _stored(clinic) == before


@pytest.mark.parametrize("who", ["alex", "alex.partner", "pharm.ana", "admin"])
def test_only_physicians_and_nurses_record_or_grade_lab_values(
    clinic: DemoClinic, knowledge: Knowledge, who: str
) -> None:
    browser = clinic.browser(who)
    course = clinic.courses["P-001"]
    soup = _patient(clinic, browser, "P-001")
    assert not soup.select('form[data-form="lab"]')
    fields, _ = _alt_grade_2(knowledge)
    before = _stored(clinic)
    live = browser.get(f"/courses/{course}/labs/grade", params=fields)
    assert live.status_code == 403
    response = browser.post(f"/courses/{course}/labs", data={**fields, "csrf_token": csrf_of(soup)})
    assert response.status_code == 403
    assert one(page(response), "[data-status]")["data-status"] == "403"
    # the refusal is audited; nothing else is stored
    assert _stored(clinic)[0] == before[0]


def test_a_lab_post_needs_a_valid_csrf_token(clinic: DemoClinic, knowledge: Knowledge) -> None:
    fields, _ = _alt_grade_2(knowledge)
    before = _stored(clinic)
    response = clinic.browser("dr.lee").post(
        f"/courses/{clinic.courses['P-002']}/labs", data={**fields, "csrf_token": "0" * 64}
    )
    assert response.status_code == 403
    assert _stored(clinic)[0] == before[0]


@pytest.fixture(scope="module")
def outsider(clinic: DemoClinic) -> str:
    """A nurse of another clinic."""
    with transaction(clinic.app.state.blina.sessions) as session:
        other = Clinic(name="another clinic", zone="UTC", created_at=NOW)
        session.add(other)
        session.flush()
        create_user(
            session,
            actor=None,
            now=NOW,
            clinic_id=other.id,
            username="nurse.elsewhere",
            display_name="nurse elsewhere",
            role="nurse",
            password=DEMO_PASSWORD,
        )
    return "nurse.elsewhere"


def test_staff_of_another_clinic_see_and_record_nothing(
    clinic: DemoClinic, knowledge: Knowledge, outsider: str
) -> None:
    browser = clinic.browser(outsider)
    course = clinic.courses["P-002"]
    page_response = browser.get(f"/patients/{clinic.patients['P-002']}")
    assert page_response.status_code == 404
    assert not page(page_response).select("tr[data-lab], tr[data-grading], circle.point")
    fields, _ = _alt_grade_2(knowledge)
    assert browser.get(f"/courses/{course}/labs/grade", params=fields).status_code == 404
    before = _stored(clinic)
    token = csrf_in(browser.get("/"))
    response = browser.post(f"/courses/{course}/labs", data={**fields, "csrf_token": token})
    assert response.status_code == 404
    assert _stored(clinic)[0] == before[0]


# --- the temperature chart --------------------------------------------------------------

CHECK_INS = (  # hours ago, temperature, unit
    (30, "36.8", "C"),
    (20, None, "C"),
    (12, "101.3", "F"),
    (2, "40.4", "C"),
)


@pytest.fixture(scope="module")
def check_ins(clinic: DemoClinic) -> list[tuple[int, str | None, str]]:
    """Check-ins from Alex (P-001) over the last day and a half, one in F, one without a
    temperature."""
    sessions = clinic.app.state.blina.sessions
    for index, (hours, temperature, unit) in enumerate(CHECK_INS):
        with transaction(sessions) as session:
            alex = session.execute(select(User).where(User.username == "alex")).scalar_one()
            submit_report(
                session,
                actor=to_actor(alex),
                now=NOW,
                knowledge=clinic.app.state.blina.knowledge,
                patient_id=clinic.patients["P-001"],
                idempotency_key=f"chart-{index}",
                check_in=CheckInRequest(
                    symptoms={},
                    temperature=None if temperature is None else Decimal(temperature),
                    temperature_unit=unit,
                    observed_at=NOW - timedelta(hours=hours),
                ),
            )
    return list(CHECK_INS)


@pytest.mark.parametrize("who", ["dr.lee", "nurse.kim", "alex", "alex.partner"])
def test_the_chart_draws_each_temperature_and_the_call_lines(
    clinic: DemoClinic,
    knowledge: Knowledge,
    check_ins: list[tuple[int, str | None, str]],
    who: str,
) -> None:
    soup = _patient(clinic, clinic.browser(who), "P-001")
    figure = one(soup, "figure.temperature-chart")
    svg = one(figure, "svg")
    assert svg["viewbox"] == f"0 0 {WIDTH} {HEIGHT}"  # html.parser lowercases names
    assert svg["role"] == "img"
    measured = [
        (NOW - timedelta(hours=h), Temperature(Decimal(t), TemperatureUnit(u)))
        for h, t, u in check_ins
        if t is not None
    ]
    points = svg.select("circle.point")
    assert [(p["data-at"], Decimal(p["data-celsius"])) for p in points] == [
        (at.astimezone(DEMO_ZONE).isoformat(), t.celsius) for at, t in measured
    ]
    assert all(p.find("title").get_text() for p in points)  # type: ignore[union-attr]
    rules = knowledge.triage
    drawn = {
        (g["data-threshold"], g["data-level"], Decimal(g["data-celsius"]))
        for g in svg.select("g[data-threshold]")
    }
    assert drawn == {
        (r.id, str(r.level), r.threshold_c)
        for r in rules.temperature_rules
        if rules.levels[r.level].alert_care_team
    }
    # Since issue 15 (item 16) no temperature alone calls emergency services.
    assert {level for _, level, _ in drawn} == {"call-now"}
    for g in svg.select("g[data-threshold]"):
        assert g["data-celsius"] in one(g, "text").get_text()
    # each point is marked with the most urgent line it crosses, as triage would
    for point, (_, temperature) in zip(points, measured, strict=True):
        crossed = [r.level for r in rules.temperature_rules if r.applies(temperature.celsius)]
        expected = max(crossed, key=lambda level: level.rank, default=None)
        assert point["data-level"] == (str(expected) if expected else "none")


def test_the_chart_table_holds_the_same_readings_as_the_check_ins(
    clinic: DemoClinic, check_ins: list[tuple[int, str | None, str]]
) -> None:
    soup = _patient(clinic, clinic.browser("alex.partner"), "P-001")
    table = one(soup, "table[data-chart-table]")
    assert "visually-hidden" in table["class"]
    rows = [(r["data-at"], Decimal(r["data-celsius"])) for r in table.select("tbody tr")]
    points = [(p["data-at"], Decimal(p["data-celsius"])) for p in soup.select("svg circle.point")]
    assert rows == points
    reported = [
        cell.get_text()
        for cell in soup.select("section.reports tbody tr td:nth-of-type(2)")
        if cell.get_text().strip()
    ]
    assert len(rows) == len(reported) == sum(1 for _, t, _ in check_ins if t is not None)
    fahrenheit = [r for r in table.select("tbody tr") if " °F = " in r.get_text()]
    assert len(fahrenheit) == 1
