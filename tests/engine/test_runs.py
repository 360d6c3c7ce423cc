"""Runs in worker processes on builtin:tiny-llama: complete, pause from another process, exact resume,
kill -9, plain failures, and a 2-process DDP run on the CPU (gloo)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from peftstudio.callbacks import latest_checkpoint
from peftstudio.data import sample_path
from peftstudio.engine.runs import is_worker_alive, pause_run, resume_run, run_status, start_run
from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.store import Store, open_store

pytestmark = pytest.mark.slow


def config(**training: Any) -> RunConfig:
    values: dict[str, Any] = {"learning_rate": 2e-2, "max_steps": 12, "micro_batch_size": 2, "gradient_accumulation": 1,
                                  "sequence_length": 64, "eval_every_steps": 8, "checkpoint_every_steps": 3,
                                  "keep_checkpoints": 2, "seed": 7}
    values.update(training)
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                     data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))),
                     lora=LoraSettings(rank=4, alpha=8, dropout=0.1), training=TrainingSettings(**values))


def losses(store: Store, run_id: str) -> list[tuple[int, float]]:
    return [(m["step"], m["value"]) for m in store.metrics(run_id, "loss")]


def adapter(store: Store, run_id: str) -> dict[str, torch.Tensor]:
    return load_file(str(Path(store.get_run(run_id).folder) / "adapter" / "adapter_model.safetensors"))


def wait_for_step(store: Store, run_id: str, step: int, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = max((m["step"] for m in store.metrics(run_id, "loss")), default=0)
        if done >= step:
            return done
        assert is_worker_alive(store.get_run(run_id).pid), "the worker stopped early"
        time.sleep(0.02)
    raise AssertionError(f"step {step} not reached")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[int, float]], dict[str, torch.Tensor]]:
    """An uninterrupted run to compare with (its own home folder)."""
    home = tmp_path_factory.mktemp("reference-home")
    old = os.environ.get("PEFTSTUDIO_HOME")
    os.environ["PEFTSTUDIO_HOME"] = str(home)
    try:
        store = Store(home / "peftstudio.db")
        rid = start_run(config(), store, detach=False)
        run = store.get_run(rid)
        assert run.status == "completed", run.error
        return losses(store, rid), adapter(store, rid)
    finally:
        if old is not None:
            os.environ["PEFTSTUDIO_HOME"] = old


def test_run_completes_in_a_worker_and_its_loss_falls(reference: Any) -> None:
    steps, _ = reference
    values = [v for _, v in steps]
    assert [s for s, _ in steps] == list(range(1, 13))
    assert sum(values[-4:]) / 4 < sum(values[:4]) / 4


def test_store_gets_status_metrics_readings_and_events() -> None:
    store = open_store()
    rid = start_run(config(max_steps=4), store, detach=False)
    run = store.get_run(rid)
    assert run.status == "completed" and run.error is None and run.pid is None
    names = {m["name"] for m in store.metrics(rid)}
    assert {"loss", "learning_rate", "tokens_per_second", "grad_norm", "val_loss", "eta_seconds"} <= names
    assert all(m["tokens_seen"] > 0 for m in store.metrics(rid, "loss"))
    assert store.readings(rid) and store.readings(rid)[0]["ram_total_bytes"] > 0
    kinds = [e["kind"] for e in store.events(rid)]
    assert kinds[0] == "queued" and "started" in kinds and "completed" in kinds and "checkpoint" in kinds
    assert run.summary["steps"] == 4 and Path(run.summary["adapter_path"]).is_dir()
    assert run.config.data.reference is not None  # the exact data used is recorded


def test_pause_from_another_process_halts_within_10_seconds() -> None:
    store = open_store()
    rid = start_run(config(max_steps=100_000, checkpoint_every_steps=1000), store)
    wait_for_step(store, rid, 2)
    pid = store.get_run(rid).pid
    cli = subprocess.run([sys.executable, "-m", "peftstudio.cli.main", "pause", rid, "--no-wait"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert cli.returncode == 0, cli.stderr
    flag = Path(store.get_run(rid).folder) / "pause.request"
    requested = flag.stat().st_mtime
    while is_worker_alive(pid):
        assert time.time() - requested < 30
        time.sleep(0.02)
    halted = time.time() - requested
    assert halted < 10
    run = run_status(rid, store)
    assert run.status == "paused"
    pause = run.summary["pause"]
    ckpt = latest_checkpoint(Path(run.folder) / "checkpoints")
    assert ckpt is not None and ckpt.step == pause["step"] >= 2 and pause["checkpoint"] == ckpt.path
    assert pause["remaining_seconds"] > 0 and pause["remaining_low_seconds"] <= pause["remaining_high_seconds"]
    assert pause["resources"]["process_rss_bytes"] > 0 and run.elapsed_seconds > 0


def test_paused_and_resumed_run_is_bit_identical(reference: Any) -> None:
    store = open_store()
    rid = start_run(config(), store)
    wait_for_step(store, rid, 2)
    run = pause_run(rid, store, wait=True, timeout=60)  # this test process is the "other process"
    assert run.status == "paused" and run.summary["pause"]["step"] < 12
    assert resume_run(rid, store, detach=False) == rid
    assert store.get_run(rid).status == "completed"
    ref_losses, ref_adapter = reference
    assert losses(store, rid) == ref_losses
    mine = adapter(store, rid)
    assert mine.keys() == ref_adapter.keys() and all(torch.equal(mine[k], ref_adapter[k]) for k in mine)


def test_kill_9_resumes_from_the_last_checkpoint(reference: Any) -> None:
    store = open_store()
    rid = start_run(config(), store)
    reached = wait_for_step(store, rid, 6)
    pid = store.get_run(rid).pid
    os.kill(pid, signal.SIGKILL)
    while is_worker_alive(pid):
        time.sleep(0.02)
    killed_at = max(m["step"] for m in store.metrics(rid, "loss"))
    run = run_status(rid, store)
    assert run.status == "failed" and run.error["code"] == "interrupted_run"
    resume_run(rid, store, detach=False)
    assert store.get_run(rid).status == "completed"
    resumed = [e for e in store.events(rid) if e["kind"] == "resumed"]
    assert resumed and killed_at - resumed[0]["step"] <= 3 and killed_at >= reached  # at most one interval lost
    ref_losses, ref_adapter = reference
    assert losses(store, rid) == ref_losses  # the redone steps replace the lost ones, identically
    assert all(torch.equal(adapter(store, rid)[k], v) for k, v in ref_adapter.items())


def test_failure_is_a_plain_error_not_a_traceback(tmp_path: Path) -> None:
    store = open_store()
    bad = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                    data=DataSettings(path=str(tmp_path / "missing.jsonl")), training=TrainingSettings(max_steps=2))
    rid = start_run(bad, store, detach=False)
    run = store.get_run(rid)
    assert run.status == "failed"
    assert run.error["code"] in ("file_not_found", "dataset_invalid") and run.error["actions"]
    assert "Traceback" not in str(run.error)
    assert "Traceback" in (Path(run.folder) / "worker.log").read_text()
    assert [e["kind"] for e in store.events(rid)][-1] == "failed"


@pytest.mark.parametrize("micro_batch_size", [2, 32])  # 32: one validation batch, so the second rank's is a filler
def test_two_process_ddp_on_the_cpu(micro_batch_size: int) -> None:
    store = open_store()
    rid = start_run(config(max_steps=3, devices=2, strategy="ddp", checkpoint_every_steps=2,
                           micro_batch_size=micro_batch_size), store, detach=False)
    run = store.get_run(rid)
    assert run.status == "completed", run.error
    assert [s for s, _ in losses(store, rid)] == [1, 2, 3]  # one writer, no duplicates
    # the validation loss of the base model and of the tuned one, from both ranks' batches
    assert len(store.metrics(rid, "base_val_loss")) == 1 and store.metrics(rid, "val_loss")
    assert run.summary["final_val_loss"] is not None
    assert "All distributed processes registered. Starting with 2 processes" in (
        Path(run.folder) / "worker.log").read_text()


def test_a_warm_worker_trains_the_run_it_is_handed_exactly_as_a_fresh_one(
        reference: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from peftstudio.engine import runs
    from peftstudio.engine.runs import WarmWorker

    def no_second_worker(*args: Any) -> int:
        raise AssertionError("a fresh worker was spawned instead of the warm one")

    store = open_store()
    worker = WarmWorker.start(store)
    monkeypatch.setattr(runs, "_spawn", no_second_worker)
    rid = start_run(config(), store, detach=False, worker=worker)
    run = store.get_run(rid)
    assert run.status == "completed", run.error
    assert worker.proc.wait(timeout=60) == 0
    assert losses(store, rid) == reference[0]  # the same seed, the same numbers
    assert (Path(run.folder) / "worker.log").is_file()


def test_a_warm_worker_with_no_run_exits_by_itself() -> None:
    from peftstudio.engine.runs import WarmWorker

    store = open_store()
    before = len(store.list_runs())
    worker = WarmWorker.start(store)
    worker.cancel()  # e.g. the command's settings were refused
    assert worker.proc.wait(timeout=120) == 0
    assert len(store.list_runs()) == before
