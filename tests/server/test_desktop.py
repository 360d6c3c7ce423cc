"""`peftstudio app` opens a native window when pywebview (the `desktop` extra) imports, and the default
browser otherwise. A window toolkit is like hardware here (no display on the test machine): a stand-in
`webview` module on the path plays the window (it loads the signed-in page as a window would, then is
closed); the server, the sign-in and the browser launch (through $BROWSER) are real."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

WINDOW = '''
import json, os, httpx
_opened = {}
def create_window(title, url=None, **options):
    _opened.update(title=title, url=url, options=sorted(options))
def start():
    # what the window does with the link: signs in and shows the page; then the person closes it
    with httpx.Client() as c:
        page = c.get(_opened["url"], follow_redirects=True)
        base = _opened["url"].split("?")[0]
        api = c.get(base + "api/runs")
    _opened.update(page=page.status_code, html="<title>PEFT Studio" in page.text or "PEFT Studio" in page.text,
                   api=api.status_code)
    with open(os.environ["WINDOW_LOG"], "w") as f:
        json.dump(_opened, f)
'''

NOT_INSTALLED = "raise ImportError('pywebview is not installed')\n"


def _env(tmp_path: Path, home: Path, toolkit: str) -> dict[str, str]:
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "webview.py").write_text(toolkit)
    browser = tmp_path / "browser.sh"  # the default browser: records the link it was asked to open
    browser.write_text(f'#!/bin/sh\necho "$1" > {tmp_path / "browser.log"}\n')
    browser.chmod(0o755)
    return {**os.environ, "PYTHONPATH": f"{shim}{os.pathsep}{ROOT}", "PEFTSTUDIO_HOME": str(home),
            "WINDOW_LOG": str(tmp_path / "window.log"), "BROWSER": f"{browser} %s"}


def _app(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "peftstudio.cli.main", "app", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)


def test_the_window_opens_signed_in_and_closing_it_ends_the_app(tmp_path: Path, fresh_home: Path) -> None:
    env = _env(tmp_path, fresh_home, WINDOW)
    proc = _app(env)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out  # the window was closed: the app ended by itself, cleanly
    opened = json.loads((tmp_path / "window.log").read_text())
    assert opened["title"] == "PEFT Studio"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=\S+", opened["url"])
    assert opened["page"] == 200 and opened["html"] and opened["api"] == 200  # signed in by the link
    assert not (tmp_path / "browser.log").exists()  # no browser as well


@pytest.mark.parametrize("why", ["no pywebview", "--browser"])
def test_without_pywebview_the_default_browser_opens(tmp_path: Path, fresh_home: Path, why: str) -> None:
    env = _env(tmp_path, fresh_home, NOT_INSTALLED if why == "no pywebview" else WINDOW)
    proc = _app(env, *(["--browser"] if why == "--browser" else []))
    log = tmp_path / "browser.log"
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and log.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        url = log.read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=\S+", url)
        with httpx.Client() as c:
            assert c.get(url).status_code == 303  # the link the browser got signs in
            assert c.get(url.split("?")[0] + "api/runs").json() == {"runs": []}
        assert not (tmp_path / "window.log").exists()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
