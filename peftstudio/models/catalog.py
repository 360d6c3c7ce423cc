"""The model catalog: architecture figures of popular open models, for planning without downloading.

Every entry answers to its Hugging Face hub id (``meta-llama/Llama-3.1-8B-Instruct``), a short
alias (``llama-3.1-8b``) and, for the built-ins, ``builtin:NAME``. A model outside the catalog is
described from its ``config.json``: in a local folder, in the Hugging Face cache, or (when online)
downloaded alone, without the weights.

Figures are the models' published ``config.json`` values; the parameter count is computed from
them (a test checks it against the published counts).

Example:
    >>> spec = find_model("llama-3.1-8b")
    >>> spec.hub_id, spec.layers, round(spec.parameters / 1e9, 1)
    ('meta-llama/Llama-3.1-8B-Instruct', 32, 8.0)
    >>> find_model("Qwen/Qwen2.5-0.5B-Instruct").alias
    'qwen2.5-0.5b'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from peftstudio.errors import make
from peftstudio.models.shapes import Block, ModelSpec


def _spec(alias: str, hub_id: str, title: str, arch: str, layers: int, h: int, i: int, heads: int,
          kv: int, vocab: int, ctx: int, **kw: Any) -> ModelSpec:
    return ModelSpec(alias=alias, hub_id=hub_id, title=title, architecture=arch, layers=layers, hidden_size=h,
                     intermediate_size=i, heads=heads, kv_heads=kv, vocab_size=vocab, max_context=ctx, **kw)


_PHI3 = dict(attention_modules=("qkv_proj", "o_proj"), mlp_modules=("gate_up_proj", "down_proj"))
_QWEN3 = dict(head_dim_override=128, qk_norm=True)
_GEMMA3 = dict(tie_embeddings=True, head_dim_override=256, norms_per_layer=4, qk_norm=True, sliding_window=512)
_LLAMA_GATED = dict(gated=True)
_QWEN3_5 = dict(head_dim_override=256, qk_norm=True, attention_output_gate=True, linear_key_heads=16,
                linear_key_head_dim=128, linear_value_head_dim=128, linear_conv_kernel=4)
# Gemma 4: 512-wide heads in the global layers, values normed too, per-layer embeddings of 256 values per
# layer over the whole vocabulary, logits soft-capped at 30.
_GEMMA4 = dict(tie_embeddings=True, head_dim_override=256, global_head_dim=512, norms_per_layer=4, qk_norm=True,
               value_norm=True, sliding_window=512, per_layer_input_size=256, per_layer_vocab_size=262144,
               logit_softcap=True)

# Each entry's `source` says where its shapes were checked (the published config.json, read through copies
# quoted in public code, since this machine has no Hub access). Parameter counts are computed from the
# shapes and checked against the published totals in tests/planner/test_catalog.py.
MODEL_CATALOG: tuple[ModelSpec, ...] = (
    # The built-ins. tiny-llama's figures are those of peftstudio.models.builtins (vocabulary at most 1024).
    _spec("tiny-llama", "builtin:tiny-llama", "Tiny Llama (built-in, for tests)", "llama", 4, 192, 512, 6, 2,
          1024, 2048, builtin=True, source="peftstudio.models.builtins.build_tiny_llama"),
    _spec("smollm2-135m", "builtin:smollm2-135m", "SmolLM2 135M Instruct (built-in)", "llama", 30, 576, 1536,
          9, 3, 49152, 8192, tie_embeddings=True, builtin=True,
          aliases=("HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M", "smollm2-135m-instruct"),
          source="the shipped GGUF's metadata (tests/foundation)"),
    # 18 layers, every 6th global: 15 sliding-window layers of 512 tokens.
    _spec("gemma3-270m", "builtin:gemma3-270m", "Gemma 3 270M (built-in, base)", "gemma3_text", 18, 640, 2048, 4, 1,
          262144, 32768, sliding_layers=15, builtin=True, aliases=("google/gemma-3-270m",),
          source="the shipped GGUF's metadata, converted (tests/foundation/test_gemma3.py)", **_GEMMA3),
    # --- Qwen3 (Apache 2.0): config.json of Qwen/Qwen3-{0.6B,1.7B,4B,8B}, as quoted with its URL in public
    # catalogs (head_dim 128, 8 KV heads, vocabulary 151936, 40960 positions; tied up to 4B).
    _spec("qwen3-0.6b", "Qwen/Qwen3-0.6B", "Qwen3 0.6B", "qwen3", 28, 1024, 3072, 16, 8, 151936, 40960,
          tie_embeddings=True, aliases=("Qwen/Qwen3-0.6B-Base",), source="Qwen/Qwen3-0.6B config.json", **_QWEN3),
    _spec("qwen3-1.7b", "Qwen/Qwen3-1.7B", "Qwen3 1.7B", "qwen3", 28, 2048, 6144, 16, 8, 151936, 40960,
          tie_embeddings=True, aliases=("Qwen/Qwen3-1.7B-Base",), source="Qwen/Qwen3-1.7B config.json", **_QWEN3),
    _spec("qwen3-4b", "Qwen/Qwen3-4B", "Qwen3 4B", "qwen3", 36, 2560, 9728, 32, 8, 151936, 40960,
          tie_embeddings=True, aliases=("Qwen/Qwen3-4B-Base",), source="Qwen/Qwen3-4B config.json", **_QWEN3),
    _spec("qwen3-8b", "Qwen/Qwen3-8B", "Qwen3 8B", "qwen3", 36, 4096, 12288, 32, 8, 151936, 40960,
          aliases=("Qwen/Qwen3-8B-Base",), source="Qwen/Qwen3-8B config.json", **_QWEN3),
    # --- Qwen3.5 (Apache 2.0), hybrid: of every 4 layers 3 use linear attention (Gated DeltaNet), 1 softmax
    # attention with an output gate. text_config of Qwen/Qwen3.5-0.8B's config.json (two public copies agree).
    # The language model only: the checkpoint also holds a vision encoder, which text training leaves alone.
    _spec("qwen3.5-0.8b", "Qwen/Qwen3.5-0.8B", "Qwen3.5 0.8B", "qwen3_5_text", 24, 1024, 3584, 8, 2, 248320,
          262144, tie_embeddings=True, linear_layers=18, linear_value_heads=16, aliases=("Qwen/Qwen3.5-0.8B-Base",),
          source="Qwen/Qwen3.5-0.8B config.json (text_config)", **_QWEN3_5),
    # The larger small sizes: text_config of Qwen/Qwen3.5-{2B,4B,9B}'s config.json as quoted in public code
    # (Megatron argument scripts of the miles/slime trainers, a JAX port's table of the four sizes, and
    # the 9B's whole text_config in a test); they agree. 9B unties its output head.
    _spec("qwen3.5-2b", "Qwen/Qwen3.5-2B", "Qwen3.5 2B", "qwen3_5_text", 24, 2048, 6144, 8, 2, 248320, 262144,
          tie_embeddings=True, linear_layers=18, linear_value_heads=16, aliases=("Qwen/Qwen3.5-2B-Base",),
          source="Qwen/Qwen3.5-2B config.json (text_config), two public copies agree", **_QWEN3_5),
    _spec("qwen3.5-4b", "Qwen/Qwen3.5-4B", "Qwen3.5 4B", "qwen3_5_text", 32, 2560, 9216, 16, 4, 248320, 262144,
          tie_embeddings=True, linear_layers=24, linear_value_heads=32, aliases=("Qwen/Qwen3.5-4B-Base",),
          source="Qwen/Qwen3.5-4B config.json (text_config), three public copies agree", **_QWEN3_5),
    _spec("qwen3.5-9b", "Qwen/Qwen3.5-9B", "Qwen3.5 9B", "qwen3_5_text", 32, 4096, 12288, 16, 4, 248320, 262144,
          linear_layers=24, linear_value_heads=32, aliases=("Qwen/Qwen3.5-9B-Base",),
          source="Qwen/Qwen3.5-9B config.json (text_config), two public copies agree", **_QWEN3_5),
    # --- Gemma 3 (Gemma terms, gated): google/gemma-3-1b-it config.json: 26 layers, every 6th global.
    _spec("gemma3-1b", "google/gemma-3-1b-it", "Gemma 3 1B Instruct", "gemma3_text", 26, 1152, 6912, 4, 1,
          262144, 32768, sliding_layers=22, gated=True, aliases=("google/gemma-3-1b-pt", "gemma-3-1b"),
          source="google/gemma-3-1b-it config.json", **_GEMMA3),
    # google/gemma-3-4b-it: the language model's text_config (the checkpoint also holds a SigLIP vision
    # encoder): 34 layers, every 6th global, 1024-token windows; 262144 tokens plus 64 image tokens. Public
    # copies of the config.json and transformers' convert_gemma3_weights.py (gemma3_4b) agree.
    _spec("gemma3-4b", "google/gemma-3-4b-it", "Gemma 3 4B Instruct", "gemma3_text", 34, 2560, 10240, 8, 4,
          262208, 131072, sliding_layers=29, gated=True, aliases=("google/gemma-3-4b-pt", "gemma-3-4b"),
          source="google/gemma-3-4b-it config.json (text_config)", **dict(_GEMMA3, sliding_window=1024)),
    # --- Gemma 4 (Apache 2.0), E2B and E4B: text_config of the multimodal checkpoints (their vision and
    # audio encoders stay out of text training). Per-layer embeddings, 512-wide global heads, and the last
    # layers reuse the keys and values of earlier ones; E2B's layers that do have twice as wide an MLP.
    # Public copies of the config.json and transformers' convert_gemma4_weights.py agree (E4B: NVIDIA's
    # Megatron Bridge recipe too).
    _spec("gemma4-e2b", "google/gemma-4-E2B-it", "Gemma 4 E2B Instruct", "gemma4_text", 35, 1536, 6144, 8, 1,
          262144, 131072, sliding_layers=28, kv_shared_layers=20, double_wide_mlp=True,
          aliases=("google/gemma-4-E2B", "gemma-4-e2b"), source="google/gemma-4-E2B-it config.json (text_config)",
          **_GEMMA4),
    _spec("gemma4-e4b", "google/gemma-4-E4B-it", "Gemma 4 E4B Instruct", "gemma4_text", 42, 2560, 10240, 8, 2,
          262144, 131072, sliding_layers=35, kv_shared_layers=18,
          aliases=("google/gemma-4-E4B", "gemma-4-e4b"), source="google/gemma-4-E4B-it config.json (text_config)",
          **_GEMMA4),
    # --- SmolLM (Apache 2.0)
    _spec("smollm2-360m", "HuggingFaceTB/SmolLM2-360M-Instruct", "SmolLM2 360M Instruct", "llama", 32, 960, 2560,
          15, 5, 49152, 8192, tie_embeddings=True, aliases=("HuggingFaceTB/SmolLM2-360M",),
          source="HuggingFaceTB/SmolLM2-360M-Instruct config.json"),
    _spec("smollm2-1.7b", "HuggingFaceTB/SmolLM2-1.7B-Instruct", "SmolLM2 1.7B Instruct", "llama", 24, 2048, 8192,
          32, 32, 49152, 8192, tie_embeddings=True, aliases=("HuggingFaceTB/SmolLM2-1.7B",),
          source="HuggingFaceTB/SmolLM2-1.7B-Instruct config.json"),
    # SmolLM3: Llama-like with no RoPE in every 4th layer (no weights change), GQA 16/4, head_dim 128.
    _spec("smollm3-3b", "HuggingFaceTB/SmolLM3-3B", "SmolLM3 3B", "smollm3", 36, 2048, 11008, 16, 4, 128256, 65536,
          tie_embeddings=True, aliases=("HuggingFaceTB/SmolLM3-3B-Base",),
          source="HuggingFaceTB/SmolLM3-3B config.json"),
    # --- Older but still common
    _spec("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", "Qwen2.5 0.5B Instruct", "qwen2", 24, 896, 4864, 14, 2,
          151936, 32768, tie_embeddings=True, attention_bias=True, aliases=("Qwen/Qwen2.5-0.5B",)),
    _spec("qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct", "Qwen2.5 1.5B Instruct", "qwen2", 28, 1536, 8960, 12, 2,
          151936, 32768, tie_embeddings=True, attention_bias=True, aliases=("Qwen/Qwen2.5-1.5B",)),
    _spec("qwen2.5-coder-1.5b", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "Qwen2.5 Coder 1.5B Instruct", "qwen2", 28,
          1536, 8960, 12, 2, 151936, 32768, tie_embeddings=True, attention_bias=True),
    _spec("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", "Qwen2.5 7B Instruct", "qwen2", 28, 3584, 18944, 28, 4,
          152064, 32768, attention_bias=True, aliases=("Qwen/Qwen2.5-7B",)),
    # --- Llama 3.x (Llama community licence, gated): meta-llama config.json files.
    _spec("llama-3.2-1b", "meta-llama/Llama-3.2-1B-Instruct", "Llama 3.2 1B Instruct", "llama", 16, 2048, 8192,
          32, 8, 128256, 131072, tie_embeddings=True, head_dim_override=64, aliases=("meta-llama/Llama-3.2-1B",),
          source="meta-llama/Llama-3.2-1B-Instruct config.json", **_LLAMA_GATED),
    _spec("llama-3.2-3b", "meta-llama/Llama-3.2-3B-Instruct", "Llama 3.2 3B Instruct", "llama", 28, 3072, 8192,
          24, 8, 128256, 131072, tie_embeddings=True, aliases=("meta-llama/Llama-3.2-3B",),
          source="meta-llama/Llama-3.2-3B-Instruct config.json", **_LLAMA_GATED),
    _spec("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", "Llama 3.1 8B Instruct", "llama", 32, 4096, 14336,
          32, 8, 128256, 131072, aliases=("meta-llama/Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B-Instruct"),
          source="meta-llama/Llama-3.1-8B-Instruct config.json", **_LLAMA_GATED),
    _spec("mistral-7b", "mistralai/Mistral-7B-Instruct-v0.3", "Mistral 7B Instruct v0.3", "mistral", 32, 4096,
          14336, 32, 8, 32768, 32768, aliases=("mistralai/Mistral-7B-v0.3", "mistral-7b-v0.3"),
          source="mistralai/Mistral-7B-Instruct-v0.3 config.json (no sliding window in v0.3)"),
    _spec("gemma-2-2b", "google/gemma-2-2b-it", "Gemma 2 2B Instruct", "gemma2", 26, 2304, 9216, 8, 4, 256000,
          8192, tie_embeddings=True, head_dim_override=256, norms_per_layer=4, aliases=("google/gemma-2-2b",),
          gated=True),
    _spec("phi-3.5-mini", "microsoft/Phi-3.5-mini-instruct", "Phi-3.5 mini Instruct", "phi3", 32, 3072, 8192, 32,
          32, 32064, 131072, **_PHI3),
    # Phi-4-mini (MIT): the Phi-3 architecture with GQA 24/8, a 200k vocabulary and tied embeddings.
    _spec("phi-4-mini", "microsoft/Phi-4-mini-instruct", "Phi-4 mini Instruct", "phi3", 32, 3072, 8192, 24, 8,
          200064, 131072, tie_embeddings=True, source="microsoft/Phi-4-mini-instruct config.json", **_PHI3),
    # gpt-oss-20b (Apache 2.0): mixture of experts, 32 experts of which 4 per token, in every layer; every
    # other layer attends within 128 tokens; biases on every attention projection and one sink per head.
    # The published weights store the experts in MXFP4; training loads them at 16 bits (counted so here).
    _spec("gpt-oss-20b", "openai/gpt-oss-20b", "gpt-oss 20B", "gpt_oss", 24, 2880, 2880, 64, 8, 201088, 131072,
          head_dim_override=64, attention_bias=True, output_bias=True, attention_sinks=True, experts=32,
          experts_per_token=4, sliding_layers=12, sliding_window=128, mlp_modules=(),
          source="openai/gpt-oss-20b config.json"),
)


def _norm(text: str) -> str:
    return text.strip().lower()


def _index() -> dict[str, ModelSpec]:
    table: dict[str, ModelSpec] = {}
    for spec in MODEL_CATALOG:
        for name in (spec.alias, spec.hub_id, *spec.aliases):
            table[_norm(name)] = spec
    return table


_INDEX = _index()


def catalog_names() -> list[str]:
    """The short aliases of every catalog model, built-ins first."""
    return [s.hub_id if s.builtin else s.alias for s in MODEL_CATALOG]


def lookup(reference: str) -> ModelSpec | None:
    """The catalog entry for a hub id, alias or ``builtin:`` name (case-insensitive), else None.

    Example:
        >>> lookup("builtin:tiny-llama").layers
        4
        >>> lookup("someone/unknown-model") is None
        True
    """
    return _INDEX.get(_norm(reference))


#: Families whose config.json may leave out tie_word_embeddings because their config class ties by default.
_TIED_BY_DEFAULT = ("gemma", "gemma2", "gemma3_text", "gemma3", "gemma4_text", "gemma4", "qwen3_5_text", "qwen3_5")
_QK_NORM = ("qwen3", "qwen3_moe", "qwen3_5", "qwen3_5_text", "gemma3", "gemma3_text", "gemma4", "gemma4_text",
            "olmo2")
_FOUR_NORMS = ("gemma2", "gemma3", "gemma3_text", "gemma4", "gemma4_text")


def _layer_kinds(cfg: dict[str, Any], layers: int) -> list[str]:
    """Each layer's attention kind from ``layer_types`` (or Gemma 3's older ``sliding_window_pattern``)."""
    kinds = cfg.get("layer_types")
    if isinstance(kinds, list) and len(kinds) == layers:
        return [str(k) for k in kinds]
    pattern = cfg.get("sliding_window_pattern")
    if isinstance(pattern, int) and pattern > 0 and cfg.get("sliding_window"):
        return ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(layers)]
    if str(cfg.get("model_type", "")).startswith("qwen3_5"):  # one softmax layer in every 4 (the default)
        every = int(cfg.get("full_attention_interval") or 4)
        return ["full_attention" if (i + 1) % every == 0 else "linear_attention" for i in range(layers)]
    return ["full_attention"] * layers


def _gemma4_fields(cfg: dict[str, Any], kinds: list[str]) -> dict[str, Any]:
    """Gemma 4's own shape: wider heads in the global layers (written as ``global_head_dim``, or as
    ``per_layer_config`` by transformers' ``to_dict``), layers reusing K/V, per-layer embeddings."""
    per_layer = cfg.get("per_layer_config") or {}
    first_full = next((n for n, kind in enumerate(kinds) if kind == "full_attention"), None)
    full = (per_layer.get(str(first_full)) or per_layer.get(first_full) or {}) if first_full is not None else {}
    # transformers' defaults: 512-wide global heads; global K/V heads only where keys double as values
    global_kv = full.get("num_key_value_heads") or (
        cfg.get("num_global_key_value_heads") if cfg.get("attention_k_eq_v") else None)
    return dict(
        global_head_dim=int(full.get("head_dim") or cfg.get("global_head_dim") or 512),
        global_kv_heads=int(global_kv) if global_kv else None,
        kv_shared_layers=int(cfg.get("num_kv_shared_layers") or 0),
        double_wide_mlp=bool(cfg.get("use_double_wide_mlp")),
        per_layer_input_size=int(cfg.get("hidden_size_per_layer_input") or 0),
        per_layer_vocab_size=int(cfg.get("vocab_size_per_layer_input") or 0), value_norm=True)


