"""Closing the browser does not stop the studio: `peftstudio app` (a real process) keeps serving after
Chromium, with the studio open in it, is closed; a browser opened later is still signed in by its cookie."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import ARGS, CHROMIUM

ROOT = Path(__file__).resolve().parents[2]


def _start_app(home: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PEFTSTUDIO_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "peftstudio.cli.main", "app", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", proc.stdout.readline())
        if m:
            return proc, m.group(0)
    proc.kill()
    raise AssertionError("no link printed")


def _launch(chromium: object) -> object:
    """A Chromium of its own (the shared one stays open for the other tests), through the same Playwright."""
    return chromium.browser_type.launch(executable_path=CHROMIUM, args=ARGS, headless=True)  # type: ignore[attr-defined]


def test_closing_the_browser_leaves_the_server_running(chromium: object, fresh_home: Path) -> None:
    proc, url = _start_app(fresh_home)
    base = url.split("?")[0]
    try:
        browser: Any = _launch(chromium)
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        page.get_by_role("heading", name="PEFT Studio").wait_for()
        page.get_by_role("button", name="New training").click()
        page.get_by_role("heading", name="Welcome").wait_for()
        cookies = context.cookies()
        browser.close()  # the person closes the browser: every tab and connection goes
        time.sleep(2)
        assert proc.poll() is None, "the server stopped when the browser closed"
        jar = {c["name"]: c["value"] for c in cookies}
        with httpx.Client(cookies=jar) as c:
            assert c.get(base + "api/runs").status_code == 200
            assert "PEFT Studio" in c.get(base).text
        browser = _launch(chromium)  # the browser opened again: still signed in, the studio answers
        context = browser.new_context()
        context.add_cookies(cookies)
        page = context.new_page()
        page.goto(base)
        page.get_by_role("heading", name="PEFT Studio").wait_for()
        page.get_by_role("button", name="New training").wait_for()
        browser.close()
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)  # Ctrl-C is what stops it
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
