"""Remote use: the studio served with --host on another loopback address (127.0.0.2, as a GPU box elsewhere would
be): a browser without the token is refused; after the printed link it trains tiny-llama through the wizard and
downloads the export through the browser; Open folder is not offered (the folder is on the other computer)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peftstudio.server import ServerSettings
from tests.browser.test_wizard import walk_to_review
from tests.server.conftest import LOGIN, SESSION, Studio, start_server, stop_workers

pytestmark = pytest.mark.slow


@pytest.fixture
def remote(tmp_path: Path, fresh_home: Path) -> Iterator[Studio]:
    settings = ServerSettings.create("127.0.0.2", 0, login_token=LOGIN, session_key=SESSION, failure_delay_s=0.0,
                                     upload_dir=tmp_path / "uploads")
    _, settings, server, thread = start_server(settings)
    yield Studio(f"http://127.0.0.2:{settings.port}", settings, tmp_path, tmp_path / "uploads")
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
    stop_workers()


def test_refused_without_the_link_then_trains_and_downloads_an_export(chromium: Any, remote: Studio) -> None:
    assert not remote.settings.own_desktop
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)
    first = page.goto(f"{remote.url}/")
    assert first.status == 401 and "PEFT Studio" in page.content()  # no token, no cookie: refused
    assert page.request.get(f"{remote.url}/api/runs").status == 401
    printed = remote.settings.url_with_token()
    assert printed.startswith("http://127.0.0.2:")
    page.goto(printed)  # the printed link: exchanged once for the cookie
    page.get_by_role("heading", name="PEFT Studio").wait_for()
    walk_to_review(page, None, max_steps=4)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("completed", exact=True).first.wait_for(timeout=600_000)

    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Export").click()
    page.get_by_role("main").get_by_role("link", name="Export", exact=True).click()
    kinds = page.get_by_role("group", name="Export as")
    kinds.get_by_role("radio", name="GGUF", exact=True).check()
    page.get_by_role("group", name="Quantization").get_by_role("radio", name="q8_0", exact=True).check()
    page.get_by_label("Test Export (load it with independent loaders and compare)").uncheck()
    page.get_by_role("button", name="Export", exact=True).click()
    result = page.get_by_role("region", name="Export result")
    result.get_by_role("heading", name="Exported").wait_for(timeout=300_000)
    link = result.get_by_role("link", name="Download tiny-llama-tuned-Q8_0.gguf")
    with page.expect_download() as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    assert data[:4] == b"GGUF" and len(data) > 100_000
    assert result.get_by_role("button", name="Open folder").count() == 0  # the folder is on the other computer
    context.close()
