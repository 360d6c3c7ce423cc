"""From a run configuration to a configured `lightning.Trainer`, and one training session.

`plan_trainer` is pure: training settings + data size -> `TrainerPlan` (precision,
accumulation, clipping, validation cadence, total steps, devices and strategy).
`build_trainer` turns a plan and callbacks into a Trainer; multi-GPU and multi-node
runs use Lightning's own strategies (``ddp``, ``fsdp``, ``deepspeed``). `fit` runs one
session of a run in this process: a fresh start, or a resume from the newest
checkpoint in the run folder.

Example:
    >>> from peftstudio.records import TrainingSettings
    >>> p = plan_trainer(TrainingSettings(max_steps=None, epochs=2, gradient_accumulation=2),
    ...                  batches_per_epoch=10, has_validation=True, cuda=False)
    >>> p.max_steps, p.precision, p.val_check_interval
    (10, '32-true', 100)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from attrs import frozen
from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy

from peftstudio.engine.packing import Example
from peftstudio.records.config import RunConfig, TrainingSettings

_PRECISION = {("fp32", False): "32-true", ("fp32", True): "32-true",
              ("bf16", False): "bf16-mixed", ("bf16", True): "bf16-mixed",
              ("fp16", True): "16-mixed", ("fp16", False): "32-true"}  # no fp16 autocast on the CPU


@frozen
class TrainerPlan:
    """Every argument the Trainer gets, decided in one place."""

    accelerator: str
    devices: int
    strategy: str
    precision: str
    accumulate_grad_batches: int
    gradient_clip_val: float | None
    max_steps: int
    steps_per_epoch: int
    val_check_interval: int
    limit_val_batches: float
    deterministic: bool = False  # deterministic kernels (cuBLAS workspace, SDPA backward): exact GPU resumes


def steps_per_epoch(batches_per_epoch: int, accumulation: int) -> int:
    """Optimizer steps per epoch (the last, partial accumulation still steps).

    Example:
        >>> steps_per_epoch(10, 4)
        3
    """
    return max(1, math.ceil(batches_per_epoch / max(accumulation, 1)))


def validation_interval(eval_every_steps: int, accumulation: int, batches_per_epoch: int) -> int:
    """Lightning's validation cadence in micro-batches for a validation every `eval_every_steps` optimizer steps.

    A cadence within a fifth of a pass of the pass itself means once a pass (the planner counts the steps of a
    pass before the data is packed): it is taken at the pass's end, so a one-pass run is not validated a
    step before its end and then again at its end.

    Example:
        >>> validation_interval(29, 1, 30), validation_interval(5, 3, 30), validation_interval(12, 1, 30)
        (30, 15, 12)
    """
    per_epoch = steps_per_epoch(batches_per_epoch, accumulation)
    if abs(eval_every_steps - per_epoch) <= per_epoch / 5:
        return max(1, batches_per_epoch)
    return eval_every_steps * accumulation


def plan_trainer(training: TrainingSettings, *, batches_per_epoch: int, has_validation: bool,
                 cuda: bool) -> TrainerPlan:
    """The Trainer's arguments for `training` on data of `batches_per_epoch` micro-batches per device."""
    per_epoch = steps_per_epoch(batches_per_epoch, training.gradient_accumulation)
    total = training.max_steps or max(1, math.ceil(training.epochs * per_epoch))
    return TrainerPlan(
        accelerator="gpu" if cuda else "cpu",
        devices=training.devices,
        strategy=training.strategy,  # ddp on the CPU uses gloo
        precision=_PRECISION[(training.precision, cuda)],
        accumulate_grad_batches=training.gradient_accumulation,
        gradient_clip_val=training.max_grad_norm,
        max_steps=total,
        steps_per_epoch=per_epoch,
        val_check_interval=validation_interval(training.eval_every_steps, training.gradient_accumulation,
                                               batches_per_epoch),
        limit_val_batches=1.0 if has_validation else 0.0,
        deterministic=training.deterministic,
    )


