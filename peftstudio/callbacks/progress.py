"""Progress and metrics: one report per optimizer step (and per validation) to any listeners.

`summarize_step` is the pure part: micro-batch losses and token counts of one
optimizer step -> a `StepReport`. `ProgressCallback` is the Lightning shell that
times steps, reads the learning rate and gradient norm, and calls the listeners
(the worker's listener writes to the store; the app or a notebook can add its own).

Example:
    >>> r = summarize_step(step=10, epoch=0, micro_losses=[2.0, 1.0], micro_tokens=[100, 300],
    ...                    step_seconds=2.0, learning_rate=1e-4, grad_norm=0.5, tokens_seen_before=1000,
    ...                    elapsed_seconds=20.0)
    >>> r.loss, r.tokens, r.tokens_seen, r.tokens_per_second
    (1.5, 400, 1400, 200.0)
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import lightning as L
import torch
from attrs import frozen


def useful_tokens(batch: dict[str, Any]) -> int:
    """Real (non-padding) tokens in a collated batch."""
    return int(token_count(batch))


def token_count(batch: dict[str, Any]) -> torch.Tensor | int:
    """Real tokens in a batch, left on the batch's device (reading it waits for the device: see `as_floats`)."""
    if "token_count" in batch:
        return batch["token_count"]  # type: ignore[no-any-return]
    if batch.get("attention_mask") is not None:
        return batch["attention_mask"].sum()  # type: ignore[no-any-return]
    return int(batch["input_ids"].numel())


def as_floats(values: Sequence[Any]) -> list[float]:
    """Numbers and one-element tensors as Python floats, read from the device in one transfer.

    A callback that read each micro-batch's loss at once would make the CPU wait for the GPU after every
    micro-batch; keeping the tensors until the optimizer step waits once per step instead.

    Example:
        >>> as_floats([torch.tensor(1.5), 2, torch.tensor([0.25])])
        [1.5, 2.0, 0.25]
    """
    if not any(isinstance(v, torch.Tensor) for v in values):
        return [float(v) for v in values]
    tensors = [v.detach().reshape(()).to(torch.float64) if isinstance(v, torch.Tensor) else
               torch.tensor(float(v), dtype=torch.float64) for v in values]
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        tensors = [t.cpu() for t in tensors]
    return [float(v) for v in torch.stack(tensors).tolist()]


@frozen
class StepReport:
    """What happened in one optimizer step."""

    step: int
    epoch: int
    loss: float
    learning_rate: float
    tokens: int
    tokens_seen: int
    tokens_per_second: float
    grad_norm: float | None
    step_seconds: float
    elapsed_seconds: float

    def metrics(self) -> dict[str, float]:
        """The numbers to store, by metric name."""
        values = {"loss": self.loss, "learning_rate": self.learning_rate, "tokens_per_second": self.tokens_per_second,
                  "epoch": float(self.epoch), "step_seconds": self.step_seconds}
        if self.grad_norm is not None:
            values["grad_norm"] = self.grad_norm
        return values


@frozen
class ValidationReport:
    """The validation loss measured after `step`."""

    step: int
    epoch: int
    val_loss: float
    tokens_seen: int

    def metrics(self) -> dict[str, float]:
        return {"val_loss": self.val_loss}


Listener = Callable[[Any], None]


def summarize_step(*, step: int, epoch: int, micro_losses: Sequence[float], micro_tokens: Sequence[int],
                   step_seconds: float, learning_rate: float, grad_norm: float | None, tokens_seen_before: int,
                   elapsed_seconds: float) -> StepReport:
    """One optimizer step's report: mean micro-batch loss, tokens, throughput.

    Example:
        >>> summarize_step(step=1, epoch=0, micro_losses=[], micro_tokens=[], step_seconds=0.0,
        ...                learning_rate=0.1, grad_norm=None, tokens_seen_before=0, elapsed_seconds=0.0).loss
        nan
    """
    tokens = int(sum(micro_tokens))
    loss = float(sum(micro_losses) / len(micro_losses)) if micro_losses else math.nan
    rate = tokens / step_seconds if step_seconds > 0 else 0.0
    return StepReport(step=step, epoch=epoch, loss=loss, learning_rate=float(learning_rate), tokens=tokens,
                      tokens_seen=tokens_seen_before + tokens, tokens_per_second=rate,
                      grad_norm=None if grad_norm is None else float(grad_norm), step_seconds=float(step_seconds),
                      elapsed_seconds=float(elapsed_seconds))


def gradient_norm(parameters: Iterable[torch.nn.Parameter]) -> float | None:
    """The total L2 norm of the gradients (None when no parameter has one)."""
    grads = [p.grad.detach() for p in parameters if p.grad is not None]
    if not grads:
        return None
    # one fused call over every tensor (a loop of per-tensor norms cost ~1% of a SmolLM2 step on a CPU)
    return float(torch.nn.utils.get_total_norm(grads, 2.0))


_TRAINABLE: weakref.WeakKeyDictionary[Any, list[torch.nn.Parameter]] = weakref.WeakKeyDictionary()
_STEP_NORMS: weakref.WeakKeyDictionary[Any, tuple[int, float | None]] = weakref.WeakKeyDictionary()


