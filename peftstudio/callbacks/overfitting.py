"""Overfitting guard: validation loss rising while training loss falls, or a growing gap between them.

`decide` is pure: the training losses per step and the validation losses per evaluation
-> a `Decision`. It triggers when, over the last `patience` evaluations, the validation
loss rose every time (and by more than noise: `min_rise` of its best value in total)
while the training loss fell, or when the gap between them grew every time to at least
`min_gap` while the validation loss stopped improving. With early stopping allowed it stops training and keeps the best checkpoint's
weights; otherwise it recommends what to change. The guard also measures the base model's
validation loss, the reference the quality score compares against: at the run's first
validation, with the adapter switched off (the same number as before the first step, since
the LoRA adapter starts as a no-op), so the first step comes sooner; a model without an
adapter switch is measured before its first step.

Example:
    >>> train = [(s, 3.0 - 0.1 * s) for s in range(1, 21)]
    >>> val = [(5, 2.6), (10, 2.7), (15, 2.8), (20, 2.95)]
    >>> d = decide(train, val, early_stopping=False)
    >>> d.reason.value, d.action.value, d.details["best_step"]
    ('validation_rising', 'recommend', 5)
    >>> decide(train, [(5, 2.6), (10, 2.4), (15, 2.25), (20, 2.1)], early_stopping=False).triggered
    False
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import lightning as L
import torch
from attrs import frozen

from peftstudio.callbacks.decision import Decision, GuardAction, GuardReport, Reason, notify, sync_flag
from peftstudio.callbacks.progress import scaled_losses

Point = tuple[int, float]  # (optimizer step, loss)


@frozen
class BaseLossReport:
    """The base model's validation loss (at step 0: the model before training)."""

    step: int
    base_val_loss: float
    tokens: int


def train_level(train: Sequence[Point], after: int, upto: int) -> float | None:
    """The mean training loss of the steps in (`after`, `upto`]; else the last one at or before `upto`.

    Example:
        >>> train_level([(1, 3.0), (2, 2.0), (3, 1.0)], after=1, upto=3)
        1.5
    """
    inside = [v for s, v in train if after < s <= upto and math.isfinite(v)]
    if inside:
        return sum(inside) / len(inside)
    before = [v for s, v in train if s <= upto and math.isfinite(v)]
    return before[-1] if before else None


def decide(train: Sequence[Point], val: Sequence[Point], *, early_stopping: bool, patience: int = 3,
           min_rise: float = 0.02, min_gap: float = 0.2, dropout: float | None = None,
           steps_per_epoch: int | None = None) -> Decision:
    """Whether the run is overfitting, from per-step training losses and per-evaluation validation losses."""
    points = [(s, v) for s, v in val if math.isfinite(v)]
    if len(points) < patience + 1:
        return Decision.ok()
    window = points[-(patience + 1):]
    first = len(points) - len(window)
    # the training loss at each evaluation: the mean over the steps since the previous evaluation
    levels = [train_level(train, points[i - 1][0] if i > 0 else 0, points[i][0]) for i in range(first, len(points))]
    if any(level is None for level in levels):
        return Decision.ok()
    trains = [float(v) for v in levels]  # type: ignore[arg-type]
    vals = [v for _s, v in window]
    best_step, best = min(points, key=lambda p: p[1])
    train_falling = trains[-1] < trains[0]
    rising = all(b > a for a, b in pairwise(vals)) and vals[-1] - vals[0] > min_rise * abs(best)
    gaps = [v - t for v, t in zip(vals, trains, strict=False)]
    # a gap alone is not overfitting while validation still improves (in the first epoch both fall)
    stalled = vals[-1] > min(vals[:-1]) - min_rise * abs(best)
    growing = (all(b > a for a, b in pairwise(gaps)) and gaps[-1] >= max(min_gap, 0.1 * abs(trains[-1]))
               and stalled)
    if not train_falling or not (rising or growing):
        return Decision.ok()
    reason = Reason.VALIDATION_RISING if rising else Reason.GAP_GROWING
    details: dict[str, Any] = {"step": window[-1][0], "val_loss": vals[-1], "train_loss": trains[-1],
                               "gap": gaps[-1], "best_step": best_step, "best_val_loss": best,
                               "val_window": vals, "train_window": trains}
    what = (f"the validation loss rose from {vals[0]:.3g} to {vals[-1]:.3g} over the last {patience} evaluations "
            f"while the training loss fell from {trains[0]:.3g} to {trains[-1]:.3g}" if rising else
            f"the gap between validation loss ({vals[-1]:.3g}) and training loss ({trains[-1]:.3g}) grew at each of "
            f"the last {patience} evaluations")
    if early_stopping:
        message = (f"The model is starting to learn the training examples by heart (overfitting): {what}. "
                   f"Training was stopped early; the weights of the best checkpoint (step {best_step}, validation "
                   f"loss {best:.3g}) are kept.")
        action = GuardAction.STOP_EARLY
    else:
        message = (f"The model is starting to learn the training examples by heart (overfitting): {what}. "
                   f"The lowest validation loss was {best:.3g} at step {best_step}.")
        action = GuardAction.RECOMMEND
    return Decision(reason, message, _suggestions(early_stopping, best_step, dropout, steps_per_epoch), action,
                    details)


