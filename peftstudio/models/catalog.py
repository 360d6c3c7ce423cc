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
from functools import cached_property
from pathlib import Path
from typing import Any

from attrs import field, frozen

from peftstudio.errors import make
from peftstudio.tuples import as_tuple

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")


@frozen
class ModelSpec:
    """What the planner needs to know about a model's shape.

    `attention_modules` and `mlp_modules` are the names of the linear layers LoRA can target.

    Example:
        >>> spec = find_model("smollm2-135m")
        >>> spec.head_dim, spec.kv_dim
        (64, 192)
    """

    alias: str
    hub_id: str
    title: str
    architecture: str
    layers: int
    hidden_size: int
    intermediate_size: int
    heads: int
    kv_heads: int
    vocab_size: int
    max_context: int
    tie_embeddings: bool = False
    head_dim_override: int | None = None
    attention_bias: bool = False
    attention_modules: tuple[str, ...] = field(default=ATTENTION, converter=as_tuple)
    mlp_modules: tuple[str, ...] = field(default=MLP, converter=as_tuple)
    aliases: tuple[str, ...] = field(default=(), converter=as_tuple)
    norms_per_layer: int = 2
    builtin: bool = False

    @property
    def head_dim(self) -> int:
        return self.head_dim_override or self.hidden_size // self.heads

    @property
    def q_dim(self) -> int:
        """Width of the attention's query (and output) projection."""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of the key (and value) projection; smaller than `q_dim` with grouped-query attention."""
        return self.kv_heads * self.head_dim

    @cached_property
    def layer_linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) of every linear layer in one transformer block, by the module name LoRA targets."""
        h, i = self.hidden_size, self.intermediate_size
        shapes: dict[str, tuple[int, int]] = {}
        if self.attention_modules == ("qkv_proj", "o_proj"):  # Phi-3: q, k, v fused in one matrix
            shapes["qkv_proj"] = (h, self.q_dim + 2 * self.kv_dim)
        else:
            shapes.update(q_proj=(h, self.q_dim), k_proj=(h, self.kv_dim), v_proj=(h, self.kv_dim))
        shapes["o_proj"] = (self.q_dim, h)
        if self.mlp_modules == ("gate_up_proj", "down_proj"):  # Phi-3: gate and up fused
            shapes["gate_up_proj"] = (h, 2 * i)
        else:
            shapes.update(gate_proj=(h, i), up_proj=(h, i))
        shapes["down_proj"] = (i, h)
        return shapes

    @cached_property
    def layer_linear_parameters(self) -> int:
        """Weights of one block's linear layers (the ones 4-/8-bit loading quantizes)."""
        bias = self.q_dim + 2 * self.kv_dim if self.attention_bias else 0
        return sum(a * b for a, b in self.layer_linear_shapes.values()) + bias

    @property
    def embedding_parameters(self) -> int:
        """Input embeddings plus the output head when it is not tied to them."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_embeddings else 2)

    @cached_property
    def parameters(self) -> int:
        """Total parameters, computed from the shape (norm weights included)."""
        norms = self.layers * self.norms_per_layer * self.hidden_size + self.hidden_size
        return self.layers * self.layer_linear_parameters + self.embedding_parameters + norms

    @property
    def all_modules(self) -> tuple[str, ...]:
        return self.attention_modules + self.mlp_modules

    @property
    def display(self) -> str:
        return self.title


def _spec(alias: str, hub_id: str, title: str, arch: str, layers: int, h: int, i: int, heads: int,
          kv: int, vocab: int, ctx: int, **kw: Any) -> ModelSpec:
    return ModelSpec(alias=alias, hub_id=hub_id, title=title, architecture=arch, layers=layers, hidden_size=h,
                     intermediate_size=i, heads=heads, kv_heads=kv, vocab_size=vocab, max_context=ctx, **kw)


_PHI3 = dict(attention_modules=("qkv_proj", "o_proj"), mlp_modules=("gate_up_proj", "down_proj"))

MODEL_CATALOG: tuple[ModelSpec, ...] = (
    # The built-ins. tiny-llama's figures are those of peftstudio.models.builtins (vocabulary at most 1024).
    _spec("tiny-llama", "builtin:tiny-llama", "Tiny Llama (built-in, for tests)", "llama", 4, 192, 512, 6, 2,
          1024, 2048, builtin=True),
    _spec("smollm2-135m", "builtin:smollm2-135m", "SmolLM2 135M Instruct (built-in)", "llama", 30, 576, 1536,
          9, 3, 49152, 8192, tie_embeddings=True, builtin=True,
          aliases=("HuggingFaceTB/SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M", "smollm2-135m-instruct")),
    _spec("gemma3-270m", "builtin:gemma3-270m", "Gemma 3 270M (built-in, base)", "gemma3_text", 18, 640, 2048, 4, 1,
          262144, 32768, tie_embeddings=True, head_dim_override=256, norms_per_layer=4, builtin=True,
          aliases=("google/gemma-3-270m",)),
    _spec("smollm2-360m", "HuggingFaceTB/SmolLM2-360M-Instruct", "SmolLM2 360M Instruct", "llama", 32, 960, 2560,
          15, 5, 49152, 8192, tie_embeddings=True, aliases=("HuggingFaceTB/SmolLM2-360M",)),
    _spec("smollm2-1.7b", "HuggingFaceTB/SmolLM2-1.7B-Instruct", "SmolLM2 1.7B Instruct", "llama", 24, 2048, 8192,
          32, 32, 49152, 8192, tie_embeddings=True, aliases=("HuggingFaceTB/SmolLM2-1.7B",)),
    _spec("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", "Qwen2.5 0.5B Instruct", "qwen2", 24, 896, 4864, 14, 2,
          151936, 32768, tie_embeddings=True, attention_bias=True, aliases=("Qwen/Qwen2.5-0.5B",)),
    _spec("qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct", "Qwen2.5 1.5B Instruct", "qwen2", 28, 1536, 8960, 12, 2,
          151936, 32768, tie_embeddings=True, attention_bias=True, aliases=("Qwen/Qwen2.5-1.5B",)),
    _spec("qwen2.5-coder-1.5b", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "Qwen2.5 Coder 1.5B Instruct", "qwen2", 28,
          1536, 8960, 12, 2, 151936, 32768, tie_embeddings=True, attention_bias=True),
    _spec("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", "Qwen2.5 7B Instruct", "qwen2", 28, 3584, 18944, 28, 4,
          152064, 32768, attention_bias=True, aliases=("Qwen/Qwen2.5-7B",)),
    _spec("llama-3.2-1b", "meta-llama/Llama-3.2-1B-Instruct", "Llama 3.2 1B Instruct", "llama", 16, 2048, 8192,
          32, 8, 128256, 131072, tie_embeddings=True, head_dim_override=64, aliases=("meta-llama/Llama-3.2-1B",)),
    _spec("llama-3.2-3b", "meta-llama/Llama-3.2-3B-Instruct", "Llama 3.2 3B Instruct", "llama", 28, 3072, 8192,
          24, 8, 128256, 131072, tie_embeddings=True, aliases=("meta-llama/Llama-3.2-3B",)),
    _spec("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", "Llama 3.1 8B Instruct", "llama", 32, 4096, 14336,
          32, 8, 128256, 131072, aliases=("meta-llama/Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B-Instruct")),
    _spec("mistral-7b", "mistralai/Mistral-7B-Instruct-v0.3", "Mistral 7B Instruct v0.3", "mistral", 32, 4096,
          14336, 32, 8, 32768, 32768, aliases=("mistralai/Mistral-7B-v0.3", "mistral-7b-v0.3")),
    _spec("gemma-2-2b", "google/gemma-2-2b-it", "Gemma 2 2B Instruct", "gemma2", 26, 2304, 9216, 8, 4, 256000,
          8192, tie_embeddings=True, head_dim_override=256, norms_per_layer=4, aliases=("google/gemma-2-2b",)),
    _spec("phi-3.5-mini", "microsoft/Phi-3.5-mini-instruct", "Phi-3.5 mini Instruct", "phi3", 32, 3072, 8192, 32,
          32, 32064, 131072, **_PHI3),
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


def spec_from_config(config: dict[str, Any], *, name: str = "model") -> ModelSpec:
    """A `ModelSpec` from a Hugging Face ``config.json`` mapping.

    Example:
        >>> spec_from_config({"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
        ...                   "intermediate_size": 128, "num_attention_heads": 4, "vocab_size": 500})
        ... # doctest: +ELLIPSIS
        ModelSpec(alias='model', ...)
    """
    cfg = dict(config.get("text_config") or config)  # multimodal configs nest the language model
    try:
        h = int(cfg["hidden_size"])
        heads = int(cfg["num_attention_heads"])
        spec_kw: dict[str, Any] = dict(
            alias=name, hub_id=name, title=name, architecture=str(cfg.get("model_type", "unknown")),
            layers=int(cfg["num_hidden_layers"]), hidden_size=h,
            intermediate_size=int(cfg.get("intermediate_size") or 4 * h), heads=heads,
            kv_heads=int(cfg.get("num_key_value_heads") or heads), vocab_size=int(cfg["vocab_size"]),
            max_context=int(cfg.get("max_position_embeddings") or 2048),
            tie_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            head_dim_override=int(cfg["head_dim"]) if cfg.get("head_dim") else None,
            attention_bias=bool(cfg.get("attention_bias", cfg.get("model_type") == "qwen2")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise make("model_not_found", reference=f"{name} (its config.json lacks {exc})") from None
    if spec_kw["architecture"] == "phi3":
        spec_kw.update(_PHI3)
    if spec_kw["architecture"].startswith("gemma2"):
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


__all__ = ["MODEL_CATALOG", "ModelSpec", "catalog_names", "find_model", "lookup", "spec_from_config", "spec_from_gguf"]
