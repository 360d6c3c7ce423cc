"""The versions screen in Chromium on two real tiny-llama runs (each finished run is the next version of its
model line): the timeline with metrics and sizes, a version set active, archived and restored, two versions
compared, one deleted with the size it frees; axe finds nothing serious; screenshots light and dark."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import open_page, wait_until
from tests.browser.helpers import axe_violations, run_status, start_run
from tests.server.conftest import Studio

pytestmark = pytest.mark.slow


def _two_versions(live: Studio) -> None:
    first = start_run(live, max_steps=4, learning_rate=3e-4)
    second = start_run(live, max_steps=4, learning_rate=1e-4)
    for rid in (first, second):
        wait_until(lambda rid=rid: run_status(live, rid)["status"] in ("completed", "failed"), timeout=600)
        assert run_status(live, rid)["status"] == "completed", run_status(live, rid)["error"]
    with live.client() as c:
        wait_until(lambda: sum(len(line["versions"]) for line in c.get("/api/versions").json()["lines"]) == 2,
                   timeout=60)


def test_versions_set_active_archive_restore_compare_delete(chromium: object, live: Studio, shots: Path) -> None:
    _two_versions(live)
    page: Any = open_page(chromium, live, axe=True)
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Versions").click()
    page.get_by_role("heading", name="Model versions").wait_for()
    line = page.get_by_role("region", name="builtin:tiny-llama [chatbot]")
    v1 = line.get_by_role("listitem", name="v1 of builtin:tiny-llama [chatbot]")
    v2 = line.get_by_role("listitem", name="v2 of builtin:tiny-llama [chatbot]")
    v2.get_by_text("active", exact=True).wait_for()  # the newest is active
    text = v2.inner_text()
    assert "Loss: " in text and ("better)" in text or "worse)" in text)  # the change from v1, judged
    assert re.search(r"· \d+(\.\d+)? (KB|MB)", v1.inner_text())  # its size
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "versions-light.png"), full_page=True)

    v1.get_by_role("button", name="Set active").click()
    page.get_by_role("status").get_by_text("v1 is now the active version.").wait_for()
    v1.get_by_text("active", exact=True).wait_for()
    assert v2.get_by_role("button", name="Set active").is_visible()

    v2.get_by_role("button", name="Archive").click()
    page.get_by_role("status").get_by_text("v2 archived").wait_for()
    v2.get_by_text("archived", exact=True).wait_for()
    v2.get_by_role("button", name="Restore").click()
    page.get_by_role("status").get_by_text("v2 restored").wait_for()
    v2.get_by_role("button", name="Archive").wait_for()

    v1.get_by_label("Compare").check()
    v2.get_by_label("Compare").check()
    page.get_by_role("button", name="Compare the two versions").click()
    comparison = page.get_by_role("region", name="Comparison")
    comparison.get_by_role("cell", name="training.learning_rate").wait_for()
    assert "v1 → v2" in comparison.inner_text()

    v2.get_by_role("button", name="Delete…").click()
    ask = page.get_by_role("group", name="Delete v2?")
    assert "frees" in ask.inner_text()
    ask.get_by_role("button", name="Keep it").click()
    assert v2.is_visible()
    v2.get_by_role("button", name="Delete…").click()
    page.get_by_role("button", name="Delete v2 for good").click()
    page.get_by_role("status").get_by_text("Deleted v2").wait_for()
    v2.wait_for(state="detached")
    with live.client() as c:
        [kept] = c.get("/api/versions").json()["lines"]
        assert [v["label"] for v in kept["versions"]] == ["v1"] and kept["active"] == kept["versions"][0]["id"]

    page.emulate_media(color_scheme="dark")  # the link signs in once: the same page, in the dark scheme
    page.reload()
    page.get_by_role("listitem", name="v1 of builtin:tiny-llama [chatbot]").wait_for()
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "versions-dark.png"), full_page=True)
