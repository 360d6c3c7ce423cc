"""Tensor names as data: Hugging Face parameter names -> GGUF tensor names, per architecture.

A name the table does not know is an error, never a silent skip: a GGUF missing a weight
would load and answer gibberish. Rotary-embedding buffers are not weights and are dropped.

Example:
    >>> gguf_name("model.layers.3.self_attn.q_proj.weight")
    'blk.3.attn_q.weight'
    >>> gguf_name("model.layers.0.self_attn.rotary_emb.inv_freq") is None
    True
"""

from __future__ import annotations

import re

from attrs import frozen

# Per-layer names: HF suffix after "model.layers.{i}." -> GGUF suffix after "blk.{i}.".
LAYER_NAMES: dict[str, str] = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}

GLOBAL_NAMES: dict[str, str] = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}

# Buffers that transformers may save but that are not weights of the model.
IGNORED = re.compile(r".*rotary_emb\.inv_freq$")
_LAYER = re.compile(r"^model\.layers\.(\d+)\.(.+)$")


@frozen
class ArchitectureSpec:
    """How one Hugging Face architecture is written: GGUF architecture name and whether q/k are permuted.

    llama.cpp's "llama" architecture applies rotary embeddings to adjacent pairs of each head, while
    Hugging Face Llama weights rotate the two halves of each head; the q and k rows are reordered to
    match. Qwen2 uses the halves form in llama.cpp too (NEOX rope), so its weights are written as is.
    """

    gguf_arch: str
    permute_qk: bool
    biases: bool = False


ARCHITECTURES: dict[str, ArchitectureSpec] = {
    "LlamaForCausalLM": ArchitectureSpec("llama", permute_qk=True),
    "MistralForCausalLM": ArchitectureSpec("llama", permute_qk=True),
    "Qwen2ForCausalLM": ArchitectureSpec("qwen2", permute_qk=False, biases=True),
}


def supported_text() -> str:
    """The architectures GGUF export supports, for messages."""
    return "Llama (including SmolLM2 and the built-in models), Mistral and Qwen2 (" + ", ".join(ARCHITECTURES) + ")"


def gguf_name(hf_name: str) -> str | None:
    """The GGUF name of a Hugging Face tensor; None for buffers that are not weights; KeyError if unknown."""
    if IGNORED.match(hf_name):
        return None
    if hf_name in GLOBAL_NAMES:
        return GLOBAL_NAMES[hf_name]
    m = _LAYER.match(hf_name)
    if m and m.group(2) in LAYER_NAMES:
        return f"blk.{m.group(1)}.{LAYER_NAMES[m.group(2)]}"
    raise KeyError(hf_name)
