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


def test_fix_lists_the_actions_and_applying_one_resumes_from_the_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    from peftstudio.cli.main import main

    store = open_store()
    run_id = start_run(config(learning_rate=50.0, max_steps=30, max_grad_norm=None), store, detach=False)
    assert store.get_run(run_id).status == "paused"
    assert main(["fix", run_id]) == 0
    listed = capsys.readouterr().out
    assert "Training became unstable" in listed and "1. Resume with a smaller learning rate (17)" in listed
    assert f"peftstudio fix {run_id} --apply 1" in listed and "[by hand]" in listed
    stable = store.get_run(run_id).error["details"]["stable_step"]
    assert main(["fix", run_id, "--apply", "1", "--wait"]) == 0
    assert "continuing from the checkpoint at step" in capsys.readouterr().out
    run = store.get_run(run_id)
    assert run.config.training.learning_rate == 17.0
    [applied] = store.events(run_id, kind="fix_applied")
    assert applied["data"]["fix_id"] == "lower_learning_rate" and applied["data"]["resumed_from"] == stable > 0
    [resumed] = store.events(run_id, kind="resumed")
    assert resumed["step"] == stable  # from the last stable checkpoint, not from the start
    later = [m["value"] for m in store.metrics(run_id, "learning_rate") if m["step"] > stable]
    assert later and max(later) <= 17.0 + 1e-6  # the resumed optimizer really uses the new rate


def test_disk_full_during_a_checkpoint_keeps_the_previous_one_and_the_run_resumes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    from peftstudio.callbacks.checkpoint import list_checkpoints
    from peftstudio.callbacks.checkpoint_io import read_checkpoint
    from peftstudio.engine.worker import execute
    from peftstudio.fixes import apply_fix, list_fixes

    store = open_store()
    run = store.create_run(config(max_steps=6, checkpoint_every_steps=2))
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the disk fills up while the checkpoint of step 4 is flushed
        if "step-0000004" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    assert execute(run.id, store) == "failed"
    monkeypatch.undo()
    failed = store.get_run(run.id)
    assert failed.error is not None and failed.error["code"] == "disk_full"
    folder = Path(failed.folder) / "checkpoints"
    assert [c.step for c in list_checkpoints(folder)] == [2]
    assert read_checkpoint(folder / "step-0000002")["global_step"] == 2  # intact and readable
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no half-written leftovers
    assert "free_space" in [o.fix_id for o in list_fixes(run.id, store).options]
    result = apply_fix(run.id, "resume", store, wait=True)
    assert result.resumed_from == 2
    done = store.get_run(run.id)
    assert done.status == "completed", done.error
    assert store.events(run.id, kind="resumed")[-1]["step"] == 2
    assert done.summary["steps"] == 6 and "quality" in done.summary
