"""The guards' pure decisions over crafted loss, gradient and memory sequences, including what must not trigger."""

from __future__ import annotations

import math
import random

import pytest

from peftstudio.callbacks import divergence, gradients, memory, overfitting
from peftstudio.callbacks.decision import Decision, GuardAction, GuardReport, Reason, apply_changes

NAN, INF = float("nan"), float("inf")


def noisy(level: float, n: int, spread: float, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.uniform(-spread, spread) for _ in range(n)]


def falling(start: float, end: float, n: int, spread: float = 0.0, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [start + (end - start) * i / max(n - 1, 1) + rng.uniform(-spread, spread) for i in range(n)]


# ---------------------------------------------------------------- divergence
@pytest.mark.parametrize("losses, step, warmup, expected", [
    ([2.0, 1.9, NAN], 3, 0, Reason.NON_FINITE_LOSS),
    ([2.0, INF], 2, 0, Reason.NON_FINITE_LOSS),
    ([NAN], 1, 100, Reason.NON_FINITE_LOSS),  # NaN counts even during warm-up
    ([3.0, 2.5, 2.0, 1.9, 1.8, 6.0, 7.5, 9.0], 40, 5, Reason.LOSS_RISING),
    ([3.0, 2.5, 2.0, 1.9, 1.8, 6.0, 7.5, 9.0], 8, 10, Reason.NONE),  # the same, inside warm-up
    ([3.0, 2.5, 2.0, 1.9, 1.8, 6.0, 1.9, 9.0], 40, 5, Reason.NONE),  # one spike is not divergence
    ([3.0, 2.5, 2.0, 1.9, 1.8, 6.0, 7.5], 40, 5, Reason.NONE),  # two high steps are not yet "several"
    ([0.2, 0.15, 0.1, 0.1, 0.3, 0.35, 0.4], 40, 5, Reason.NONE),  # relative jump but tiny in nats
    (noisy(2.0, 200, 0.4, seed=1), 200, 5, Reason.NONE),  # normal noise
    (falling(4.0, 1.0, 200, spread=0.3, seed=2), 200, 5, Reason.NONE),  # a normal falling curve
    ([8.0, 9.5, 11.0, 12.0], 4, 0, Reason.NONE),  # too short a history to judge a rise
    ([], 0, 0, Reason.NONE),
])
def test_divergence_decide(losses: list[float], step: int, warmup: int, expected: Reason) -> None:
    d = divergence.decide(losses, step=step, warmup_steps=warmup, learning_rate=3e-4, clipping=False)
    assert d.reason is expected
    if expected is not Reason.NONE:
        assert d.action is GuardAction.PAUSE
        assert f"step {step}" in d.message
        assert any("0.0001" in s and "a third of the current 0.0003" in s for s in d.suggestions)
        assert any("clipping" in s for s in d.suggestions)  # the other cause, since clipping is off
        assert 2 <= len(d.suggestions) <= 3


def test_divergence_suggestions_with_clipping_on_name_the_data() -> None:
    d = divergence.decide([2.0, NAN], step=2, warmup_steps=0, learning_rate=50.0, clipping=True)
    assert d.details["suggested_learning_rate"] == 17.0
    assert "17" in d.suggestions[0] and "data" in d.suggestions[1]


@pytest.mark.parametrize("lr, expected", [(3e-4, 1e-4), (2e-4, 6.7e-5), (50.0, 17.0), (1e-3, 3.3e-4)])
def test_third_is_a_typeable_number(lr: float, expected: float) -> None:
    assert math.isclose(divergence.third(lr), expected)


# ---------------------------------------------------------------- overfitting
def series(values: list[float], every: int = 1, first: int = 1) -> list[tuple[int, float]]:
    return [(first + i * every, v) for i, v in enumerate(values)]


TRAIN_FALLING = series(falling(3.0, 0.5, 40))
TRAIN_SLOW = series(falling(2.7, 2.5, 40))
TRAIN_FLAT = series(noisy(2.0, 40, 0.05))


@pytest.mark.parametrize("train, val, expected", [
    (TRAIN_FALLING, series([2.6, 2.7, 2.8, 2.95], every=10, first=10), Reason.VALIDATION_RISING),
    (TRAIN_FALLING, series([2.5, 2.3, 2.4, 2.5, 2.6], every=8, first=8), Reason.VALIDATION_RISING),
    (TRAIN_FALLING, series([2.55, 2.5, 2.52, 2.51], every=10, first=10), Reason.GAP_GROWING),  # stalled, gap grows
    (TRAIN_FALLING, series([2.6, 2.4, 2.2, 2.0], every=10, first=10), Reason.NONE),  # validation still improving
    (TRAIN_FALLING, series([2.6, 2.7, 2.8], every=10, first=10), Reason.NONE),  # too few evaluations
    (TRAIN_SLOW, series([2.60, 2.601, 2.602, 2.603], every=10, first=10), Reason.NONE),  # noise
    (TRAIN_FLAT, series([2.0, 2.1, 2.2, 2.3], every=10, first=10), Reason.NONE),  # train not falling: not overfitting
    (TRAIN_SLOW, series([2.6, 2.68, 2.58, 2.62], every=10, first=10), Reason.NONE),  # noisy validation
    (TRAIN_FALLING, series([2.6, 2.7, NAN, 2.8], every=10, first=10), Reason.NONE),
])
def test_overfitting_decide(train: list[tuple[int, float]], val: list[tuple[int, float]], expected: Reason) -> None:
    d = overfitting.decide(train, val, early_stopping=False, dropout=0.05, steps_per_epoch=10)
    assert d.reason is expected
    if expected is not Reason.NONE:
        assert d.action is GuardAction.RECOMMEND
        assert "overfitting" in d.message
        assert any("early stopping" in s for s in d.suggestions)
        assert any("fewer epochs" in s for s in d.suggestions)
        assert any("dropout from 0.05 to 0.1" in s for s in d.suggestions)


def test_overfitting_with_early_stopping_allowed_stops_and_names_the_best_step() -> None:
    d = overfitting.decide(TRAIN_FALLING, series([2.5, 2.3, 2.4, 2.5, 2.6], every=8, first=8), early_stopping=True)
    assert d.action is GuardAction.STOP_EARLY
    assert d.details["best_step"] == 16
    assert "stopped early" in d.message and "step 16" in d.message
    assert not any("Turn on early stopping" in s for s in d.suggestions)


def test_train_level_averages_the_steps_since_the_previous_evaluation() -> None:
    assert overfitting.train_level([(1, 4.0), (2, 2.0), (3, 1.0)], after=1, upto=3) == 1.5
    assert overfitting.train_level([(1, 4.0)], after=5, upto=9) == 4.0
    assert overfitting.train_level([], after=0, upto=9) is None


# ---------------------------------------------------------------- memory
@pytest.mark.parametrize("fractions, micro, accum, expected, new", [
    ([0.6, 0.62, 0.95], 4, 2, Reason.MEMORY_HIGH, (2, 4)),
    ([0.95], 8, 1, Reason.MEMORY_HIGH, (4, 2)),
    ([0.95], 6, 3, Reason.MEMORY_HIGH, (3, 6)),
    ([0.95], 3, 1, Reason.MEMORY_HIGH, (1, 3)),
    ([0.70, 0.71, 0.70, 0.86], 4, 1, Reason.MEMORY_DROPPING, (2, 2)),  # another program started: act early
    ([0.85, 0.86, 0.84, 0.85, 0.86], 4, 1, Reason.NONE, None),  # steady, high but safe
    ([0.60, 0.65, 0.70, 0.79], 4, 1, Reason.NONE, None),  # rising but below the early limit
    ([0.80, 0.83, 0.86, 0.89], 4, 1, Reason.NONE, None),  # slow creep (no jump) below the limit
    ([0.90], 4, 1, Reason.NONE, None),  # exactly at the limit
    ([], 4, 1, Reason.NONE, None),
])
def test_memory_decide(fractions: list[float], micro: int, accum: int, expected: Reason,
                       new: tuple[int, int] | None) -> None:
    d = memory.decide(fractions, micro_batch_size=micro, gradient_accumulation=accum)
    assert d.reason is expected
    if new is not None:
        assert d.action is GuardAction.SHRINK_BATCH
        assert (d.details["new_micro_batch_size"], d.details["new_gradient_accumulation"]) == new
        assert new[0] * new[1] == micro * accum  # the effective batch is unchanged
        assert f"stays {micro * accum}" in d.message


def test_memory_at_micro_batch_one_cannot_shrink_and_says_what_else_helps() -> None:
    d = memory.decide([0.97], micro_batch_size=1, gradient_accumulation=4, device="ram")
    assert d.action is GuardAction.CANNOT_SHRINK
    assert "system memory" in d.message
    assert any("4-bit" in s for s in d.suggestions) and any("sequence length" in s for s in d.suggestions)
    assert memory.changes_for(d) == {}


def test_out_of_memory_decision_and_detection() -> None:
    import torch

    d = memory.decide_oom(micro_batch_size=4, gradient_accumulation=1)
    assert d.reason is Reason.OUT_OF_MEMORY
    assert memory.changes_for(d) == {"training.micro_batch_size": 2, "training.gradient_accumulation": 2}
    assert memory.is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory"))
    assert memory.is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory"))
    assert not memory.is_out_of_memory(ValueError("bad value"))


@pytest.mark.parametrize("micro, accum, expected", [
    (2, 1, (1, 2)), (4, 4, (2, 8)), (6, 1, (3, 2)), (9, 1, (3, 3)), (7, 2, (1, 14)), (1, 1, None)])
def test_shrink_keeps_the_effective_batch(micro: int, accum: int, expected: tuple[int, int] | None) -> None:
    got = memory.shrink(micro, accum)
    assert got == expected
    if got:
        assert got[0] * got[1] == micro * accum and micro % got[0] == 0


@pytest.mark.parametrize("count, old, new, rows, world, expected", [
    (0, 4, 2, 10, 1, 0), (1, 4, 2, 10, 1, 2), (2, 4, 2, 10, 1, 4), (3, 4, 2, 10, 1, 5),  # 3 old = whole epoch
    (1, 4, 2, 5, 1, 2), (2, 4, 2, 5, 1, 3), (2, 3, 1, 9, 1, 6), (1, 4, 2, 16, 2, 2)])
def test_rescale_count(count: int, old: int, new: int, rows: int, world: int, expected: int) -> None:
    assert memory.rescale_count(count, old=old, new=new, rows=rows, world_size=world) == expected


def test_rescale_loop_progress_converts_current_and_total() -> None:
    # 10 rows, micro-batch 4 -> 3 batches per epoch; one full epoch done and 2 batches into the next
    progress = {"total": {"ready": 5, "completed": 5, "started": 5, "processed": 5},
                "current": {"ready": 2, "completed": 2, "started": 2, "processed": 2}, "is_last_batch": False}
    memory.rescale_loop_progress(progress, old=4, new=2, rows=10)
    assert progress["current"] == {"ready": 4, "completed": 4, "started": 4, "processed": 4}
    assert progress["total"]["ready"] == 5 + 4  # one epoch of 5 batches, then 4


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("norms, clipping, expected, action", [
    ([1.0, 1.2, 0.9, 1.1, 1.0] * 2 + [40.0], False, Reason.GRADIENT_SPIKE, GuardAction.CLIP_AND_ROLLBACK),
    ([1.0, 1.2, 0.9, 1.1, 1.0] * 2 + [40.0], True, Reason.NONE, None),  # clipping already bounds it
    ([0.02, 0.03, 0.02, 0.02, 0.02] * 2 + [0.5], False, Reason.NONE, None),  # 25x the median, but below 1.0
    ([1.0, NAN], False, Reason.NON_FINITE_GRADIENT, GuardAction.CLIP_AND_ROLLBACK),  # even without history
    ([1.0, 1.0, INF], True, Reason.NON_FINITE_GRADIENT, GuardAction.ROLLBACK),
    ([1.0, 1.2, 0.9, 1.1, 1.0] * 2 + [2.5], False, Reason.NONE, None),  # a normal bump
    ([1.0, 1.2, 0.9, 1.1, 1.0, 40.0], False, Reason.NONE, None),  # too little history yet
    ([30.0, 20.0, 40.0], False, Reason.NONE, None),  # first steps: too little history
    ([5.0, 60.0], False, Reason.NONE, None),
    (noisy(1.0, 300, 0.5, seed=3), False, Reason.NONE, None),  # normal noise
    ([0.0] * 10 + [1.5], False, Reason.NONE, None),  # no scale to compare with
])
def test_gradients_decide(norms: list[float], clipping: bool, expected: Reason, action: GuardAction | None) -> None:
    d = gradients.decide(norms, clipping=clipping)
    assert d.reason is expected
    if action is not None:
        assert d.action is action
        assert "went back to the last stable checkpoint" in d.message
        assert ("clipping was turned on" in d.message) is (not clipping)
        assert 2 <= len(d.suggestions) <= 3


def test_repeated_gradient_explosions_mean_divergence_and_pause() -> None:
    once = gradients.decide([1.0, NAN], clipping=True, recent_interventions=1, learning_rate=3e-4)
    assert once.action is GuardAction.ROLLBACK
    d = gradients.decide([1.0, NAN], clipping=True, recent_interventions=2, learning_rate=3e-4)
    assert d.action is GuardAction.PAUSE and d.reason is Reason.NON_FINITE_GRADIENT
    assert "diverged" in d.message and "3 times" in d.message
    assert d.details["suggested_learning_rate"] == 1e-4
    assert "0.0001" in d.suggestions[0]


def test_noise_never_triggers_any_guard_over_many_seeds() -> None:
    for seed in range(30):
        losses = falling(3.0, 1.0, 120, spread=0.25, seed=seed)
        assert not divergence.decide(losses, step=120, warmup_steps=5, learning_rate=2e-4).triggered
        assert not gradients.decide(noisy(1.0, 120, 0.6, seed=seed), clipping=True).triggered
        assert not memory.decide(noisy(0.7, 50, 0.04, seed=seed), micro_batch_size=4, gradient_accumulation=1).triggered


# ---------------------------------------------------------------- the shared record
def test_reasons_have_readable_messages_and_reports_give_event_data() -> None:
    assert all(r.message and r.message[0].isupper() for r in Reason)
    d = Decision(Reason.NON_FINITE_LOSS, "m", ("a", "b"), GuardAction.PAUSE, {"loss": NAN})
    data = GuardReport("divergence", 3, d, config_changes={"training.learning_rate": 1e-4}).event_data()
    assert data == {"suggestions": ["a", "b"], "action": "pause", "reason": "non_finite_loss",
                    "reason_message": Reason.NON_FINITE_LOSS.message, "details": {"loss": "nan"},
                    "config_changes": {"training.learning_rate": 1e-4}}
    assert GuardReport("memory", 1, d).kind == "memory_pressure"


def test_apply_changes_to_a_run_config() -> None:
    from peftstudio.records import DataSettings, ModelChoice, RunConfig

    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings("a.jsonl"))
    new = apply_changes(cfg, {"training.micro_batch_size": 2, "training.gradient_accumulation": 2, "name": "x"})
    assert (new.training.micro_batch_size, new.training.gradient_accumulation, new.name) == (2, 2, "x")
    assert new.lora == cfg.lora


def test_one_lucky_batch_is_not_where_the_loss_stood() -> None:
    """SmolLM2 at 2e-4 on varied-length chat, batches of 4 rows (benchmarks/varied_chat.py): the losses of a
    healthy run, which the guard paused at step 20 when it measured the rise from the single 2.56."""
    healthy = [3.71, 4.33, 4.44, 3.89, 3.31, 2.56, 3.52, 3.31, 3.91, 2.84, 3.37, 4.31, 3.78, 3.92, 3.05, 4.1, 3.25,
               3.85, 3.92, 4.21]
    assert not divergence.decide(healthy, step=20, warmup_steps=0, learning_rate=2e-4).triggered
    diverged = [3.9, 3.6, 3.5, 3.42, 3.8, 10.4, 13.1, 17.5]  # SmolLM2 at 0.02 on the pirate sample
    d = divergence.decide(diverged, step=8, warmup_steps=0, learning_rate=2e-2)
    assert d.triggered and d.reason == Reason.LOSS_RISING
