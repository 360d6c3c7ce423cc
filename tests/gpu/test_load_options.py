"""Issue 23 points 2, 3 (fp16 base), 9 and 11: how the worker loads the base model."""

from __future__ import annotations

import pytest
import torch

from peftstudio.engine.worker import load_options
from peftstudio.models.loading import safe_attention
from peftstudio.records import TrainingSettings

from ..engine.conftest import tiny_llama


@pytest.mark.parametrize("rank", [0, 1, 3])
def test_qlora_loads_each_rank_onto_its_own_gpu(rank: int) -> None:
    # LOCAL_RANK is the stand-in for a multi-GPU launch: without device_map every rank loaded onto GPU 0
    options = load_options(TrainingSettings(precision="bf16", quantization="4bit"), cuda=True, local_rank=rank)
    assert options["device_map"] == {"": rank}
    assert options["quantization_config"].bnb_4bit_compute_dtype == torch.bfloat16


def test_gpu_runs_load_straight_to_the_device_and_cpu_runs_stay_put() -> None:
    assert load_options(TrainingSettings(precision="bf16"), cuda=True)["device_map"] == {"": 0}
    assert "device_map" not in load_options(TrainingSettings(precision="bf16"), cuda=False)


@pytest.mark.parametrize(("precision", "quantization", "cuda", "dtype"), [
    ("bf16", "none", True, torch.bfloat16),
    ("fp16", "none", True, torch.float32),  # 16-mixed autocast; fp32 residual stream
    ("fp16", "none", False, torch.float32),
    ("fp32", "none", True, torch.float32),
    ("fp16", "4bit", True, torch.float16),
])
def test_load_dtype(precision: str, quantization: str, cuda: bool, dtype: torch.dtype) -> None:
    assert load_options(TrainingSettings(precision=precision, quantization=quantization), cuda=cuda)["dtype"] == dtype


def test_fp16_autocast_over_fp32_weights_keeps_a_large_residual_finite() -> None:
    # a bf16-trained model can carry residual values above fp16's maximum (65504)
    ids = torch.tensor([[5, 6, 7, 8]])
    big = tiny_llama()
    with torch.no_grad():
        big.model.embed_tokens.weight[5] = 7e4
    half = tiny_llama().half()
    with torch.no_grad():
        half.model.embed_tokens.weight[5] = 7e4  # what loading the whole base in fp16 did
        assert not torch.isfinite(half(input_ids=ids).logits).all()
        with torch.autocast("cpu", dtype=torch.float16):  # 16-mixed over fp32 weights, as now loaded
            assert torch.isfinite(big(input_ids=ids).logits).all()


def test_flash_attention_with_packing_and_several_rows_becomes_sdpa() -> None:
    model = tiny_llama()
    assert safe_attention(model, packing=True, micro_batch_size=4) is None  # sdpa already
    model.config._attn_implementation = "flash_attention_2"  # stand-in: FA2 needs a CUDA GPU
    assert safe_attention(model, packing=True, micro_batch_size=1) is None  # one row: FA2 handles it
    assert safe_attention(model, packing=False, micro_batch_size=4) is None
    assert safe_attention(model, packing=True, micro_batch_size=4) == "sdpa"
    assert model.config._attn_implementation == "sdpa"
