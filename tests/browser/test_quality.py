"""The quality score's parts in Chromium. A real tiny-llama run with the checks after training on: its finished
dashboard shows the score with every part the library measured (points of the most, what it measured) and why
retention is missing (random weights know no general answers). A run flagged for forgetting (its score made by
the library's own `score` from hand-made checks, as in tests/quality/test_views.py): forgetting said plainly,
the forgotten questions with the base and the tuned answers. Compare: each run's task and retention parts in
the table, sortable, and every part side by side for the runs compared. axe finds nothing serious."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page, wait_until
from tests.browser.helpers import axe_violations, run_status, start_run
from tests.quality.test_views import flagged_score, stored_run
from tests.server.conftest import Studio

pytestmark = pytest.mark.slow  # a real run and its checks: about 2 minutes beside another training


def _round(x: float) -> int:
    return math.floor(x + 0.5)  # as the page's Math.round (Python's round() halves to even)


def _quality(live: Studio, run_id: str) -> dict[str, Any]:
    return run_status(live, run_id)["summary"]["quality"]  # type: ignore[no-any-return]


def _shows_parts(card: Any, quality: dict[str, Any]) -> None:
    parts = card.get_by_role("table", name="Quality score's parts")
    expect(parts.get_by_role("row")).to_have_count(len(quality["parts"]) + 1)
    for p in quality["parts"]:
        row = parts.get_by_role("row", name=re.compile(f"^{re.escape(p['title'])} "))
        expect(row).to_contain_text(f"{_round(p['points'])}/{p['max_points']}")
        expect(row).to_contain_text(p["measured"])
    expect(card.get_by_test_id("quality-total")).to_have_text(f"{quality['total']}/100")
    for s in quality["suggestions"]:
        expect(card).to_contain_text(s)


def test_the_parts_on_the_dashboard_and_in_compare(chromium: object, live: Studio, shots: Path) -> None:
    rid = start_run(live, name="checked", max_steps=4, eval_every_steps=2, quality_checks=True)
    wait_until(lambda: run_status(live, rid)["status"] in ("completed", "failed"), timeout=600)
    assert run_status(live, rid)["status"] == "completed", run_status(live, rid)["error"]
    quality = _quality(live, rid)
    assert quality["checks"] is not None and "task" in [p["name"] for p in quality["parts"]]

    page: Any = open_page(chromium, live, hash=f"#/runs/{rid}", axe=True)
    page.get_by_text("Finished:").wait_for()
    card = page.get_by_role("region", name=re.compile("^Quality score"))
    _shows_parts(card, quality)
    retention = quality["checks"]["retention"]
    if retention and retention["base_right"] == 0:  # random weights: nothing known, nothing to forget
        expect(card).to_contain_text(f"Retention not scored: the base model answered none of the {retention['asked']}")
    for note in quality["checks"]["notes"]:
        expect(card).to_contain_text(note)
    expect(page.get_by_role("alert", name="How well did it learn?")).to_have_count(0)  # no banner: the card says it
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "dashboard-quality-light.png"), full_page=True)

    flagged = stored_run(flagged_score(), name="flagged")
    q = _quality(live, flagged)
    page.goto(f"{live.url}/#/runs/{flagged}")
    card = page.get_by_role("region", name=re.compile("^Quality score"))
    _shows_parts(card, q)
    expect(card.get_by_test_id("forgetting")).to_contain_text(
        "Flagged for forgetting: the tuned model lost what the base model knew. Its beliefs about general facts "
        "moved 1.30 nats per question from the base model's (the drift, over 40 questions). Of the 10 general "
        "questions the base model answered right, the tuned model got 4 wrong")
    forgotten = card.get_by_role("list", name="Forgotten questions").get_by_role("listitem")
    expect(forgotten).to_have_count(4)
    expect(forgotten.first).to_contain_text("How many legs does a cat have? (expected 4 / four)")
    expect(forgotten.first).to_contain_text("BaseFour.")
    expect(forgotten.first).to_contain_text("TunedArr! Five legs, me hearty!")
    card.get_by_text("Held-out examples that changed most").click()
    expect(card).to_contain_text("What is the capital of Italy?")
    assert axe_violations(page) == []
    page.emulate_media(color_scheme="dark")
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "dashboard-quality-flagged-dark.png"), full_page=True)
    page.emulate_media(color_scheme="light")

    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Compare").click()
    table = page.get_by_role("table", name="Finished runs")
    parts = {p["name"]: p for p in q["parts"]}
    flagged_row = table.get_by_role("row", name=re.compile("flagged"))
    expect(flagged_row.locator("td[data-column=task_score]")).to_have_text(str(_round(parts["task"]["points"])))
    expect(flagged_row.locator("td[data-column=retention_score]")).to_have_text(
        str(_round(parts["retention"]["points"])))
    expect(flagged_row.locator("td[data-column=forgotten_answers]")).to_have_text("4 flagged for forgetting")
    task = next(p for p in quality["parts"] if p["name"] == "task")
    checked_row = table.get_by_role("row", name=re.compile("checked"))
    expect(checked_row.locator("td[data-column=task_score]")).to_have_text(str(_round(task["points"])))

    def tasks() -> list[int]:
        return [int(t) for t in table.locator("td[data-column=task_score]").all_inner_texts()]

    # the quality score's parts sort as the score does: best first, then the other way round
    expected = sorted([_round(task["points"]), _round(parts["task"]["points"])])
    table.get_by_role("button", name="Task", exact=True).click()
    expect(table.get_by_role("columnheader", name="Task", exact=True)).to_have_attribute("aria-sort", "descending")
    wait_until(lambda: tasks() == expected[::-1])
    table.get_by_role("button", name="Task", exact=True).click()
    expect(table.get_by_role("columnheader", name="Task", exact=True)).to_have_attribute("aria-sort", "ascending")
    wait_until(lambda: tasks() == expected)
    page.get_by_label("Compare checked").check()
    page.get_by_label("Compare flagged").check()
    page.get_by_role("button", name="Compare 2 runs").click()
    side = page.get_by_role("table", name="Quality score's parts by run")
    expect(side.get_by_role("row", name=re.compile("^Total"))).to_contain_text(f"{quality['total']}/100{q['total']}/100")
    expect(side.get_by_role("row", name=re.compile("^Task"))).to_contain_text(parts["task"]["measured"])
    retention_row = side.get_by_role("row", name=re.compile("^Retention"))
    expect(retention_row).to_contain_text(f"{_round(parts['retention']['points'])}/50")
    if "retention" not in [p["name"] for p in quality["parts"]]:
        expect(retention_row).to_contain_text("not measured")  # the real run: its base knew nothing to forget
    expect(side.get_by_role("row", name=re.compile("^Forgotten answers"))).to_contain_text("4 of the 10")
    expect(side.get_by_role("row", name=re.compile("^Flagged"))).to_contain_text("noforgetting")
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "compare-quality-light.png"), full_page=True)
