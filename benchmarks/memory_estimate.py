"""Compare the planner's memory estimate with the memory LoRA training really holds.

On the CPU (always): for each built-in model at two micro-batch sizes and two sequence lengths, a
PEFT LoRA adapter is applied and one forward, backward and AdamW step run in fp32. The bytes really
held are counted: parameters (and buffers), gradients, optimizer states, the tensors autograd saves
for backward (through `torch.autograd.graph.saved_tensors_hooks`, deduplicated by storage, leaving
out parameters) and the logits the model returns. The estimator is asked for the same case
(``device="cpu"``, fp32) and its `held_bytes` compared.

On a CUDA GPU (when there is one): SmolLM2-135M and a ~1B Llama-3.2-shaped model (random weights,
same shapes) train two bf16 steps; `torch.cuda.max_memory_allocated` is compared with the estimated
peak less the CUDA context (which the allocator does not see). Those figures are also written to
``benchmarks/results/memory_estimate_gpu.json``.

For every catalog family (tests/family_models.py: tiny random-weight Llama, Qwen3, Qwen3.5, Gemma 3,
SmolLM3, Phi-3/4, Mistral and gpt-oss models), LoRA on the attention and on every linear layer, at batch 2
and sequence 48 and 96, counted the same way on the CPU.

Prints one JSON line: every case's estimate, measurement and ratio, and ``pass`` (all within 15%; the
family cases within 10%).

    .venv/bin/python benchmarks/memory_estimate.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from peftstudio.models.catalog import find_model, spec_from_config
from peftstudio.planner.memory import CUDA_CONTEXT_BYTES, estimate_memory
from tests.family_models import counted_bytes  # the one way bytes are counted (the tests count so too)

TOLERANCE = 0.15
FAMILY_TOLERANCE = 0.10
RANK, ALPHA, DROPOUT = 8, 16, 0.05
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


def _with_lora(model: Any) -> Any:
    from peft import LoraConfig, get_peft_model

    model.train()
    cfg = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=DROPOUT, target_modules=list(TARGETS),
                     task_type="CAUSAL_LM")
    return get_peft_model(model, cfg)


def _load_builtin(ref: str) -> Any:
    from peftstudio.models import load_model

    return load_model(ref, dtype=torch.float32)


def cpu_cases(quick: bool) -> list[dict[str, Any]]:
    models = ["builtin:tiny-llama"] if quick else ["builtin:tiny-llama", "builtin:smollm2-135m"]
    cases = []
    for ref in models:
        base = _load_builtin(ref)
        spec = spec_from_config(base.config.to_dict(), name=ref)
        model = _with_lora(base)
        for batch in (1, 4):
            for seq in (64, 128):
                m = counted_bytes(model, batch, seq, spec.vocab_size)
                est = estimate_memory(spec, precision="fp32", quantization="none", micro_batch_size=batch,
                                      sequence_length=seq, lora_rank=RANK, target_modules=TARGETS,
                                      lora_dropout=DROPOUT, available_bytes=0, device="cpu")
                measured = sum(m.values())
                est_act = est.activations_bytes + est.logits_bytes
                cases.append({
                    "device": "cpu", "model": ref, "micro_batch_size": batch, "sequence_length": seq,
                    "estimate_bytes": est.held_bytes, "measured_bytes": measured,
                    "ratio": round(est.held_bytes / measured, 4),
                    "activations_estimate_bytes": est_act,
                    "activations_measured_bytes": m["activations"],
                    "activations_ratio": round(est_act / m["activations"], 4),
                })
        del model, base
    return cases


def family_cases() -> list[dict[str, Any]]:
    """Every catalog family's tiny model, counted on the CPU in fp32 (see the module docstring)."""
    from peft import LoraConfig, get_peft_model

    from tests.family_models import FAMILIES, VOCAB, tiny_model

    cases = []
    for family in FAMILIES:
        for targets in ("attention", "all"):
            for seq in (48, 96):
                base = tiny_model(family)
                spec = spec_from_config(base.config.to_dict(), name=family)
                modules = list(spec.all_modules if targets == "all" else spec.attention_modules)
                model = get_peft_model(base, LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0,
                                                        target_modules=modules))
                m = counted_bytes(model, 2, seq, VOCAB)
                est = estimate_memory(spec, precision="fp32", quantization="none", micro_batch_size=2,
                                      sequence_length=seq, lora_rank=RANK, target_modules=modules,
                                      lora_dropout=0.0, available_bytes=0, device="cpu")
                measured = sum(m.values())
                cases.append({"device": "cpu", "model": f"tiny-{family}", "family_of": list(FAMILIES[family]),
                              "targets": targets, "micro_batch_size": 2, "sequence_length": seq,
                              "estimate_bytes": est.held_bytes, "measured_bytes": measured,
                              "ratio": round(est.held_bytes / measured, 4),
                              "activations_ratio": round((est.activations_bytes + est.logits_bytes)
                                                         / m["activations"], 4)})
    return cases


