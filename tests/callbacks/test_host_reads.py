"""Callbacks read losses and token counts from the device once per optimizer step, not once per micro-batch.

On a GPU each read (``float(t)``, ``t.item()``, ``t.tolist()``) makes the CPU wait for the device; with
gradient accumulation 8 three callbacks reading every micro-batch's loss stalled training 24 times a step.
A tensor that counts its reads stands in for the GPU here.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import torch

from peftstudio.callbacks import DivergenceGuard, OverfittingGuard, ProgressCallback

READS = {"n": 0}


class Counted(torch.Tensor):
    """A tensor that counts how often its value is read into Python."""

    def item(self) -> Any:  # type: ignore[override]
        READS["n"] += 1
        return super().item()

    def tolist(self) -> Any:  # type: ignore[override]
        READS["n"] += 1
        return super().tolist()

    def __float__(self) -> float:
        READS["n"] += 1
        return super().__float__()

    def __int__(self) -> int:
        READS["n"] += 1
        return super().__int__()


def counted(value: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.tensor(value, dtype=dtype).as_subclass(Counted)


def test_a_step_of_eight_micro_batches_reads_the_device_once_per_callback() -> None:
    trainer = SimpleNamespace(accumulate_grad_batches=8, global_step=0, is_global_zero=True, current_epoch=0,
                              world_size=1, max_steps=100, gradient_clip_val=None, callbacks=[])
    module = SimpleNamespace()
    optimizer = SimpleNamespace(param_groups=[{"lr": 1e-3}])
    progress, divergence, overfitting = ProgressCallback(), DivergenceGuard(learning_rate=1e-3), OverfittingGuard()
    progress.on_train_start(trainer, module)  # type: ignore[arg-type]
    READS["n"] = 0
    for micro in range(8):
        loss = counted(2.0 + micro / 10)
        batch = {"token_count": counted(100, torch.long), "input_ids": torch.zeros(2, 4)}
        progress.on_train_batch_start(trainer, module, batch, micro)  # type: ignore[arg-type]
        divergence.on_before_backward(trainer, module, loss / 8)  # type: ignore[arg-type]
        overfitting.on_before_backward(trainer, module, loss / 8)  # type: ignore[arg-type]
        if micro < 7:
            progress.on_train_batch_end(trainer, module, {"loss": loss / 8, "train_loss": loss}, batch, micro)  # type: ignore[arg-type]
    assert READS["n"] == 0  # nothing read while accumulating
    divergence.on_before_optimizer_step(trainer, module, optimizer)  # type: ignore[arg-type]
    overfitting.on_before_optimizer_step(trainer, module, optimizer)  # type: ignore[arg-type]
    trainer.global_step = 1
    progress.on_train_batch_end(trainer, module, {"loss": loss / 8, "train_loss": loss}, batch, 7)  # type: ignore[arg-type]
    assert READS["n"] <= 4  # one read of the losses by each guard, losses and tokens by the progress callback
    expected = sum(2.0 + m / 10 for m in range(8)) / 8
    assert abs(progress.last.loss - expected) < 1e-6 and progress.last.tokens == 800  # type: ignore[union-attr]
    assert abs(divergence.losses[-1] - expected) < 1e-6 and abs(overfitting.train[-1][1] - expected) < 1e-6
