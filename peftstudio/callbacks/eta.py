"""Time remaining, with an 80% range, from the distribution of recent step times.

`estimate` is pure: the remaining time is the mean recent step time times the steps
left; its range adds two uncertainties, the step-to-step spread (the sum of n noisy
steps varies by about ``sd * sqrt(n)``) and the doubt about the mean itself
(``sd / sqrt(k)`` per step, from k samples). Both shrink as training goes on, so the
range narrows.

Example:
    >>> e = estimate([1.0, 1.2, 0.8, 1.0], remaining_steps=100)
    >>> round(e.seconds), e.low < e.seconds < e.high
    (100, True)
    >>> estimate([], remaining_steps=10) is None
    True
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
from attrs import frozen


@frozen
class EtaEstimate:
    """Seconds remaining (`seconds`) and the range it falls in with `confidence` (`low`..`high`)."""

    seconds: float
    low: float
    high: float
    remaining_steps: int
    samples: int
    confidence: float = 0.8


def estimate(step_times: Sequence[float], remaining_steps: int, *, confidence: float = 0.8,
             window: int = 50) -> EtaEstimate | None:
    """The remaining time for `remaining_steps` steps, from the last `window` step times.

    With a single sample the spread is unknown and taken as half the mean (a wide range).

    Example:
        >>> estimate([2.0], remaining_steps=0).seconds
        0.0
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    recent = [t for t in step_times[-window:] if t >= 0 and math.isfinite(t)]
    if not recent:
        return None
    n = max(remaining_steps, 0)
    k = len(recent)
    mean = statistics.fmean(recent)
    sd = statistics.stdev(recent) if k > 1 else 0.5 * mean
    total = mean * n
    spread = math.sqrt(n * sd * sd + (n * sd) ** 2 / k)
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    return EtaEstimate(seconds=total, low=max(0.0, total - z * spread), high=total + z * spread,
                       remaining_steps=n, samples=k, confidence=confidence)


class EtaCallback(L.Callback):
    """Keeps an `EtaEstimate` after every optimizer step (``.latest``) and passes it to listeners.

    The first step of each session is not timed (it includes start-up work).
    """

    def __init__(self, listeners: Sequence[Callable[[EtaEstimate], None]] = (), *, window: int = 50,
                 confidence: float = 0.8) -> None:
        self.listeners = list(listeners)
        self.window = window
        self.confidence = confidence
        self.step_times: list[float] = []
        self.latest: EtaEstimate | None = None
        self._last_end: float | None = None
        self._seen_step = -1

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._last_end = None
        self._seen_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if trainer.global_step == self._seen_step:
            return
        self._seen_step = trainer.global_step
        now = time.monotonic()
        if self._last_end is not None:
            self.step_times = (self.step_times + [now - self._last_end])[-self.window:]
        self._last_end = now
        remaining = max(int(trainer.max_steps) - trainer.global_step, 0) if trainer.max_steps > 0 else 0
        self.latest = estimate(self.step_times, remaining, confidence=self.confidence, window=self.window)
        if self.latest is not None and trainer.is_global_zero:
            for listener in self.listeners:
                listener(self.latest)

    def state_dict(self) -> dict[str, Any]:
        return {"step_times": list(self.step_times)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.step_times = [float(t) for t in state_dict.get("step_times", [])][-self.window:]
