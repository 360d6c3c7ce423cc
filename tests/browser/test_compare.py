"""The compare screen in Chromium on three real tiny-llama runs (learning rates apart): the table sorted by a
column, the three compared with their charts side by side and the best run per metric marked (the library's
choice), the settings that differ, and "Train again" opening the wizard filled in; axe finds nothing serious;
screenshots light and dark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page, wait_until
from tests.browser.helpers import axe_violations, run_status
from tests.server.conftest import Studio

pytestmark = pytest.mark.slow

RATES = {"lr 1e-3": 1e-3, "lr 3e-4": 3e-4, "lr 1e-5": 1e-5}


def _three_runs(live: Studio) -> dict[str, str]:
    ids = {}
    with live.client() as c:
        for name, lr in RATES.items():
            r = c.post("/api/runs", json={"profile": "chatbot", "model": "builtin:tiny-llama", "name": name,
                                          "data": "sample:pirate_chat.jsonl",
                                          "overrides": {"max_steps": 4, "learning_rate": lr, "eval_every_steps": 2}})
            assert r.status_code == 201, r.text
            ids[name] = r.json()["id"]
    for rid in ids.values():
        wait_until(lambda rid=rid: run_status(live, rid)["status"] in ("completed", "failed"), timeout=600)
        assert run_status(live, rid)["status"] == "completed", run_status(live, rid)["error"]
    return ids


def test_three_runs_compared_best_marked_and_trained_again(chromium: object, live: Studio, shots: Path) -> None:
    ids = _three_runs(live)
    page: Any = open_page(chromium, live, axe=True)
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Compare").click()
    page.get_by_role("heading", name="Compare runs").wait_for()
    table = page.get_by_role("table", name="Finished runs")
    expect(table.get_by_role("row")).to_have_count(4)
    table.get_by_role("button", name="Validation loss", exact=True).click()
    expect(table.get_by_role("columnheader", name="Validation loss", exact=True)).to_have_attribute("aria-sort", "ascending")
    with live.client() as c:
        by_loss = [r["name"] for r in c.get("/api/compare/runs", params={"sort": "final_val_loss"}).json()["rows"]]
    expect(table.get_by_role("rowheader")).to_have_text(by_loss)  # the library's order, best first

    for name in RATES:
        page.get_by_label(f"Compare {name}").check()
    page.get_by_role("button", name="Compare 3 runs").click()
    comparison = page.get_by_role("region", name="Comparison")
    chart = comparison.get_by_role("figure", name="Validation loss")
    chart.wait_for()
    with live.client() as c:
        api = c.get("/api/compare", params={"runs": list(ids.values())}).json()
    best = {ch["name"]: ch["best_run_id"] for ch in api["charts"]}
    best_name = next(n for n, rid in ids.items() if rid == best["val_loss"])
    assert f"best: ★ {best_name}" in chart.inner_text() and "lowest" in chart.inner_text()
    assert "no “better”" in comparison.get_by_role("figure", name="Learning rate").inner_text()
    differ = comparison.get_by_role("table", name="Settings that differ")
    assert "training.learning_rate" in differ.inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "compare-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "compare-dark.png"), full_page=True)
    page.emulate_media(color_scheme="light")

    comparison.get_by_role("button", name=f"Train again with the settings of {best_name}").click()
    page.get_by_role("heading", name="Review").wait_for()
    page.get_by_text(f"Filled in from the run “{best_name}”").wait_for()
    assert page.get_by_label("Name").input_value() == best_name
    expect(page.get_by_role("button", name="Start training")).to_be_enabled()  # the same sample, checked again
    page.get_by_role("button", name="Back").click()
    page.get_by_text("Advanced settings").click()
    assert float(page.locator("#setting-learning_rate").input_value()) == RATES[best_name]
    assert page.locator("#setting-max_steps").input_value() == "4"
