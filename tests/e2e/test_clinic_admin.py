"""A clinic runs itself from the pages, in a real Chromium (issue 18): a nurse registers a
patient and invites a caregiver; the caregiver opens the link on a phone, sets a password,
signs in and sees that patient's Today page. At 360, 768 and 1280 px; axe finds nothing
serious or critical on the new pages; no console error.

The flow registers patients, which the other browser tests' counts do not expect: it runs
against a demo clinic and server of its own (as ``conftest.server`` makes one).

Screenshots go under the test's tmp_path (the paths are printed); the README's
``docs/screenshots/register-patient.png`` and ``invite-caregiver.png`` are the 1280-px
run's.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Tab, new_tab, serving_demo

pytestmark = pytest.mark.e2e

AXE = Path(__file__).with_name("axe.min.js")
CHOSEN = "a password of my own"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo clinic in a data directory of its own, served until the module ends."""
    with serving_demo(tmp_path_factory.mktemp("e2e-admin-data")) as url:
        yield url


@pytest.fixture
def tabs(browser: Browser, own_server: str) -> Iterator[Callable[..., Tab]]:
    opened: list[Tab] = []

    def open_(**options: object) -> Tab:
        tab = new_tab(browser, own_server, "en-US", **options)  # type: ignore[arg-type]
        opened.append(tab)
        return tab

    yield open_
    for tab in opened:
        tab.context.close()


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


@pytest.mark.parametrize("width", [360, 768, 1280])
def test_register_a_patient_invite_a_caregiver_who_signs_in_to_their_today_page(
    tabs: Callable[..., Tab], tmp_path: Path, width: int
) -> None:
    code, caregiver = f"E2E-{width}", f"parent.{width}"
    # axe is injected as a script, which the page's CSP forbids: this context bypasses it.
    nurse = tabs(width=width, bypass_csp=True)
    nurse.log_in("nurse.kim")

    nurse.page.locator('nav a[data-link="clinic-patients"]').click()
    nurse.page.locator('a[data-link="register-patient"]').click()
    expect(nurse.page.locator("body")).to_have_attribute("data-page", "patient-new")
    nurse.page.locator("#code").fill(code)
    nurse.page.locator("#display_name").fill(f"Robin {width}")
    _no_serious_violations(nurse)
    _no_sideways_scroll(nurse)
    nurse.screenshot(tmp_path, f"register-patient-{width}")
    nurse.page.locator('button[data-submit="register-patient"]').click()
    expect(nurse.page.locator("body")).to_have_attribute("data-page", "patient")
    patient = nurse.page.url.rsplit("/", 1)[1]

    nurse.go(f"/patients/{patient}/family")
    nurse.page.locator('input[name="role"][value="caregiver"]').check()
    nurse.page.locator("#invite-display_name").fill("Jo, Robin's parent")
    nurse.page.locator("#invite-username").fill(caregiver)
    nurse.page.locator('button[data-submit="invite"]').click()
    link = nurse.page.locator("[data-invitation-url]")
    expect(link).to_be_visible()
    url = link.get_attribute("data-invitation-url")
    assert url is not None
    assert "/invite/" in url
    expect(nurse.page.locator(f'tr[data-username="{caregiver}"]')).to_have_attribute(
        "data-state", "pending"
    )
    _no_serious_violations(nurse)
    _no_sideways_scroll(nurse)
    nurse.screenshot(tmp_path, f"invite-caregiver-{width}")

    parent = tabs(width=min(width, 390), bypass_csp=True)
    parent.page.goto(url)
    expect(parent.page.locator("[data-invitation-for]")).to_have_attribute(
        "data-invitation-for", caregiver
    )
    _no_serious_violations(parent)
    parent.page.locator("#password").fill(CHOSEN)
    parent.page.locator("#password_again").fill(CHOSEN)
    parent.page.locator('button[data-submit="accept-invitation"]').click()
    expect(parent.page.locator('[data-invitation="done"]')).to_be_visible()
    parent.screenshot(tmp_path, f"invitation-accepted-{width}")
    parent.page.locator('a[data-link="login"]').click()
    parent.page.locator("#username").fill(caregiver)
    parent.page.locator("#password").fill(CHOSEN)
    parent.page.locator("form.login button[type=submit]").click()

    expect(parent.page.locator("body")).to_have_attribute("data-page", "today")
    expect(parent.page.locator('a[data-link="check-in"]')).to_have_attribute(
        "href", f"/patients/{patient}/check-in"
    )
    expect(parent.page.locator(".who")).to_have_attribute("data-role", "caregiver")
    nurse.go(f"/patients/{patient}/family")
    expect(nurse.page.locator(f'tr[data-username="{caregiver}"]')).to_have_attribute(
        "data-state", "used"
    )
    assert nurse.errors == []
    assert parent.errors == []


def test_the_admin_s_new_user_page_has_no_serious_violations(
    tabs: Callable[..., Tab], tmp_path: Path
) -> None:
    admin = tabs(width=1280, bypass_csp=True)
    admin.log_in("admin")
    admin.page.locator('nav a[data-link="clinic-users"]').click()
    admin.page.locator('a[data-link="create-user"]').click()
    admin.page.locator("#display_name").fill("Casey Nurse")
    admin.page.locator("#username").fill("casey.nurse")
    admin.page.locator("#role").select_option("nurse")
    _no_serious_violations(admin)
    admin.page.locator('button[data-submit="create-user"]').click()

    expect(admin.page.locator('[data-done="created"]')).to_be_visible()
    expect(admin.page.locator("[data-reset-url]")).to_be_visible()
    _no_serious_violations(admin)
    admin.screenshot(tmp_path, "create-user")
    assert admin.errors == []
