"""The tokenizer metadata: llama.cpp pre-tokenizer names, token types, merges, special ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from peftstudio.errors import PlainError
from peftstudio.export.gguf.tokenizer import (
    _LLAMA3_SPLIT,
    _QWEN2_SPLIT,
    CONTROL,
    NORMAL,
    UNUSED,
    UnsupportedTokenizer,
    pre_tokenizer_name,
    read_vocab,
)

BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
BYTE_LEVEL_NO_REGEX = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}


def _split(regex: str) -> dict[str, Any]:
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


@pytest.mark.parametrize(
    "pre,expected",
    [
        (BYTE_LEVEL, "gpt-2"),
        ({"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, BYTE_LEVEL]}, "smollm"),
        ({"type": "Sequence", "pretokenizers": [_split(_LLAMA3_SPLIT), BYTE_LEVEL_NO_REGEX]}, "llama-bpe"),
        ({"type": "Sequence", "pretokenizers": [_split(_QWEN2_SPLIT), BYTE_LEVEL_NO_REGEX]}, "qwen2"),
    ],
)
def test_pre_tokenizer_names(pre: dict[str, Any], expected: str) -> None:
    assert pre_tokenizer_name(pre) == expected


@pytest.mark.parametrize(
    "pre",
    [
        None,
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"},
        {**BYTE_LEVEL, "add_prefix_space": True},
        {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": False}, BYTE_LEVEL]},
        {"type": "Sequence", "pretokenizers": [_split(r"\w+|\s+"), BYTE_LEVEL_NO_REGEX]},
    ],
)
def test_unknown_pre_tokenizers_are_refused(pre: dict[str, Any] | None) -> None:
    with pytest.raises(UnsupportedTokenizer):
        pre_tokenizer_name(pre)


def _tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


def test_tiny_vocab(tiny_folder: Path) -> None:
    tok = _tokenizer(tiny_folder)
    vocab = read_vocab(tok, len(tok))
    assert vocab.pre == "gpt-2" and vocab.model == "gpt2"
    assert len(vocab.tokens) == len(vocab.token_types) == len(tok)
    for special in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        i = tok.convert_tokens_to_ids(special)
        assert vocab.tokens[i] == special and vocab.token_types[i] == CONTROL
    assert vocab.token_types[tok.convert_tokens_to_ids("Ġthe")] == NORMAL
    assert vocab.merges[0] == "Ġ t" and all(len(m.split(" ")) == 2 for m in vocab.merges)
    assert (vocab.bos_id, vocab.eos_id) == (tok.bos_token_id, tok.eos_token_id)
    assert vocab.add_bos is False and vocab.add_eos is False
    assert vocab.chat_template and "<|im_start|>" in vocab.chat_template


def test_vocab_is_padded_to_the_model_rows(tiny_folder: Path) -> None:
    tok = _tokenizer(tiny_folder)
    vocab = read_vocab(tok, len(tok) + 3)
    assert vocab.tokens[-1] == f"[PAD{len(tok) + 2}]" and vocab.token_types[-3:] == (UNUSED,) * 3


def test_tokenizer_larger_than_the_model_is_a_plain_error(tiny_folder: Path) -> None:
    tok = _tokenizer(tiny_folder)
    with pytest.raises(PlainError) as err:
        read_vocab(tok, len(tok) - 10)
    assert err.value.code == "tokenizer_mismatch"
