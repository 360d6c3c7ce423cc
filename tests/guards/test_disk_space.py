"""Disk space before it runs out (requirement 14.5): a run checks before it starts and before each
checkpoint, the disk_full fix asks for older model versions to be cleared, and a failed run's own
checkpoints are never deleted behind the user's back."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.errors import PlainError
from peftstudio.store import open_store
from tests.guards.helpers import config

MB = 2**20


def _old_version(store: object, tmp_path: Path) -> str:
    """Two versions of an earlier model: the older one is inactive, so it can be cleared."""
    from peftstudio.history.versions import record_completed_run
    from tests.history.helpers import adapter_folder, completed_run
    from tests.history.helpers import config as history_config

    ids = [record_completed_run(store, completed_run(store, history_config(), [1.0]),  # type: ignore[arg-type]
                                adapter_folder(tmp_path, i, size=MB)).id for i in range(2)]
    return ids[0]


def test_a_run_that_will_not_fit_is_refused_before_anything_is_written(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    from peftstudio.engine.runs import start_run
    from peftstudio.history import disk

    store = open_store()
    _old_version(store, tmp_path)
    monkeypatch.setattr(disk, "free_space", lambda path=None: 10 * MB)
    with pytest.raises(PlainError) as caught:
        start_run(config(max_steps=4), store)
    err = caught.value.info
    assert err.code == "disk_full" and "older model versions" in err.details["prompt"]
    assert "free_space" in [a.fix_id for a in err.actions]
    assert len(store.list_runs()) == 2  # only the two earlier runs: nothing new was created


def test_a_checkpoint_that_will_not_fit_stops_the_run_and_the_fix_asks_for_versions(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from peftstudio.callbacks.checkpoint import CheckpointCallback, list_checkpoints
    from peftstudio.engine.worker import execute
    from peftstudio.fixes import apply_fix
    from peftstudio.history import disk

    store = open_store()
    run = store.create_run(config(max_steps=6, checkpoint_every_steps=2))
    monkeypatch.setattr(CheckpointCallback, "free_bytes", lambda self: 1 * MB)  # full after the first one
    assert execute(run.id, store) == "failed"
    monkeypatch.undo()
    failed = store.get_run(run.id)
    assert failed.error is not None and failed.error["code"] == "disk_full"
    assert "checkpoint of step 4" in failed.error["explanation"]
    folder = Path(failed.folder) / "checkpoints"
    assert [c.step for c in list_checkpoints(folder)] == [2]

    _old_version(store, tmp_path)
    monkeypatch.setattr(disk, "free_space", lambda path=None: 10 * MB)  # still short: list versions, touch nothing
    with pytest.raises(PlainError) as caught:
        apply_fix(run.id, "free_space", store)
    assert caught.value.code == "disk_full" and "v1 of " in caught.value.info.details["prompt"]
    assert [c.step for c in list_checkpoints(folder)] == [2]  # the run's own checkpoint is still there
    monkeypatch.undo()

    result = apply_fix(run.id, "free_space", store, wait=True)  # space was freed: it resumes from step 2
    assert result.resumed_from == 2
    assert store.get_run(run.id).status == "completed"
