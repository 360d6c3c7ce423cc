"""Desktop notifications from a Lightning trainer: a thin shell over `peftstudio.notify.RunNotifier`.

Progress is the optimizer step over the trainer's total steps; the decisions (25/50/75%
once each, 100% with a summary at the end, an urgent notice on an error) are made by the
pure functions in `peftstudio.notify.decide`. A pause (`RunPaused`) or Ctrl+C is not an error
and sends nothing. The announced milestones are kept in checkpoints, so a resumed run does
not repeat them.

Example:
    >>> from peftstudio.notify import NotifySettings
    >>> cb = NotifyCallback(NotifySettings(sound=False), run_name="demo")
    >>> cb.state_dict()
    {'sent': [], 'finished': False}
    >>> cb.notifier.close()
"""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L

from peftstudio.callbacks.pause import RunPaused
from peftstudio.notify import CompletionSummary, NotifySettings, RunNotifier
from peftstudio.notify.decide import run_fraction


def _metric(trainer: L.Trainer, *names: str) -> float | None:
    for name in names:
        value = trainer.callback_metrics.get(name)
        if value is not None:
            number = float(value)
            if math.isfinite(number):
                return number
    return None


class NotifyCallback(L.Callback):
    """Feeds a `RunNotifier` from the trainer (on the main process only).

    Pass `notifier` to share one with the app or the CLI (then its owner closes it); without
    one the callback makes its own from `settings` and closes it at teardown. With
    ``complete_on_train_end=False`` the caller announces completion itself (e.g. after the
    adapter is saved) with ``notifier.completed(summary)``.
    """

    def __init__(self, settings: NotifySettings | None = None, *, notifier: RunNotifier | None = None,
                 run_name: str = "", complete_on_train_end: bool = True) -> None:
        self._owned = notifier is None
        self.notifier = notifier if notifier is not None else RunNotifier(settings, run_name=run_name)
        self.complete_on_train_end = complete_on_train_end
        self._started = time.monotonic()
        self._seen_step = -1
        self._last_loss: Any = None  # a tensor until read

    def _fraction(self, trainer: L.Trainer) -> float | None:
        try:
            total = trainer.estimated_stepping_batches
        except Exception:  # noqa: BLE001 - unknown length (iterable dataset without max_steps)
            total = trainer.max_steps if trainer.max_steps and trainer.max_steps > 0 else 0
        return run_fraction(trainer.global_step, total)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.monotonic()
        self._seen_step = trainer.global_step
        fraction = self._fraction(trainer)
        if trainer.global_step > 0 and fraction is not None:
            self.notifier.skip_to(fraction)  # resumed: what is behind us was announced before

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:  # read only when a notice needs it (reading waits for the GPU)
            self._last_loss = loss.detach() if hasattr(loss, "detach") else float(loss)
        if trainer.global_step == self._seen_step or not trainer.is_global_zero:
            return
        self._seen_step = trainer.global_step
        fraction = self._fraction(trainer)
        if fraction is not None:
            self.notifier.progress(fraction)

    def summary(self, trainer: L.Trainer) -> CompletionSummary:
        """What the completion notice says, from the trainer's state."""
        return CompletionSummary(run_name=self.notifier.run_name, steps=trainer.global_step,
                                 elapsed_seconds=time.monotonic() - self._started,
                                 final_loss=_metric(trainer, "loss", "train_loss") or (
                                     None if self._last_loss is None else float(self._last_loss)),
                                 best_val_loss=_metric(trainer, "val_loss"))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.complete_on_train_end and trainer.is_global_zero:
            self.notifier.completed(self.summary(trainer))

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if isinstance(exception, (RunPaused, KeyboardInterrupt)) or not trainer.is_global_zero:
            return
        self.notifier.failed(exception)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._owned:
            self.notifier.close()
        else:
            self.notifier.flush()

    def state_dict(self) -> dict[str, Any]:
        return self.notifier.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.notifier.load_state_dict(state_dict)
