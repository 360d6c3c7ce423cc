"""A model from the server's own disk in Chromium: the wizard's model step takes a path, says plainly what is
wrong with a path that is no model (not there, a plain file), lists a model folder as a choice with whether it
fits, plans it through the review, and starts the run with that folder as the run's model; training again
with that run's settings opens the wizard with the folder checked again and the settings kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from peftstudio.models import model_folder
from tests.browser.conftest import open_page
from tests.server.conftest import Studio


def test_a_model_folder_on_the_server_is_checked_planned_and_trained(chromium: object, live: Studio,
                                                                      tmp_path: Path) -> None:
    folder = Path(model_folder("builtin:tiny-llama")).resolve()
    page: Any = open_page(chromium, live, hash="#/new")
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator("input[value=chatbot]").check()
    page.get_by_role("button", name="Next").click()
    page.locator("input[value='builtin:tiny-llama']").wait_for()
    field = page.get_by_label("Or a model on the server")
    use = page.get_by_role("button", name="Use this model")

    field.fill(str(tmp_path / "no-such-model"))
    use.click()
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("File not found")
    expect(problem).to_contain_text("no-such-model")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model", encoding="utf-8")
    field.fill(str(notes))
    use.click()
    expect(problem).to_contain_text("is a file, but not a .gguf model file")
    field.fill("models/mine")
    use.click()
    expect(problem).to_contain_text("not a full path")
    expect(page.locator("input[value='builtin:tiny-llama']")).to_be_checked()  # nothing changed meanwhile

    field.fill(str(folder))
    field.press("Enter")
    mine = page.locator(f"input[type=radio][value='{folder}']")
    expect(mine).to_be_checked()
    expect(problem).to_have_count(0)
    choice = page.locator("label.choice", has=mine)
    expect(choice).to_contain_text(folder.name)
    expect(choice).to_contain_text("fits")
    expect(choice).to_contain_text("A model folder on the server.")

    page.get_by_role("button", name="Next").click()
    page.get_by_label("Sample data").select_option("sample:pirate_chat.jsonl")
    page.get_by_test_id("data-summary").wait_for(timeout=60_000)  # slow beside a training
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Step limit").fill("2")
    page.wait_for_timeout(600)  # re-planned after a short pause
    page.get_by_role("button", name="Next").click()
    page.get_by_test_id("review-time").wait_for()
    expect(page.locator("dl.review")).to_contain_text(folder.name)
    page.get_by_label("Name").fill("from a folder")
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("heading", name="from a folder").wait_for()
    with live.client() as c:
        [run] = c.get("/api/runs").json()["runs"]
    assert run["config"]["model"]["reference"] == str(folder)

    # Train again with its settings: the wizard opens filled in, the folder checked again and kept as the model
    page.goto(f"{live.url}/#/new?run={run['id']}")
    page.get_by_role("heading", name="Review").wait_for()
    expect(page.locator("dl.review")).to_contain_text(folder.name)
    for _ in range(3):
        page.get_by_role("button", name="Back", exact=True).click()
    expect(page.locator(f"input[type=radio][value='{folder}']")).to_be_checked()
    expect(page.get_by_label("Or a model on the server")).to_have_value(str(folder))
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Advanced settings").click()
    expect(page.get_by_label("Step limit")).to_have_value("2")  # the run's own settings, not the defaults
