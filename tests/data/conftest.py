"""Fixtures for the data tests: the built-in tiny tokenizer and a helper to write files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """builtin:tiny-llama's tokenizer: byte-level BPE with a ChatML chat template."""
    from peftstudio.models import load_tokenizer

    return load_tokenizer("builtin:tiny-llama")


def jsonl(rows: list[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def pc(i: int) -> dict[str, str]:
    """A distinct prompt/completion row."""
    words = ["apple", "river", "stone", "cloud", "lantern", "meadow", "violin", "harbour", "pepper", "glacier",
             "candle", "orchard", "falcon", "compass", "ribbon", "thunder", "saddle", "marble", "willow", "tunnel"]
    a, b = words[i % 20], words[(i * 7 + 3) % 20]
    return {"prompt": f"Question {i}: tell me about the {a} and the {b}.",
            "completion": f"Answer {i}: the {a} rests beside the {b} at {i * 13 % 97} o'clock."}


def chat(user: str, answer: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _write(name: str, data: bytes | str) -> Path:
        path = tmp_path / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return _write