def gpu_cases() -> list[dict[str, Any]]:
    """bf16 LoRA training on CUDA: allocator peak against the estimate less the CUDA context."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cases = []
    device = torch.device("cuda")
    for ref in ("builtin:smollm2-135m", "llama-3.2-1b"):
        if ref.startswith("builtin:"):
            from peftstudio.models import load_model

            base = load_model(ref, dtype=torch.bfloat16)
            spec = spec_from_config(base.config.to_dict(), name=ref)
        else:  # the shapes of the real model; random weights need no download and hold the same memory
            spec = find_model(ref)
            cfg = LlamaConfig(hidden_size=spec.hidden_size, intermediate_size=spec.intermediate_size,
                              num_hidden_layers=spec.layers, num_attention_heads=spec.heads,
                              num_key_value_heads=spec.kv_heads, vocab_size=spec.vocab_size,
                              head_dim=spec.head_dim, tie_word_embeddings=spec.tie_embeddings,
                              max_position_embeddings=spec.max_context)
            base = LlamaForCausalLM(cfg).to(torch.bfloat16)
        model = _with_lora(base.to(device))
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        for batch in (1, 4):
            for seq in (256, 1024):
                ids = torch.randint(0, spec.vocab_size, (batch, seq), device=device)
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                for _ in range(2):  # the second step holds the optimizer states during its forward
                    out = model(input_ids=ids, labels=ids, use_cache=False)
                    out.loss.backward()
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                    del out
                torch.cuda.synchronize()
                measured = torch.cuda.max_memory_allocated()
                est = estimate_memory(spec, precision="bf16", quantization="none", micro_batch_size=batch,
                                      sequence_length=seq, lora_rank=RANK, target_modules=TARGETS,
                                      lora_dropout=DROPOUT, available_bytes=0, device="cuda")
                estimate = est.estimated_peak_bytes - CUDA_CONTEXT_BYTES
                cases.append({
                    "device": torch.cuda.get_device_name(), "model": ref, "micro_batch_size": batch,
                    "sequence_length": seq, "estimate_bytes": estimate, "measured_bytes": measured,
                    "ratio": round(estimate / measured, 4),
                })
        del model, base, optimizer
        torch.cuda.empty_cache()
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the tiny built-in model (for tests)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    started = time.perf_counter()
    cases = cpu_cases(args.quick)
    families = family_cases()
    gpu: list[dict[str, Any]] = []
    if torch.cuda.is_available() and not args.quick:
        gpu = gpu_cases()
        results = Path(__file__).parent / "results"
        results.mkdir(exist_ok=True)
        (results / "memory_estimate_gpu.json").write_text(json.dumps(gpu, indent=2) + "\n")
    every = cases + families + gpu
    passed = (all(abs(c["ratio"] - 1) <= TOLERANCE for c in every)
              and all(abs(c["ratio"] - 1) <= FAMILY_TOLERANCE for c in families))
    worst = max(every, key=lambda c: abs(c["ratio"] - 1))
    print(json.dumps({
        "benchmark": "memory_estimate", "tolerance": TOLERANCE, "pass": passed,
        "worst_ratio": worst["ratio"], "families": sorted({c["model"] for c in families}),
        "worst_family_ratio": max(families, key=lambda c: abs(c["ratio"] - 1))["ratio"],
        "cases": every, "gpu_measured": bool(gpu),
        "seconds": round(time.perf_counter() - started, 1),
    }))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
