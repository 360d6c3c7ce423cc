"""Peak training memory of a LoRA/QLoRA run, as a breakdown a screen can draw.

The parts: the frozen base weights (16/32 bits, or the blocks' linear layers at 4/8 bits), the LoRA
weights with their gradients and AdamW states, the activations every block keeps for backward
(`peftstudio.planner.activations`, block by block), the logits, the momentary buffers of the loss's
backward, and the runtime's own overhead.

The loss keeps the logits (``eV``) and fp32 log-probabilities (``4V``), plus tanh's output where the
logits are soft-capped; during its backward two more fp32 vocabulary-wide gradients exist for a moment
(counted under `temporary_bytes`). With gradient checkpointing only each block's input (``eh``) is kept,
and one block is recomputed at a time during backward.

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

from peftstudio.models.shapes import ModelSpec
from peftstudio.planner.activations import block_activation_bytes, has_lora

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
    that has it (a hybrid model's attention projections exist in its softmax-attention layers only;
    Gemma 4's layers that reuse keys and values have no k/v projections).

    Example:
        >>> from peftstudio.models.catalog import find_model
        >>> lora_parameters(find_model("llama-3.1-8b"), 16, ("q_proj", "v_proj"))
        6815744
    """
    targets = set(target_modules)
    return sum(rank * (a + b) for block in spec.blocks
               for m, (a, b) in spec.block_linear_shapes(block).items() if m in targets)


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
    kept = spec.embedding_parameters + spec.per_layer_embedding_parameters if precision == "bf16" else 0
    return (spec.parameters - linear - kept) * (4 - DTYPE_BYTES[precision])


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
    blocks = spec.blocks
    # Blocks before the first one holding a LoRA module need no backward at all: they save nothing (a
    # hybrid model with LoRA on attention only starts its backward at its first softmax layer).
    with_lora = [has_lora(spec, b, targets) for b in blocks]
    first = with_lora.index(True) if any(with_lora) else spec.layers
    final_norm = 4 * spec.hidden_size + 4
    # cos and sin tables, shared by the blocks of one head width
    rope = sum(2 * sequence_length * width * 4 for width in {b.head_dim for b in blocks if b.kind != "linear"})
    # Gemma 4's per-layer inputs of every layer, kept once by the first block with a backward
    per_layer_inputs = e * spec.layers * spec.per_layer_input_size if first < spec.layers else 0
    if gradient_checkpointing:
        # Kept: each block's input. Recomputed during backward: one block at a time (the largest).
        largest = max(block_activation_bytes(spec, b, input_grad=True, **kw) for b in set(blocks))  # type: ignore[arg-type]
        per_token = float(spec.layers * e * spec.hidden_size + largest + final_norm + per_layer_inputs)
    else:
        per_token = float(final_norm + per_layer_inputs)
        for n, block in enumerate(blocks):
            if n >= first:
                per_token += block_activation_bytes(spec, block, input_grad=n > first, **kw)  # type: ignore[arg-type]
    activations = int(per_token * tokens + rope)
    if cpu and spec.sliding_layers and not gradient_checkpointing:  # the sliding window's fp32 mask, once
        activations += 4 * micro_batch_size * sequence_length * sequence_length

    vocab = spec.vocab_size
    logits = tokens * (e * vocab + 4 * vocab + 8)  # the logits, their fp32 log-probabilities, the labels
    if spec.logit_softcap:  # tanh keeps its output as well
        logits += tokens * e * vocab
    # Backward of the loss: the log-probabilities' gradient and the logits' gradient, both fp32, exist
    # together for a moment (the later cast to 16 bits happens once the first is freed).
    temporary = tokens * vocab * 8
    if quantization != "none":  # bitsandbytes dequantizes one weight matrix at a time to compute with it
        temporary += max(n * m for block in set(blocks) for n, m in spec.block_linear_shapes(block).values()) * e
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
