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
