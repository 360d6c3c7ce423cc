"""The memory estimator: its parts behave sensibly, and it matches what torch really holds on the CPU."""

from __future__ import annotations

from typing import Any

import pytest

from peftstudio.models.catalog import find_model, spec_from_config
from peftstudio.planner.memory import NF4_BYTES, estimate_memory, lora_parameters
from tests.family_models import counted_bytes

GIB = 1024**3


def _estimate(model: str = "llama-3.1-8b", **kw: Any):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = dict(precision="bf16", quantization="none", micro_batch_size=1, sequence_length=512,
                                lora_rank=16, target_modules=("q_proj", "k_proj", "v_proj", "o_proj"),
                                available_bytes=80 * GIB)
    args.update(kw)
    return estimate_memory(find_model(model), **args)


def test_parts_sum_to_the_peak() -> None:
    m = _estimate()
    assert sum(m.parts().values()) == m.estimated_peak_bytes
    assert m.held_bytes == m.estimated_peak_bytes - m.temporary_bytes - m.overhead_bytes
    assert all(v >= 0 for v in m.parts().values())


def test_base_weights_by_precision_and_quantization() -> None:
    spec = find_model("llama-3.1-8b")
    assert _estimate(precision="fp32").base_weights_bytes == spec.parameters * 4
    assert _estimate().base_weights_bytes == spec.parameters * 2
    four = _estimate(quantization="4bit").base_weights_bytes
    linear = spec.layers * spec.layer_linear_parameters
    assert four == int(linear * NF4_BYTES + (spec.parameters - linear) * 2)
    assert 5.0 * GIB < four < 6.0 * GIB  # Llama 3.1 8B in 4-bit loads in about 5.5 GB
    assert four < _estimate(quantization="8bit").base_weights_bytes < _estimate().base_weights_bytes


def test_lora_gradients_and_adam_states() -> None:
    m = _estimate()
    n = lora_parameters(find_model("llama-3.1-8b"), 16, ("q_proj", "k_proj", "v_proj", "o_proj"))
    assert n == 32 * 16 * ((4096 + 4096) * 2 + (4096 + 1024) * 2)
    assert (m.lora_weights_bytes, m.gradients_bytes, m.optimizer_bytes) == (4 * n, 4 * n, 8 * n)


@pytest.mark.parametrize("key, small, big", [("micro_batch_size", 1, 4), ("sequence_length", 256, 2048),
                                             ("lora_rank", 8, 64)])
def test_activations_grow_with_batch_sequence_and_rank(key: str, small: int, big: int) -> None:
    a, b = _estimate(**{key: small}), _estimate(**{key: big})
    assert b.activations_bytes > a.activations_bytes
    if key != "lora_rank":
        assert b.logits_bytes == a.logits_bytes * big // small


def test_checkpointing_saves_activation_memory() -> None:
    assert _estimate(gradient_checkpointing=True).activations_bytes < _estimate().activations_bytes / 4


def test_fits_compares_with_available() -> None:
    assert _estimate(available_bytes=80 * GIB).fits
    assert not _estimate(available_bytes=8 * GIB).fits


# ---------------------------------------------------------------- against torch, on the CPU

torch = pytest.importorskip("torch")


ATTENTION = ("q_proj", "v_proj")
ALL = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@pytest.mark.parametrize("dropout, targets, batch, seq", [
    (0.0, ATTENTION, 1, 32), (0.1, ATTENTION, 3, 48), (0.0, ALL, 3, 48), (0.1, ALL, 1, 32),
])
def test_estimate_matches_bytes_torch_holds(dropout: float, targets: tuple[str, ...], batch: int, seq: int) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=96, intermediate_size=224, num_hidden_layers=3, num_attention_heads=6,
                         num_key_value_heads=2, vocab_size=300, max_position_embeddings=256)
    model = get_peft_model(LlamaForCausalLM(config).train(),
                           LoraConfig(r=4, lora_alpha=8, lora_dropout=dropout, target_modules=list(targets)))
    measured = sum(counted_bytes(model, batch, seq, 300).values())
    est = estimate_memory(spec_from_config(config.to_dict()), precision="fp32", quantization="none",
                          micro_batch_size=batch, sequence_length=seq, lora_rank=4, target_modules=targets,
                          lora_dropout=dropout, available_bytes=GIB, device="cpu")
    assert est.held_bytes == pytest.approx(measured, rel=0.15)
    assert est.held_bytes == pytest.approx(measured, rel=0.01)  # the formula is exact up to scalars
