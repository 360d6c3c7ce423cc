"""Tiny random-weight models of every catalog family, built from transformers' own config classes.

Shapes are small but keep each family's traits: grouped-query attention, head_dim overrides, tied
embeddings, sliding-window layers (Gemma 3, gpt-oss), q/k norms (Qwen3, Gemma 3), Qwen3.5's hybrid
linear-attention layers with the gated attention output, gpt-oss's mixture of experts with attention
biases and sinks, Phi's fused projections. Used by the memory, training and benchmark checks.

Example:
    >>> model = tiny_model("qwen3")  # doctest: +SKIP
    >>> model.config.model_type      # doctest: +SKIP
    'qwen3'
"""

from __future__ import annotations

from typing import Any

#: family -> the catalog entries it stands for
FAMILIES: dict[str, tuple[str, ...]] = {
    "llama": ("llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "smollm2-360m", "smollm2-1.7b"),
    "qwen3": ("qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b"),
    "qwen3_5": ("qwen3.5-0.8b",),
    "gemma3": ("gemma3-1b", "builtin:gemma3-270m"),
    "smollm3": ("smollm3-3b",),
    "phi3": ("phi-4-mini", "phi-3.5-mini"),
    "mistral": ("mistral-7b",),
    "gpt_oss": ("gpt-oss-20b",),
    "gemma4": ("gemma4-e2b", "gemma4-e4b"),
}

VOCAB = 512
_COMMON: dict[str, Any] = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                               pad_token_id=0, bos_token_id=1, eos_token_id=2, initializer_range=0.2)


def tiny_config(family: str, vocab_size: int = VOCAB) -> Any:
    """The transformers config of `family`'s tiny model."""
    import transformers as tf

    common = dict(_COMMON, vocab_size=vocab_size)
    if family == "llama":  # Llama 3.2: tied embeddings and a head_dim override
        return tf.LlamaConfig(**common, head_dim=32, tie_word_embeddings=True)
    if family == "qwen3":
        return tf.Qwen3Config(**common, head_dim=32, tie_word_embeddings=True)
    if family == "qwen3_5":  # 3 linear-attention layers, then one softmax layer with its output gate
        return tf.Qwen3_5TextConfig(**common, head_dim=32, linear_num_key_heads=2, linear_num_value_heads=4,
                                    linear_key_head_dim=16, linear_value_head_dim=16, tie_word_embeddings=True)
    if family == "gemma3":
        return tf.Gemma3TextConfig(**common, head_dim=32, sliding_window=16, query_pre_attn_scalar=32,
                                   layer_types=["sliding_attention"] * 3 + ["full_attention"])
    if family == "gemma4":  # Gemma 4 E2B: per-layer embeddings, wider global heads, the last layers reuse K/V
        return tf.Gemma4TextConfig(**common, head_dim=32, global_head_dim=64, sliding_window=16,
                                   layer_types=["sliding_attention", "full_attention"] * 2, num_kv_shared_layers=2,
                                   use_double_wide_mlp=True, hidden_size_per_layer_input=16,
                                   vocab_size_per_layer_input=vocab_size, final_logit_softcapping=30.0)
    if family == "smollm3":
        return tf.SmolLM3Config(**common, tie_word_embeddings=True)
    if family == "phi3":  # Phi-4-mini: fused projections, GQA, tied embeddings
        return tf.Phi3Config(**common, tie_word_embeddings=True)
    if family == "mistral":
        return tf.MistralConfig(**common, sliding_window=None)
    if family == "gpt_oss":
        return tf.GptOssConfig(**dict(common, intermediate_size=64), head_dim=32, num_local_experts=4,
                               num_experts_per_tok=2, sliding_window=16)
    raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")


def tiny_model(family: str, seed: int = 0, vocab_size: int = VOCAB) -> Any:
    """`family`'s tiny causal LM with seeded random weights, in float32 and training mode."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(tiny_config(family, vocab_size), dtype=torch.float32).train()


def counted_bytes(model: Any, batch: int, seq: int, vocab: int, *, first_id: int = 0) -> dict[str, int]:
    """Bytes one LoRA training step holds on the CPU, part by part: parameters and buffers, gradients, AdamW
    states, and the tensors autograd saves for backward plus the returned logits (deduplicated by storage,
    parameters left out). Token ids are drawn from ``first_id`` up to `vocab` with seed 0."""
    import torch

    params: dict[int, int] = {}
    for t in [*model.parameters(), *model.buffers()]:
        params.setdefault(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
    saved: dict[int, int] = {}

    def pack(t: Any) -> Any:
        key = t.untyped_storage().data_ptr()
        if key not in params:
            saved.setdefault(key, t.untyped_storage().nbytes())
        return t

    ids = torch.randint(first_id, vocab, (batch, seq), generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(input_ids=ids, labels=ids, use_cache=False)
    saved.setdefault(out.logits.untyped_storage().data_ptr(), out.logits.untyped_storage().nbytes())  # held
    out.loss.backward()
    grads = sum(p.grad.untyped_storage().nbytes() for p in model.parameters() if p.grad is not None)
    optimizer.step()
    states = sum(v.untyped_storage().nbytes() for s in optimizer.state.values() for v in s.values()
                 if torch.is_tensor(v) and v.dim() > 0)
    optimizer.zero_grad(set_to_none=True)
    return {"weights": sum(params.values()), "gradients": grads, "optimizer": states,
            "activations": sum(saved.values())}
