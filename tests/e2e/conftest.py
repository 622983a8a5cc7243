"""One demo clinic served by the real ``blina serve`` on a free loopback port, and the
system's Chromium driven by Playwright (no ``playwright install``: the test command
installs Chromium from the system packages when missing, see ``scripts/setup``)."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    sync_playwright,
)

from blina.demo import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo clinic in a fresh data directory, served until the session ends."""
    data = tmp_path_factory.mktemp("e2e-data")
    env = {**os.environ, "BLINA_DATA_DIR": str(data)}
    env.pop("BLINA_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "blina", "demo"], env=env, check=True, capture_output=True
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "blina", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("server did not start within 60 s")
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@dataclass
class Tab:
    """A page in its own browser context, recording console errors as they happen."""

    page: Page
    context: BrowserContext
    base: str
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def log_in(self, username: str) -> None:
        self.go("/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(DEMO_PASSWORD)
        self.page.locator("form.login button[type=submit]").click()
        self.page.wait_for_load_state()

    def errors_besides(self, *statuses: int) -> list[str]:
        """Console errors, without the browser's note of an expected error status (a form
        re-shown with 422, a refused page with 404)."""
        expected = tuple(f"status of {status} " for status in statuses)
        return [e for e in self.errors if not any(mark in e for mark in expected)]

    def screenshot(self, directory: Path, name: str) -> Path:
        path = directory / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def open_tab(browser: Browser, server: str) -> Iterator[Callable[..., Tab]]:
    tabs: list[Tab] = []

    def open_(locale: str = "en-US", *, bypass_csp: bool = False) -> Tab:
        context = browser.new_context(
            locale=locale, bypass_csp=bypass_csp, viewport={"width": 390, "height": 844}
        )
        tab = Tab(context.new_page(), context, server)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                tab.errors.append(message.text)

        def on_error(error: Error) -> None:
            tab.errors.append(str(error))

        tab.page.on("console", on_console)
        tab.page.on("pageerror", on_error)
        tabs.append(tab)
        return tab

    yield open_
    for tab in tabs:
        tab.context.close()
