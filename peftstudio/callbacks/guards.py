"""The four guards, set up for a run's configuration.

Each guard decides with a pure function in its own module (`divergence`, `overfitting`,
`memory`, `gradients`) and reports `GuardReport`s to its listeners; what it asks the
training to do goes through the session control (`peftstudio.callbacks.control`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from peftstudio.callbacks.divergence import DivergenceGuard
from peftstudio.callbacks.gradients import GradientGuard
from peftstudio.callbacks.memory import MemoryGuard
from peftstudio.callbacks.overfitting import OverfittingGuard


def guard_callbacks(config: Any, listeners: Sequence[Callable[[Any], None]] = (), *,
                    memory_reader: Callable[[], Any] | None = None, measure_base: bool = True,
                    base_cache: str | Path | None = None) -> list[Any]:
    """The four guards, set up for a `RunConfig`, reporting to `listeners`; `base_cache` is the folder where the
    overfitting guard keeps base models' validation losses (`OverfittingGuard`).

    Example:
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings("a.jsonl"))
        >>> [type(g).__name__ for g in guard_callbacks(cfg)]
        ['DivergenceGuard', 'OverfittingGuard', 'MemoryGuard', 'GradientGuard']
    """
    t = config.training
    return [
        DivergenceGuard(listeners, learning_rate=t.learning_rate, warmup_ratio=t.warmup_ratio,
                        clipping=t.max_grad_norm is not None),
        OverfittingGuard(listeners, early_stopping=t.early_stopping, dropout=config.lora.dropout,
                         measure_base=measure_base, base_cache=base_cache),
        MemoryGuard(listeners, micro_batch_size=t.micro_batch_size, gradient_accumulation=t.gradient_accumulation,
                    reader=memory_reader),
        GradientGuard(listeners, clipping=t.max_grad_norm, learning_rate=t.learning_rate),
    ]
