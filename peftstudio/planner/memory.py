"""Peak training memory of a LoRA/QLoRA run, as a breakdown a screen can draw.

The activation formula follows what PyTorch really saves for backward in a Llama-style block
with a PEFT LoRA adapter and a frozen base (measured with `torch.autograd.graph.saved_tensors_hooks`
in `benchmarks/memory_estimate.py`, where it matches to within a few percent). Per token, with
``e`` the compute dtype's bytes (4 for fp32, 2 for bf16/fp16), ``h`` the hidden size, ``i`` the
MLP width, ``q``/``kv`` the query and key/value widths and ``r`` the LoRA rank:

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
* the loss keeps the logits (``eV``) and fp32 log-probabilities (``4V``); during its backward two
  more fp32 vocabulary-wide gradients exist for a moment (counted under `temporary_bytes`).

With gradient checkpointing only each block's input (``eh``) is kept, and one block is recomputed
at a time during backward.

Example:
    >>> from peftstudio.models.catalog import find_model
    >>> m = estimate_memory(find_model("llama-3.1-8b"), precision="bf16", quantization="none",
    ...                     micro_batch_size=1, sequence_length=512, lora_rank=16,
    ...                     target_modules=("q_proj", "v_proj"), available_bytes=80 * 2**30)
    >>> round(m.base_weights_bytes / 1e9, 1), m.fits
    (16.1, True)
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from peftstudio.models.catalog import ModelSpec

GIB = 1024**3

#: Bytes per weight of each storage format. 4-bit NF4 with double quantization stores 4 bits plus an
#: 8-bit scale per 64 weights and a fp32 scale per 256 of those (bitsandbytes' defaults).
NF4_BYTES = 0.5 + 1 / 64 + 4 / (64 * 256)
INT8_BYTES = 1.0 + 4 / 4096  # LLM.int8(): one byte plus a fp32 scale per row of ~4096 weights
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}

#: CUDA context, cuBLAS workspace and kernels: outside what PyTorch's allocator reports
#: (0.6 to 1.5 GB on recent drivers and cards; lazy module loading keeps it near the low end).
CUDA_CONTEXT_BYTES = 768 * 1024**2
#: The Python process with torch, transformers and the data loader when training on the CPU.
CPU_RUNTIME_BYTES = 700 * 1024**2
#: Allocator fragmentation and odd buffers, as a share of what is allocated and freed every step
#: (activations, logits and temporary buffers; weights are allocated once and do not fragment).
SLACK = 0.10


@frozen
class MemoryBreakdown:
    """Estimated peak training memory, in bytes, part by part.

    `estimated_peak_bytes` is the sum of the parts; `available_bytes` is what the device offers
    (a GPU's free memory, or free RAM when training on the processor); `fits` says whether the peak
    stays within it.

    Example:
        >>> b = MemoryBreakdown(base_weights_bytes=100, lora_weights_bytes=1, gradients_bytes=1,
        ...     optimizer_bytes=2, activations_bytes=10, logits_bytes=5, temporary_bytes=3,
        ...     overhead_bytes=8, available_bytes=200)
        >>> b.estimated_peak_bytes, b.fits
        (130, True)
    """

    base_weights_bytes: int
    lora_weights_bytes: int
    gradients_bytes: int
    optimizer_bytes: int
    activations_bytes: int
    logits_bytes: int
    temporary_bytes: int
    overhead_bytes: int
    available_bytes: int
    device: str = "cuda"
    #: QLoRA: `prepare_model_for_kbit_training` upcasts the norms to fp32.
    upcast_bytes: int = 0

    @property
    def estimated_peak_bytes(self) -> int:
        return (self.base_weights_bytes + self.lora_weights_bytes + self.gradients_bytes + self.optimizer_bytes
                + self.activations_bytes + self.logits_bytes + self.temporary_bytes + self.overhead_bytes
                + self.upcast_bytes)

    @property
    def held_bytes(self) -> int:
        """What is held at the start of backward: everything but the momentary buffers and overhead."""
        return self.estimated_peak_bytes - self.temporary_bytes - self.overhead_bytes

    @property
    def fits(self) -> bool:
        return self.estimated_peak_bytes <= self.available_bytes

    @property
    def fraction(self) -> float:
        """Peak as a share of the available memory (above 1 does not fit)."""
        return self.estimated_peak_bytes / self.available_bytes if self.available_bytes else float("inf")

    def parts(self) -> dict[str, int]:
        """The parts by name, in drawing order."""
        return {
            "base_weights": self.base_weights_bytes, "upcast": self.upcast_bytes, "lora_weights": self.lora_weights_bytes,
            "gradients": self.gradients_bytes, "optimizer": self.optimizer_bytes,
            "activations": self.activations_bytes, "logits": self.logits_bytes,
            "temporary": self.temporary_bytes, "overhead": self.overhead_bytes,
        }


def lora_parameters(spec: ModelSpec, rank: int, target_modules: Sequence[str]) -> int:
    """Trainable LoRA parameters: ``rank * (in + out)`` for every targeted linear layer of every block
    that has it (a hybrid model's attention projections exist in its softmax-attention layers only).

    Example:
        >>> from peftstudio.models.catalog import find_model
        >>> lora_parameters(find_model("llama-3.1-8b"), 16, ("q_proj", "v_proj"))
        6815744
    """
    shapes = spec.layer_linear_shapes
    return sum(spec.module_layers(m) * rank * (shapes[m][0] + shapes[m][1]) for m in set(target_modules)
               if m in shapes)


def base_weight_bytes(spec: ModelSpec, precision: str, quantization: str) -> int:
    """The frozen base model: every weight at 16/32 bits, or the blocks' linear layers at 4/8 bits
    (embeddings, output head and norms stay at the compute precision, as bitsandbytes leaves them)."""
    e = DTYPE_BYTES[precision]
    if quantization == "none":  # fp16 loads in fp32: 16-mixed autocast keeps the residual stream in fp32
        return spec.parameters * (4 if precision == "fp16" else e)
    per = NF4_BYTES if quantization == "4bit" else INT8_BYTES
    linear = spec.linear_parameters
    return int(linear * per + (spec.parameters - linear) * e)


def upcast_bytes(spec: ModelSpec, precision: str, quantization: str) -> int:
    """Extra bytes once PEFT prepares a quantized model for training: the norms go from the compute
    precision to fp32 (with bf16 the engine puts embeddings and output head back to 16 bits:
    `peftstudio.models.loading.keep_embeddings_16bit`; with fp16 they stay fp32).

    Example:
        >>> from peftstudio.models.catalog import find_model
        >>> upcast_bytes(find_model("llama-3.1-8b"), "bf16", "4bit")
        532480
    """
    if quantization == "none":
        return 0
    linear = spec.linear_parameters
    kept = spec.embedding_parameters if precision == "bf16" else 0
    return (spec.parameters - linear - kept) * (4 - DTYPE_BYTES[precision])


def _lora_inputs(spec: ModelSpec, targets: set[str], e: int, dropout: float, cpu: bool, input_grad: bool) -> float:
    """Bytes per token the LoRA branches of one block save for their inputs (see the module docstring)."""
    h, i = spec.hidden_size, spec.intermediate_size
    total = 0.0
    shared = e == 4 and dropout == 0  # fp32, no dropout: the modules see the very same input tensor
    mask = (4 if cpu else 1) if dropout > 0 else 0
    groups: list[tuple[list[str], int, bool]] = [  # (modules sharing one input, its width, saved elsewhere?)
        ([m for m in ("q_proj", "k_proj", "v_proj", "qkv_proj") if m in targets], h, False),
        ([m for m in ("o_proj",) if m in targets], spec.q_dim, True),
        ([m for m in ("gate_proj", "up_proj", "gate_up_proj") if m in targets], h, False),
        ([m for m in ("down_proj",) if m in targets], i, False),
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


def _attention_bytes(spec: ModelSpec, *, e: int, cpu: bool, masked: bool, sequence_length: int) -> float:
    """Bytes per token one softmax-attention layer saves (projections' LoRA aside)."""
    q, kv = spec.q_dim, spec.kv_dim
    if spec.architecture == "gpt_oss":  # eager attention with sinks: q, k and v at full width, the fp32 scores
        return e * 4 * q + 4 * spec.heads * (sequence_length + 1) + 8 * spec.heads
    # SDPA keeps q, k, v, its output and a fp32 log-sum-exp per head. With a mask (padding, packing's
    # block-diagonal one, or a sliding window) transformers repeats K/V to the query width first (on CUDA
    # it always passes a mask); without one, native GQA keeps them narrow.
    saved_kv = q if (masked or not cpu) else kv
    out = e * (2 * q + 2 * saved_kv) + 4 * spec.heads
    if spec.qk_norm:  # RMSNorm on every query and key head: its fp32 input and inverse norm
        out += 4 * (q + kv) + 4 * (spec.heads + spec.kv_heads)
    if spec.attention_output_gate:  # q_proj's output (queries and gate) stays alive, the gate and product
        out += e * 4 * q
    if spec.attention_modules == ("qkv_proj", "o_proj"):  # v is a view of the fused output: all of it stays
        out += e * (q + kv) + e * q  # ... and o_proj's LoRA keeps its own copy of the attention output
    if spec.architecture.startswith("gemma2"):  # eager attention with soft-capping keeps the score matrices
        out += spec.heads * sequence_length * (4 + e)
    return out


#: Chunk length of the Gated DeltaNet's chunked recurrence (transformers' torch implementation).
LINEAR_ATTENTION_CHUNK = 64


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


def _mlp_bytes(spec: ModelSpec, *, e: int) -> float:
    """Bytes per token the MLP saves: gate, up and the activation's output; for a mixture of experts, the
    router's choice and, for each of the token's active experts, its input, gate/up output, the clamped
    and gated pieces and its weighted output."""
    i = spec.intermediate_size
    if not spec.is_moe:
        return 3 * e * i
    k = spec.experts_per_token
    return 24 + k * (e * (6 * i + spec.hidden_size) + 28)


def _layer_kinds(spec: ModelSpec) -> list[str]:
    """Each layer's attention kind in the usual order: a hybrid's softmax layer closes each group of
    linear-attention layers; sliding-window layers come before the global one of their group."""
    kinds = ["full"] * spec.layers
    if spec.linear_layers and spec.attention_layers:
        every = spec.layers // spec.attention_layers
        kinds = ["full" if (n + 1) % every == 0 else "linear" for n in range(spec.layers)]
    elif spec.sliding_layers:
        every = max(1, round(spec.layers / max(spec.layers - spec.sliding_layers, 1)))
        kinds = ["full" if (n + 1) % every == 0 else "sliding" for n in range(spec.layers)]
    return kinds


def block_activation_bytes(spec: ModelSpec, *, e: int, rank: int, targets: set[str], dropout: float,
                           cpu: bool, input_grad: bool, sequence_length: int, kind: str = "full") -> float:
    """Bytes per token one transformer block saves for backward (without checkpointing).

    `kind` is the block's attention: ``"full"``, ``"sliding"`` (a sliding window: a mask, so K/V are saved
    at the query width) or ``"linear"`` (a hybrid model's Gated DeltaNet layer, which holds no attention
    projections for LoRA).
    """
    norm = 4 * spec.hidden_size + 4
    norms = spec.norms_per_layer * norm - (0 if input_grad else norm)
    if kind == "linear":
        mixer = _linear_attention_bytes(spec, e=e, sequence_length=sequence_length) if input_grad else 0.0
        here = {m for m in targets if m in spec.layer_linear_shapes and m not in spec.attention_modules}
    else:
        mixer = _attention_bytes(spec, e=e, cpu=cpu, masked=kind == "sliding", sequence_length=sequence_length)
        here = {m for m in targets if m in spec.layer_linear_shapes}
    mlp = _mlp_bytes(spec, e=e)
    lora_inputs = _lora_inputs(spec, here, e, dropout, cpu, input_grad)
    lora_outputs = 4 * rank * len(here)
    return norms + mixer + mlp + lora_inputs + lora_outputs


def estimate_memory(
    spec: ModelSpec,
    *,
    precision: str,
    quantization: str,
    micro_batch_size: int,
    sequence_length: int,
    lora_rank: int,
    target_modules: Sequence[str],
    available_bytes: int,
    lora_dropout: float = 0.05,
    gradient_checkpointing: bool = False,
    device: str = "cuda",
) -> MemoryBreakdown:
    """Estimate peak memory of LoRA training with AdamW; `device` is ``"cuda"`` or ``"cpu"``.

    Example:
        >>> from peftstudio.models.catalog import find_model
        >>> m = estimate_memory(find_model("smollm2-135m"), precision="fp32", quantization="none",
        ...     micro_batch_size=4, sequence_length=128, lora_rank=8, target_modules=("q_proj", "v_proj"),
        ...     available_bytes=8 * 2**30, device="cpu")
        >>> m.fits, round(m.held_bytes / 2**30, 2)
        (True, 1.24)
    """
    cpu = device == "cpu"
    e = DTYPE_BYTES[precision]
    tokens = micro_batch_size * sequence_length
    targets = set(target_modules)
    n_lora = lora_parameters(spec, lora_rank, target_modules)
    base = base_weight_bytes(spec, precision, quantization)
    lora_w = 4 * n_lora  # PEFT keeps adapter weights in fp32 even on a 16-bit base
    grads = 4 * n_lora
    optim = 8 * n_lora  # AdamW: two fp32 moments per trainable weight

    kw = dict(e=e, rank=lora_rank, targets=targets, dropout=lora_dropout, cpu=cpu, sequence_length=sequence_length)
    kinds = _layer_kinds(spec)
    # Blocks before the first one holding a LoRA module need no backward at all: they save nothing (a
    # hybrid model with LoRA on attention only starts its backward at its first softmax layer).
    has_lora = [bool(targets & {m for m in spec.layer_linear_shapes
                                if kind != "linear" or m not in spec.attention_modules}) for kind in kinds]
    first = has_lora.index(True) if any(has_lora) else spec.layers
    final_norm = 4 * spec.hidden_size + 4
    rope = 2 * sequence_length * spec.head_dim * 4  # cos and sin tables, shared by all blocks
    if gradient_checkpointing:
        # Kept: each block's input. Recomputed during backward: one block at a time (the largest).
        largest = max(block_activation_bytes(spec, input_grad=True, kind=k, **kw) for k in set(kinds))  # type: ignore[arg-type]
        per_token = float(spec.layers * e * spec.hidden_size + largest + final_norm)
    else:
        per_token = float(final_norm)
        for n, kind in enumerate(kinds):
            if n >= first:
                per_token += block_activation_bytes(spec, input_grad=n > first, kind=kind, **kw)  # type: ignore[arg-type]
    activations = int(per_token * tokens + rope)
    if cpu and spec.sliding_layers and not gradient_checkpointing:  # the sliding window's fp32 mask, once
        activations += 4 * micro_batch_size * sequence_length * sequence_length

    vocab = spec.vocab_size
    logits = tokens * (e * vocab + 4 * vocab + 8)  # the logits, their fp32 log-probabilities, the labels
    # Backward of the loss: the log-probabilities' gradient and the logits' gradient, both fp32, exist
    # together for a moment (the later cast to 16 bits happens once the first is freed).
    temporary = tokens * vocab * 8
    if quantization != "none":  # bitsandbytes dequantizes one weight matrix at a time to compute with it
        temporary += max(a * b for a, b in spec.layer_linear_shapes.values()) * e
        if precision == "fp16":  # the fp32 output head is cast to fp16 by autocast at every forward
            temporary += spec.vocab_size * spec.hidden_size * e
    slack = SLACK * (activations + logits + temporary)
    overhead = int((CPU_RUNTIME_BYTES if cpu else CUDA_CONTEXT_BYTES) + slack)
    return MemoryBreakdown(
        base_weights_bytes=int(base), lora_weights_bytes=lora_w, gradients_bytes=grads, optimizer_bytes=optim,
        activations_bytes=activations, logits_bytes=int(logits), temporary_bytes=int(temporary),
        overhead_bytes=overhead, available_bytes=int(available_bytes), device="cpu" if cpu else "cuda",
        upcast_bytes=upcast_bytes(spec, precision, quantization),
    )


__all__ = ["MemoryBreakdown", "base_weight_bytes", "estimate_memory", "lora_parameters", "upcast_bytes"]
