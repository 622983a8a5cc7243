"""The web app in a real Chromium against the real server on the demo clinic.

Each test saves a screenshot under its tmp_path (the path is printed) and fails on any
console error.
"""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from blina.demo import DEMO_PATIENTS, DEMO_THERAPY_PATIENTS
from blina.domain.triage.rules import TriageLevel
from blina.knowledge import Knowledge
from blina.web import i18n
from tests.e2e.conftest import Records, Tab, send_check_in, tick_symptom

pytestmark = pytest.mark.e2e

AXE = Path(__file__).with_name("axe.min.js")

OpenTab = Callable[..., Tab]


def test_nurse_logs_in_and_sees_the_clinic_today(open_tab: OpenTab, tmp_path: Path) -> None:
    tab = open_tab()
    tab.log_in("nurse.kim")
    expect(tab.page.locator("body")).to_have_attribute("data-page", "home")
    patients = len(DEMO_PATIENTS) + len(DEMO_THERAPY_PATIENTS)
    expect(tab.page.locator("section.patients tr[data-patient]")).to_have_count(patients)
    expect(tab.page.locator('[data-task-kind="bag-change"]').first).to_be_visible()
    tab.screenshot(tmp_path, "nurse-home")
    assert tab.errors == []


def test_two_pharmacists_prepare_and_verify_a_bag(open_tab: OpenTab, tmp_path: Path) -> None:
    ana, ben = open_tab(), open_tab()
    ana.log_in("pharm.ana")
    ana.page.locator('tr[data-code="P-002"] a').click()
    bags = ana.page.locator("tr[data-bag]")
    before = bags.count()
    ana.page.locator('button[data-action="prepare"]').click()
    # The demo library leaves soft checks open: a reason for each, then prepare again.
    reasons = ana.page.locator("form.prepare input[name^=override-]")
    expect(reasons.first).to_be_visible()
    for index in range(reasons.count()):
        reasons.nth(index).fill("checked against the current label")
    ana.page.locator('button[data-action="prepare"]').click()
    expect(bags).to_have_count(before + 1)
    new = bags.last
    expect(new).to_have_attribute("data-verified", "no")
    expect(new.locator('[data-verify="waiting"]')).to_be_visible()
    expect(new.locator('button[data-action="verify"]')).to_have_count(0)
    bag_id = new.get_attribute("data-bag")

    ben.log_in("pharm.ben")
    ben.go(ana.page.url.split(ana.base, 1)[1].split("#")[0])
    row = ben.page.locator(f'tr[data-bag="{bag_id}"]')
    row.locator('button[data-action="verify"]').click()
    expect(ben.page.locator(f'tr[data-bag="{bag_id}"]')).to_have_attribute("data-verified", "yes")
    ben.screenshot(tmp_path, "bag-verified")
    assert ana.errors_besides(422) == []
    assert ben.errors == []


def test_caregiver_reports_fever_and_a_seizure(open_tab: OpenTab, tmp_path: Path) -> None:
    tab = open_tab()
    tab.log_in("alex.partner")
    expect(tab.page.locator("body")).to_have_attribute("data-page", "today")
    tab.screenshot(tmp_path, "family-today")
    tab.page.locator('a[data-link="check-in"]').click()
    tab.page.locator("#temperature").fill("39.0")
    tab.page.locator('input[name="temperature_unit"][value="C"]').check()
    tick_symptom(tab.page, "seizure")
    tab.page.locator('button[data-action="send-check-in"]').click()
    answer = tab.page.locator("section.triage")
    expect(answer).to_have_attribute("data-level", "emergency")
    expect(answer).to_have_attribute("data-alert", "yes")
    expect(tab.page.locator('[data-instructions="do_now"] li').first).to_be_visible()
    tab.screenshot(tmp_path, "check-in-answer")
    assert tab.errors == []


def test_nurse_acknowledges_the_alert_from_a_check_in(open_tab: OpenTab, tmp_path: Path) -> None:
    family = open_tab()
    family.log_in("alex.partner")
    family.page.locator('a[data-link="check-in"]').click()
    family.page.locator("#temperature").fill("39.0")
    family.page.locator('input[name="temperature_unit"][value="C"]').check()
    tick_symptom(family.page, "seizure")
    family.page.locator('button[data-action="send-check-in"]').click()
    answer = family.page.locator("section.triage")
    expect(answer).to_have_attribute("data-alert", "yes")
    report = answer.get_attribute("data-report")

    nurse = open_tab()
    nurse.log_in("nurse.kim")
    expect(nurse.page.locator("body")).to_have_attribute("data-page", "home")
    alert = nurse.page.locator(f'section.alerts li[data-report="{report}"]')
    expect(alert).to_have_attribute("data-level", "emergency")
    expect(alert).to_have_attribute("data-patient-code", "P-001")
    expect(alert.locator(".reason")).to_be_visible()
    alert_id = alert.get_attribute("data-alert")
    nurse.screenshot(tmp_path, "nurse-alerts")
    alert.locator('select[name="outcome"]').select_option("patient-called-in")
    alert.locator('textarea[name="note"]').fill("called the family; coming in now")
    # issue 18: the acknowledgement says what was done (required)
    alert.locator('input[name="what_was_done"]').fill("asked the family to come in now")
    alert.locator('button[data-action="acknowledge"]').click()
    expect(nurse.page.locator("body")).to_have_attribute("data-page", "home")
    expect(nurse.page.locator(f'section.alerts li[data-alert="{alert_id}"]')).to_have_count(0)
    nurse.screenshot(tmp_path, "nurse-alert-acknowledged")
    assert family.errors == []
    assert nurse.errors == []