def build_trainer(plan: TrainerPlan, callbacks: Sequence[L.Callback], *, root_dir: str | Path) -> L.Trainer:
    """A Trainer for `plan`; checkpoints go through `FolderCheckpointIO` (atomic, no pickle)."""
    from peftstudio.callbacks.checkpoint_io import FolderCheckpointIO

    return L.Trainer(
        accelerator=plan.accelerator,
        devices=plan.devices,
        strategy=strategy_for(plan),
        precision=plan.precision,  # type: ignore[arg-type]
        accumulate_grad_batches=plan.accumulate_grad_batches,
        gradient_clip_val=plan.gradient_clip_val,
        max_steps=plan.max_steps,
        max_epochs=-1,
        val_check_interval=plan.val_check_interval,
        check_val_every_n_epoch=None,
        limit_val_batches=plan.limit_val_batches,
        num_sanity_val_steps=0,
        deterministic=plan.deterministic or None,  # None: Lightning leaves torch's setting as it is
        callbacks=list(callbacks),
        plugins=[FolderCheckpointIO()],
        enable_checkpointing=False,  # our CheckpointCallback does it
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        use_distributed_sampler=False,  # our sampler shards by rank itself
        default_root_dir=str(root_dir),
    )


#: Strategies Lightning offers that this engine does not wire yet (mixed fp32 LoRA / 16-bit base
#: dtypes, wrap policy, checkpoints through our CheckpointIO): refused plainly rather than half-run.
UNSUPPORTED_STRATEGIES = ("fsdp", "deepspeed")


class _StayOnDevice:
    """Lightning's teardown moves the model to the CPU (after fit, at each pause and memory restart):
    a 16 GB host copy of an 8B bf16 base, and a risky round trip for quantized weights. The model
    stays where it is; the process ends or drops it soon after."""

    def teardown(self) -> None:
        module = self.lightning_module  # type: ignore[attr-defined]
        if module is None:
            super().teardown()  # type: ignore[misc]
            return
        object.__setattr__(module, "cpu", lambda: module)  # shadows nn.Module.cpu for this one call
        try:
            super().teardown()  # type: ignore[misc]
        finally:
            del module.__dict__["cpu"]


class SingleDeviceStayOnDevice(_StayOnDevice, SingleDeviceStrategy):
    """One GPU; the model stays on it at teardown."""


class DDPStayOnDevice(_StayOnDevice, DDPStrategy):
    """One process per GPU (DDP); each model stays on its GPU at teardown."""


def strategy_for(plan: TrainerPlan) -> Any:
    """The Lightning strategy for `plan`: ours keep the model on its GPU at teardown; FSDP and
    DeepSpeed are refused with a plain error until they are wired.

    Example:
        >>> strategy_for(plan_trainer(TrainingSettings(), batches_per_epoch=1, has_validation=False, cuda=False))
        'auto'
    """
    from peftstudio.errors import make

    if plan.strategy in UNSUPPORTED_STRATEGIES:
        raise make("config_invalid", problems=(
            f"training.strategy: {plan.strategy} is not supported yet (LoRA's fp32 adapter over a 16-bit base, "
            f"its wrap policy and its checkpoints are not wired). Use ddp (one copy of the model per GPU) or "
            f"auto; for a model too big for one GPU, use 4-bit loading (training.quantization = 4bit)."))
    if plan.accelerator != "gpu":
        return plan.strategy  # on the CPU nothing moves at teardown
    if plan.strategy == "ddp" or plan.devices != 1:
        return DDPStayOnDevice()
    return SingleDeviceStayOnDevice(device=torch.device("cuda", 0))


@frozen
class FitOutcome:
    """How a session ended."""

    status: str  # "completed" or "paused"
    step: int
    final_loss: float | None
    val_loss: float | None
    tokens_seen: int
    elapsed_seconds: float
    adapter_path: str | None = None
    pause: Any | None = None  # PauseReport
    resumed_from: int | None = None
    packing: bool = True


def standard_callbacks(folder: Path, training: TrainingSettings, sink: Callable[[Any], None] | None, *,
                       monitor_interval: float = 2.0, pause_flag: Path | None = None) -> list[L.Callback]:
    """Progress, ETA, system monitor, checkpoint and pause callbacks, all reporting to `sink`."""
    from peftstudio.callbacks import (
        CheckpointCallback,
        EtaCallback,
        MonitorCallback,
        PauseCallback,
        ProgressCallback,
    )

    listeners = [sink] if sink is not None else []
    return [
        ProgressCallback(listeners),
        EtaCallback(listeners),
        MonitorCallback(listeners, interval=monitor_interval),
        CheckpointCallback(folder / "checkpoints", every_n_steps=training.checkpoint_every_steps,
                           keep_last=training.keep_checkpoints, listeners=listeners),
        PauseCallback(pause_flag, listeners=listeners),
    ]


