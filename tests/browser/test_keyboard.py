"""The keyboard in Chromium: in the wizard Escape goes back a step and Ctrl+Enter is Next (not past a step whose
Next is off, not out of the wizard), while an open glossary entry or error dialog keeps its own Escape; in the
playground the generation settings typed in with the keyboard go back to the server's defaults with "Back to
the defaults", pressed with Enter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from tests.server.conftest import Studio, local_studio
from tests.server.tuned import make_tuned_run


@pytest.fixture
def small_uploads(tmp_path: Path, fresh_home: Path) -> Iterator[Studio]:
    """The studio with a 1 KB upload limit: a larger file opens the upload_too_large dialog over the wizard."""
    yield from local_studio(tmp_path, max_upload_bytes=1000)


def _at(page: Any, step: str) -> None:
    expect(page.locator("h1#wizard-title")).to_have_text(step)


def test_escape_goes_back_a_step_and_ctrl_enter_is_next(chromium: object, small_uploads: Studio,
                                                         tmp_path: Path) -> None:
    page: Any = open_page(chromium, small_uploads, hash="#/new")
    _at(page, "Welcome")
    page.keyboard.press("Escape")  # the first step: Escape does not leave the wizard
    _at(page, "Welcome")
    page.keyboard.press("Control+Enter")
    _at(page, "Use case")
    page.locator("input[value=chatbot]").wait_for()
    page.keyboard.press("Control+Enter")  # no use case chosen: Next is off, and so is Ctrl+Enter
    _at(page, "Use case")
    page.locator("input[value=chatbot]").focus()
    page.keyboard.press("Space")
    expect(page.locator("input[value=chatbot]")).to_be_checked()
    page.keyboard.press("Control+Enter")
    _at(page, "Model")
    expect(page.locator("input[value='builtin:tiny-llama']")).to_be_checked()  # the first model that fits
    # a glossary entry open on the keyboard: Escape closes it, the step stays
    term = page.get_by_role("button", name="base model", exact=True)
    term.focus()
    tooltip = page.get_by_role("tooltip").filter(has_text="Base model")
    expect(tooltip).to_be_visible()
    page.keyboard.press("Escape")
    expect(tooltip).to_be_hidden()
    _at(page, "Model")
    page.keyboard.press("Escape")
    _at(page, "Use case")
    page.keyboard.press("Control+Enter")
    _at(page, "Model")
    page.keyboard.press("Control+Enter")
    _at(page, "Data")
    # an error dialog over the wizard: Escape closes the dialog and nothing else
    big = tmp_path / "big.jsonl"
    big.write_text('{"text": "' + "x" * 2000 + '"}\n', encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(big))
    dialog = page.get_by_role("dialog", name="The file is too large to upload")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    _at(page, "Data")
    page.keyboard.press("Control+Enter")  # no data checked yet: Next is off
    _at(page, "Data")
    page.keyboard.press("Escape")
    _at(page, "Model")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    _at(page, "Welcome")
    assert page.url.endswith("#/new")  # still the wizard


def test_playground_settings_go_back_to_the_defaults(chromium: object, live: Studio) -> None:
    rid = make_tuned_run()
    with live.client() as c:
        defaults = c.get(f"/api/playground/{rid}").json()["settings"]
    page: Any = open_page(chromium, live, hash=f"#/playground/{rid}")
    page.get_by_role("heading", name="Playground").wait_for()
    page.get_by_text("Advanced", exact=True).focus()
    page.keyboard.press("Enter")  # opens the Advanced settings
    fields = {"Temperature": "1.7", "Top-p": "0.5", "Longest answer (tokens)": "300", "Seed": "7",
              "System prompt": "Answer like a pirate."}
    for label, value in fields.items():
        page.get_by_label(label).focus()
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    for label, value in fields.items():
        expect(page.get_by_label(label)).to_have_value(value)
    page.get_by_role("button", name="Back to the defaults").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Temperature")).to_have_value(str(defaults["temperature"]))
    expect(page.get_by_label("Top-p")).to_have_value(str(defaults["top_p"]))
    expect(page.get_by_label("Longest answer (tokens)")).to_have_value(str(defaults["max_new_tokens"]))
    expect(page.get_by_label("Seed")).to_have_value(str(defaults["seed"]))
    expect(page.get_by_label("System prompt")).to_have_value(defaults["system_prompt"])
