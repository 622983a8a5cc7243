"""A stored course of another therapy in a real Chromium, at a phone's 390 px and a
desk's 1280 px: the physician reads the demo CAR-T patient's page (the course's plan with
its warnings and sources, the forms to record what happened and to end it), and the form
that starts a course of another therapy shows its plan as it is filled (htmx). axe finds
nothing serious or critical; nothing scrolls sideways; no console error.

Nothing is stored (the start form is only filled), so the shared demo server serves it.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Tab

pytestmark = pytest.mark.e2e

AXE = Path(__file__).with_name("axe.min.js")


def _no_serious_violations(tab: Tab) -> None:
    tab.page.add_script_tag(path=str(AXE))
    found = tab.page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert serious == [], (tab.page.url, serious)


def _no_sideways_scroll(tab: Tab) -> None:
    wide = tab.page.evaluate("document.documentElement.scrollWidth")
    assert wide <= tab.page.viewport_size["width"], tab.page.url  # type: ignore[index]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_car_t_patients_page_shows_the_course_plan_and_the_forms(
    open_tab: Callable[..., Tab], tmp_path: Path, width: int
) -> None:
    tab = open_tab(width=width, bypass_csp=True)
    tab.log_in("dr.lee")
    tab.go("/patients/5")  # P-005, the demo's obecabtagene journey

    section = tab.page.locator('[data-section="therapy"]')
    expect(section).to_have_attribute("data-therapy", "obecabtagene")
    expect(section.locator("[data-warning]").first).to_have_attribute("data-boxed", "yes")
    expect(section.locator("section.sources li").first).to_be_visible()
    section.locator('[data-panel="therapy-change"] summary').click()
    expect(section.locator("#therapy-marrow_blasts_percent")).to_have_value("8")

    _no_serious_violations(tab)
    _no_sideways_scroll(tab)
    tab.screenshot(tmp_path, f"therapy-course-{width}")
    assert tab.errors_besides() == []


@pytest.mark.parametrize("width", [390, 1280])
def test_the_start_form_of_another_therapy_follows_what_is_filled(
    open_tab: Callable[..., Tab], width: int
) -> None:
    tab = open_tab(width=width, bypass_csp=True)
    tab.log_in("dr.lee")
    tab.go("/patients/1/courses/new")
    tab.page.locator('[data-picker="course-therapy"] [data-therapy="inotuzumab"] a').click()
    expect(tab.page.locator("body")).to_have_attribute("data-page", "therapy-course-new")
    expect(tab.page.locator("[data-preview=empty]")).to_be_visible()

    tab.page.locator("#bsa_m2").fill("1.72")
    tab.page.locator("#start").fill("2026-12-14")
    tab.page.locator("#transplant").select_option("planned")
    plan = tab.page.locator('#therapy-plan [data-preview="plan"]')
    expect(plan).to_have_attribute("data-therapy", "inotuzumab")
    expect(plan.locator("tbody[data-date]").first).to_have_attribute("data-label", "C1 D1")

    _no_serious_violations(tab)
    _no_sideways_scroll(tab)
    assert tab.errors_besides() == []
