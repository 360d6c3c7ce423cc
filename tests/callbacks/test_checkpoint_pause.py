"""Checkpoint and pause decisions, and RNG state round trips."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from peftstudio.callbacks.checkpoint import (
    CheckpointInfo,
    checkpoint_name,
    collect_rng_states,
    is_better,
    is_due,
    restore_rng_states,
    to_remove,
)
from peftstudio.callbacks.checkpoint_io import join_tree, split_tree
from peftstudio.callbacks.pause import at_step_boundary, build_report


@pytest.mark.parametrize(
    ("step", "every", "last", "due"),
    [(0, 5, -1, False), (5, 5, -1, True), (5, 5, 5, False), (7, 5, 5, False), (10, 5, 5, True), (1, 1, 0, True)],
)
def test_is_due(step: int, every: int, last: int, due: bool) -> None:
    assert is_due(step=step, every=every, last_saved=last) is due


@pytest.mark.parametrize(
    ("steps", "keep", "best", "kept", "removed"),
    [
        ([10, 20, 30], 2, None, (), [10]),
        ([10, 20, 30, 40], 2, 10, (), [20]),
        ([10, 20, 30, 40], 2, 40, (), [10, 20]),
        ([10], 3, None, (), []),
        ([40, 10, 30, 20], 1, 20, (), [10, 30]),  # order of discovery does not matter
        ([10, 20, 30, 40], 1, 30, (10,), [20]),  # a step a guard went back to stays
    ],
)
def test_to_remove_keeps_last_n_the_best_and_the_kept(steps: list[int], keep: int, best: int | None,
                                                      kept: tuple[int, ...], removed: list[int]) -> None:
    infos = [CheckpointInfo(s, checkpoint_name(s)) for s in steps]
    assert [c.step for c in to_remove(infos, keep_last=keep, best_step=best, kept=kept)] == removed


@pytest.mark.parametrize(("value", "best", "better"), [(1.0, None, True), (0.9, 1.0, True), (1.0, 1.0, False),
                                                       (float("nan"), None, False), (2.0, 1.0, False)])
def test_is_better(value: float, best: float | None, better: bool) -> None:
    assert is_better(value, best) is better


@pytest.mark.parametrize(
    ("batch_idx", "accumulate", "last", "boundary"),
    [(0, 1, False, True), (0, 2, False, False), (1, 2, False, True), (4, 4, True, True), (6, 4, False, False),
     (7, 4, False, True)],
)
def test_pause_only_at_optimizer_step_boundaries(batch_idx: int, accumulate: int, last: bool, boundary: bool) -> None:
    assert at_step_boundary(batch_idx=batch_idx, accumulate=accumulate, is_last_batch=last) is boundary


def test_pause_report_uses_what_is_known() -> None:
    class Eta:
        seconds, low, high = 60.0, 50.0, 75.0

    r = build_report(step=12, reason="signal SIGTERM", elapsed=30.0, eta=Eta(), resources={"cpu_percent": 5.0},
                     checkpoint="/x/step-0000012")
    assert (r.step, r.remaining_seconds, r.remaining_low_seconds, r.remaining_high_seconds) == (12, 60.0, 50.0, 75.0)
    assert r.resources == {"cpu_percent": 5.0}
    bare = build_report(step=0, reason="r", elapsed=None, eta=None, resources=None, checkpoint=None)
    assert bare.remaining_seconds is None and bare.resources == {}


def test_rng_states_survive_a_checkpoint_round_trip() -> None:
    states = collect_rng_states()
    skeleton, tensors = split_tree(states)
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    restore_rng_states(join_tree(skeleton, tensors))
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected
