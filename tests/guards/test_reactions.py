"""Guards reacting inside real training sessions of `builtin:tiny-llama`, through the engine's session loop.

`train_session` (in this process, as the worker calls it) sets up the guards; what they ask for is
carried out by the session control and the loop. The memory reading is injected (no GPU here); the
gradient spike is injected by a test callback. Everything the guards report goes through the worker's
store sink, as in a real run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch

from peftstudio.callbacks.checkpoint_io import read_checkpoint
from peftstudio.callbacks.guards import guard_callbacks
from peftstudio.callbacks.memory import MemoryReading
from peftstudio.engine.session import train_session
from peftstudio.engine.trainer import fit
from peftstudio.engine.worker import StoreSink, load_sources
from peftstudio.store import open_store
from tests.guards.helpers import Collect, config, tiny_chat_file

pytestmark = pytest.mark.slow


def _session(cfg: Any) -> tuple[Any, Any, Collect, Any, Any]:
    store = open_store()
    run = store.create_run(cfg)
    model, tokenizer, splits = load_sources(cfg)
    return store, run, Collect(StoreSink(store, run.id)), (model, tokenizer), splits


class SpikeAt(L.Callback):
    """Multiplies the gradients of optimizer step `step` by 10,000 and keeps the weights right after it."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.after: dict[str, torch.Tensor] = {}

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step + 1 == self.step:
            for p in pl_module.parameters():
                if p.grad is not None:
                    p.grad.mul_(1e4)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if trainer.global_step == self.step and not self.after:
            self.after = {k: v.clone() for k, v in pl_module.adapter_state_dict().items()}  # type: ignore[operator]


def test_gradient_spike_turns_clipping_on_and_rolls_back() -> None:
    cfg = config(max_steps=13, max_grad_norm=None, checkpoint_every_steps=3)
    store, run, sink, (model, tok), splits = _session(cfg)
    spike = SpikeAt(step=11)  # after 10 normal steps: enough history to compare with
    clipped: list[float | None] = []

    class Clipping(L.Callback):
        def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
            clipped.append(trainer.gradient_clip_val)  # type: ignore[arg-type]

    outcome = train_session(cfg, [model], lambda c: load_sources(c)[0], splits.train, splits.validation, sink=sink,
                            extra_callbacks=[spike, Clipping()], measure_base=False,
                            pad_id=int(tok.pad_token_id or 0), folder=run.folder, monitor_interval=60)
    assert outcome.status == "completed" and outcome.step == 13
    [event] = store.events(run.id, kind="gradient_explosion")
    assert event["step"] == 11 and event["data"]["action"] == "clip_and_rollback"
    assert event["data"]["details"]["rolled_back_to"] == 9
    assert "clipping was turned on" in event["message"] and event["data"]["suggestions"]
    assert store.get_run(run.id).config.training.max_grad_norm == 1.0  # the run's settings say so too
    assert clipped == [1.0]  # and the trainer clipped the remaining steps
    # right after the spike the trainable weights are exactly those of the checkpoint at step 9
    saved = read_checkpoint(Path(run.folder) / "checkpoints" / "step-0000009")["state_dict"]
    assert spike.after.keys() == saved.keys()
    assert all(torch.equal(spike.after[k], saved[k]) for k in saved)


def test_divergence_rolls_back_then_pauses_the_session_before_the_bad_update() -> None:
    # two checkpoints kept, as by default: the one a rollback went to must outlive the later ones
    cfg = config(learning_rate=50.0, max_steps=30, max_grad_norm=None, checkpoint_every_steps=1, keep_checkpoints=2)
    store, run, sink, (model, tok), splits = _session(cfg)
    weights: dict[int, dict[str, torch.Tensor]] = {}

    class Weights(L.Callback):  # after the guards have asked, before the session control acts
        def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: Any, optimizer: Any) -> None:
            weights[trainer.global_step] = {k: v.clone() for k, v in pl_module.adapter_state_dict().items()}

    outcome = train_session(cfg, [model], lambda c: load_sources(c)[0], splits.train, splits.validation, sink=sink,
                            extra_callbacks=[Weights()], measure_base=False, pad_id=int(tok.pad_token_id or 0),
                            folder=run.folder, monitor_interval=60)
    assert outcome.status == "paused" and outcome.pause.reason == "diverged"
    rollbacks = store.events(run.id, kind="gradient_explosion")
    assert rollbacks and all(e["data"]["details"]["rolled_back_to"] is not None for e in rollbacks)
    [event] = store.events(run.id, kind="divergence")
    assert event["data"]["action"] == "pause" and event["step"] == outcome.step + 1
    error = store.get_run(run.id).error
    assert error["code"] == "nan_loss"
    stable = error["details"]["stable_step"]
    # no checkpoint was written for the step that diverged; the pause names the last stable one
    saved = sorted(int(p.name.split("-")[1]) for p in (Path(run.folder) / "checkpoints").glob("step-*"))
    assert saved[-1] == outcome.step and 0 < stable < rollbacks[0]["step"]
    assert outcome.pause.checkpoint is not None and outcome.pause.checkpoint.endswith(f"step-{stable:07d}")
    # the update that diverged never landed: the adapter is as it was right before the bad step
    before = list(weights[outcome.step].values())
    after = [p.detach() for p in model.parameters() if p.requires_grad]  # get_peft_model adapts the model in place
    assert len(after) == len(before) > 0 and all(torch.equal(a, b) for a, b in zip(after, before, strict=True))


@pytest.mark.parametrize("readings, reason", [
    ([0.5, 0.5, 0.95], "memory_high"),  # an injected 95% reading
    ([0.70, 0.71, 0.86], "memory_dropping"),  # another program starts: act below 90%, before a crash
])
def test_memory_pressure_halves_the_micro_batch_and_the_run_completes(readings: list[float], reason: str) -> None:
    cfg = config(max_steps=6, micro_batch_size=4, gradient_accumulation=1, checkpoint_every_steps=2)
    store, run, sink, (model, tok), splits = _session(cfg)
    calls = {"n": 0}

    def reader() -> MemoryReading:
        calls["n"] += 1
        fraction = readings[calls["n"] - 1] if calls["n"] <= len(readings) else 0.5
        return MemoryReading(int(fraction * 2**30), 2**30, "gpu")

    sizes: list[tuple[int, int]] = []

    class Sizes(L.Callback):
        def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
            rows = batch["row_shape"][0] if "row_shape" in batch else batch["input_ids"].shape[0]  # packed in one row
            sizes.append((int(rows), int(trainer.accumulate_grad_batches)))

    outcome = train_session(cfg, [model], lambda c: load_sources(c)[0], splits.train, splits.validation,
                            sink=sink, memory_reader=reader, extra_callbacks=[Sizes()],
                            pad_id=int(tok.pad_token_id or 0), folder=run.folder, monitor_interval=60)
    assert outcome.status == "completed" and outcome.step == 6
    assert outcome.resumed_from == 3  # continued from the step it reached, not from the start
    [event] = store.events(run.id, kind="memory_pressure")
    assert event["data"]["action"] == "shrink_batch" and event["data"]["reason"] == reason
    assert "effective batch stays 4" in event["message"]
    t = store.get_run(run.id).config.training
    assert (t.micro_batch_size, t.gradient_accumulation) == (2, 2)
    assert sizes[:3] == [(4, 1)] * 3 and set(sizes[3:]) == {(2, 2)}  # 3 steps of 4, then 3 steps of 2 x 2
    # the same examples as an uninterrupted run: 6 steps x 4 rows, in the same order
    from peftstudio.callbacks.progress import useful_tokens
    from peftstudio.engine.datamodule import TextDataModule

    dm = TextDataModule(splits.train, splits.validation, micro_batch_size=4, sequence_length=128,
                        pad_id=int(tok.pad_token_id or 0), packing=outcome.packing, seed=cfg.training.seed)
    dm.setup("fit")
    loader = iter(dm.train_dataloader())
    expected = sum(useful_tokens(next(loader)) for _ in range(6))
    assert outcome.tokens_seen == expected


def test_overfitting_on_a_tiny_data_set_is_recommended_against(tmp_path: Path) -> None:
    cfg = config(tiny_chat_file(tmp_path / "tiny.jsonl", 16), validation_fraction=0.25, dropout=0.0, rank=32,
                 targets=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                 learning_rate=3e-3, micro_batch_size=2, max_steps=80, eval_every_steps=10,
                 checkpoint_every_steps=10)
    store, run, sink, (model, tok), splits = _session(cfg)
    outcome = fit(cfg, model, splits.train, splits.validation, pad_id=int(tok.pad_token_id or 0), folder=run.folder,
                  sink=sink, extra_callbacks=guard_callbacks(cfg, [sink]), monitor_interval=60)
    assert outcome.status == "completed" and outcome.step == 80, [(e["step"], e["message"]) for e in store.events(run.id)]
    [event] = store.events(run.id, kind="overfitting")
    assert event["data"]["action"] == "recommend" and "overfitting" in event["message"]
    suggestions = event["data"]["suggestions"]
    assert any("early stopping" in s for s in suggestions) and any("fewer epochs" in s for s in suggestions)
    assert any("dropout from 0 to 0.1" in s for s in suggestions)
    base = store.metrics(run.id, "base_val_loss")
    assert len(base) == 1 and base[0]["step"] == 0


def test_overfitting_with_early_stopping_allowed_stops_and_keeps_the_best_weights(tmp_path: Path) -> None:
    from peftstudio.callbacks.checkpoint import best_checkpoint

    cfg = config(tiny_chat_file(tmp_path / "tiny.jsonl", 16), validation_fraction=0.25, dropout=0.0, rank=32,
                 targets=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                 learning_rate=3e-3, micro_batch_size=2, max_steps=80, eval_every_steps=10,
                 checkpoint_every_steps=10, early_stopping=True)
    store, run, sink, (model, tok), splits = _session(cfg)
    final: dict[str, torch.Tensor] = {}

    class Final(L.Callback):
        def on_train_end(self, trainer: L.Trainer, pl_module: Any) -> None:
            final.update({k: v.clone() for k, v in pl_module.adapter_state_dict().items()})

    outcome = fit(cfg, model, splits.train, splits.validation, pad_id=int(tok.pad_token_id or 0), folder=run.folder,
                  sink=sink, extra_callbacks=[*guard_callbacks(cfg, [sink], measure_base=False), Final()],
                  monitor_interval=60)
    [event] = store.events(run.id, kind="overfitting")
    assert event["data"]["action"] == "stop_early" and "stopped early" in event["message"]
    assert outcome.status == "completed" and outcome.step == event["step"] < 80
    best = best_checkpoint(Path(run.folder) / "checkpoints")
    assert best is not None and best.step == event["data"]["details"]["best_step"] < outcome.step
    saved = read_checkpoint(best.path)["state_dict"]
    assert all(torch.equal(final[k], saved[k]) for k in saved)  # the weights kept are the best checkpoint's
