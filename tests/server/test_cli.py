"""`peftstudio app` and `peftstudio serve`: a free loopback port, a printed one-time link, Ctrl-C ends cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_app_prints_a_working_link_and_stops_on_ctrl_c(fresh_home: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "PEFTSTUDIO_HOME": str(fresh_home)}
    proc = subprocess.Popen([sys.executable, "-m", "peftstudio.cli.main", "app", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=root)
    try:
        url = None
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=\S+", line)
            url = m.group(0) if m else None
        assert url, "no link printed"
        with httpx.Client() as c:
            assert c.get(url.split("?")[0] + "api/runs").status_code == 401
            r = c.get(url)
            assert r.status_code == 303
            assert c.get(url.split("?")[0] + "api/runs").json() == {"runs": []}
            assert httpx.get(url).status_code == 401  # the link worked once
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
