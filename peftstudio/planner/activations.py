"""Bytes per token a transformer block keeps for backward during LoRA training: the activation part of
the memory estimate (`peftstudio.planner.memory`).

The formulas follow what PyTorch really saves for backward with a PEFT LoRA adapter and a frozen base
(measured with `torch.autograd.graph.saved_tensors_hooks`; tests/planner/test_memory_families.py checks
them on a tiny random-weight model of every family). Per token, with ``e`` the compute dtype's bytes
(4 for fp32, 2 for bf16/fp16), ``h`` the hidden size, ``i`` the MLP width, ``q``/``kv`` the block's query
and key/value widths and ``r`` the LoRA rank:

* each RMSNorm saves its input upcast to fp32 and the inverse norm: ``4h + 4``;
* attention (SDPA) saves q, k, v, its output and a fp32 log-sum-exp per head:
  ``e(2q + 2kv) + 4 heads``; the frozen projections themselves save nothing but their weights;
* the MLP saves the gate, the up projection and the activation's output: ``3ei``;
* every LoRA module saves its down-projection's output (``4r``, adapters are fp32) and its input:
  in fp32 without dropout q/k/v (and gate/up) share one saved input, while o_proj's input is the
  attention output already saved; with dropout, or in 16-bit (PEFT casts each input to fp32), each
  module keeps its own fp32 copy plus, when the input needs a gradient, the dropout mask (fp32 noise
  on the CPU, one byte on CUDA);
* the first block's input needs no gradient (the embeddings are frozen) unless gradient
  checkpointing is on (PEFT then makes the inputs require gradients), so it saves no input norm or
  q/k/v dropout masks;
* Gemma 4: a block that reuses an earlier layer's keys and values saves no k/v projections or norms
  (and, when K/V are not widened to the query width, not even k and v: they are the earlier layer's);
  the per-layer-embedding gate saves its activation's input (``e p``) and a norm; the per-layer inputs
  of all layers (``e L p``) are kept once.

Example:
    >>> from peftstudio.models.catalog import find_model
    >>> spec = find_model("smollm2-135m")
    >>> round(block_activation_bytes(spec, spec.blocks[0], e=4, rank=8, targets={"q_proj", "v_proj"},
    ...     dropout=0.0, cpu=True, input_grad=True, sequence_length=128))
    31596
"""

from __future__ import annotations

from peftstudio.models.shapes import Block, ModelSpec

#: Chunk length of the Gated DeltaNet's chunked recurrence (transformers' torch implementation).
LINEAR_ATTENTION_CHUNK = 64


def _lora_inputs(spec: ModelSpec, block: Block, targets: set[str], e: int, dropout: float, cpu: bool,
                 input_grad: bool) -> float:
    """Bytes per token the LoRA branches of `block` save for their inputs (see the module docstring)."""
    h = spec.hidden_size
    total = 0.0
    shared = e == 4 and dropout == 0  # fp32, no dropout: the modules see the very same input tensor
    mask = (4 if cpu else 1) if dropout > 0 else 0
    groups: list[tuple[list[str], int, bool]] = [  # (modules sharing one input, its width, saved elsewhere?)
        ([m for m in ("q_proj", "k_proj", "v_proj", "qkv_proj") if m in targets], h, False),
        ([m for m in ("o_proj",) if m in targets], spec.heads * block.head_dim, True),
        ([m for m in ("gate_proj", "up_proj", "gate_up_proj") if m in targets], h, False),
        ([m for m in ("down_proj",) if m in targets], block.mlp_width, False),
    ]
    for index, (mods, width, saved_elsewhere) in enumerate(groups):
        if not mods:
            continue
        # q/k/v of the first block read an input that needs no gradient: no dropout mask is kept.
        grad_here = input_grad or index > 0
        if shared:
            total += 0 if saved_elsewhere else 4 * width
        else:
            total += len(mods) * (4 * width + (mask * width if grad_here else 0))
    return total


