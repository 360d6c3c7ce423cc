"""Pause: finish the current micro-batch, checkpoint, report, stop.

A pause can be requested from anywhere: `request()` in this process, a flag file
that another process creates (``peftstudio pause RUN`` or the app), or SIGTERM/SIGINT.
After the current micro-batch (even mid-accumulation: at most one micro-batch of waiting; with
several processes, at the optimizer step's end) the callback saves a checkpoint through the
`CheckpointCallback` (if the trainer has one), builds a `PauseReport` (elapsed time,
remaining estimate, resources in use), tells its listeners and asks the session control
(`peftstudio.callbacks.control`) to stop, which ends ``trainer.fit`` promptly (no extra validation) so the process can exit and
free its memory.

Example:
    >>> at_step_boundary(batch_idx=3, accumulate=4, is_last_batch=False)
    True
    >>> at_step_boundary(batch_idx=2, accumulate=4, is_last_batch=False)
    False
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L

from peftstudio.callbacks.control import (
    PauseReport,
    RunPaused,
    Stop,
    ask,
    build_report,
    checkpoint_now,
    find_callback,
)

__all__ = ["PauseCallback", "PauseReport", "RunPaused", "at_step_boundary", "build_report"]


def at_step_boundary(*, batch_idx: int, accumulate: int, is_last_batch: bool) -> bool:
    """Whether the optimizer has just stepped after micro-batch `batch_idx` (0-based, within the epoch).

    Example:
        >>> at_step_boundary(batch_idx=1, accumulate=4, is_last_batch=True)
        True
    """
    return (batch_idx + 1) % max(accumulate, 1) == 0 or is_last_batch


class PauseCallback(L.Callback):
    """Stops training cleanly when asked; see the module docstring."""

    def __init__(self, flag_path: str | Path | None = None, *, listeners: Sequence[Callable[[PauseReport], None]] = (),
                 handle_signals: bool = True) -> None:
        self.flag_path = Path(flag_path) if flag_path is not None else None
        self.listeners = list(listeners)
        self.handle_signals = handle_signals
        self._event = threading.Event()
        self._reason = "requested"
        self._old_handlers: dict[int, Any] = {}

    def request(self, reason: str = "requested") -> None:
        """Ask for a pause at the next optimizer-step boundary (thread- and signal-safe)."""
        self._reason = reason
        self._event.set()

    @property
    def requested(self) -> bool:
        if self._event.is_set():
            return True
        if self.flag_path is not None and self.flag_path.exists():
            self._reason = "pause requested"
            self._event.set()
            return True
        return False

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.request(f"signal {signal.Signals(signum).name}")

    def _install(self) -> None:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            # replaces Lightning's own SIGTERM handler (which would stop mid-accumulation) while training
            with contextlib.suppress(ValueError, OSError):
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)

    def _uninstall(self) -> None:
        for sig, handler in self._old_handlers.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)
        self._old_handlers = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._install()
        if self._decide(trainer):
            self._pause(trainer, save=False)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        boundary = at_step_boundary(batch_idx=batch_idx, accumulate=trainer.accumulate_grad_batches,
                                    is_last_batch=trainer.fit_loop.epoch_loop.batch_progress.is_last_batch)
        # one process pauses between any two micro-batches: its checkpoint keeps the gradients summed so far
        # (or, when this step's checkpoint exists, the run replays this step's micro-batches from it); with
        # several processes each holds its own partial sum, so they pause at the step's end
        if (boundary or trainer.world_size == 1) and self._decide(trainer):
            self._pause(trainer, save=True)

    def _decide(self, trainer: L.Trainer) -> bool:
        wanted = self.requested
        if trainer.world_size > 1:  # every process stops at the same step
            wanted = bool(trainer.strategy.reduce_boolean_decision(wanted, all=False))
        return wanted

    def _pause(self, trainer: L.Trainer, *, save: bool) -> None:
        from peftstudio.callbacks.eta import EtaCallback
        from peftstudio.callbacks.monitor import MonitorCallback
        from peftstudio.callbacks.progress import ProgressCallback

        progress = find_callback(trainer, ProgressCallback)
        eta = find_callback(trainer, EtaCallback)
        monitor = find_callback(trainer, MonitorCallback)
        resources = monitor.monitor.sample() if monitor is not None and trainer.is_global_zero else None
        report = build_report(step=trainer.global_step, reason=self._reason,
                              elapsed=progress.elapsed_seconds if progress else None,
                              eta=eta.latest if eta else None, resources=resources,
                              checkpoint=None if save else checkpoint_now(trainer, save=False))
        # with `save` a checkpoint of this step is written (or found, when one was just saved)
        ask(trainer, Stop(report, save=save, listeners=tuple(self.listeners)))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._uninstall()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._uninstall()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        pass
