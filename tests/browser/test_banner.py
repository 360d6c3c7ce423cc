"""A guard's banner and its action, in Chromium, on a real tiny-llama run: a learning rate of 50 without
clipping makes the loss diverge; the divergence guard pauses the run, the dashboard shows its banner with
the fixes of the run's plain error, and a click on "Resume with a smaller learning rate" applies the fix
(a third of the rate) and resumes the run from its last good checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from peftstudio.store import open_store
from tests.browser.conftest import open_page, wait_until
from tests.browser.helpers import run_status, start_run
from tests.server.conftest import Studio

pytestmark = pytest.mark.slow


def test_a_divergence_banner_s_action_lowers_the_rate_and_resumes(chromium: object, live: Studio,
                                                                  shots: Path) -> None:
    rid = start_run(live, learning_rate=50.0, max_grad_norm=None, max_steps=30)
    page: Any = open_page(chromium, live, hash=f"#/runs/{rid}")
    banner = page.get_by_role("alert", name="Training became unstable")
    banner.wait_for(timeout=300_000)
    assert "diverged" in banner.inner_text()
    action = banner.get_by_role("button", name="Resume with a smaller learning rate (17)")
    action.wait_for(timeout=30_000)  # the fixes of the run's plain error, not just advice
    assert run_status(live, rid)["status"] == "paused"
    page.screenshot(path=str(shots / "dashboard-banner-light.png"), full_page=True)
    stable = run_status(live, rid)["error"]["details"]["stable_step"]
    action.click()
    banner.wait_for(state="detached", timeout=60_000)  # being dealt with: the banner goes
    assert run_status(live, rid)["config"]["training"]["learning_rate"] == 17.0
    [applied] = open_store().events(rid, kind="fix_applied")
    assert applied["data"]["fix_id"] == "lower_learning_rate" and applied["data"]["resumed_from"] == stable > 0
    # the run went on from its last good checkpoint in a new worker, at the new rate
    [resumed] = wait_until(lambda: open_store().events(rid, kind="resumed"), timeout=180)
    assert resumed["step"] == stable
    later = wait_until(lambda: [m["value"] for m in open_store().metrics(rid, "learning_rate") if m["step"] > stable],
                       timeout=180)
    assert max(later) <= 17.0 + 1e-6
