"""A CAR-T family's Today page and calendar in Chromium at a phone's width, 390 px
(issue 19): the demo's Robin, days before an obecabtagene first infusion. The therapy is
named, the next dose day and the therapy's own warning signs are shown, the care team's
numbers come first; nothing scrolls sideways and axe finds nothing serious or critical.
Screenshot: car-t-today-390.png under the test's tmp_path (the path is printed;
docs/screenshots/ holds a copy).
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Tab
from tests.e2e.test_family_phone import _serious_axe_violations

pytestmark = pytest.mark.e2e

OpenTab = Callable[..., Tab]
WIDTH, HEIGHT = 390, 844


def _robin(open_tab: OpenTab) -> Tab:
    tab = open_tab(width=WIDTH, height=HEIGHT, bypass_csp=True)  # axe is an injected script
    tab.log_in("robin.partner")
    expect(tab.page.locator("body")).to_have_attribute("data-page", "today")
    return tab


def _sideways(tab: Tab) -> int:
    width: int = tab.page.evaluate("document.scrollingElement.scrollWidth")
    return width


def test_a_car_t_family_s_today_at_390_px(open_tab: OpenTab, tmp_path: Path) -> None:
    tab = _robin(open_tab)

    part = tab.page.locator("[data-therapy-today]")
    expect(part).to_have_attribute("data-therapy-today", "obecabtagene")
    expect(part.locator("[data-therapy-name]")).to_contain_text("AUCATZYL")
    expect(part.locator("[data-next-dose]")).not_to_have_attribute("data-next-dose", "")
    help_now = tab.page.locator("[data-help-now]")
    expect(help_now.locator("[data-care-team-phone]")).to_be_in_viewport()
    signs = tab.page.locator("[data-therapy-signs]")
    expect(signs).to_have_attribute("data-therapy-signs", "obecabtagene")
    assert signs.locator("[data-rule][data-window]").count() > 0
    assert tab.page.locator("[data-next-bag]").count() == 0
    assert _sideways(tab) <= WIDTH
    tab.screenshot(tmp_path, "car-t-today-390")
    assert _serious_axe_violations(tab) == []
    assert tab.errors == []


def test_a_car_t_family_s_calendar_at_390_px(open_tab: OpenTab, tmp_path: Path) -> None:
    tab = _robin(open_tab)

    tab.page.locator('nav a[href$="/calendar"]').click()
    expect(tab.page.locator("body")).to_have_attribute("data-page", "calendar")

    table = tab.page.locator("[data-therapy-calendar]")
    expect(table).to_have_attribute("data-therapy-calendar", "obecabtagene")
    assert table.locator("tr[data-dose]").count() == 2, "obecabtagene's split dose"
    expect(tab.page.locator('a[data-link="ics"]')).to_be_visible()
    assert _sideways(tab) <= WIDTH
    tab.screenshot(tmp_path, "car-t-calendar-390")
    assert _serious_axe_violations(tab) == []
    assert tab.errors == []