def _attention_bytes(spec: ModelSpec, block: Block, *, e: int, cpu: bool, sequence_length: int) -> float:
    """Bytes per token one softmax-attention block saves (projections' LoRA aside)."""
    q, kv = spec.heads * block.head_dim, block.kv_heads * block.head_dim
    if spec.architecture == "gpt_oss":  # eager attention with sinks: q, k and v at full width, the fp32 scores
        return e * 4 * q + 4 * spec.heads * (sequence_length + 1) + 8 * spec.heads
    # SDPA keeps q, k, v, its output and a fp32 log-sum-exp per head. With a mask (padding, packing's
    # block-diagonal one, or a sliding window) transformers repeats K/V to the query width first (on CUDA
    # it always passes a mask); without one, native GQA keeps them narrow.
    widened = block.kind == "sliding" or not cpu
    saved_kv = q if widened else kv
    if block.reuses_kv and not widened:
        saved_kv = 0  # the very tensors an earlier layer saved
    out = e * (2 * q + 2 * saved_kv) + 4 * spec.heads
    if spec.qk_norm:  # RMSNorm on every query (and key) head: its fp32 input and inverse norm
        out += 4 * q + 4 * spec.heads
        out += 0 if block.reuses_kv else 4 * kv + 4 * block.kv_heads
    if spec.value_norm and not block.reuses_kv:
        out += 4 * kv + 4 * block.kv_heads
    if spec.attention_output_gate:  # q_proj's output (queries and gate) stays alive, the gate and product
        out += e * 4 * q
    if spec.attention_modules == ("qkv_proj", "o_proj"):  # v is a view of the fused output: all of it stays
        out += e * (q + kv) + e * q  # ... and o_proj's LoRA keeps its own copy of the attention output
    if spec.architecture.startswith("gemma2"):  # eager attention with soft-capping keeps the score matrices
        out += spec.heads * sequence_length * (4 + e)
    return out


def _linear_attention_bytes(spec: ModelSpec, *, e: int, sequence_length: int) -> float:
    """Bytes per token one Gated DeltaNet layer saves (Qwen3.5; transformers' chunked torch path).

    The short convolution keeps its input and output (``2e(2k + v)``); the recurrence works in fp32 on
    chunks of 64 tokens, keeping about five chunk-by-chunk matrices per value head and a dozen
    head-width vectors; the gated output norm keeps four value-width tensors.
    """
    keys, values = spec.linear_attention_widths
    hv, dk, dv = spec.linear_value_heads, spec.linear_key_head_dim, spec.linear_value_head_dim
    chunk = LINEAR_ATTENTION_CHUNK
    padded = -(-sequence_length // chunk) * chunk / max(sequence_length, 1)  # the last chunk is padded
    return 2 * e * (2 * keys + values) + padded * 4 * (5 * hv * chunk + 6 * hv * (dk + dv)) + 4 * 4 * values


def _mlp_bytes(spec: ModelSpec, block: Block, *, e: int) -> float:
    """Bytes per token the MLP saves: gate, up and the activation's output; for a mixture of experts, the
    router's choice and, for each of the token's active experts, its input, gate/up output, the clamped
    and gated pieces and its weighted output."""
    if not spec.is_moe:
        return 3 * e * block.mlp_width
    i, k = spec.intermediate_size, spec.experts_per_token
    return 24 + k * (e * (6 * i + spec.hidden_size) + 28)


def block_activation_bytes(spec: ModelSpec, block: Block, *, e: int, rank: int, targets: set[str],
                           dropout: float, cpu: bool, input_grad: bool, sequence_length: int) -> float:
    """Bytes per token `block` saves for backward (without checkpointing).

    A sliding-window block gets a mask, so its K/V are saved at the query width; a linear-attention block
    (a hybrid's Gated DeltaNet layer) holds no attention projections for LoRA.
    """
    norm = 4 * spec.hidden_size + 4
    n_norms = spec.norms_per_layer + (1 if spec.per_layer_input_size else 0)
    norms = n_norms * norm - (0 if input_grad else norm)
    if block.kind == "linear":
        mixer = _linear_attention_bytes(spec, e=e, sequence_length=sequence_length) if input_grad else 0.0
    else:
        mixer = _attention_bytes(spec, block, e=e, cpu=cpu, sequence_length=sequence_length)
    here = targets & set(spec.block_linear_shapes(block))
    lora_inputs = _lora_inputs(spec, block, here, e, dropout, cpu, input_grad)
    lora_outputs = 4 * rank * len(here)
    per_layer_gate = e * spec.per_layer_input_size  # the gate activation's input (Gemma 4)
    return norms + mixer + _mlp_bytes(spec, block, e=e) + lora_inputs + lora_outputs + per_layer_gate


def has_lora(spec: ModelSpec, block: Block, targets: set[str]) -> bool:
    """Whether `block` holds one of the targeted modules (blocks before the first that does need no backward)."""
    return bool(targets & set(spec.block_linear_shapes(block)))


__all__ = ["LINEAR_ATTENTION_CHUNK", "block_activation_bytes", "has_lora"]