def _suggestions(early_stopping: bool, best_step: int, dropout: float | None,
                 steps_per_epoch: int | None) -> tuple[str, ...]:
    out = []
    if not early_stopping:
        out.append(f"Turn on early stopping (training.early_stopping = true): training then stops by itself and "
                   f"keeps the best checkpoint (here step {best_step}).")
    if steps_per_epoch:
        epochs = max(best_step / steps_per_epoch, 0.1)
        out.append(f"Train for fewer epochs: about {epochs:.1f} (the validation loss was lowest at step {best_step}).")
    else:
        out.append(f"Train for fewer steps: about {best_step} (the validation loss was lowest there).")
    if dropout is not None and dropout < 0.1:
        out.append(f"Raise LoRA dropout from {dropout:g} to 0.1, or add more varied training examples.")
    else:
        out.append("Add more (and more varied) training examples, so there is more to learn than to memorise.")
    return tuple(out[:3])


class OverfittingGuard(L.Callback):
    """Watches validation against training loss (see the module docstring); reusable in any Lightning project.

    Reads ``val_loss`` from the logged metrics after each validation. With `measure_base` it reports the
    base model's validation loss (a `BaseLossReport`) at the first validation of a fresh run, measured
    with the adapter switched off (or at the end of training when no validation came first). With
    `base_cache` (a folder) a run on the same weights and the same validation batches as an earlier
    one reads that number instead of measuring it again (`base_cache_file`).
    """

    def __init__(self, listeners: Sequence[Callable[[Any], None]] = (), *, early_stopping: bool = False,
                 patience: int = 3, min_rise: float = 0.02, min_gap: float = 0.2, dropout: float | None = None,
                 monitor: str = "val_loss", measure_base: bool = True, base_cache: str | Path | None = None) -> None:
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.listeners = list(listeners)
        self.early_stopping = early_stopping
        self.patience, self.min_rise, self.min_gap = patience, min_rise, min_gap
        self.dropout = dropout
        self.monitor = monitor
        self.measure_base = measure_base
        self.base_cache = Path(base_cache) if base_cache else None
        self.train: list[Point] = []
        self.val: list[Point] = []
        self.fired: str | None = None
        self.stopped_early = False
        self.base_val_loss: float | None = None
        self._micro: list[tuple[Any, int]] = []  # (loss, scale) of this step's micro-batches

    # ------------------------------------------------------------ base model
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if adapter_switch(pl_module) is None:  # no way to see the base model later: measure it now
            self._measure_base(trainer, pl_module)

    def _measure_base(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.measure_base or self.base_val_loss is not None:
            return
        switch = adapter_switch(pl_module)
        if switch is None and trainer.global_step > 0:
            return  # the weights have changed and cannot be switched back
        with switch() if switch is not None else contextlib.nullcontext():
            loss, tokens = self._base_loss(trainer, pl_module)
        if loss is not None:
            self.base_val_loss = loss
            if trainer.is_global_zero:
                for listener in self.listeners:
                    listener(BaseLossReport(step=0, base_val_loss=loss, tokens=tokens))

    def _base_loss(self, trainer: L.Trainer, pl_module: L.LightningModule) -> tuple[float | None, int]:
        """`base_validation_loss`, read from `base_cache` when the same weights scored the same batches before."""
        from peftstudio.files import cached_json

        def measure() -> dict[str, Any] | None:
            loss, tokens = base_validation_loss(trainer, pl_module)
            return None if loss is None else {"loss": loss, "tokens": tokens}

        path = base_cache_file(self.base_cache, trainer, pl_module) if self.base_cache is not None else None
        found = cached_json(path, measure, valid=lambda v: isinstance(v, dict) and isinstance(v.get("loss"), float)
                            and isinstance(v.get("tokens"), int))
        return (None, 0) if found is None else (float(found["loss"]), int(found["tokens"]))

    # ------------------------------------------------------------ losses
    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: Any) -> None:
        # kept on the device and read once at the step's end, not after every micro-batch (scaled_losses)
        self._micro.append((loss.detach(), max(int(trainer.accumulate_grad_batches), 1)))

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        if self._micro:
            micro = scaled_losses(self._micro)
            self.train.append((trainer.global_step + 1, sum(micro) / len(micro)))
            self.train = self.train[-5000:]
        self._micro = []

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or trainer.sanity_checking or trainer.state.fn != "fit" or trainer.global_step == 0:
            return
        self._measure_base(trainer, pl_module)
        self.val.append((trainer.global_step, float(value)))
        if self.fired is not None:
            return  # one recommendation per run is enough
        per_epoch = None
        if trainer.num_training_batches not in (None, float("inf")):
            per_epoch = max(1, math.ceil(int(trainer.num_training_batches) / max(trainer.accumulate_grad_batches, 1)))
        decision = decide(self.train, self.val, early_stopping=self.early_stopping, patience=self.patience,
                          min_rise=self.min_rise, min_gap=self.min_gap, dropout=self.dropout,
                          steps_per_epoch=per_epoch)
        if not sync_flag(trainer, decision.triggered):
            return
        self.fired = decision.reason.value
        notify(self.listeners, trainer, GuardReport("overfitting", trainer.global_step, decision))
        if decision.action is GuardAction.STOP_EARLY:
            self.stopped_early = True
            trainer.should_stop = True

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._measure_base(trainer, pl_module)  # no validation during training
        if self.stopped_early:
            restore_best_weights(trainer, pl_module)

    def state_dict(self) -> dict[str, Any]:
        return {"train_steps": [s for s, _ in self.train], "train_values": [v for _, v in self.train],
                "val_steps": [s for s, _ in self.val], "val_values": [v for _, v in self.val],
                "fired": self.fired, "base_val_loss": self.base_val_loss, "stopped_early": self.stopped_early,
                "micro": scaled_losses(self._micro)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.train = [(int(s), float(v)) for s, v in zip(state_dict.get("train_steps", []),
                                                         state_dict.get("train_values", []), strict=False)]
        self.val = [(int(s), float(v)) for s, v in zip(state_dict.get("val_steps", []),
                                                       state_dict.get("val_values", []), strict=False)]
        self.fired = state_dict.get("fired")
        base = state_dict.get("base_val_loss")
        self.base_val_loss = None if base is None else float(base)
        self.stopped_early = bool(state_dict.get("stopped_early", False))
        self._micro = [(float(v), 1) for v in state_dict.get("micro", [])]  # a step begun before a pause


def adapter_switch(pl_module: L.LightningModule) -> Callable[[], Any] | None:
    """The context manager that runs `pl_module`'s model without its adapter (PEFT's ``disable_adapter``),
    or None for a model without one."""
    switch = getattr(getattr(pl_module, "model", None), "disable_adapter", None)
    return switch if callable(switch) else None


def base_cache_file(folder: Path, trainer: L.Trainer, pl_module: L.LightningModule) -> Path | None:
    """Where the base model's validation loss is kept in `folder`: a file named by a digest of the model's
    weight files, its dtype, device and quantization, and the validation batches themselves (None: not
    cacheable, e.g. a model built in memory or a run on several devices)."""
    import hashlib

    from peftstudio.files import cache_file, weights_stamp

    datamodule = getattr(trainer, "datamodule", None)
    model: Any = getattr(pl_module, "model", None)
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = getattr(base, "config", None)
    stamp = weights_stamp(str(getattr(config, "_name_or_path", "") or ""))
    if not stamp or trainer.world_size > 1 or datamodule is None or not hasattr(datamodule, "val_dataloader"):
        return None
    batches = hashlib.sha256()
    for batch in datamodule.val_dataloader():
        for key in sorted(batch):
            value = batch[key]
            if isinstance(value, torch.Tensor):
                batches.update(f"{key}{tuple(value.shape)}".encode())
                batches.update(value.detach().cpu().numpy().tobytes())
    param = next(base.parameters())  # type: ignore[union-attr]
    quantization = getattr(config, "quantization_config", None)
    what = [stamp, str(param.dtype), param.device.type, str(getattr(quantization, "to_dict", lambda: quantization)()),
            batches.hexdigest(), type(pl_module).__name__]
    return cache_file(folder, what)


def base_validation_loss(trainer: L.Trainer, pl_module: L.LightningModule) -> tuple[float | None, int]:
    """The token-weighted validation loss of the model as it is now (no gradients, eval mode).

    A module with a ``loss(batch)`` method (`peftstudio.engine.module.LoraModule`: output logits for the
    predicted tokens only) computes it as validation does; any other is asked for ``module(batch).loss``."""
    datamodule = getattr(trainer, "datamodule", None)
    if datamodule is None or not hasattr(datamodule, "val_dataloader"):
        return None, 0
    loader = datamodule.val_dataloader()
    was_training = pl_module.training
    pl_module.eval()
    total = torch.zeros(2, dtype=torch.float64, device=pl_module.device)
    try:
        with torch.no_grad():
            for batch in loader:
                batch = {k: v.to(pl_module.device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
                if "labels" not in batch:
                    return None, 0
                predicted = int((batch["labels"][:, 1:] != -100).sum())
                if not predicted:  # nothing to predict (a rank's filler batch): it weighs nothing
                    continue
                own_loss = getattr(pl_module, "loss", None)
                loss = own_loss(batch) if callable(own_loss) else pl_module(batch).loss
                total += torch.tensor([float(loss) * predicted, predicted], dtype=torch.float64, device=total.device)
    finally:
        pl_module.train(was_training)
    if trainer.world_size > 1:
        total = trainer.strategy.reduce(total, reduce_op="sum")
    if float(total[1]) == 0:
        return None, 0
    return float(total[0] / total[1]), int(total[1])


def restore_best_weights(trainer: L.Trainer, pl_module: L.LightningModule) -> int | None:
    """Load the trainable weights of the best checkpoint (lowest validation loss) into `pl_module`."""
    from peftstudio.callbacks.checkpoint import best_checkpoint
    from peftstudio.callbacks.checkpoint_io import read_checkpoint
    from peftstudio.callbacks.control import checkpoints_of

    ckpt_cb = checkpoints_of(trainer)
    best = best_checkpoint(ckpt_cb.folder) if ckpt_cb is not None else None
    if best is None:
        return None
    state = read_checkpoint(best.path)["state_dict"]
    pl_module.load_state_dict(state, strict=False)
    return best.step