def spec_from_config(config: dict[str, Any], *, name: str = "model") -> ModelSpec:
    """A `ModelSpec` from a Hugging Face ``config.json`` mapping: how a folder or hub id outside the catalog
    is planned. Grouped-query attention, head_dim overrides, tied embeddings, sliding-window and
    linear-attention layers (``layer_types``), q/k norms, mixtures of experts and Gemma 4's per-layer
    embeddings and K/V-sharing layers are read from it.

    Example:
        >>> spec_from_config({"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
        ...                   "intermediate_size": 128, "num_attention_heads": 4, "vocab_size": 500})
        ... # doctest: +ELLIPSIS
        ModelSpec(alias='model', ...)
        >>> moe = spec_from_config({"model_type": "gpt_oss", "num_hidden_layers": 2, "hidden_size": 64,
        ...     "intermediate_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 500,
        ...     "num_local_experts": 8, "num_experts_per_tok": 2, "sliding_window": 16,
        ...     "layer_types": ["sliding_attention", "full_attention"]})
        >>> moe.experts, moe.experts_per_token, moe.sliding_layers
        (8, 2, 1)
    """
    outer = dict(config)
    cfg = dict(config.get("text_config") or config)  # multimodal configs nest the language model
    try:
        h = int(cfg["hidden_size"])
        heads = int(cfg["num_attention_heads"])
        layers = int(cfg["num_hidden_layers"])
        arch = str(cfg.get("model_type", outer.get("model_type", "unknown")))
        tie = cfg.get("tie_word_embeddings", outer.get("tie_word_embeddings"))
        kinds = _layer_kinds(cfg, layers)
        experts = int(cfg.get("num_local_experts") or cfg.get("num_experts") or 0)
        spec_kw: dict[str, Any] = dict(
            alias=name, hub_id=name, title=name, architecture=arch, layers=layers, hidden_size=h,
            intermediate_size=int(cfg.get("intermediate_size") or 4 * h), heads=heads,
            kv_heads=int(cfg.get("num_key_value_heads") or heads), vocab_size=int(cfg["vocab_size"]),
            max_context=int(cfg.get("max_position_embeddings") or 2048),
            tie_embeddings=bool(tie) if tie is not None else arch in _TIED_BY_DEFAULT,
            head_dim_override=int(cfg["head_dim"]) if cfg.get("head_dim") else None,
            attention_bias=bool(cfg.get("attention_bias", arch == "qwen2")),
            sliding_layers=kinds.count("sliding_attention"),
            sliding_window=int(cfg["sliding_window"]) if cfg.get("sliding_window") else None,
            linear_layers=kinds.count("linear_attention"),
            qk_norm=arch in _QK_NORM,
            attention_output_gate=arch.startswith("qwen3_5"),
            logit_softcap=cfg.get("final_logit_softcapping") is not None,
        )
        if spec_kw["linear_layers"]:
            spec_kw.update(linear_key_heads=int(cfg["linear_num_key_heads"]),
                           linear_value_heads=int(cfg["linear_num_value_heads"]),
                           linear_key_head_dim=int(cfg["linear_key_head_dim"]),
                           linear_value_head_dim=int(cfg["linear_value_head_dim"]),
                           linear_conv_kernel=int(cfg.get("linear_conv_kernel_dim") or 4))
        if experts:
            spec_kw.update(experts=experts, mlp_modules=(),
                           experts_per_token=int(cfg.get("num_experts_per_tok") or cfg.get("experts_per_token") or 1))
        if arch == "gpt_oss":
            spec_kw.update(output_bias=bool(spec_kw["attention_bias"]), attention_sinks=True)
        if arch.startswith("gemma4"):
            spec_kw.update(_gemma4_fields(cfg, kinds))
    except (KeyError, TypeError, ValueError) as exc:
        raise make("model_not_found", reference=f"{name} (its config.json lacks {exc})") from None
    if spec_kw["architecture"] == "phi3":
        spec_kw.update(_PHI3)
    if spec_kw["architecture"] in _FOUR_NORMS:
        spec_kw["norms_per_layer"] = 4
    return ModelSpec(**spec_kw)


