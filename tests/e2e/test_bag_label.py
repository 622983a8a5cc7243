"""A stored bag's label in a real Chromium: its QR code, drawn into a canvas in the page
and decoded with the vendored jsQR, gives exactly the bag's code; and the hang form's
"Scan the label" reads that code from a camera (Chromium's fake camera playing a Y4M
video of the label's QR code) into the code field.

Each test saves a screenshot under its tmp_path (the path is printed) and fails on any
console error.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect

from blina.interop.bag_label import QR_BORDER_MODULES, qr_code
from blina.web import i18n
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Records, Tab, new_tab

pytestmark = pytest.mark.e2e

OpenTab = Callable[..., Tab]

# Draws the label's QR code (the SVG as the page has it) into a canvas at 10 px a module,
# then decodes the canvas with jsQR: what a phone would read from the printed label.
_DECODE_LABEL = """
async () => {
  const svg = document.querySelector('[data-label="bag"] [data-label-qr] svg');
  const image = new Image();
  image.src = "data:image/svg+xml;charset=utf-8,"
    + encodeURIComponent(new XMLSerializer().serializeToString(svg));
  await image.decode();
  const size = 10 * svg.viewBox.baseVal.width;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(image, 0, 0, size, size);
  const found = jsQR(context.getImageData(0, 0, size, size).data, size, size);
  return found === null ? null : found.data;
}
"""


def _bag_code(tab: Tab, records: Records) -> str:
    """The code of the bag ``records`` prepared for P-002, from its worksheet page."""
    tab.go(f"/bags/{records.bag_id}/worksheet")
    code = tab.page.locator('[data-label="bag"]').get_attribute("data-bag-code")
    assert code is not None
    return code


def test_worksheet_label_qr_decodes_to_the_bag_code(
    open_tab: OpenTab, records: Records, server: str, tmp_path: Path
) -> None:
    tab = open_tab()
    tab.log_in("pharm.ana")
    code = _bag_code(tab, records)

    expect(tab.page.locator(".bag-facts")).to_contain_text(f"Bag {code}, due on the pump at")
    label = tab.page.locator('[data-label="bag"]')
    expect(label.locator('[data-label-field="code"]')).to_have_text(code)
    expect(label.locator('[data-label-field="patient_identifier"]')).to_have_text("P-002")
    expect(label.locator("[data-label-qr] svg")).to_be_visible()
    # The QR is at least 0.5 mm a module on paper: CSS has 96 px to 25.4 mm.
    width = label.locator("[data-label-qr] svg").bounding_box()
    assert width is not None
    assert width["width"] >= 29 * 0.5 * 96 / 25.4
    tab.page.add_script_tag(url=f"{server}/static/vendor/jsQR.js")  # the CSP allows 'self'

    assert tab.page.evaluate(_DECODE_LABEL) == code
    tab.screenshot(tmp_path, "bag-label")
    assert tab.errors == []


# --- scanning with a camera -------------------------------------------------------------

WIDTH, HEIGHT = 640, 480
BLACK, WHITE = 16, 235  # video range luma


def write_y4m(path: Path, code: str, *, frames: int = 10, pixels_per_module: int = 8) -> None:
    """A short 640x480 Y4M video (4:2:0, grey) of ``code``'s QR code as the label has it,
    quiet zone included, centred on white: what Chromium's fake camera plays in a loop."""
    rows = list(qr_code(code).matrix_iter(scale=pixels_per_module, border=QR_BORDER_MODULES))
    left, top = (WIDTH - len(rows[0])) // 2, (HEIGHT - len(rows)) // 2
    luma = bytearray([WHITE]) * (WIDTH * HEIGHT)
    for y, row in enumerate(rows):
        start = (top + y) * WIDTH + left
        luma[start : start + len(row)] = bytes(BLACK if dark else WHITE for dark in row)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)


@pytest.fixture
def camera_browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Browser]]:
    """Launches a Chromium whose camera plays a video of a code's QR code (no prompt)."""
    launched: list[Browser] = []

    def launch(code: str) -> Browser:
        video = tmp_path_factory.mktemp("camera") / "label.y4m"
        write_y4m(video, code)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


def test_nurse_scans_the_label_with_the_camera_into_the_hang_form(
    open_tab: OpenTab,
    camera_browser: Callable[[str], Browser],
    records: Records,
    server: str,
    tmp_path: Path,
) -> None:
    pharmacist = open_tab()
    pharmacist.log_in("pharm.ana")
    code = _bag_code(pharmacist, records)

    nurse = new_tab(camera_browser(code), server)
    try:
        nurse.context.grant_permissions(["camera"], origin=server)
        nurse.log_in("nurse.kim")
        nurse.go("/patients/2")
        form = nurse.page.locator('form[data-form="hang"]')
        scan = form.locator('button[data-action="scan"]')
        expect(scan).to_have_text("Scan the label")
        scan.click()

        expect(form.locator("#hang-code")).to_have_value(code, timeout=15_000)
        expect(form.locator("#hang-rate")).to_be_focused()
        expect(form.locator('[data-scan="video"]')).to_be_hidden()  # the camera is stopped
        assert nurse.page.evaluate(
            "document.querySelector('[data-scan=\"video\"]').srcObject === null"
        )
        expect(form.locator('[data-scan="status"]')).to_have_text(
            "Code read from the label: check it against the bag, then enter the pump program."
        )
        nurse.screenshot(tmp_path, "hang-form-scanned")
        assert nurse.errors == []
    finally:
        nurse.context.close()
    assert pharmacist.errors == []


def test_scan_without_a_camera_says_so_and_typing_still_works(
    open_tab: OpenTab, tmp_path: Path
) -> None:
    # The usual test Chromium has no camera and no one to allow it: the scan says so.
    tab = open_tab("es-ES")
    tab.log_in("nurse.kim")
    tab.go("/patients/2")
    words = i18n.gettext_for("es")
    form = tab.page.locator('form[data-form="hang"]')
    scan = form.locator('button[data-action="scan"]')
    expect(scan).to_have_text(words("Scan the label"))
    scan.click()

    told = {
        words("The camera was not allowed: type the code from the label."),
        words("No camera could be used: type the code from the label."),
    }
    status = form.locator('[data-scan="status"]')
    expect(status).not_to_be_empty()
    assert status.inner_text() in told
    expect(scan).to_be_visible()
    form.locator("#hang-code").fill("ABCD2345")
    expect(form.locator("#hang-code")).to_have_value("ABCD2345")
    tab.screenshot(tmp_path, "hang-form-no-camera")
    assert tab.errors == []
