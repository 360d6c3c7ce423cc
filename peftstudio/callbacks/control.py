"""How a callback changes the course of a fit: it asks, and the session control carries it out.

Guards and the pause callback decide; they never stop Lightning themselves. They send one of
three requests with `ask(trainer, request)`:

* `Stop`: end this fit now (a pause, a divergence, a smaller micro-batch to come), optionally
  writing a checkpoint first; the engine's session loop reads the `PauseReport` and decides
  what follows (pause the run, or go on with new settings).
* `Rollback`: drop the update about to be taken and put the weights and optimizer state of a
  checkpoint back; training goes on.
* `Clip`: turn gradient clipping on.

`SessionControl` is the one callback that carries requests out, at the first safe moment after
they were made: before the optimizer step (so a bad update never lands), or at a micro-batch's
start or end. The engine adds it last to every trainer, after the callbacks that ask. In a
Lightning project without it, `ask` carries the request out at once. This module is also the one
place that finds a trainer's checkpoints (`checkpoints_of`).

Example:
    >>> Stop(build_report(step=3, reason="diverged", elapsed=None, eta=None, resources=None,
    ...                   checkpoint=None)).report.reason
    'diverged'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import lightning as L
from attrs import field, frozen

from peftstudio.callbacks.checkpoint import (
    CheckpointCallback,
    CheckpointInfo,
    checkpoint_name,
    list_checkpoints,
)

__all__ = ["Clip", "PauseReport", "Rollback", "RunPaused", "SessionControl", "Stop", "ask", "build_report",
           "checkpoint_now", "checkpoints_of", "find_callback", "saved_checkpoints"]

C = TypeVar("C")


@frozen
class PauseReport:
    """The state of a run at the moment it paused."""

    step: int
    reason: str
    elapsed_seconds: float | None = None
    remaining_seconds: float | None = None
    remaining_low_seconds: float | None = None
    remaining_high_seconds: float | None = None
    checkpoint: str | None = None
    resources: dict[str, Any] = field(factory=dict)


class RunPaused(Exception):
    """Raised inside ``trainer.fit`` to stop it after a pause checkpoint; carries the report."""

    def __init__(self, report: PauseReport) -> None:
        super().__init__(f"paused at step {report.step} ({report.reason})")
        self.report = report


def build_report(*, step: int, reason: str, elapsed: float | None, eta: Any | None, resources: Any | None,
                 checkpoint: str | None) -> PauseReport:
    """A `PauseReport` from what the other callbacks know (any of them may be missing)."""
    res: dict[str, Any] = {}
    if resources is not None:
        res = resources.as_dict() if hasattr(resources, "as_dict") else dict(resources)
    return PauseReport(step=step, reason=reason, elapsed_seconds=elapsed,
                       remaining_seconds=getattr(eta, "seconds", None),
                       remaining_low_seconds=getattr(eta, "low", None),
                       remaining_high_seconds=getattr(eta, "high", None), checkpoint=checkpoint, resources=res)


@frozen
class Stop:
    """End the fit: with `save` the report names a checkpoint of this step (written unless one
    exists); `listeners` hear the final report."""

    report: PauseReport
    save: bool = False
    listeners: tuple[Callable[[PauseReport], None], ...] = ()


@frozen
class Rollback:
    """Skip the coming update and load the trainable weights and optimizer state of `checkpoint`."""

    checkpoint: CheckpointInfo


@frozen
class Clip:
    """Clip gradients to `max_norm` from now on."""

    max_norm: float


Request = Stop | Rollback | Clip


def find_callback(trainer: Any, kind: type[C]) -> C | None:
    """The trainer's first callback of type `kind` (None when it has none)."""
    return next((cb for cb in getattr(trainer, "callbacks", []) if isinstance(cb, kind)), None)


def checkpoints_of(trainer: Any) -> CheckpointCallback | None:
    """The trainer's checkpoint callback: the one way to reach its checkpoints."""
    return find_callback(trainer, CheckpointCallback)


def saved_checkpoints(trainer: Any, *, at_most: int | None = None) -> list[CheckpointInfo]:
    """The trainer's saved checkpoints, oldest first; only those of steps up to `at_most` when given."""
    callback = checkpoints_of(trainer)
    saved = list_checkpoints(callback.folder) if callback is not None else []
    return [c for c in saved if at_most is None or c.step <= at_most]


def checkpoint_now(trainer: Any, *, save: bool) -> str | None:
    """The path of a checkpoint of the trainer's current step: the one saved at this step, else (with
    `save`) one written now, else None."""
    callback = checkpoints_of(trainer)
    if callback is None:
        return None
    if callback.last_saved_step == trainer.global_step:
        return str(callback.folder / checkpoint_name(trainer.global_step))
    return callback.save(trainer).path if save else None


def ask(trainer: Any, request: Request) -> None:
    """Send `request` to the trainer's `SessionControl`; without one, carry it out now."""
    control = find_callback(trainer, SessionControl)
    if control is not None:
        control.pending.append(request)
    else:
        _carry_out(trainer, request, optimizer=None)


class SessionControl(L.Callback):
    """Carries out what the other callbacks asked for (see the module docstring); add it last."""

    def __init__(self) -> None:
        self.pending: list[Request] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._run(trainer, optimizer=None)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self._run(trainer, optimizer=None)

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        self._run(trainer, optimizer=optimizer)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        self._run(trainer, optimizer=None)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self.pending = []

    def _run(self, trainer: L.Trainer, *, optimizer: Any) -> None:
        requests, self.pending = self.pending, []
        for request in sorted(requests, key=lambda r: isinstance(r, Stop)):  # a stop comes last: it ends the fit
            _carry_out(trainer, request, optimizer=optimizer)


def _carry_out(trainer: Any, request: Request, *, optimizer: Any) -> None:
    if isinstance(request, Clip):
        trainer.gradient_clip_val = request.max_norm
    elif isinstance(request, Rollback):
        _rollback(trainer, request.checkpoint, optimizer)
    else:
        _stop(trainer, request, dropping_update=optimizer is not None)


def _drop_update(module: Any) -> None:
    for p in module.parameters():
        p.grad = None  # an optimizer skips parameters without a gradient


def _rollback(trainer: Any, checkpoint: CheckpointInfo, optimizer: Any) -> None:
    from peftstudio.callbacks.checkpoint_io import read_checkpoint

    module = trainer.lightning_module
    _drop_update(module)
    callback = checkpoints_of(trainer)
    if callback is not None:
        callback.keep(checkpoint.step)  # the stable weights stay while later checkpoints come and go
    state = read_checkpoint(checkpoint.path)
    module.load_state_dict(state["state_dict"], strict=False)
    optimizers = [optimizer] if optimizer is not None else list(trainer.optimizers)
    for opt, saved in zip(optimizers, state.get("optimizer_states") or [], strict=False):
        opt.load_state_dict(saved)


def _stop(trainer: Any, stop: Stop, *, dropping_update: bool) -> None:
    report = stop.report
    if dropping_update:
        _drop_update(trainer.lightning_module)  # the update of this step must not land
    if stop.save:
        report = attrs.evolve(report, checkpoint=checkpoint_now(trainer, save=True))
    if getattr(trainer, "is_global_zero", True):
        for listener in stop.listeners:
            listener(report)
    raise RunPaused(report)


