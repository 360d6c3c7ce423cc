"""Issue 23 point 13: running out of memory while loading the base model does not shrink the micro-batch."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import torch

from peftstudio import models
from peftstudio.callbacks.memory import is_out_of_memory
from peftstudio.engine.session import train_with_memory_retries
from peftstudio.engine.worker import load_sources
from peftstudio.errors import PlainError

from ..engine.conftest import tiny_config


def test_oom_while_loading_is_a_plain_error_that_no_retry_shrinks(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any, **kwargs: Any) -> Any:  # stand-in for a GPU too small for the weights
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 16.00 GiB")

    monkeypatch.setattr(models, "load_model", full)
    config = tiny_config()
    config = attrs.evolve(config, model=attrs.evolve(config.model, reference="builtin:tiny-llama"))
    with pytest.raises(PlainError) as err:
        load_sources(config)
    assert err.value.info.code == "out_of_memory" and "load the base model" in err.value.info.explanation
    assert not is_out_of_memory(err.value)
    resized: list[Any] = []

    def attempt(cfg: Any, fresh: bool) -> Any:
        return load_sources(cfg)

    with pytest.raises(PlainError):
        train_with_memory_retries(attempt, config, on_resize=lambda cfg, d: resized.append(d))
    assert resized == []  # before: the micro-batch was halved four times, reloading each time


def test_oom_in_a_training_step_still_counts() -> None:
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory"))
