"""Write a Hugging Face llama-family model (adapter merged) as one GGUF file, in pure Python.

The file is written in GGUFWriter's explicit order (header, metadata, tensor table, tensor data),
one tensor at a time, so memory holds a single converted tensor besides the source.

Precision: ``f32`` keeps everything in float32; ``f16`` stores 2-D weights in float16; ``q8_0``
stores 2-D weights whose rows split into 32-value blocks as llama.cpp's Q8_0 (others in float16).
Norm weights and biases stay float32 in every mode, as llama.cpp expects.

Example:
    >>> import numpy as np
    >>> w = np.arange(4, dtype=np.float32).reshape(4, 1)   # one head: rotary pairs are rows (0, 2) and (1, 3)
    >>> permute_rotary(w, n_head=1).ravel().tolist()
    [0.0, 2.0, 1.0, 3.0]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from attrs import frozen

from peftstudio.errors import make
from peftstudio.export.gguf.names import ARCHITECTURES, ArchitectureSpec, gguf_name, supported_text
from peftstudio.export.gguf.tokenizer import GgufVocab, UnsupportedTokenizer, read_vocab
from peftstudio.export.records import GGUF_QUANTS, ExportSource
from peftstudio.export.source import (
    ProgressFn,
    SourceWeights,
    load_tokenizer,
    read_config,
    report,
)

_Q8_BLOCK, _Q8_BLOCK_BYTES = 32, 34  # 32 int8 values + one float16 scale


def permute_rotary(weight: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder q/k projection rows from Hugging Face's rotate-halves layout to llama.cpp's adjacent pairs.

    Within each head, HF keeps the first and second halves of the rotary pairs apart (rows i and
    i + d/2 form a pair); llama.cpp wants them adjacent (rows 2i and 2i + 1). Works for biases too.
    """
    rows = weight.shape[0]
    head_dim = rows // n_head
    rest = weight.shape[1:]
    return weight.reshape(n_head, 2, head_dim // 2, *rest).swapaxes(1, 2).reshape(weight.shape)


def q8_0_nbytes(shape: tuple[int, ...]) -> int:
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    return rows * (shape[-1] // _Q8_BLOCK) * _Q8_BLOCK_BYTES


def stored_type(shape: tuple[int, ...], quant: str) -> str:
    """What a tensor of `shape` is stored as under `quant`: ``f32``, ``f16`` or ``q8_0``.

    Example:
        >>> stored_type((576,), "q8_0"), stored_type((64, 576), "q8_0"), stored_type((64, 40), "q8_0")
        ('f32', 'q8_0', 'f16')
    """
    if len(shape) < 2 or quant == "f32":
        return "f32"
    if quant == "q8_0" and shape[-1] % _Q8_BLOCK == 0:
        return "q8_0"
    return "f16"


@frozen
class TensorPlan:
    hf_name: str
    name: str
    shape: tuple[int, ...]
    stored: str


def architecture_spec(config: dict[str, Any]) -> ArchitectureSpec:
    """The writer's spec for the model's architecture, or the plain error naming what is supported."""
    arch = (config.get("architectures") or [config.get("model_type", "unknown")])[0]
    spec = ARCHITECTURES.get(arch)
    if spec is None:
        raise make("export_unsupported_architecture", architecture=arch, supported=supported_text())
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    rope_type = rope.get("rope_type") or rope.get("type") or "default"
    if rope_type not in ("default", "linear"):
        raise make("export_unsupported_architecture", architecture=f"{arch} with '{rope_type}' rope scaling",
                   supported=supported_text() + " with default or linear rope")
    return spec


def plan_tensors(weights: SourceWeights, config: dict[str, Any], quant: str) -> list[TensorPlan]:
    """The GGUF tensors to write, in order; an unknown tensor is a plain error, not a silent skip."""
    tied = bool(config.get("tie_word_embeddings", False))
    plans = []
    for hf_name in weights.names():
        if tied and hf_name == "lm_head.weight":
            continue  # llama.cpp reuses token_embd when output.weight is absent
        try:
            name = gguf_name(hf_name)
        except KeyError:
            arch = (config.get("architectures") or ["unknown"])[0]
            raise make("export_unsupported_architecture", architecture=f"{arch} (with the weight {hf_name})",
                       supported=supported_text()) from None
        if name is None:
            continue
        shape = weights.shapes[hf_name]
        plans.append(TensorPlan(hf_name, name, shape, stored_type(shape, quant)))
    return plans


def _nbytes(plan: TensorPlan) -> int:
    n = int(np.prod(plan.shape))
    return {"f32": 4 * n, "f16": 2 * n}.get(plan.stored) or q8_0_nbytes(plan.shape)


def estimate_size(weights: SourceWeights, config: dict[str, Any], quant: str) -> int:
    """Bytes the GGUF's tensors will take (the metadata adds a little)."""
    return sum(_nbytes(p) for p in plan_tensors(weights, config, quant))


def _converted(plan: TensorPlan, weights: SourceWeights, config: dict[str, Any], spec: ArchitectureSpec) -> Any:
    import gguf

    data = weights.get(plan.hf_name).numpy()
    if spec.permute_qk and plan.hf_name.endswith(("q_proj.weight", "q_proj.bias")):
        data = permute_rotary(data, config["num_attention_heads"])
    elif spec.permute_qk and plan.hf_name.endswith(("k_proj.weight", "k_proj.bias")):
        data = permute_rotary(data, config.get("num_key_value_heads") or config["num_attention_heads"])
    if plan.stored == "f32":
        return np.ascontiguousarray(data, dtype=np.float32)
    if plan.stored == "f16":
        return np.ascontiguousarray(data, dtype=np.float16)
    return gguf.quants.quantize(np.ascontiguousarray(data, dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)


def _add_metadata(writer: Any, config: dict[str, Any], spec: ArchitectureSpec, vocab: GgufVocab, name: str,
                  quant: str) -> None:
    import gguf

    n_head = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    writer.add_type("model")
    writer.add_name(name)
    writer.add_context_length(int(config.get("max_position_embeddings", 2048)))
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(config.get("num_key_value_heads") or n_head)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_freq_base(float(rope.get("rope_theta", config.get("rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
    writer.add_vocab_size(len(vocab.tokens))
    if spec.gguf_arch == "llama":
        writer.add_rope_dimension_count(head_dim)
    if (rope.get("rope_type") or rope.get("type")) == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(float(rope["factor"]))
    file_type = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                 "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[quant]
    writer.add_file_type(int(file_type))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_tokenizer_model(vocab.model)
    writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(list(vocab.tokens))
    writer.add_token_types(list(vocab.token_types))
    writer.add_token_merges(list(vocab.merges))
    for value, add in ((vocab.bos_id, writer.add_bos_token_id), (vocab.eos_id, writer.add_eos_token_id),
                       (vocab.unk_id, writer.add_unk_token_id), (vocab.pad_id, writer.add_pad_token_id)):
        if value is not None:
            add(int(value))
    writer.add_add_bos_token(vocab.add_bos)
    writer.add_add_eos_token(vocab.add_eos)
    if vocab.chat_template:
        writer.add_chat_template(vocab.chat_template)


def source_vocab(source: ExportSource, config: dict[str, Any]) -> GgufVocab:
    """The source tokenizer as GGUF vocabulary, or the plain error when llama.cpp could not use it."""
    try:
        return read_vocab(load_tokenizer(source), int(config["vocab_size"]))
    except UnsupportedTokenizer as exc:
        arch = (config.get("architectures") or ["unknown"])[0]
        raise make("export_unsupported_architecture", architecture=f"{arch} with {exc}",
                   supported=supported_text() + " with a byte-level BPE tokenizer") from None


def write_gguf(source: ExportSource, path: Path, quant: str = "f16", *, progress: ProgressFn | None = None,
               weights: SourceWeights | None = None) -> Path:
    """Write the source as the GGUF file `path` (a plain write: callers make it atomic).

    Example:
        >>> write_gguf(ExportSource("builtin:tiny-llama"), Path("/tmp/m.gguf"), "q8_0")  # doctest: +SKIP
        PosixPath('/tmp/m.gguf')
    """
    import gguf

    if quant not in GGUF_QUANTS:
        raise make("config_invalid", problems=f"quant: expected one of {', '.join(GGUF_QUANTS)}, got {quant!r}")
    config = read_config(source)
    spec = architecture_spec(config)
    vocab = source_vocab(source, config)
    weights = weights or SourceWeights.of(source)
    plans = plan_tensors(weights, config, quant)
    writer = gguf.GGUFWriter(str(path), spec.gguf_arch)
    try:
        _add_metadata(writer, config, spec, vocab, source.display_name, quant)
        raw = {"q8_0": gguf.GGMLQuantizationType.Q8_0}
        for plan in plans:
            dtype = np.float16 if plan.stored == "f16" else np.float32
            writer.add_tensor_info(plan.name, plan.shape, np.dtype(dtype), _nbytes(plan), raw_dtype=raw.get(plan.stored))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for i, array in enumerate(_arrays(plans, weights, config, spec)):
            writer.write_tensor_data(array)
            report(progress, "writing", i + 1, len(plans), f"Writing {plans[i].name} ({i + 1} of {len(plans)})")
        writer.flush()
    finally:
        writer.close()
    return path


def _arrays(plans: list[TensorPlan], weights: SourceWeights, config: dict[str, Any],
            spec: ArchitectureSpec) -> Iterator[Any]:
    for plan in plans:
        yield _converted(plan, weights, config, spec)
