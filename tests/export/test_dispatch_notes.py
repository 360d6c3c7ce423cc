"""The export's choices for a base model whose weights came from a quantized file (no export is run)."""

from __future__ import annotations

from typing import Any

import pytest

from peftstudio.export.dispatch import _quant_notes
from peftstudio.export.records import ExportSource

GEMMA = ExportSource("builtin:gemma3-270m", adapter="/runs/a/adapter")


def test_a_tuned_model_from_a_q4_k_m_file_defaults_to_q8_0_and_says_why() -> None:
    given: dict[str, Any] = {}
    notes = _quant_notes("ollama", GEMMA, given)
    assert given == {"quant": "q8_0"} and "q4_k_m file" in notes[0] and "adapter" in notes[0]


def test_the_users_same_type_choice_is_kept_with_a_warning() -> None:
    given: dict[str, Any] = {"quant": "q4_k_m"}
    notes = _quant_notes("gguf", GEMMA, given)
    assert given == {"quant": "q4_k_m"} and "rounds much of the fine-tune away" in notes[0]


@pytest.mark.parametrize("kind, source, given", [
    ("gguf", ExportSource("builtin:gemma3-270m"), {}),  # no adapter: nothing to round away
    ("gguf", GEMMA, {"adapter_only": True}),  # the adapter stays apart from the base
    ("hf", GEMMA, {}),
    ("gguf", ExportSource("builtin:smollm2-135m", adapter="/a"), {}),  # q4_1 origin, q4_k_m is another grid
    ("gguf", ExportSource("builtin:tiny-llama", adapter="/a"), {"quant": "q4_k_m"}),
])
def test_no_note_where_nothing_is_lost(kind: str, source: ExportSource, given: dict[str, Any]) -> None:
    before = dict(given)
    assert _quant_notes(kind, source, given) == () and given == before
