"""The export screen in Chromium on a real tiny-llama run, opened from its version's "Export…": every kind and each
quantization with its estimated size, an Ollama export at q4_k_m with its progress and Test Export passing (at the
lower same-next-token limits the export tests use for random-weight models: the server's export_min_top1), its
checks and sample answer, its commands copied, its GGUF file downloaded through the browser; axe; screenshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from peftstudio.server import ServerSettings
from tests.browser.conftest import open_page, wait_until
from tests.browser.helpers import axe_violations, run_status, start_run
from tests.export.families import RANDOM_WEIGHTS_MIN_TOP1
from tests.server.conftest import LOGIN, SESSION, Studio, serving

pytestmark = pytest.mark.slow


@pytest.fixture
def live(tmp_path: Path, fresh_home: Path) -> Iterator[Studio]:
    settings = attrs.evolve(ServerSettings.create("127.0.0.1", 0, login_token=LOGIN, session_key=SESSION,
                                                  failure_delay_s=0.0, upload_dir=tmp_path / "uploads"),
                            export_min_top1=RANDOM_WEIGHTS_MIN_TOP1)
    yield from serving(settings, tmp_path, tmp_path / "uploads")


def test_ollama_q4_k_m_export_tested_commands_copied_file_downloaded(chromium: object, live: Studio,
                                                                     shots: Path) -> None:
    rid = start_run(live, max_steps=4)
    wait_until(lambda: run_status(live, rid)["status"] in ("completed", "failed"), timeout=600)
    assert run_status(live, rid)["status"] == "completed", run_status(live, rid)["error"]
    page: Any = open_page(chromium, live, axe=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Versions").click()
    page.get_by_role("link", name="Export…").click()
    page.get_by_role("heading", name="Export", exact=True).wait_for()
    kinds = page.get_by_role("group", name="Export as")
    kinds.wait_for()
    for title in ("Hugging Face", "GGUF", "Ollama", "LM Studio"):
        assert kinds.get_by_role("radio", name=title, exact=True).count() == 1
    assert kinds.get_by_role("radio", name="Ollama").is_checked()
    quants = page.get_by_role("group", name="Quantization")
    q4 = quants.get_by_role("radio", name="q4_k_m", exact=True)
    assert q4.is_checked() and len(re.findall(r"about \d+(\.\d+)? (KB|MB)", quants.inner_text())) == 7  # each's size
    kinds.get_by_role("radio", name="Hugging Face").check()
    assert page.get_by_role("group", name="Quantization").count() == 0  # full weights: nothing to choose
    kinds.get_by_role("radio", name="LM Studio").check()
    assert page.get_by_label("The adapter alone").is_disabled()
    kinds.get_by_role("radio", name="Ollama").check()
    q4.check()
    assert axe_violations(page) == []

    page.get_by_role("button", name="Export", exact=True).click()
    result = page.get_by_role("region", name="Export result")
    result.get_by_role("heading", name="Exporting…").wait_for()
    result.get_by_role("heading", name="Test Export passed").wait_for(timeout=300_000)
    checks = result.get_by_role("table")
    assert checks.get_by_role("row").count() > 2 and "same next token" in checks.inner_text()
    assert "failed" not in checks.inner_text()
    assert result.locator("blockquote").inner_text().strip() != ""  # the sample answer

    commands = result.locator(".command code").all_inner_texts()
    assert commands[0].startswith("ollama create tiny-llama-tuned -f ") and commands[1] == "ollama run tiny-llama-tuned"
    result.get_by_role("button", name="Copy command 1").click()
    result.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == commands[0]

    link = result.get_by_role("link", name="Download tiny-llama-tuned-Q4_K_M.gguf")
    with page.expect_download() as info:
        link.click()
    download = info.value
    data = Path(download.path()).read_bytes()
    assert data[:4] == b"GGUF" and download.suggested_filename == "tiny-llama-tuned-Q4_K_M.gguf"
    exported = Path(commands[0].split('-f "')[1].rstrip('"')).parent / "tiny-llama-tuned-Q4_K_M.gguf"
    assert data == exported.read_bytes()
    assert result.get_by_role("button", name="Open folder").is_visible()  # the studio runs on this computer
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "export-light.png"), full_page=True)

    page.emulate_media(color_scheme="dark")
    page.reload()
    page.get_by_role("group", name="Quantization").wait_for()
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "export-dark.png"), full_page=True)
