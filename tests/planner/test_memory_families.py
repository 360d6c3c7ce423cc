"""The memory estimate for a tiny random-weight model of every catalog family, against the bytes torch holds.

The bytes are counted as benchmarks/memory_estimate.py counts them for SmolLM2: parameters and buffers,
gradients, AdamW states, the tensors autograd saves for backward (deduplicated by storage) and the logits.
The spec is read from the model's own config (how a folder or hub id outside the catalog is planned).
"""

from __future__ import annotations

from typing import Any

import pytest

from peftstudio.models.catalog import find_model, spec_from_config
from peftstudio.planner.memory import estimate_memory
from tests.family_models import FAMILIES, VOCAB, counted_bytes, tiny_model

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("targets", ["attention", "all"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_estimate_within_ten_percent_of_counted_bytes(family: str, targets: str) -> None:
    from peft import LoraConfig, get_peft_model

    base = tiny_model(family)
    spec = spec_from_config(base.config.to_dict(), name=family)
    modules = list(spec.all_modules if targets == "all" else spec.attention_modules)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=modules))
    batch, seq = 2, 48
    counted = counted_bytes(model, batch, seq, VOCAB, first_id=3)
    est = estimate_memory(spec, precision="fp32", quantization="none", micro_batch_size=batch,
                          sequence_length=seq, lora_rank=4, target_modules=modules, lora_dropout=0.0,
                          available_bytes=2**30, device="cpu")
    total = sum(counted.values())
    # The activations are a large share here, so a wrong activation formula cannot hide behind the weights.
    assert counted["activations"] > 0.3 * total
    assert est.held_bytes == pytest.approx(total, rel=0.10)
    assert est.activations_bytes + est.logits_bytes == pytest.approx(counted["activations"], rel=0.10)
    # parameters computed from the shape (the LoRA weights with them; buffers such as RoPE tables are tiny)
    assert est.base_weights_bytes + est.lora_weights_bytes == pytest.approx(counted["weights"], rel=0.01)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_catalog_entries_share_their_familys_traits(family: str) -> None:
    tiny = spec_from_config(tiny_model(family).config.to_dict())
    for alias in FAMILIES[family]:
        spec = find_model(alias)
        assert spec.architecture.split("_text")[0] == tiny.architecture.split("_text")[0], alias
        assert (spec.qk_norm, spec.is_moe, bool(spec.linear_layers)) == \
            (tiny.qk_norm, tiny.is_moe, bool(tiny.linear_layers)), alias


def test_large_vocabularies_weigh_on_the_logits() -> None:
    small, large = find_model("llama-3.2-1b"), find_model("gemma3-1b")
    kw: dict[str, Any] = dict(precision="bf16", quantization="none", micro_batch_size=4, sequence_length=1024,
                              lora_rank=16, target_modules=("q_proj", "v_proj"), available_bytes=80 * 2**30)
    assert estimate_memory(large, **kw).logits_bytes == pytest.approx(
        estimate_memory(small, **kw).logits_bytes * 262144 / 128256, rel=0.01)


def test_sliding_windows_and_moe_change_the_estimate() -> None:
    kw: dict[str, Any] = dict(precision="bf16", quantization="none", micro_batch_size=1, sequence_length=2048,
                              lora_rank=16, target_modules=("q_proj", "v_proj"), available_bytes=80 * 2**30)
    moe = estimate_memory(find_model("gpt-oss-20b"), **kw)
    assert moe.base_weights_bytes > 40e9  # every expert is stored ...
    assert moe.lora_weights_bytes < 4 * 24 * 16 * 2 * (2880 + 4096) * 1.01  # ... and LoRA sits on attention only