def step_gradient_norm(trainer: L.Trainer, pl_module: L.LightningModule) -> float | None:
    """`gradient_norm` of the trainable parameters for the optimizer step being taken.

    Computed once per step however many callbacks ask (progress and the gradient guard both do), over a
    list of the trainable parameters made once per module (walking a large model's modules for its
    parameters costs more than the norm itself).
    """
    cached = _STEP_NORMS.get(trainer)
    if cached is not None and cached[0] == trainer.global_step:
        return cached[1]
    params = _TRAINABLE.get(pl_module)
    if params is None:
        params = _TRAINABLE[pl_module] = [p for p in pl_module.parameters() if p.requires_grad]
    norm = gradient_norm(params)
    _STEP_NORMS[trainer] = (trainer.global_step, norm)
    return norm


def scaled_losses(micro: Sequence[tuple[Any, int]]) -> list[float]:
    """Micro-batch losses kept as ``(value, scale)`` pairs, read at once and multiplied by their scales.

    Example:
        >>> scaled_losses([(torch.tensor(0.5), 4), (2.0, 1)])
        [2.0, 2.0]
    """
    values = as_floats([v for v, _ in micro])
    return [v * scale for v, (_, scale) in zip(values, micro, strict=True)]


def _loss_value(outputs: Any, accumulate: int) -> tuple[Any, int] | None:
    # Lightning hands callbacks the loss already divided by the accumulation count; an explicit,
    # undivided "train_loss" wins when the module returns one. The value stays a tensor (see `as_floats`).
    if isinstance(outputs, dict) and outputs.get("train_loss") is not None:
        loss, scale = outputs["train_loss"], 1
    else:
        loss, scale = (outputs.get("loss") if isinstance(outputs, dict) else outputs), accumulate
    if loss is None:
        return None
    return (loss.detach() if isinstance(loss, torch.Tensor) else float(loss)), scale


class ProgressCallback(L.Callback):
    """Reports every optimizer step and validation to `listeners` (on the main process only).

    Works with any LightningModule whose ``training_step`` returns the loss (or ``{"loss": ...}``);
    token counts come from ``batch["token_count"]``, the attention mask, or the input size.
    """

    def __init__(self, listeners: Sequence[Listener] = ()) -> None:
        self.listeners: list[Listener] = list(listeners)
        self.tokens_seen = 0
        self.elapsed_before = 0.0  # training time of earlier sessions of a paused run
        self.loss_steps: list[int] = []
        self.loss_values: list[float] = []
        self.last: StepReport | None = None
        self.validated_step: int | None = None  # the step of this session's last validation
        self._session_start = time.monotonic()
        self._step_start: float | None = None
        self._micro_losses: list[tuple[Any, int]] = []  # (loss, scale), read at the step's end
        self._micro_tokens: list[Any] = []
        self._lr = 0.0
        self._grad_norm: float | None = None
        self._seen_step = -1

    @property
    def elapsed_seconds(self) -> float:
        return self.elapsed_before + (time.monotonic() - self._session_start)

    def _notify(self, trainer: L.Trainer, report: Any) -> None:
        if trainer.is_global_zero:
            for listener in self.listeners:
                listener(report)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._session_start = time.monotonic()
        self._seen_step = trainer.global_step

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        if self._step_start is None:
            self._step_start = time.monotonic()
        self._micro_tokens.append(token_count(batch) if isinstance(batch, dict) else 0)

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        self._grad_norm = step_gradient_norm(trainer, pl_module)
        self._lr = float(optimizer.param_groups[0]["lr"])

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        loss = _loss_value(outputs, trainer.accumulate_grad_batches)
        if loss is not None:
            self._micro_losses.append(loss)
        if trainer.global_step == self._seen_step:
            return  # still accumulating
        self._seen_step = trainer.global_step
        now = time.monotonic()
        losses, tokens = self._read()
        report = summarize_step(step=trainer.global_step, epoch=trainer.current_epoch,
                                micro_losses=losses, micro_tokens=tokens,
                                step_seconds=now - (self._step_start or now), learning_rate=self._lr,
                                grad_norm=self._grad_norm, tokens_seen_before=self.tokens_seen,
                                elapsed_seconds=self.elapsed_seconds)
        self.tokens_seen = report.tokens_seen
        self.loss_steps.append(report.step)
        self.loss_values.append(report.loss)
        self.last = report
        self._micro_losses, self._micro_tokens, self._step_start = [], [], None
        self._notify(trainer, report)

    def _read(self) -> tuple[list[float], list[int]]:
        """This step's micro-batch losses (scaled) and token counts, read from the device at once."""
        return scaled_losses(self._micro_losses), [int(v) for v in as_floats(self._micro_tokens)]

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get("val_loss")
        if value is None or trainer.sanity_checking:
            return
        self.validated_step = trainer.global_step
        self._notify(trainer, ValidationReport(step=trainer.global_step, epoch=trainer.current_epoch,
                                               val_loss=float(value), tokens_seen=self.tokens_seen))

    def state_dict(self) -> dict[str, Any]:
        return {"tokens_seen": self.tokens_seen, "elapsed_seconds": self.elapsed_seconds,
                "loss_steps": list(self.loss_steps), "loss_values": list(self.loss_values),
                # a step begun but not taken (a pause between micro-batches)
                "micro_losses": scaled_losses(self._micro_losses),
                "micro_tokens": [int(v) for v in as_floats(self._micro_tokens)]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.tokens_seen = int(state_dict.get("tokens_seen", 0))
        self.elapsed_before = float(state_dict.get("elapsed_seconds", 0.0))
        self.loss_steps = [int(s) for s in state_dict.get("loss_steps", [])]
        self.loss_values = [float(v) for v in state_dict.get("loss_values", [])]
        self._micro_losses = [(float(v), 1) for v in state_dict.get("micro_losses", [])]
        self._micro_tokens = [int(v) for v in state_dict.get("micro_tokens", [])]
        self._session_start = time.monotonic()
