"""End to end on `builtin:tiny-llama`: three real runs from the engine are compared, cloned, and become
versions v1, v2, v3 whose archives restore byte-identical."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs
import pytest

from peftstudio.data.samples import sample_path
from peftstudio.history.archive import archive_version, restore_version
from peftstudio.history.compare import clone_run_config, compare_runs, lower_is_better
from peftstudio.history.versions import list_versions, record_completed_run
from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.store import open_store

pytestmark = pytest.mark.slow


def _config(**changes: object) -> RunConfig:
    lora = LoraSettings(rank=int(changes.pop("rank", 4)), alpha=8)
    training = TrainingSettings(**{"max_steps": 4, "micro_batch_size": 4, "sequence_length": 128,
                                   "eval_every_steps": 2, "checkpoint_every_steps": 2, **changes})
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                     data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))), lora=lora, training=training)


CONFIGS = {"base": _config(), "faster_lr": _config(learning_rate=2e-3), "rank8": _config(rank=8)}


@pytest.fixture(scope="module")
def engine_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    from peftstudio.engine.runs import start_run, wait_run

    home = tmp_path_factory.mktemp("engine-home")
    old = os.environ.get("PEFTSTUDIO_HOME")
    os.environ["PEFTSTUDIO_HOME"] = str(home)
    try:
        store = open_store()
        ids = {key: start_run(cfg, store, name=key) for key, cfg in CONFIGS.items()}  # train side by side
        for rid in ids.values():
            run = wait_run(rid, store, timeout=600)
            assert run.status == "completed", (run.status, run.error)
    finally:
        if old is not None:
            os.environ["PEFTSTUDIO_HOME"] = old
    return home, ids


@pytest.fixture
def runs(engine_home: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PEFTSTUDIO_HOME", str(engine_home[0]))
    return engine_home[1]


def test_comparison_of_three_runs(runs: dict[str, str]) -> None:
    store = open_store()
    ids = list(runs.values())
    cmp = compare_runs(ids)
    # the best run per metric, worked out independently from the stored metrics
    for chart in cmp.charts:
        direction = lower_is_better(chart.name)
        reached = {}
        for rid in ids:
            values = [m["value"] for m in store.metrics(rid, chart.name)]
            if values:
                reached[rid] = min(values) if direction is not False else max(values)
        if direction is None or not reached:
            assert chart.best_run_id is None
            continue
        pick = min if direction else max
        assert chart.best_run_id == pick(reached, key=lambda r: (reached[r], ids.index(r)))
    assert {"val_loss", "loss"} <= {c.name for c in cmp.charts}
    val = next(c for c in cmp.charts if c.name == "val_loss")
    assert val.steps == (2, 4) and all(len(v) == 2 for v in val.by_step.values())
    finals = {r.run_id: r.final_val_loss for r in cmp.rows}
    assert cmp.best["final_val_loss"] == min(finals, key=lambda r: (finals[r], ids.index(r)))
    # exactly the changed fields
    assert [(d.path, d.values) for d in cmp.differences] == [
        ("lora.rank", (4, 4, 8)), ("training.learning_rate", (2e-4, 2e-3, 2e-4))]


def test_clone_reproduces_the_config(runs: dict[str, str]) -> None:
    clone = clone_run_config(runs["faster_lr"])
    assert clone == open_store().get_run(runs["faster_lr"]).config
    # the engine only added the data fingerprint it measured
    assert attrs.evolve(clone, data=attrs.evolve(clone.data, reference=None)) == CONFIGS["faster_lr"]


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_completed_runs_become_versions_and_archives_restore_identical(runs: dict[str, str]) -> None:
    store = open_store()
    for rid in runs.values():  # what the engine's completion hook does (a second call changes nothing)
        record_completed_run(store, rid, store.get_run(rid).summary["adapter_path"])
    versions = list_versions()
    assert [v.label for v in versions] == ["v1", "v2", "v3"]
    assert {v.run_id for v in versions} == set(runs.values())
    v1 = versions[0]
    adapter = Path(v1.path) / "adapter"
    assert (adapter / "adapter_model.safetensors").is_file()
    assert _tree(adapter) == _tree(Path(store.get_run(v1.run_id).summary["adapter_path"]))
    before = _tree(Path(v1.path))
    archive_version(v1.id)
    assert not Path(v1.path).exists()
    restore_version(v1.id)
    assert _tree(Path(v1.path)) == before
