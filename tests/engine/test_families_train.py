"""A tiny random-weight model of every catalog family trains a few LoRA steps through the engine."""

from __future__ import annotations

import math
from pathlib import Path

import attrs
import pytest
from safetensors.torch import load_file

from peftstudio.callbacks import StepReport
from peftstudio.engine.trainer import fit
from peftstudio.models.catalog import spec_from_config
from peftstudio.records import LoraSettings
from tests.family_models import FAMILIES, tiny_model

from .conftest import VOCAB, make_examples, tiny_config


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_few_lora_steps_train(family: str, tmp_path: Path) -> None:
    model = tiny_model(family, vocab_size=VOCAB)
    spec = spec_from_config(model.config.to_dict())
    config = tiny_config(max_steps=10, learning_rate=3e-2, eval_every_steps=100, checkpoint_every_steps=100,
                         gradient_accumulation=1, sequence_length=24)
    config = attrs.evolve(config, lora=LoraSettings(rank=4, alpha=8, dropout=0.0,
                                                    target_modules=spec.attention_modules))
    reports: list[object] = []
    train, validation = make_examples(48, seed=1, lengths=(8, 20)), make_examples(4, seed=2, lengths=(8, 20))
    outcome = fit(config, model, train, validation, pad_id=0, folder=tmp_path, sink=reports.append)
    losses = [r.loss for r in reports if isinstance(r, StepReport)]
    assert outcome.status == "completed" and len(losses) == 10
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3  # falling
    adapter = load_file(str(tmp_path / "adapter" / "adapter_model.safetensors"))
    lora_b = [t for name, t in adapter.items() if "lora_B" in name]
    assert lora_b and any(float(t.abs().max()) > 0 for t in lora_b)  # B starts at zero: the adapter moved
