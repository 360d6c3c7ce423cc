"""Issue 23 point 3: with fp16 a GradScaler's overflow steps are normal, not gradient explosions."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from peftstudio.callbacks.gradients import decide, loss_scaling

STEADY = [1.0, 1.2, 0.9, 1.1, 1.0] * 2


def test_overflow_under_loss_scaling_is_not_an_explosion() -> None:
    assert decide([*STEADY, math.inf], clipping=False).triggered  # without a scaler: still an explosion
    assert not decide([*STEADY, math.inf], clipping=False, loss_scaling=True).triggered
    assert not decide([*STEADY, math.nan], clipping=True, loss_scaling=True, recent_interventions=5).triggered


def test_finite_spike_still_counts_under_loss_scaling() -> None:
    assert decide([*STEADY, 40.0], clipping=False, loss_scaling=True).triggered


def test_loss_scaling_reads_the_precision_plugins_scaler() -> None:
    # a stand-in trainer: Lightning's 16-mixed plugin holds a torch GradScaler as `.scaler`
    scaler = torch.amp.GradScaler("cpu")
    assert loss_scaling(SimpleNamespace(precision_plugin=SimpleNamespace(scaler=scaler)))
    assert not loss_scaling(SimpleNamespace(precision_plugin=SimpleNamespace(scaler=None)))
    assert not loss_scaling(SimpleNamespace(precision_plugin=SimpleNamespace()))
    off = torch.amp.GradScaler("cpu", enabled=False)
    assert not loss_scaling(SimpleNamespace(precision_plugin=SimpleNamespace(scaler=off)))