def test_caregiver_cannot_open_another_patients_page(open_tab: OpenTab, tmp_path: Path) -> None:
    tab = open_tab()
    tab.log_in("alex.partner")
    for patient_id in (2, 3, 4):
        tab.go(f"/patients/{patient_id}")
        expect(tab.page.locator("body")).to_have_attribute("data-page", "error")
        expect(tab.page.locator("[data-status]")).to_have_attribute("data-status", "404")
        expect(tab.page.locator(f'[data-patient="{patient_id}"]')).to_have_count(0)
    tab.screenshot(tmp_path, "other-patient-refused")
    assert tab.errors_besides(404) == []


def test_the_spanish_interface(open_tab: OpenTab, tmp_path: Path) -> None:
    tab = open_tab("es-ES")
    tab.go("/login")
    expect(tab.page.locator("html")).to_have_attribute("lang", "es")
    expect(tab.page.locator("h1")).to_have_text("Iniciar sesión")
    tab.log_in("alex.partner")
    expect(tab.page.locator("h1")).to_have_text("Hoy")
    tab.screenshot(tmp_path, "today-es")
    tab.page.locator('a[data-language="en"]').click()
    expect(tab.page.locator("html")).to_have_attribute("lang", "en")
    tab.go("/today")
    expect(tab.page.locator("html")).to_have_attribute("lang", "en")
    assert tab.errors == []


def test_caregiver_in_spanish_on_a_phone_gets_the_spanish_emergency_instructions(
    open_tab: OpenTab, knowledge: Knowledge, tmp_path: Path
) -> None:
    clinical, words = i18n.clinical_gettext_for("es"), i18n.gettext_for("es")
    guide = knowledge.triage.levels[TriageLevel.EMERGENCY]
    tab = open_tab(width=360, height=740)
    tab.go("/login")
    expect(tab.page.locator("html")).to_have_attribute("lang", "en")
    tab.page.locator('a[data-language="es"]').click()
    expect(tab.page.locator("html")).to_have_attribute("lang", "es")
    expect(tab.page.locator("h1")).to_have_text(words("Log in"))
    tab.log_in("alex.partner")
    expect(tab.page.locator("h1")).to_have_text(words("Today"))

    send_check_in(tab, "39.0", "seizure")

    answer = tab.page.locator("section.triage")
    expect(answer).to_have_attribute("data-level", "emergency")
    expect(answer).to_have_attribute("data-alert", "yes")
    expect(answer.locator("h1")).to_have_text(clinical(guide.name))
    do_now = tab.page.locator('[data-instructions="do_now"]')
    expect(do_now.locator("h2")).to_have_text(words("What to do now"))
    shown = [" ".join(text.split()) for text in do_now.locator("li").all_inner_texts()]
    # Alex is in hospital on day 3 of cycle 1: call the nurse, not an ambulance.
    wanted = [clinical(instruction.text) for instruction in guide.in_hospital]
    assert shown[: len(wanted)] == wanted
    assert not {i.text for i in guide.in_hospital} & set(shown), "left in English"
    expect(answer.locator("h1")).to_be_in_viewport()  # on the first screen, unscrolled
    assert tab.page.evaluate("document.scrollingElement.scrollWidth") <= 360
    tab.screenshot(tmp_path, "check-in-answer-es-360")
    assert tab.errors == []


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/login"),
        ("nurse.kim", "/"),
        ("dr.lee", "/patients/1"),  # with gradings, a lab value and the temperature chart
        ("nurse.kim", "/patients/1"),
        ("pharm.ana", "/patients/2"),  # with the bags
        ("alex.partner", "/today"),
        ("alex.partner", "/patients/1"),
        ("alex.partner", "/patients/1/check-in"),
        ("alex.partner", "/patients/1/calendar"),
        (None, "/about"),
        ("alex.partner", "/about/when-to-call?for=parent"),
        ("dr.lee", "/audit"),
        ("pharm.ana", "/bags/{bag}/worksheet"),
    ],
)
def test_no_serious_accessibility_violations(
    open_tab: OpenTab, records: Records, tmp_path: Path, who: str | None, path: str
) -> None:
    # axe is injected as a script, which the page's CSP forbids: this context bypasses it.
    tab = open_tab(bypass_csp=True)
    if who is not None:
        tab.log_in(who)
    tab.go(path.format(bag=records.bag_id))
    expect(tab.page.locator("main")).to_be_visible()
    tab.page.add_script_tag(path=str(AXE))
    result = tab.page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    tab.screenshot(tmp_path, "axe-" + re.sub(r"[^a-z0-9]+", "-", path.format(bag="bag")).strip("-"))
    assert serious == []
    assert tab.errors == []
