"""Guards in real runs of `builtin:tiny-llama` through the worker process (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.engine.runs import start_run
from peftstudio.store import open_store
from tests.guards.helpers import config

pytestmark = pytest.mark.slow


def test_learning_rate_50_diverges_and_pauses_with_suggestions() -> None:
    store = open_store()
    run_id = start_run(config(learning_rate=50.0, max_steps=30, max_grad_norm=None), store, detach=False)
    run = store.get_run(run_id)
    assert run.status == "paused", (run.status, run.error)
    [event] = store.events(run_id, kind="divergence")
    assert "diverged" in event["message"] and "paused" in event["message"]
    data = event["data"]
    assert data["action"] == "pause" and data["reason"] in ("non_finite_loss", "loss_rising", "non_finite_gradient", "gradient_spike")
    assert any("17" in s and "a third of the current 50" in s for s in data["suggestions"])
    assert any("clipping" in s or "data" in s for s in data["suggestions"][1:])  # one other cause
    assert run.error is not None and run.error["code"] == "nan_loss"
    assert [a["fix_id"] for a in run.error["actions"]][:2] == ["lower_learning_rate", "enable_clipping"]
    assert "17" in run.error["actions"][0]["label"]
    assert store.events(run_id, kind="paused")
    log = (Path(run.folder) / "worker.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log