def _read_config(path: Path, name: str) -> ModelSpec:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise make("model_not_found", reference=f"{name} (its config.json cannot be read)") from None
    if not isinstance(data, dict):
        raise make("model_not_found", reference=f"{name} (its config.json is not a JSON object)")
    return spec_from_config(data, name=name)


def spec_from_gguf(path: Path) -> ModelSpec:
    """A `ModelSpec` from a ``.gguf`` file's metadata (the weights are not read)."""
    import gguf

    try:
        reader = gguf.GGUFReader(path)
        fields = {k: f for k, f in reader.fields.items() if not k.startswith("tokenizer.")}
        arch = str(fields["general.architecture"].contents())
        def get(key: str) -> Any:
            return fields[f"{arch}.{key}"].contents()

        has_output = any(t.name == "output.weight" for t in reader.tensors)
        vocab = fields.get(f"{arch}.vocab_size")
        n_vocab = int(vocab.contents()) if vocab is not None else len(reader.fields["tokenizer.ggml.tokens"].data)
        config = {
            "model_type": arch, "num_hidden_layers": int(get("block_count")),
            "hidden_size": int(get("embedding_length")), "intermediate_size": int(get("feed_forward_length")),
            "num_attention_heads": int(get("attention.head_count")),
            "num_key_value_heads": int(get("attention.head_count_kv")), "vocab_size": n_vocab,
            "max_position_embeddings": int(get("context_length")), "tie_word_embeddings": not has_output,
        }
    except (KeyError, ValueError, OSError) as exc:
        raise make("model_not_found", reference=f"{path} (unreadable GGUF metadata: {exc})") from None
    return spec_from_config(config, name=path.stem)


