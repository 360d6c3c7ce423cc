"""Progress: one report per optimizer step."""

from __future__ import annotations

import math

import pytest
import torch

from peftstudio.callbacks.progress import StepReport, gradient_norm, summarize_step


@pytest.mark.parametrize(
    ("losses", "tokens", "seconds", "loss", "rate"),
    [
        ([2.0], [100], 1.0, 2.0, 100.0),
        ([3.0, 1.0], [50, 150], 4.0, 2.0, 50.0),
        ([1.0, 1.0, 4.0], [10, 10, 10], 0.0, 2.0, 0.0),  # an untimed step has no rate, not a crash
    ],
)
def test_summarize_step(losses: list[float], tokens: list[int], seconds: float, loss: float, rate: float) -> None:
    r = summarize_step(step=7, epoch=1, micro_losses=losses, micro_tokens=tokens, step_seconds=seconds,
                       learning_rate=2e-4, grad_norm=1.5, tokens_seen_before=1000, elapsed_seconds=30.0)
    assert r.loss == pytest.approx(loss)
    assert r.tokens_per_second == pytest.approx(rate)
    assert r.tokens_seen == 1000 + sum(tokens)
    assert (r.step, r.epoch, r.learning_rate, r.grad_norm) == (7, 1, 2e-4, 1.5)


def test_metrics_leave_out_a_missing_gradient_norm() -> None:
    r = summarize_step(step=1, epoch=0, micro_losses=[1.0], micro_tokens=[4], step_seconds=1.0, learning_rate=0.1,
                       grad_norm=None, tokens_seen_before=0, elapsed_seconds=1.0)
    assert isinstance(r, StepReport)
    assert "grad_norm" not in r.metrics()
    assert set(r.metrics()) >= {"loss", "learning_rate", "tokens_per_second"}


def test_no_losses_is_nan() -> None:
    r = summarize_step(step=1, epoch=0, micro_losses=[], micro_tokens=[], step_seconds=1.0, learning_rate=0.1,
                       grad_norm=None, tokens_seen_before=0, elapsed_seconds=1.0)
    assert math.isnan(r.loss)


def test_gradient_norm_is_the_total_l2_norm() -> None:
    a = torch.nn.Parameter(torch.zeros(2))
    b = torch.nn.Parameter(torch.zeros(1))
    c = torch.nn.Parameter(torch.zeros(1))  # no gradient: ignored
    a.grad = torch.tensor([3.0, 0.0])
    b.grad = torch.tensor([4.0])
    assert gradient_norm([a, b, c]) == pytest.approx(5.0)
    assert gradient_norm([c]) is None
