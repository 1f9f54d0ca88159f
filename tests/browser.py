"""A real browser for the pages the bot serves: Debian's ``chromium`` driven through ``chromium-driver`` by Selenium.

Selenium is synchronous and the app under test is served on the test's own event loop, so every browser step
runs in a worker thread (``await page.run(driver.get, url)``): the loop stays free to answer the browser.

Without Chromium the browser tests are skipped with the reason (install ``chromium chromium-driver`` from apt);
under ``CI=true`` a missing browser is a failure instead, so CI cannot pass without having run them.
"""
from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
UPDATE_SCREENSHOTS = "--update-screenshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(UPDATE_SCREENSHOTS, action="store_true",
                     help="write the browser tests' screenshots to docs/screenshots (docs/ shows them); "
                          "without it they go to a temporary folder and the working tree stays clean")


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} is missing: install Debian's chromium and chromium-driver (apt) to run the browser tests"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


class Page:
    """One browser tab; ``run`` calls a Selenium function off the event loop."""

    def __init__(self, driver: Any, screenshots: Path) -> None:
        self.driver = driver
        self.screenshots = screenshots

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(call, *args)

    async def open(self, url: str) -> None:
        await self.run(self.driver.get, url)

    async def screenshot(self, name: str) -> Path:
        """Save a PNG: under docs/screenshots with --update-screenshots (docs/ shows them), else in a
        temporary folder."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        await self.run(self.driver.save_screenshot, str(path))
        return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM) or CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER) or CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests' screenshots go."""
    if request.config.getoption(UPDATE_SCREENSHOTS):
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(chromium: Any, screenshots: Path) -> Iterator[Page]:
    """A clean tab for one test (cookies and the previous page forgotten)."""
    chromium.delete_all_cookies()
    yield Page(chromium, screenshots)
    chromium.get("about:blank")
