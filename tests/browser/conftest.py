"""Debian's Chromium driven by Playwright against a real studio server; pages are signed in by the
printed link. Screenshots go to a temporary folder, or to docs/screenshots with `make screenshots`."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import LOGIN, Studio, local_studio

CHROMIUM = os.environ.get("PEFTSTUDIO_CHROMIUM", "/usr/bin/chromium")
# what Chromium needs on this closed network, as root, headless
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
STATIC = Path(__file__).resolve().parents[2] / "peftstudio" / "server" / "static" / "index.html"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists() or not STATIC.is_file():
        why = "no Chromium at " + CHROMIUM if not Path(CHROMIUM).exists() else "the page is not built (make setup)"
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture(scope="package")  # not session: its event loop must end with the browser tests (later tests call asyncio.run)
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots under `make screenshots`, else a temporary folder."""
    folder = Path(os.environ.get("PEFTSTUDIO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def live(tmp_path: Path, fresh_home: Path) -> Iterator[Studio]:
    yield from local_studio(tmp_path)


def open_page(chromium: object, studio: Studio, *, dark: bool = False, hash: str = "", axe: bool = False) -> object:
    """A new signed-in page (its own context: cookies, colour scheme) showing the studio; `axe` lets the
    tests inject axe-core (an inline script the page's own CSP refuses)."""
    context = chromium.new_context(color_scheme="dark" if dark else "light",  # type: ignore[attr-defined]
                                   viewport={"width": 1200, "height": 900}, locale="en-GB", bypass_csp=axe)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{studio.url}/?token={LOGIN}")  # the printed link: exchanged once for the cookie
    if hash:
        page.goto(f"{studio.url}/{hash}")
    return page


def wait_until(check, timeout: float = 120.0, every: float = 0.25):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


__all__ = ["open_page", "shutil", "threading", "wait_until"]
