"""A bag from the bench to the pump in a real Chromium, on the demo clinic's P-004 (an
adult whose infusion was stopped six hours ago for a grade-3 CRS):

the physician records the restart → the state banner says the infusion runs again at the
restart dose → a pharmacist prepares the restart bag, a second one verifies it → the nurse
types the bag's code with a pump rate seven times too fast (a hard stop naming the
difference, nothing stored) → then the bag's own program → the banner shows the bag on
the pump, at a phone's width and a desktop's, and the Clinic today list marks the bag
change done.

Screenshots go under tmp_path (the path is printed); any console error fails the test.
"""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect

from tests.e2e.conftest import Tab

pytestmark = pytest.mark.e2e

OpenTab = Callable[..., Tab]

PATIENT = "/patients/4"  # P-004, "infusion interrupted" in the demo clinic


def _no_sideways_scroll(tab: Tab) -> None:
    scroll, window = tab.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= window


def _shot(element: Locator, directory: Path, name: str) -> None:
    path = directory / f"{name}.png"
    element.screenshot(path=str(path))
    print(f"screenshot: {path}")


def test_restart_then_prepare_verify_and_hang_by_typed_code(
    open_tab: OpenTab, tmp_path: Path
) -> None:
    doctor = open_tab(width=1280)
    doctor.log_in("dr.lee")
    doctor.go(PATIENT)
    banner = doctor.page.locator("section.state-banner")
    expect(banner).to_have_attribute("data-phase", "interrupted")
    expect(banner.locator(".restart-needs li").first).to_be_visible()
    doctor.screenshot(tmp_path, "banner-interrupted-1280")

    # The restart, at the form's default time (now), from the form opened on the page.
    doctor.page.locator('details[data-panel="event"] > summary').click()
    doctor.page.locator('form[data-form="event"] input[name="kind"][value="restart"]').check()
    doctor.page.locator('button[data-submit="event"]').click()
    expect(banner).to_have_attribute("data-phase", "infusing")
    infusing = banner.locator('[data-state="infusing"]')
    expect(infusing.locator('[data-restarted="crs"]')).to_be_visible()
    dose = Decimal(str(infusing.get_attribute("data-dose")).split()[0])
    next_bag = banner.locator("[data-next-bag]")
    expect(next_bag).to_be_visible()
    expect(banner.locator('[data-to-do="overdue"]')).to_have_count(1)

    # Two pharmacists: prepare (with a reason for each soft check) and verify.
    ana, ben = open_tab(), open_tab()
    ana.log_in("pharm.ana")
    ana.go(PATIENT)
    ana.page.locator('button[data-action="prepare"]').click()
    reasons = ana.page.locator("form.prepare input[name^=override-]")
    if reasons.count():  # the site library's soft checks: a reason for each
        for index in range(reasons.count()):
            reasons.nth(index).fill("checked against the current label")
        ana.page.locator('button[data-action="prepare"]').click()
    row = ana.page.locator("tr[data-bag]").last
    expect(row).to_have_attribute("data-bag-status", "prepared")
    bag_id = str(row.get_attribute("data-bag"))
    code = str(row.get_attribute("data-code"))
    # The restart bag is at the restart dose, not the dose before the interruption.
    assert Decimal(row.locator("td").nth(2).inner_text().strip()) == dose
    ben.log_in("pharm.ben")
    ben.go(PATIENT)
    ben.page.locator(f'tr[data-bag="{bag_id}"] button[data-action="verify"]').click()
    expect(ben.page.locator(f'tr[data-bag="{bag_id}"]')).to_have_attribute(
        "data-bag-status", "verified"
    )

    # The pump program, as the worksheet gives it.
    ben.go(f"/bags/{bag_id}/worksheet")
    _shot(ben.page.locator("section.bag-label"), tmp_path, "bag-label-390")
    rate = Decimal(
        str(
            ben.page.locator('tr[data-field="rate_ml_per_h"] td[data-value]').get_attribute(
                "data-value"
            )
        )
    )
    volume = str(
        ben.page.locator('tr[data-field="infuse_ml"] td[data-value]').get_attribute("data-value")
    )

    # The nurse, on a phone: a rate seven times too fast is a hard stop, nothing is hung.
    nurse = open_tab()
    nurse.log_in("nurse.kim")
    nurse.go(PATIENT)
    hang = nurse.page.locator('form[data-form="hang"]')
    hang.locator("#hang-code").fill(code.lower())  # typed in lower case from the label
    hang.locator("#hang-rate").fill(str(rate * 7))
    hang.locator("#hang-volume").fill(volume)
    hang.locator('button[data-action="hang"]').click()
    error = nurse.page.locator('[data-error-for="hang"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("an overdose of 7.00 times")
    expect(nurse.page.locator(f'tr[data-bag="{bag_id}"]')).to_have_attribute(
        "data-bag-status", "verified"
    )
    _shot(nurse.page.locator('form[data-form="hang"]'), tmp_path, "hang-refused-390")

    hang = nurse.page.locator('form[data-form="hang"]')
    hang.locator("#hang-code").fill(code)
    hang.locator("#hang-rate").fill(str(rate))
    hang.locator("#hang-volume").fill(volume)
    hang.locator('button[data-action="hang"]').click()
    banner = nurse.page.locator("section.state-banner")
    expect(banner.locator(f'[data-running="{code}"]')).to_be_visible()
    expect(banner.locator("[data-to-do]")).to_have_count(0)
    expect(nurse.page.locator(f'tr[data-bag="{bag_id}"]')).to_have_attribute(
        "data-bag-status", "hung"
    )
    _no_sideways_scroll(nurse)
    _shot(nurse.page.locator("section.state-banner"), tmp_path, "banner-hung-390")

    doctor.go(PATIENT)
    expect(doctor.page.locator(f'section.state-banner [data-running="{code}"]')).to_be_visible()
    _no_sideways_scroll(doctor)
    _shot(doctor.page.locator("section.state-banner"), tmp_path, "banner-hung-1280")

    # The clinic's task list: the restart bag's change is done, with its code.
    nurse.go("/")
    task = nurse.page.locator(f'li[data-task-kind="bag-change"][data-bag-code="{code}"]')
    expect(task).to_have_attribute("data-task-state", "done")

    assert doctor.errors == []
    assert ana.errors_besides(422) == []
    assert ben.errors == []
    assert nurse.errors_besides(422) == []
