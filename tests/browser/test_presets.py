"""The presets screen in Chromium: a preset saved from the wizard on a GPU box (an RTX 4090, simulated by the
library), found by search and filter, downloaded as a file, then imported on "a smaller machine" (a laptop
without a GPU, simulated the same way) by upload, its adjustments listed before anything is stored, and opened
in the wizard filled in; a broken file dropped on the page gets a plain message and changes nothing; axe finds
nothing serious; screenshots light and dark."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from peftstudio.hardware import simulated_hardware
from tests.browser.conftest import open_page
from tests.browser.helpers import axe_violations
from tests.browser.test_wizard import walk_to_review
from tests.server.simulated import SimulatedStudio, simulated_studio

pytestmark = pytest.mark.slow


@pytest.fixture
def gpu_box(tmp_path: Path, fresh_home: Path) -> Iterator[SimulatedStudio]:
    with simulated_studio(tmp_path, simulated_hardware("RTX 4090")) as studio:
        yield studio


def _drop(page: Any, name: str, text: str) -> None:
    """Drop a file on the import area, as a file manager's drag and drop does."""
    transfer = page.evaluate_handle("""([name, text]) => { const dt = new DataTransfer();
        dt.items.add(new File([text], name, {type: "application/json"})); return dt; }""", [name, text])
    page.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": transfer})


def _names(studio: SimulatedStudio) -> list[str]:
    with studio.client() as c:
        return [p["name"] for p in c.get("/api/presets").json()["presets"]]


def test_a_preset_saved_downloaded_and_imported_on_a_smaller_machine(chromium: object, gpu_box: SimulatedStudio,
                                                                      shots: Path, tmp_path: Path) -> None:
    page: Any = open_page(chromium, gpu_box, axe=True)
    page.get_by_role("heading", name="PEFT Studio").wait_for()
    walk_to_review(page, None)
    page.get_by_label("Name").fill("Pirate bot")
    page.get_by_role("button", name="Save as preset").click()
    page.get_by_text("Saved as the preset “Pirate bot”.").wait_for()

    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Presets").click()
    page.get_by_role("heading", name="Presets").wait_for()
    card = page.get_by_role("listitem", name="Pirate bot")
    assert "chatbot · builtin:tiny-llama" in card.inner_text()
    page.get_by_label("Search").fill("no such thing")
    page.get_by_text("No preset matches.").wait_for()
    page.get_by_label("Search").fill("PIRATE")
    card.wait_for()
    page.get_by_label("Use case").select_option("chatbot")
    card.wait_for()
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "presets-light.png"), full_page=True)

    with page.expect_download() as download:
        card.get_by_role("link", name="Download").click()
    file = tmp_path / download.value.suggested_filename
    download.value.save_as(file)
    assert file.name == "Pirate bot.preset.json"
    assert json.loads(file.read_text())["config"]["training"]["precision"] == "bf16"  # planned for the 4090

    card.get_by_role("button", name="Delete…").click()
    page.get_by_role("group", name="Delete Pirate bot?").get_by_role("button", name="Delete it").click()
    page.get_by_role("status").get_by_text("Deleted the preset “Pirate bot”.").wait_for()
    assert _names(gpu_box) == []

    # a broken file and a hostile one, dropped on the page: a plain message, nothing changes
    _drop(page, "broken.json", '{"name": "x", ')
    alert = page.get_by_role("alert")
    alert.get_by_text("Nothing was imported and nothing changed.").wait_for()
    assert "Traceback" not in alert.inner_text() and "JSON" in alert.inner_text()
    _drop(page, "hostile.json", json.dumps({**json.loads(file.read_text()), "run_this": "rm -rf /"}))
    page.get_by_role("alert").get_by_text("run_this").wait_for()
    assert _names(gpu_box) == []

    # on a smaller machine: a laptop without a GPU
    gpu_box.set_hardware(simulated_hardware())
    page.reload()
    page.locator("input[type=file]").set_input_files(str(file))
    before = page.get_by_role("group", name="Before importing")
    adjustments = before.get_by_role("list", name="Adjustments for this computer")
    adjustments.get_by_text("Precision", exact=True).wait_for()
    assert "from bf16 to fp32" in adjustments.inner_text() and "GPU" in adjustments.inner_text()
    assert _names(gpu_box) == []  # listed before anything is applied
    page.screenshot(path=str(shots / "presets-import-light.png"), full_page=True)
    assert axe_violations(page) == []
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(shots / "presets-import-dark.png"), full_page=True)
    assert axe_violations(page) == []
    page.emulate_media(color_scheme="light")

    before.get_by_role("button", name="Import with these changes").click()
    page.get_by_role("status").get_by_text("Imported the preset “Pirate bot”.").wait_for()
    assert _names(gpu_box) == ["Pirate bot"]
    with gpu_box.client() as c:
        kept = c.get("/api/presets/one", params={"name": "Pirate bot"}).json()["preset"]
        assert kept["config"]["training"]["precision"] == "fp32"

    page.get_by_role("button", name="Open it in the wizard").click()
    page.get_by_role("heading", name="Review").wait_for()
    page.get_by_text("Filled in from the preset “Pirate bot”").wait_for()
    page.get_by_test_id("review-time").wait_for()
    assert page.get_by_label("Name").input_value() == "Pirate bot"
    expect(page.get_by_role("button", name="Start training")).to_be_enabled()  # its data, the sample, checked again
    page.get_by_role("button", name="Back").click()
    assert page.locator("#setting-precision").input_value() == "fp32"

    page.emulate_media(color_scheme="dark")
    page.goto(f"{gpu_box.url}/#/presets")
    page.get_by_role("listitem", name="Pirate bot").wait_for()
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "presets-dark.png"), full_page=True)
