"""One run's training session, owned by the engine: fit, and what follows when a fit ends early.

Inside a fit the guards decide and ask (`peftstudio.callbacks.control`): the session control,
which `fit` adds last to its trainer, drops a bad update, rolls the weights back or ends the
fit with a `PauseReport`. Between fits, `train_session` decides what follows from that report:

* ``memory_pressure`` (or an out-of-memory error inside a step): the micro-batch shrinks, the
  gradient accumulation grows by the same factor, the base model is loaded afresh and training
  goes on from the checkpoint of the step it reached;
* anything else (a pause, a divergence) or completion: the session ends with that outcome.

Example:
    >>> from peftstudio.callbacks.memory import decide
    >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings("a.jsonl"),
    ...                 training=TrainingSettings(micro_batch_size=4, gradient_accumulation=1))
    >>> sessions = iter(["memory_pressure", "done"])
    >>> def attempt(config, fresh):
    ...     reason = next(sessions)
    ...     return SimpleNamespace(pause=SimpleNamespace(reason=reason) if reason != "done" else None)
    >>> _, final = train_with_memory_retries(attempt, cfg)
    >>> final.training.micro_batch_size, final.training.gradient_accumulation
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace  # noqa: F401 - used by the docstring example
from typing import Any

from peftstudio import paths
from peftstudio.callbacks.decision import Decision, GuardAction, apply_changes
from peftstudio.callbacks.guards import guard_callbacks
from peftstudio.callbacks.memory import (
    RESIZE_REASON,
    changes_for,
    decide,
    decide_oom,
    is_out_of_memory,
    release_memory,
)
from peftstudio.engine.trainer import FitOutcome, fit
from peftstudio.records.config import RunConfig


def train_session(config: RunConfig, models: list[Any], load_model: Callable[[RunConfig], Any], train: Any,
                  validation: Any, *, sink: Callable[[Any], None] | None = None,
                  memory_reader: Callable[[], Any] | None = None, extra_callbacks: Sequence[Any] = (),
                  measure_base: bool = True, **fit_kwargs: Any) -> FitOutcome:
    """Train a run with its guards until it completes or pauses; returns the last fit's outcome.

    `models` is a one-element list holding the loaded base model: the session takes it out of the
    list, so that before a retry with a smaller micro-batch it can free that copy (it already carries
    the adapter) and load a fresh one with `load_model(config)`. `fit_kwargs` go to the engine's
    `fit` (``pad_id``, ``folder``, ``pause_flag``, ...).
    """
    listeners = [sink] if sink is not None else []
    model = models.pop()

    def attempt(cfg: RunConfig, fresh: bool) -> FitOutcome:
        nonlocal model
        if fresh:
            model = None  # let the old copy go before loading the new one
            release_memory()
            model = load_model(cfg)
        guards = guard_callbacks(cfg, listeners, memory_reader=memory_reader, measure_base=measure_base,
                                 base_cache=paths.sub("cache", "base-loss"))
        return fit(cfg, model, train, validation, sink=sink, extra_callbacks=[*guards, *extra_callbacks],
                   **fit_kwargs)

    outcome, _config = train_with_memory_retries(attempt, config)
    return outcome  # type: ignore[no-any-return]


def train_with_memory_retries(attempt: Callable[[Any, bool], Any], config: Any, *,
                              on_resize: Callable[[Any, Decision], None] | None = None,
                              max_retries: int = 4) -> tuple[Any, Any]:
    """Run `attempt(config, fresh)` until it ends other than by memory pressure; returns (outcome, config).

    `attempt` trains one session (e.g. the engine's ``fit``) and must reload the model when
    `fresh` is true. A session that stopped with reason ``memory_pressure``, or raised an
    out-of-memory error, is retried from its last checkpoint with the micro-batch shrunk and
    accumulation raised (`on_resize` hears of each change; the guard already reported it).
    """
    from peftstudio.errors import make

    fresh = False
    for _ in range(max_retries + 1):
        t = config.training
        try:
            outcome = attempt(config, fresh)
        except BaseException as exc:
            if not is_out_of_memory(exc):
                raise
            decision = decide_oom(micro_batch_size=t.micro_batch_size, gradient_accumulation=t.gradient_accumulation)
            if decision.action is not GuardAction.SHRINK_BATCH:
                raise make("out_of_memory", where=" even with a micro-batch of 1") from exc
        else:
            pause = getattr(outcome, "pause", None)
            if getattr(pause, "reason", None) != RESIZE_REASON:
                return outcome, config
            decision = decide([1.0], micro_batch_size=t.micro_batch_size, gradient_accumulation=t.gradient_accumulation)
        config = apply_changes(config, changes_for(decision))
        if on_resize is not None:
            on_resize(config, decision)
        release_memory()
        fresh = True
    raise make("out_of_memory", where=f" after {max_retries} smaller micro-batches")
