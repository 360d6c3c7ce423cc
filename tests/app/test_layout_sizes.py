"""Readable at 1280x800 (a tablet) and 1920x1080: no clipped text, nothing outside the window.

The offscreen window keeps the size it was created with, so the 1920x1080 check runs in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.harness import probed_ui, visit_every_screen

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
import tests.app.conftest  # the offscreen environment, at the size in PEFTSTUDIO_UI_SIZE
from app.controller import Controller
from peftstudio.hardware import simulated_hardware
from tests.app.harness import Ui, visit_every_screen
ctrl = Controller(hardware=simulated_hardware())
ui = Ui(ctrl)
ctrl.start()
ui.wait(lambda: ctrl.hardware is not None and ctrl.profile_estimates, 60, "the probe")
print("RESULT " + json.dumps({"size": list(ui.window.size), "problems": visit_every_screen(ui, "-1920x1080")}))
ui.close()
"""


def test_every_screen_fits_at_1280x800() -> None:
    with probed_ui() as ui:
        assert tuple(ui.window.size) == (1280, 800)
        assert visit_every_screen(ui) == []


@pytest.mark.slow
def test_every_screen_fits_at_1920x1080(tmp_path: Path) -> None:
    env = {**os.environ, "PEFTSTUDIO_UI_SIZE": "1920x1080", "PEFTSTUDIO_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", CHILD], check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["size"] == [1920, 1080]
    assert result["problems"] == []
