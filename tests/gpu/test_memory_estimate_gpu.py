"""Issue 23 points 4, 11 and 13 (CUDA context): the estimate of GPU runs."""

from __future__ import annotations

import torch
from peft import prepare_model_for_kbit_training

from peftstudio.models.catalog import find_model
from peftstudio.models.loading import keep_embeddings_16bit
from peftstudio.planner.memory import CUDA_CONTEXT_BYTES, estimate_memory, upcast_bytes

from ..engine.conftest import tiny_llama

GIB = 1024**3


def _estimate(**kw: object):  # type: ignore[no-untyped-def]
    args = dict(precision="bf16", quantization="4bit", micro_batch_size=1, sequence_length=512, lora_rank=16,
                target_modules=("q_proj", "v_proj"), available_bytes=12 * GIB)
    args.update(kw)
    return estimate_memory(find_model("llama-3.1-8b"), **args)  # type: ignore[arg-type]


def test_qlora_counts_the_fp32_norms_and_embeddings_stay_16_bit() -> None:
    model = tiny_llama().to(torch.bfloat16)
    prepared = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    assert prepared.get_input_embeddings().weight.dtype == torch.float32  # PEFT's upcast, the +2 GB of an 8B
    keep_embeddings_16bit(prepared, "bfloat16")  # as a config may name it
    assert prepared.get_input_embeddings().weight.dtype == torch.bfloat16
    assert prepared.get_output_embeddings().weight.dtype == torch.bfloat16
    norms = [p for n, p in prepared.named_parameters() if "norm" in n]
    assert norms and all(p.dtype == torch.float32 for p in norms)
    spec = find_model("llama-3.1-8b")
    norm_params = spec.layers * spec.norms_per_layer * spec.hidden_size + spec.hidden_size
    assert upcast_bytes(spec, "bf16", "4bit") == norm_params * 2
    assert _estimate().upcast_bytes == norm_params * 2 and _estimate().parts()["upcast"] == norm_params * 2
    assert upcast_bytes(spec, "bf16", "none") == 0


def test_cuda_context_is_at_least_600_mb() -> None:
    assert CUDA_CONTEXT_BYTES >= 600 * 1024**2
    assert _estimate().overhead_bytes > CUDA_CONTEXT_BYTES


def test_masked_sdpa_keeps_full_width_kv_on_cuda() -> None:
    # Llama 3.1 8B has 8 K/V heads for 32 query heads: masked SDPA on CUDA repeats them to 32
    spec = find_model("llama-3.1-8b")
    cuda = _estimate(quantization="none", available_bytes=80 * GIB, lora_dropout=0.0)
    cpu = _estimate(quantization="none", available_bytes=80 * GIB, lora_dropout=0.0, device="cpu")
    expanded = 2 * (spec.q_dim - spec.kv_dim) * 2 * 512 * spec.layers  # k and v, bf16, per token, every block
    assert cuda.activations_bytes - cpu.activations_bytes >= expanded * 0.9


def test_fp16_base_is_counted_in_fp32() -> None:
    # load_options keeps fp32 weights under 16-mixed autocast: the planner must count 4 bytes a weight
    spec = find_model("llama-3.1-8b")
    assert _estimate(precision="fp16", quantization="none").base_weights_bytes == spec.parameters * 4
    assert _estimate(precision="bf16", quantization="none").base_weights_bytes == spec.parameters * 2
    # 4-bit with fp16 compute: embeddings and norms stay fp32 after PEFT's preparation
    assert upcast_bytes(spec, "fp16", "4bit") > upcast_bytes(spec, "bf16", "4bit") + spec.embedding_parameters


def test_apply_lora_on_a_quantized_bf16_model_keeps_embeddings_in_bf16() -> None:
    from peftstudio.engine.module import apply_lora
    from peftstudio.records import LoraSettings

    # a bf16 model stands in for a 4-bit one (bitsandbytes needs CUDA); PEFT's preparation is the same
    model = apply_lora(tiny_llama().to(torch.bfloat16), LoraSettings(rank=4, alpha=8, dropout=0.0,
                                                                     target_modules=("q_proj",)), quantized=True)
    assert model.get_input_embeddings().weight.dtype == torch.bfloat16
    assert model.get_output_embeddings().weight.dtype == torch.bfloat16
    assert model.base_model.model.model.norm.weight.dtype == torch.float32
