"""The wizard walked with real clicks and keys in Chromium on a real tiny-llama run: training, pause,
resume and completion; screenshots of each screen, light and dark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import open_page, wait_until
from tests.server.conftest import Studio

pytestmark = pytest.mark.slow


def walk_to_review(page, shots: Path | None, suffix: str = "light", data: str = "sample:pirate_chat.jsonl",
                   max_steps: int = 60) -> None:  # type: ignore[no-untyped-def]
    def shot(name: str) -> None:
        if shots is not None:
            page.screenshot(path=str(shots / f"{name}-{suffix}.png"))

    page.get_by_role("button", name="New training").click()
    page.get_by_role("heading", name="Welcome").wait_for()
    shot("wizard-1-welcome")
    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_role("heading", name="Use case").wait_for()
    page.locator("input[value=chatbot]").wait_for()
    page.locator("input[value=chatbot]").check()
    shot("wizard-2-usecase")
    page.get_by_role("button", name="Next").click()
    page.locator("input[value='builtin:tiny-llama']").check()
    shot("wizard-3-model")
    page.get_by_role("button", name="Next").click()
    if data.startswith("sample:"):
        page.get_by_label("Sample data").select_option(data)
    else:
        page.locator("input[type=file]").set_input_files(data)
    page.get_by_test_id("data-summary").wait_for()
    shot("wizard-4-data")
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Step limit").fill(str(max_steps))
    page.get_by_label("Checkpoint every").fill("4")
    page.get_by_label("Validation every").fill("8")  # validation is the slow part of a tiny run
    page.wait_for_timeout(600)  # re-planned after a short pause
    shot("wizard-5-settings")
    page.get_by_role("button", name="Next").click()
    page.get_by_test_id("review-time").wait_for()
    assert "at the speed expected of this kind of hardware" in page.get_by_test_id("review-time").inner_text()
    shot("wizard-6-review")


def test_wizard_trains_pauses_resumes_and_completes(chromium: object, live: Studio, shots: Path) -> None:
    page = open_page(chromium, live)
    page.get_by_role("heading", name="PEFT Studio").wait_for()  # type: ignore[attr-defined]
    walk_to_review(page, shots, max_steps=16)
    page.get_by_label("Name").fill("Pirates 🏴‍☠️ 海盗 قراصنة")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save as preset").click()  # type: ignore[attr-defined]
    page.get_by_text("Saved as the preset").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Start training").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="Pirates").wait_for()  # type: ignore[attr-defined]
    wait_until(lambda: page.get_by_test_id("loss").inner_text() not in ("–", ""))  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "dashboard-running-light.png"))  # type: ignore[attr-defined]
    page.get_by_role("button", name="Pause").click()  # type: ignore[attr-defined]
    page.get_by_text("Paused at step").wait_for(timeout=120_000)  # type: ignore[attr-defined]
    assert "Paused" in page.title()  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "dashboard-paused-light.png"))  # type: ignore[attr-defined]
    # home lists the run with Resume; resume from there
    page.get_by_role("button", name="← Home").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Resume Pirates 🏴‍☠️ 海盗 قراصنة").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Pause").wait_for()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Pause").click()  # type: ignore[attr-defined]
    page.get_by_text("Paused at step").wait_for(timeout=120_000)  # type: ignore[attr-defined]
    # and on to the end, from the dashboard's own Resume
    page.get_by_role("button", name="Resume").click()  # type: ignore[attr-defined]
    page.get_by_text("Finished:").wait_for(timeout=600_000)  # type: ignore[attr-defined]
    assert "Done" in page.title()  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "dashboard-completed-light.png"))  # type: ignore[attr-defined]
