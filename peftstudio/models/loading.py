"""Load a base model and its tokenizer from any model reference.

Every reference becomes a local Hugging Face folder first (`model_folder`): built-in
models are built or converted once, a ``.gguf`` file is converted once, a hub id is
downloaded (or found in the hub cache when offline). Weights are always safetensors;
remote code is never trusted unless the caller asks for it.

Example:
    >>> tok = load_tokenizer("builtin:tiny-llama")          # doctest: +SKIP
    >>> model = load_model("builtin:tiny-llama")            # doctest: +SKIP
    >>> model.config.model_type                             # doctest: +SKIP
    'llama'
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peftstudio import paths
from peftstudio.errors import make
from peftstudio.models.builtins import builtin_folder, convert_gguf, quiet_transformers
from peftstudio.models.references import ModelReference, builtin_names, parse_reference

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

# What a hub download fetches: weights as safetensors only (never pickles), configs and tokenizer files.
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "tokenizer*"]


def resolve_model(reference: str) -> ModelReference:
    """Parse and check a model reference (see `peftstudio.models.references`)."""
    return parse_reference(reference)


def model_folder(reference: str) -> Path:
    """A local Hugging Face folder for `reference`, building, converting or downloading it first if needed."""
    ref = parse_reference(reference)
    if ref.kind == "builtin":
        return builtin_folder(ref.value)
    if ref.kind == "folder":
        return Path(ref.value)
    if ref.kind == "gguf":
        source = Path(ref.value)
        digest = hashlib.sha256(f"{source}:{source.stat().st_size}:{source.stat().st_mtime_ns}".encode()).hexdigest()
        target = paths.models_dir() / "gguf" / f"{source.stem}-{digest[:12]}"
        if not (target / "model.safetensors").is_file():
            convert_gguf(source, target)
        return target
    return _hub_folder(ref)


def quantized_origin(reference: str) -> str | None:
    """The quantization type of the GGUF file a model's weights came from (``"q4_k_m"``), or None for a model
    stored at full precision. Weights read from a quantized file sit on that type's grid: re-quantizing a
    tuned model to the same type rounds much of a small fine-tune back onto the grid.

    Example:
        >>> quantized_origin("builtin:gemma3-270m"), quantized_origin("builtin:smollm2-135m")
        ('q4_k_m', 'q4_1')
        >>> quantized_origin("builtin:tiny-llama") is None
        True
    """
    import re

    from peftstudio.models.builtins import GEMMA3_PACKAGE, SMOLLM2_GGUF

    ref = parse_reference(reference)
    if ref.kind == "builtin":
        name = {"smollm2-135m": SMOLLM2_GGUF, "gemma3-270m": GEMMA3_PACKAGE.replace("-", "_")}.get(ref.value, "")
    elif ref.kind == "gguf":
        name = Path(ref.value).name
        try:
            import gguf

            field = gguf.GGUFReader(ref.value).get_field("general.file_type")
            if field is not None:
                name = gguf.LlamaFileType(int(field.contents())).name
        except Exception:  # noqa: BLE001 - an unreadable type falls back to the file's name
            pass
    else:
        return None
    found = re.search(r"(?i)(?:^|[^a-z0-9])(?:mostly_)?(q\d_k_[sml]|q\d_k|q\d_[01]|iq\d_\w+)", name)
    return found.group(1).lower() if found else None


def _hub_folder(ref: ModelReference) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - transformers depends on it
        raise make("model_offline", reference=ref.value, builtins=builtin_names()) from None
    try:
        return Path(snapshot_download(ref.value, allow_patterns=_HUB_PATTERNS, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached (hub errors have many types): try the network below
        pass
    try:
        return Path(snapshot_download(ref.value, allow_patterns=_HUB_PATTERNS, etag_timeout=10))
    except Exception as exc:  # noqa: BLE001 - sorted into plain errors by name just below
        name = type(exc).__name__
        if _is_gated(ref.value, exc):
            raise make("model_gated", reference=ref.value, builtins=builtin_names()) from None
        if "NotFound" in name or "RepositoryNotFound" in name:
            if "Connect" not in str(exc) and "offline" not in str(exc).lower():
                raise make("model_not_found", reference=ref.value, builtins=builtin_names()) from None
        log.debug("hub download of %s failed: %s", ref.value, exc)
        raise make("model_offline", reference=ref.value, builtins=builtin_names()) from None


def _tokenizer_class(folder: Path) -> str | None:
    try:
        found = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")).get("tokenizer_class")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def _is_gated(hub_id: str, exc: BaseException) -> bool:
    """Whether a failed download means "accept the licence and log in": the Hub said so, or it refused a
    model the catalog knows to be gated (offline errors are not that)."""
    if "GatedRepo" in type(exc).__name__:
        return True
    from peftstudio.models.catalog import lookup

    spec = lookup(hub_id)
    text = str(exc)
    return bool(spec and spec.gated and ("401" in text or "403" in text or "gated" in text.lower()))


def load_tokenizer(reference: str, *, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """The tokenizer of a model reference (with its chat template)."""
    quiet_transformers()
    folder = model_folder(reference)
    if not trust_remote_code and _tokenizer_class(folder) == "TokenizersBackend":
        # the class AutoTokenizer would pick, without its look at the model's config (which loads torch:
        # seconds at every command's start)
        from transformers.tokenization_utils_tokenizers import TokenizersBackend

        tok = TokenizersBackend.from_pretrained(folder)
    else:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(
    reference: str,
    *,
    dtype: torch.dtype | str | None = None,
    trust_remote_code: bool = False,
    **kwargs: Any,
) -> PreTrainedModel:
    """The causal language model of a reference, from safetensors, in eval mode (call `.train()` to train).

    `dtype` defaults to float32; extra keyword arguments go to `from_pretrained`
    (e.g. `quantization_config`, `device_map`).
    """
    import torch
    from transformers import AutoModelForCausalLM

    quiet_transformers()
    folder = model_folder(reference)
    if not any(folder.glob("*.safetensors")):
        raise make("model_not_found", reference=f"{reference} (no .safetensors weights in {folder})",
                   builtins=builtin_names())
    return AutoModelForCausalLM.from_pretrained(
        folder,
        dtype=dtype if dtype is not None else torch.float32,
        trust_remote_code=trust_remote_code,
        use_safetensors=True,
        **kwargs,
    )


def keep_embeddings_16bit(model: Any, dtype: torch.dtype | str | None) -> None:
    """Put the frozen input embeddings and output head (and Gemma 4's per-layer token table) back to
    `dtype` after PEFT's k-bit preparation.

    `prepare_model_for_kbit_training` upcasts every weight it did not quantize to fp32. For the
    norms that is cheap and helps stability; for the embeddings and the output head of an 8B model
    it costs about 2 GB more, plus a 16-bit copy of the head cast by autocast at every forward.
    They are frozen, so bf16 loses nothing; the planner counts only the norms' upcast. With fp16
    compute they stay fp32, so that the residual stream runs in fp32.
    """
    import torch

    if isinstance(dtype, str):  # configs may carry the name ("bfloat16")
        dtype = getattr(torch, dtype.removeprefix("torch."), None)
    if dtype != torch.bfloat16:
        return  # with fp16 compute, fp32 embeddings keep the residual stream out of fp16's range
    tables = [model.get_input_embeddings(), model.get_output_embeddings()]
    try:  # Gemma 4 E2B/E4B's per-layer token table: 2.3B weights on E2B (absent on the large models)
        tables.append(model.get_per_layer_input_embeddings())
    except AttributeError:
        pass
    for module in tables:
        weight = getattr(module, "weight", None)
        if weight is not None and weight.dtype == torch.float32:
            weight.data = weight.data.to(dtype)


def safe_attention(model: Any, *, packing: bool, micro_batch_size: int) -> str | None:
    """Switch FlashAttention-2 to SDPA where it would let packed examples attend to each other.

    transformers builds FA2's per-example segments from `position_ids` only for a micro-batch of
    one; with more rows packed examples would see each other. SDPA gets a block-diagonal mask.
    Returns the implementation set, or None when nothing changed.
    """
    config = getattr(model, "config", None)
    current = str(getattr(config, "_attn_implementation", "") or "")
    if not (packing and micro_batch_size > 1 and current.startswith("flash_attention")):
        return None
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("sdpa")
    else:  # pragma: no cover - older transformers
        config._attn_implementation = "sdpa"  # type: ignore[union-attr]
    return "sdpa"
