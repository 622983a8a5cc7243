"""The patient page in a real Chromium at a phone's width (360 px), a tablet's (768 px)
and a desktop's (1280 px): after a refused event the error summary is on screen and has
the focus (with no script of the page's own: autofocus and the form's #fragment); nothing
scrolls sideways, the tables are labelled cards on a phone, the sections are one tap
away, and axe finds nothing serious or critical. Screenshots of the page (the path is
printed) are the README's ``patient-now-390.png`` and ``patient-page-1280.png``.
"""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Records, Tab

pytestmark = pytest.mark.e2e

OpenTab = Callable[..., Tab]

WIDTHS = (360, 768, 1280)
AXE = Path(__file__).with_name("axe.min.js")

_SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


def _serious_axe_violations(tab: Tab) -> list[dict[str, object]]:
    tab.page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = tab.page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_event_is_summarised_in_view_with_the_focus(
    open_tab: OpenTab, tmp_path: Path, width: int
) -> None:
    # axe is injected as a script, which the page's CSP forbids: this context bypasses it.
    tab = open_tab(bypass_csp=True, width=width, height=800)
    tab.log_in("dr.lee")
    tab.go("/patients/2")
    tab.page.locator('details[data-panel="event"] > summary').click()
    form = tab.page.locator('form[data-form="event"]')
    later = "2100-01-01T10:00"  # after now: refused, naming now in clinic time
    form.locator("#event-at").fill(later)
    form.locator('button[data-submit="event"]').click()
    tab.page.wait_for_load_state()

    summary = tab.page.locator('form[data-form="event"] > .error-summary')
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    # not under the sections' navigation (were it to stay on screen while scrolling)
    top = summary.bounding_box()
    nav = tab.page.locator("nav.sections").bounding_box()
    assert top is not None
    assert nav is not None
    assert top["y"] >= nav["y"] + nav["height"] - 0.5, (top, nav)
    assert tab.page.url.endswith("#event-problems")
    text = summary.inner_text()
    assert text.count("When (clinic time): ") == 1, text
    assert not re.search(r"events\[|\+\d\d:\d\d|\d{4}-\d\d-\d\dT", text), text
    # the field is marked and what was typed is kept
    at = tab.page.locator("#event-at")
    expect(at).to_have_attribute("aria-invalid", "true")
    expect(at).to_have_value(later)
    # the summary's line goes to the field
    summary.locator('a[href="#event-at"]').click()
    expect(at).to_be_in_viewport()

    assert tab.page.evaluate(_SIDEWAYS) <= 0
    tab.screenshot(tmp_path, f"event-refused-{width}")
    assert _serious_axe_violations(tab) == []
    assert tab.errors_besides(422) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sections_fit_the_width_and_are_one_tap_away(
    open_tab: OpenTab, records: Records, tmp_path: Path, width: int
) -> None:
    tab = open_tab(bypass_csp=True, width=width, height=800)
    tab.log_in("dr.lee")
    tab.go("/patients/1")
    links = tab.page.locator("nav.sections a")
    expect(links).to_have_count(7)
    assert tab.page.evaluate(_SIDEWAYS) <= 0
    tab.page.locator('nav.sections a[href="#check-ins"]').click()
    expect(tab.page.locator("#check-ins h2")).to_be_in_viewport()
    assert tab.page.url.endswith("#check-ins")

    # the calendar, opened: its premedication and bag changes are on screen at every width
    tab.page.locator('details[data-panel="calendar"] > summary').click()
    cells = tab.page.locator(
        'table.calendar td[data-label="Premedication"], table.calendar td[data-label="Bag changes"]'
    )
    for index in range(min(cells.count(), 6)):
        box = cells.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= width + 0.5, box
    display = tab.page.locator("table.calendar tbody td").first.evaluate(
        "td => getComputedStyle(td).display"
    )
    label = tab.page.locator("table.calendar tbody td").first.evaluate(
        "td => getComputedStyle(td, '::before').content"
    )
    if width < 640:  # cards: each cell under its column's name
        assert display == "block"
        assert label == '"Dates: "'
    else:
        assert display == "table-cell"
    assert tab.page.evaluate(_SIDEWAYS) <= 0
    assert _serious_axe_violations(tab) == []
    assert tab.errors == []


def test_screenshots_of_the_patient_page(
    open_tab: OpenTab, records: Records, tmp_path: Path
) -> None:
    """The README's pictures: the Now section on a phone, the whole page on a desktop."""
    phone = open_tab(width=390, height=844)
    phone.log_in("dr.lee")
    phone.go("/patients/1")
    now = phone.page.locator("#now")
    expect(now.locator("section.state-banner")).to_be_visible()
    path = tmp_path / "patient-now-390.png"
    now.screenshot(path=str(path))
    print(f"screenshot: {path}")

    desktop = open_tab(width=1280, height=900)
    desktop.log_in("dr.lee")
    desktop.go("/patients/1")
    expect(desktop.page.locator("figure.timeline line.today-mark")).to_have_count(1)
    desktop.screenshot(tmp_path, "patient-page-1280")
    assert phone.errors == desktop.errors == []
