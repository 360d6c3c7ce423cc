"""The page loads signed in and shows the home screen."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import open_page
from tests.server.conftest import Studio


def test_home_loads(chromium: object, live: Studio, shots: Path) -> None:
    page = open_page(chromium, live)
    page.get_by_role("heading", name="PEFT Studio").wait_for()  # type: ignore[attr-defined]
    assert page.get_by_role("button", name="New training").is_visible()  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "home-empty-light.png"))  # type: ignore[attr-defined]
