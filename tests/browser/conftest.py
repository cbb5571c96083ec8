"""Browser tests: Playwright for Python driving Debian's Chromium (/usr/bin/chromium) against live_server.

Browsers cannot be downloaded here, so Playwright's own bundled browsers are never used; `make test` installs the
Debian package. Screenshots go to docs/screenshots/ when SCREENSHOTS=1 (see the `shoot` fixture).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Flags from the machine notes: no background networking (the sandbox has no network), no sandbox as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run `make system-deps` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def shoot():
    """shoot(page, "home-desktop") saves docs/screenshots/home-desktop.png when SCREENSHOTS=1."""

    def save(page, name: str) -> None:
        if os.environ.get("SCREENSHOTS") == "1":
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)

    return save


@pytest.fixture
def logged_in(staff_user):
    """Log a Playwright page in as the staff user through the real admin login form."""

    def login(page) -> None:
        page.goto("/admin/login/")
        page.fill("#id_username", staff_user.username)
        page.fill("#id_password", "s3cret-pass!")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")

    return login