def _hub_config(hub_id: str) -> Path:
    """The hub model's config.json, from the local cache or (when online) downloaded alone."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(hub_id, "config.json", local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached (hub raises several kinds): try the network next
        pass
    try:
        return Path(hf_hub_download(hub_id, "config.json"))
    except Exception:  # noqa: BLE001 - offline, unknown id or gated: all mean "cannot describe it now"
        raise make("model_offline", reference=hub_id) from None


def find_model(reference: str, *, online: bool = True) -> ModelSpec:
    """Describe the model `reference` names: a catalog alias or hub id, ``builtin:NAME``, a local folder
    with a ``config.json``, or a hub id outside the catalog (its config.json is fetched when online).

    Raises a plain ``model_not_found`` (or ``model_offline``) error otherwise.

    Example:
        >>> find_model("builtin:smollm2-135m").vocab_size
        49152
    """
    spec = lookup(reference)
    if spec is not None:
        return spec
    path = Path(reference).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            return _read_config(path / "config.json", path.name)
        raise make("model_not_found", reference=reference)
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise make("file_not_found", path=str(path))
        return spec_from_gguf(path)
    if "/" in reference and not reference.startswith((".", "/", "~")) and online:
        return _read_config(_hub_config(reference), reference)
    known = ", ".join(catalog_names())
    raise make("model_not_found", reference=f"{reference} (known names: {known})")


def describe_offline(reference: str) -> ModelSpec | None:
    """`find_model` without the network: None for a model it cannot describe so (a hub id outside the catalog,
    a folder that is gone), where an estimate is better missing than fetched or wrong.

    Example:
        >>> describe_offline("builtin:smollm2-135m").vocab_size, describe_offline("someone/not-in-the-catalog")
        (49152, None)
    """
    try:
        return find_model(reference, online=False)
    except Exception:  # noqa: BLE001 - unknown, gone or unreadable: all mean "no description here"
        return None


__all__ = ["MODEL_CATALOG", "Block", "ModelSpec", "catalog_names", "describe_offline", "find_model", "lookup",
           "spec_from_config", "spec_from_gguf"]