def fit(config: RunConfig, model: torch.nn.Module, train: Sequence[Example], validation: Sequence[Example], *,
        pad_id: int, folder: str | Path, sink: Callable[[Any], None] | None = None, resume: bool = True,
        extra_callbacks: Sequence[L.Callback] = (), monitor_interval: float = 2.0,
        pause_flag: str | Path | None = None, save_adapter: bool = True) -> FitOutcome:
    """Train `model` with a LoRA adapter on tokenized examples; resume from `folder`'s newest checkpoint if any.

    Returns when training completes or pauses. `sink` receives every report (steps, validation,
    ETA, system readings, checkpoints, pause).
    """
    from peftstudio.callbacks import ProgressCallback, RunPaused, SessionControl, latest_checkpoint
    from peftstudio.engine.attention import restore_attention
    from peftstudio.engine.datamodule import TextDataModule
    from peftstudio.engine.module import LoraModule, check_quantization

    t = config.training
    check_quantization(t.quantization)
    root = Path(folder)
    cuda = torch.cuda.is_available()
    packing, flat = packing_layout(model, t.packing, cuda=cuda)
    try:
        L.seed_everything(t.seed, workers=True, verbose=False)
        module = LoraModule(model, config.lora, t, quantized=t.quantization != "none")
        data = TextDataModule(train, validation, micro_batch_size=t.micro_batch_size,
                              sequence_length=t.sequence_length, pad_id=pad_id, packing=packing, flat=flat, seed=t.seed)
        per_device = max(1, math.ceil(data.train_rows / t.micro_batch_size) // max(t.devices, 1))
        plan = plan_trainer(t, batches_per_epoch=per_device, has_validation=bool(validation), cuda=cuda)
        if sink is not None:
            sink(plan)
        callbacks = standard_callbacks(root, t, sink, monitor_interval=monitor_interval,
                                       pause_flag=Path(pause_flag) if pause_flag else None)
        # the session control comes last: it carries out what the callbacks before it asked for
        trainer = build_trainer(plan, [*callbacks, *extra_callbacks, SessionControl()], root_dir=root)
        ckpt = latest_checkpoint(root / "checkpoints") if resume else None
        progress = next(cb for cb in callbacks if isinstance(cb, ProgressCallback))
        common = {"packing": packing, "resumed_from": ckpt.step if ckpt else None}
        try:
            trainer.fit(module, datamodule=data, ckpt_path=ckpt.path if ckpt else None, weights_only=True)
        except RunPaused as paused:
            return FitOutcome(status="paused", step=paused.report.step, final_loss=_last(progress.loss_values),
                              val_loss=_val(trainer), tokens_seen=progress.tokens_seen,
                              elapsed_seconds=progress.elapsed_seconds, pause=paused.report, **common)  # type: ignore[arg-type]
        if validation and progress.validated_step != trainer.global_step:  # the final validation loss, unless the
            trainer.validate(module, datamodule=data, verbose=False)      # last step was just validated (all ranks)
        adapter = None
        if save_adapter and trainer.is_global_zero:
            adapter = str(module.save_adapter(root / "adapter"))
        return FitOutcome(status="completed", step=trainer.global_step, final_loss=_last(progress.loss_values),
                          val_loss=_val(trainer), tokens_seen=progress.tokens_seen,
                          elapsed_seconds=progress.elapsed_seconds, adapter_path=adapter, **common)  # type: ignore[arg-type]
    finally:
        restore_attention(model)


def packing_layout(model: torch.nn.Module, wanted: bool, *, cuda: bool) -> tuple[bool, bool]:
    """(packing, flat): whether `model` packs examples, and whether a micro-batch's rows go in one row.

    On the CPU an SDPA model switches to `engine.attention.segment_attention` and packs each micro-batch
    into a single row with no padding; the packing probe then checks that very path. On a GPU many small
    attention calls would cost more than the padding saves: rows stay as they are (SDPA's block mask).
    `fit` puts the model back on SDPA when it ends (`engine.attention.restore_attention`).

    Example:
        >>> from transformers import LlamaConfig, LlamaForCausalLM
        >>> model = LlamaForCausalLM(LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32,
        ...                          num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1))
        >>> model.set_attn_implementation("sdpa")
        >>> packing_layout(model, True, cuda=False), packing_layout(model, False, cuda=False)
        ((True, True), (False, False))
    """
    from peftstudio.engine.attention import restore_attention, use_segment_attention
    from peftstudio.engine.packing import packing_supported

    if not wanted:
        return False, False
    if not cuda and use_segment_attention(model):
        if packing_supported(model):
            return True, True
        restore_attention(model)
    return packing_supported(model), False


def _last(values: Sequence[float]) -> float | None:
    return float(values[-1]) if values else None


def _val(trainer: L.Trainer) -> float | None:
    value = trainer.callback_metrics.get("val_loss")
    return None if value is None else float(value)
