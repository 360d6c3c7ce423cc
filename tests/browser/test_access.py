"""Accessibility and reach: axe-core finds no serious or critical problem on any screen, light or dark;
the wizard works with the keyboard alone; a run's error is fixed from its dialog; the world's text shows."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from peftstudio.store import open_store
from tests.browser.conftest import open_page, wait_until
from tests.browser.helpers import axe_violations, run_status, start_run
from tests.server.conftest import Studio

pytestmark = pytest.mark.slow

WORLD = [
    {"messages": [{"role": "user", "content": "你好，请介绍一下你自己。"},
                  {"role": "assistant", "content": "你好！我是一个友好的助手 🤖，很高兴认识你。"}]},
    {"messages": [{"role": "user", "content": "مرحبا، كيف حالك اليوم؟"},
                  {"role": "assistant", "content": "أنا بخير، شكرا لسؤالك! 🌙"}]},
    {"messages": [{"role": "user", "content": "שלום, מה שלומך?"},
                  {"role": "assistant", "content": "טוב מאוד, תודה! 🎉"}]},
    {"messages": [{"role": "user", "content": "日本語で挨拶してください。"},
                  {"role": "assistant", "content": "こんにちは！🌸 よろしくお願いします。"}]},
]


def _world_file(tmp_path: Path) -> Path:
    path = tmp_path / "世界 world.jsonl"
    rows = [WORLD[i % len(WORLD)] for i in range(40)]
    for i, r in enumerate(rows):  # distinct rows: no duplicate findings
        r = json.loads(json.dumps(r))
        r["messages"][0]["content"] += f" ({i})"
        rows[i] = r
    rows.append(rows[0])  # one duplicate, for a finding with a fix
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _scan(page: Any, where: str, found: dict[str, Any]) -> None:
    problems = axe_violations(page)
    if problems:
        found[where] = problems


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_nothing_serious_on_any_screen(chromium: object, live: Studio, shots: Path, tmp_path: Path,
                                                 dark: bool) -> None:
    from tests.browser.test_wizard import walk_to_review

    scheme = "dark" if dark else "light"
    found: dict[str, Any] = {}
    page: Any = open_page(chromium, live, dark=dark, axe=True)
    page.get_by_role("heading", name="PEFT Studio").wait_for()
    _scan(page, "home", found)
    walk_to_review(page, shots if dark else None, suffix=scheme, data=str(_world_file(tmp_path)), max_steps=12)
    _scan(page, "review", found)
    page.get_by_role("button", name="Back", exact=True).click()
    _scan(page, "settings", found)
    page.get_by_role("button", name="Back", exact=True).click()
    page.get_by_test_id("data-summary").wait_for()
    _scan(page, "data", found)
    page.screenshot(path=str(shots / f"wizard-4-data-world-{scheme}.png"), full_page=False)
    page.get_by_role("button", name="Back", exact=True).click()
    _scan(page, "model", found)
    page.get_by_role("button", name="Back", exact=True).click()
    _scan(page, "usecase", found)
    rid = start_run(live, max_steps=8)
    page.goto(f"{live.url}/#/runs/{rid}")
    page.get_by_text("Finished:").wait_for(timeout=240_000)
    _scan(page, "dashboard", found)
    page.screenshot(path=str(shots / f"dashboard-completed-{scheme}.png"))
    page.get_by_role("button", name="← Home").click()
    page.get_by_role("button", name="Watch tiny run").wait_for()
    _scan(page, "home with runs", found)
    page.screenshot(path=str(shots / f"home-runs-{scheme}.png"))
    assert not found, json.dumps(found, indent=1)


def test_the_world_s_text_shows_in_findings_and_preview(chromium: object, live: Studio, shots: Path,
                                                        tmp_path: Path) -> None:
    page: Any = open_page(chromium, live)
    page.get_by_role("button", name="New training").click()
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator("input[value=chatbot]").check()
    page.get_by_role("button", name="Next").click()
    page.locator("input[value='builtin:tiny-llama']").check()
    page.get_by_role("button", name="Next").click()
    page.locator("input[type=file]").set_input_files(str(_world_file(tmp_path)))
    page.get_by_test_id("data-summary").wait_for()
    assert "世界 world.jsonl" in page.get_by_test_id("data-summary").inner_text()
    previews = page.locator(".example pre")
    texts = previews.all_inner_texts()
    assert any("你好" in t for t in texts) and any("مرحبا" in t for t in texts), texts
    # each line takes its own direction (unicode-bidi: plaintext): an Arabic line starts at the right
    edges = previews.filter(has_text="مرحبا").first.evaluate("""el => {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let node; while ((node = walker.nextNode())) { const i = node.data.indexOf('مرحبا');
          if (i >= 0) { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 5);
            const box = r.getBoundingClientRect(), pre = el.getBoundingClientRect();
            return [pre.right - box.right, box.left - pre.left]; } }
        return null; }""")
    assert edges is not None and edges[0] < 40 < edges[1], edges
    # the glyphs are drawn, not boxes: CJK and Arabic text is as wide as real letters
    widths = page.evaluate("""() => {
        const c = document.createElement('canvas').getContext('2d');
        c.font = '16px ' + getComputedStyle(document.querySelector('.example pre')).fontFamily;
        return [c.measureText('你好世界').width, c.measureText('مرحبا').width, c.measureText('🤖').width];
    }""")
    assert all(w > 10 for w in widths), widths
    page.get_by_role("button", name="Fix: remove duplicates").click()  # one click: a cleaned copy, checked again
    page.get_by_text("Cleaned copy: kept 40 of 41 rows").wait_for()
    assert page.get_by_role("button", name="Fix: remove duplicates").count() == 0
    page.screenshot(path=str(shots / "wizard-4-data-world-light-cjk-arabic.png"))


def test_keyboard_only_walk(chromium: object, live: Studio, shots: Path) -> None:
    page: Any = open_page(chromium, live)
    page.get_by_role("heading", name="PEFT Studio").wait_for()
    kb = page.keyboard

    def tab_to(name: str, limit: int = 80) -> None:
        for _ in range(limit):
            kb.press("Tab")
            label = page.evaluate("() => { const e = document.activeElement; return (e.getAttribute('aria-label') || e.innerText || e.value || e.name || '').trim(); }")
            if label.startswith(name):
                return
        raise AssertionError(f"Tab never reached {name!r}")

    tab_to("New training")
    kb.press("Enter")
    page.get_by_role("heading", name="Welcome").wait_for()
    tab_to("Start")
    kb.press("Enter")
    page.locator("input[value=chatbot]").wait_for()
    tab_to("chatbot")
    kb.press("Space")
    assert page.locator("input[value=chatbot]").is_checked()
    tab_to("Next")
    kb.press("Enter")
    page.locator("input[value='builtin:tiny-llama']").wait_for()
    tab_to("builtin:")
    while not page.locator("input[value='builtin:tiny-llama']").is_checked():
        kb.press("ArrowDown")
    tab_to("Next")
    kb.press("Enter")
    tab_to("Sample data")
    kb.press("ArrowDown")  # the first sample (pirate_chat.jsonl), chosen from the keyboard
    page.get_by_test_id("data-summary").wait_for(timeout=60_000)
    tab_to("Next")
    kb.press("Enter")
    page.get_by_role("heading", name="Settings").wait_for()
    # a glossary term opens on keyboard focus
    tab_to("What is ")
    tip = page.locator(".tooltip.open")
    assert tip.count() == 1 and tip.inner_text()
    kb.press("Escape")
    assert page.locator(".tooltip.open").count() == 0
    tab_to("Next")
    kb.press("Enter")
    page.get_by_test_id("review-time").wait_for()
    tab_to("Start training")
    page.screenshot(path=str(shots / "keyboard-review-light.png"))
    kb.press("Enter")
    page.get_by_role("button", name="Pause").wait_for(timeout=60_000)
    page.get_by_role("button", name="Pause").focus()
    kb.press("Enter")
    page.get_by_text("Paused at step").wait_for(timeout=120_000)


def test_a_fix_applied_from_the_error_dialog(chromium: object, live: Studio, shots: Path) -> None:
    rid = start_run(live, max_steps=300)
    wait_until(lambda: (run_status(live, rid)["summary"].get("step") or 0) >= 0
               and len(open_store().metrics(rid, "loss")) >= 4, timeout=180)
    page: Any = open_page(chromium, live, hash=f"#/runs/{rid}")
    page.get_by_test_id("loss").wait_for()
    os.kill(int(open_store().get_run(rid).pid or 0), signal.SIGKILL)  # the worker dies: an interrupted run
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=60_000)
    assert "interrupted" in dialog.inner_text()
    page.screenshot(path=str(shots / "error-dialog-light.png"))
    dialog.get_by_role("button", name="Get help").click()
    page.get_by_role("dialog", name="Help").wait_for()
    assert "interrupted" in page.get_by_role("dialog", name="Help").inner_text().lower()
    page.get_by_role("dialog", name="Help").get_by_role("button", name="Close").click()
    dialog.get_by_role("button", name="Resume from the last checkpoint").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=60_000)
    wait_until(lambda: run_status(live, rid)["status"] in ("running", "completed"), timeout=120)
    page.get_by_role("button", name="Pause").click()
    page.get_by_text("Paused at step").wait_for(timeout=120_000)
