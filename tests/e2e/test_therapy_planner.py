"""The staff therapy planner in a real Chromium, at a phone's 390 px and a desk's 1280 px:
a physician opens it from the navigation, picks inotuzumab, fills the form and sees the
plan follow (htmx), its boxed warning first, its gaps and sources; the same page answers
without JavaScript. axe finds nothing serious or critical; nothing scrolls sideways; no
console error.

The planner stores nothing, so the shared demo server serves it. Screenshots go under the
test's tmp_path (the paths are printed); the README's ``docs/screenshots/
therapy-planner.png`` is the 1280-px run's.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

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
def test_a_physician_plans_inotuzumab_and_sees_it_follow_the_form(
    open_tab: Callable[..., Tab], tmp_path: Path, width: int
) -> None:
    # axe is injected as a script, which the page's CSP forbids: this context bypasses it.
    tab = open_tab(width=width, bypass_csp=True)
    tab.log_in("dr.lee")
    tab.page.locator('nav a[data-link="therapy-planner"]').click()
    expect(tab.page.locator("body")).to_have_attribute("data-page", "therapy-plan")
    tab.page.locator('[data-therapy="inotuzumab"] a').click()
    expect(tab.page.locator("[data-preview=empty]")).to_be_visible()
    _no_serious_violations(tab)

    tab.page.locator("#bsa_m2").fill("1.72")
    tab.page.locator("#start").fill("2027-01-04")
    tab.page.locator("#transplant").select_option("not-planned")
    plan = tab.page.locator('#therapy-plan [data-preview="plan"]')
    expect(plan).to_have_attribute("data-therapy", "inotuzumab")
    expect(plan.locator("tbody[data-date]").first).to_have_attribute("data-label", "C1 D1")
    first_dose = plan.locator('tbody[data-label="C1 D1"] tr[data-kind="dose"] [data-dose]')
    expect(first_dose).to_have_text("1.376 mg")  # 0.8 mg/m2 x 1.72 m2
    expect(plan.locator("[data-warning]").first).to_have_attribute("data-boxed", "yes")
    expect(plan.locator("[data-gap]").first).to_be_visible()
    expect(plan.locator("section.sources li").first).to_be_visible()

    tab.page.locator("#responses").fill("cr, great")
    expect(tab.page.locator('#therapy-plan [data-error-for="responses"]')).to_be_visible()
    tab.page.locator("#responses").fill("cr")
    expect(plan.locator('tbody[data-label="C2 D1"]')).to_be_visible()

    _no_serious_violations(tab)
    _no_sideways_scroll(tab)
    tab.screenshot(tmp_path, f"therapy-planner-{width}")
    assert tab.errors_besides() == []


def test_the_planner_works_without_javascript(browser: Browser, server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    tab = Tab(context.new_page(), context, server)
    try:
        tab.log_in("nurse.kim")
        tab.go("/plan?therapy=gemtuzumab")
        tab.page.locator("#bsa_m2").fill("1.9")
        tab.page.locator("#weight_kg").fill("80")
        tab.page.locator('[id="host_day1.induction"]').fill("2027-01-04")
        tab.page.locator("form.therapy-form button[type=submit]").click()
        plan = tab.page.locator('#therapy-plan [data-preview="plan"]')
        expect(plan).to_have_attribute("data-therapy", "gemtuzumab")
        doses = plan.locator('tr[data-kind="dose"] [data-dose]')
        expect(doses).to_have_text(["4.5 mg"] * 3)  # 3 mg/m2 x 1.9 m2, capped per dose
        expect(tab.page.locator("#bsa_m2")).to_have_value("1.9")
    finally:
        context.close()
