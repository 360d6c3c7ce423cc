"""The tokenizer as llama.cpp wants it in a GGUF: tokens, types, merges, special ids, pre-tokenizer name.

Only byte-level BPE tokenizers (GPT-2 style, as Llama 3, SmolLM2, Qwen2 and the built-in models
use) are written. llama.cpp does not run the tokenizer's own pre-tokenizer: it picks a built-in
regex by the name in ``tokenizer.ggml.pre``, so that name must describe exactly the splitting the
tokenizer.json does, or llama.cpp cuts text differently and the model sees unfamiliar tokens.

Example:
    >>> pre_tokenizer_name({"type": "ByteLevel", "add_prefix_space": False, "use_regex": True})
    'gpt-2'
"""

from __future__ import annotations

import json
from typing import Any

from attrs import field, frozen

from peftstudio.tuples import as_tuple

# llama.cpp token types (gguf.TokenType)
NORMAL, CONTROL, USER_DEFINED, UNUSED = 1, 3, 4, 5

# The Split regexes of well-known byte-level tokenizers, by the llama.cpp pre-tokenizer that matches them.
_LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
_QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
SPLIT_PRE_NAMES: dict[str, str] = {_LLAMA3_SPLIT: "llama-bpe", _QWEN2_SPLIT: "qwen2"}


class UnsupportedTokenizer(ValueError):
    """The tokenizer cannot be described to llama.cpp; the message says what it is."""


@frozen
class GgufVocab:
    """Everything the GGUF's ``tokenizer.*`` keys hold."""

    pre: str
    tokens: tuple[str, ...] = field(converter=as_tuple)
    token_types: tuple[int, ...] = field(converter=as_tuple)
    merges: tuple[str, ...] = field(converter=as_tuple)
    bos_id: int | None
    eos_id: int | None
    unk_id: int | None
    pad_id: int | None
    add_bos: bool
    add_eos: bool
    chat_template: str | None
    model: str = "gpt2"


def _byte_level(node: dict[str, Any] | None, *, use_regex: bool) -> bool:
    if not node or node.get("type") != "ByteLevel":
        return False
    return bool(node.get("use_regex", True)) == use_regex and not node.get("add_prefix_space", False)


def pre_tokenizer_name(pre: dict[str, Any] | None) -> str:
    """The llama.cpp ``tokenizer.ggml.pre`` name for a tokenizer.json `pre_tokenizer`; raises if none fits.

    * plain ByteLevel with GPT-2's regex -> ``gpt-2``
    * single digits split off, then GPT-2's regex (SmolLM, StarCoder) -> ``smollm``
    * Llama 3's or Qwen2's Split regex, then ByteLevel without regex -> ``llama-bpe`` / ``qwen2``

    Example:
        >>> pre_tokenizer_name({"type": "Sequence", "pretokenizers": [
        ...     {"type": "Digits", "individual_digits": True},
        ...     {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}]})
        'smollm'
    """
    if _byte_level(pre, use_regex=True):
        return "gpt-2"
    if pre and pre.get("type") == "Sequence":
        parts = pre.get("pretokenizers") or []
        if len(parts) == 2:
            first, second = parts
            if first.get("type") == "Digits" and first.get("individual_digits") and _byte_level(second, use_regex=True):
                return "smollm"
            if first.get("type") == "Split" and _byte_level(second, use_regex=False) \
                    and str(first.get("behavior", "")).lower() == "isolated" and not first.get("invert"):
                regex = (first.get("pattern") or {}).get("Regex")
                if regex in SPLIT_PRE_NAMES:
                    return SPLIT_PRE_NAMES[regex]
    raise UnsupportedTokenizer(f"a tokenizer whose pre-tokenizer is {_describe(pre)}")


def _describe(pre: dict[str, Any] | None) -> str:
    if not pre:
        return "missing"
    if pre.get("type") == "Sequence":
        return "a sequence of " + ", ".join(str(p.get("type")) for p in pre.get("pretokenizers") or [])
    return str(pre.get("type"))


def _merge_text(merge: Any) -> str:
    # tokenizers writes merges as "a b" (older files) or ["a", "b"] (newer ones); GGUF wants "a b".
    return merge if isinstance(merge, str) else " ".join(merge)


def read_vocab(tokenizer: Any, vocab_size: int) -> GgufVocab:
    """The GGUF vocabulary of `tokenizer` (as transformers loaded it).

    The tokenizer is read as transformers runs it, not from tokenizer.json: for some models
    (Qwen2, for one) transformers rebuilds the pre-tokenizer from the model type. The token list
    is padded to the model's `vocab_size` with unused placeholders, as llama.cpp expects one
    entry per row of the embedding matrix.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise UnsupportedTokenizer("a tokenizer without a fast (tokenizers) version; sentencepiece-only "
                                   "tokenizers are not supported")
    data = json.loads(backend.to_str())
    model = data.get("model") or {}
    if model.get("type") != "BPE" or model.get("byte_fallback"):
        raise UnsupportedTokenizer(f"a {model.get('type')} tokenizer that is not byte-level BPE")
    pre = pre_tokenizer_name(data.get("pre_tokenizer"))
    by_id: dict[int, str] = {int(i): t for t, i in model["vocab"].items()}
    types: dict[int, int] = {}
    for added in data.get("added_tokens") or []:
        by_id[int(added["id"])] = added["content"]
        types[int(added["id"])] = CONTROL if added.get("special") else USER_DEFINED
    if max(by_id) >= vocab_size:
        from peftstudio.errors import make

        raise make("tokenizer_mismatch", tokenizer_vocab=max(by_id) + 1, model_vocab=vocab_size)
    tokens, token_types = [], []
    for i in range(vocab_size):
        if i in by_id:
            tokens.append(by_id[i])
            token_types.append(types.get(i, NORMAL))
        else:
            tokens.append(f"[PAD{i}]")
            token_types.append(UNUSED)
    probe = tokenizer("a b")["input_ids"]
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    template = tokenizer.chat_template
    if isinstance(template, dict):
        template = template.get("default") or next(iter(template.values()), None)
    return GgufVocab(
        pre=pre,
        tokens=tokens,
        token_types=token_types,
        merges=[_merge_text(m) for m in model.get("merges") or []],
        bos_id=bos,
        eos_id=eos,
        unk_id=tokenizer.unk_token_id,
        pad_id=tokenizer.pad_token_id,
        add_bos=bos is not None and bool(probe) and probe[0] == bos,
        add_eos=eos is not None and bool(probe) and probe[-1] == eos,
        chat_template=template,
    )
