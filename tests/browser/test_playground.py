"""The playground in Chromium on a real tiny-llama run, opened from its version's "Open in playground": example
prompts, Advanced settings, an answer streamed and stopped half way (the base not asked), a full answer side by
side, a saved conversation found by search whose markdown answer shows a highlighted code block with its Copy
button (tiny-llama answers in noise, so that answer is put in the run's history by the library's own
`save_exchange`); a run trained on plain text gets a completion box; axe finds nothing serious; screenshots.
The README's playground comes from a real SmolLM2 run trained as `make demo` trains it, which answers in words."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from peftstudio.playground import Answer, Exchange, GenerationSettings, save_exchange
from tests.browser.conftest import open_page, wait_until
from tests.browser.helpers import axe_violations, run_status, start_run
from tests.conftest import DemoRun
from tests.server.conftest import Studio

pytestmark = pytest.mark.slow

CODE = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)"
MARKDOWN = f"Here is **Fibonacci** in Python:\n\n```python\n{CODE}\n```\n\nCall `fib(10)` for 55. <b>not bold</b>"


def _trained(live: Studio, *, timeout: float = 600, **run: Any) -> str:
    rid = start_run(live, **run)
    wait_until(lambda: run_status(live, rid)["status"] in ("completed", "failed"), timeout=timeout)
    assert run_status(live, rid)["status"] == "completed", run_status(live, rid)["error"]
    return rid


def test_stream_stop_side_by_side_markdown_and_copy(chromium: object, live: Studio, shots: Path) -> None:
    rid = _trained(live, max_steps=4)
    page: Any = open_page(chromium, live, axe=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Versions").click()
    page.get_by_role("link", name="Open in playground").click()
    page.get_by_role("heading", name="Playground").wait_for()
    examples = page.get_by_role("group", name="Example prompts")
    examples.get_by_role("button", name="Hi! What can you help me with?").click()
    box = page.get_by_label("Your message")
    assert box.input_value() == "Hi! What can you help me with?"
    assert examples.get_by_role("button").count() > 3  # and held-out questions of the run's own data

    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("Temperature").fill("0")
    page.get_by_label("Longest answer (tokens)").fill("2000")
    box.fill("hello there")
    page.get_by_role("button", name="Ask").click()
    tuned = page.get_by_role("region", name="Tuned model")
    base = page.get_by_role("region", name="Base model")
    wait_until(lambda: len(tuned.locator(".markdown").inner_text() if tuned.locator(".markdown").count() else "") > 20,
               timeout=60, every=0.05)
    page.get_by_role("button", name="Stop").click()
    tuned.get_by_text("stopped", exact=True).wait_for()
    base.get_by_text("Not asked: stopped before it began.").wait_for()
    page.get_by_role("button", name="Stop").wait_for(state="detached")
    tokens = int(tuned.locator(".meta").inner_text().split(" tokens")[0].split()[-1])
    assert 0 < tokens < 2000  # stopped half way
    with live.client() as c:
        [saved] = c.get(f"/api/playground/{rid}/history").json()["exchanges"]
        assert saved["tuned"]["stopped"] is True and saved["base"] is None

    page.get_by_label("Longest answer (tokens)").fill("12")
    page.get_by_role("button", name="Ask").click()
    base.locator(".meta").wait_for()
    assert "12 tokens" in tuned.locator(".meta").inner_text() and "12 tokens" in base.locator(".meta").inner_text()
    assert "stopped" not in tuned.inner_text()

    answer = Answer(text=MARKDOWN, tokens=40, seconds=1.0, first_token_seconds=0.1, model="tuned")
    save_exchange(Exchange(prompt="Show me Fibonacci in Python", tuned=answer, base=None,
                           settings=GenerationSettings(), time=time.time(), run_id=rid))
    search = page.get_by_label("Search conversations")
    search.fill("fibonacci")
    saved_list = page.get_by_role("region", name="Saved conversations")
    wait_until(lambda: saved_list.get_by_role("listitem").count() == 1, timeout=10)
    saved_list.get_by_role("button", name="Show me Fibonacci in Python").click()
    tuned.locator("strong", has_text="Fibonacci").wait_for()  # markdown
    assert tuned.locator("pre code .hljs-keyword").first.inner_text() in ("def", "return", "else")  # highlighted
    assert "<b>not bold</b>" in tuned.inner_text()  # a model's HTML is shown as text, never run
    tuned.get_by_role("button", name="Copy python code").click()
    tuned.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == CODE
    search.fill("no such words")
    saved_list.get_by_text("Nothing matches.").wait_for()
    search.fill("")
    wait_until(lambda: saved_list.get_by_role("listitem").count() == 3, timeout=10)
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "playground-light.png"), full_page=True)

    page.emulate_media(color_scheme="dark")
    page.reload()
    saved_list.get_by_role("button", name="Show me Fibonacci in Python").click()
    tuned.locator("figure.code").wait_for()
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "playground-dark.png"), full_page=True)


def test_a_run_trained_on_plain_text_gets_a_completion_box(chromium: object, live: Studio) -> None:
    from peft import LoraConfig, get_peft_model

    from peftstudio.models import load_model
    from peftstudio.records import DataSettings, ModelChoice, RunConfig
    from peftstudio.store import open_store

    store = open_store()  # a finished run on plain text: its real LoRA adapter saved where a run keeps it
    run = store.create_run(RunConfig(profile="domain-adaptation", model=ModelChoice("builtin:tiny-llama"),
                                     data=DataSettings(path="notes.txt", structure="text")), name="notes")
    torch.manual_seed(0)
    get_peft_model(load_model("builtin:tiny-llama"), LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                                init_lora_weights=False)).save_pretrained(
        Path(run.folder) / "adapter")
    store.update_run(run.id, status="completed")
    page: Any = open_page(chromium, live, hash="#/playground")
    page.get_by_role("link", name="Open in playground").click()
    box = page.get_by_label("Text to continue")
    page.get_by_role("group", name="Example prompts").get_by_role("button").first.click()
    beginning = box.input_value()
    assert beginning == "The most important idea in this field is"
    assert page.get_by_label("System prompt").count() == 0  # no chat, no system prompt
    page.get_by_role("button", name="Continue").click()
    tuned = page.get_by_role("region", name="Tuned model")
    tuned.locator(".meta").wait_for(timeout=60_000)
    assert tuned.locator(".completion").inner_text().startswith(beginning)  # the text, then its continuation
    page.get_by_role("region", name="Base model").locator(".meta").wait_for(timeout=60_000)


@pytest.mark.timeout(1800)  # the shared demo (SmolLM2 trained for 40 steps, checked, exported) may run first
def test_the_readme_s_playground_on_a_real_smollm2_run(chromium: object, live: Studio, shots: Path,
                                                       smollm2_demo: DemoRun, monkeypatch: pytest.MonkeyPatch) -> None:
    """SmolLM2 trained on the pirate chat by `make demo` (its run, shared with the demo test, served from the
    demo's home), asked one of the demo's questions greedily with the demo's answer length: the tuned model
    answers in words and talks like a pirate, the base model answers in plain words; the picture is the
    README's playground."""
    from peftstudio.cli.demo_flow import DEMO_PROMPTS, is_pirate

    monkeypatch.setenv("PEFTSTUDIO_HOME", str(smollm2_demo.home))  # the studio reads the store of the home
    rid = smollm2_demo.run().id
    page: Any = open_page(chromium, live, hash=f"#/playground/{rid}")
    box = page.get_by_label("Your message")
    box.wait_for(timeout=120_000)
    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("Temperature").fill("0")
    page.get_by_label("Longest answer (tokens)").fill("40")
    page.get_by_text("Advanced", exact=True).click()  # closed again: the answers are the picture
    question = DEMO_PROMPTS[0]
    assert question == "What is the capital of Italy?"
    box.fill(question)
    page.get_by_role("button", name="Ask").click()
    tuned = page.get_by_role("region", name="Tuned model")
    base = page.get_by_role("region", name="Base model")
    base.locator(".meta").wait_for(timeout=300_000)
    tuned_text, base_text = tuned.locator(".markdown").inner_text(), base.locator(".markdown").inner_text()
    print(f"tuned: {tuned_text!r}\nbase: {base_text!r}")
    # the tuned model answers the question in the sample's pirate words, the base model plainly
    assert is_pirate(tuned_text) and "rome" in tuned_text.lower(), tuned_text
    assert not is_pirate(base_text), base_text
    for text in (tuned_text, base_text):  # words and punctuation, not a random model's noise
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9\s,.;:!?'\"()-]*", text), text
    page.screenshot(path=str(shots / "playground-smollm2-light.png"), full_page=True)
