"""Loss on the answers only, for every family's chat template: exactly the assistant tokens carry labels.

The templates are the published ones (tests/export/chat_templates.py) on a local tokenizer given each
family's special tokens: no download. Each labelled run must be one assistant answer with the template's
end-of-turn marker (so the model learns to stop), nothing of the system or user turns; packing keeps it so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from peftstudio.data.detect import Example
from peftstudio.data.template import IGNORE_INDEX, stop_ids, tokenize
from tests.export.chat_templates import FAMILY_TEMPLATES, family_tokenizer

SYSTEM = "You answer like a ship's cook."
TURNS = (("system", SYSTEM), ("user", "What is for dinner?"), ("assistant", "Fish stew, with bread."),
         ("user", "And after that?"), ("assistant", "Apple pie for everyone."))
#: What a template may put before an answer within the assistant's own turn.
ANSWER_PREFIXES = ("", " ", "<think>\n\n</think>\n\n", "<think>\n\n</think>\n")


@pytest.fixture(scope="module")
def tiny_folder() -> Path:
    from peftstudio.models import model_folder

    return Path(model_folder("builtin:tiny-llama"))


def _runs(ids: list[int], labels: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    current: list[int] = []
    for tok, lab in zip(ids, labels, strict=True):
        if lab == IGNORE_INDEX:
            if current:
                runs.append(current)
            current = []
        else:
            assert lab == tok
            current.append(tok)
    return runs + ([current] if current else [])


def _turns(family: str) -> tuple[tuple[str, str], ...]:
    if family == "mistral":  # its template takes the system message into the last user turn: keep it simple
        return TURNS[1:]
    return TURNS


def _check(tok: Any, family: str, turns: tuple[tuple[str, str], ...], answers: list[str]) -> list[int]:
    eot = FAMILY_TEMPLATES[family][4][0]
    ids, labels = tokenize(Example(turns), tok)
    runs = [tok.decode(run) for run in _runs(ids, labels)]
    assert len(runs) == len(answers), runs
    for run, answer in zip(runs, answers, strict=True):
        assert run.endswith(eot), (run, eot)  # the end-of-turn marker is learned
        assert any(run == prefix + answer + eot for prefix in ANSWER_PREFIXES), (run, answer)
    labelled = tok.decode([t for t, lab in zip(ids, labels, strict=True) if lab != IGNORE_INDEX])
    assert SYSTEM not in labelled and "dinner" not in labelled and "after that" not in labelled
    return labels


@pytest.mark.parametrize("family", sorted(FAMILY_TEMPLATES))
def test_exactly_the_assistant_tokens_carry_labels(family: str, tiny_folder: Path) -> None:
    tok = family_tokenizer(family, tiny_folder)
    _check(tok, family, _turns(family), ["Fish stew, with bread.", "Apple pie for everyone."])


def test_qwen3_think_blocks_train_the_last_answers_reasoning(tiny_folder: Path) -> None:
    """Qwen3's template keeps the reasoning of the last turn only; earlier turns train on their answers."""
    tok = family_tokenizer("qwen3", tiny_folder)
    turns = (("user", "2+2?"), ("assistant", "<think>Two and two.</think>4"), ("user", "3+3?"),
             ("assistant", "<think>Three and three.</think>6"))
    ids, labels = tokenize(Example(turns), tok)
    runs = [tok.decode(run) for run in _runs(ids, labels)]
    assert runs == ["4<|im_end|>", "<think>\nThree and three.\n</think>\n\n6<|im_end|>"]


@pytest.mark.parametrize("family", sorted(FAMILY_TEMPLATES))
def test_packing_keeps_the_mask(family: str, tiny_folder: Path) -> None:
    from peftstudio.engine.packing import collate_packed

    tok = family_tokenizer(family, tiny_folder)
    examples = []
    for answer in ("Fish stew, with bread.", "Apple pie for everyone.", "Tea."):
        ids, labels = tokenize(Example((("user", "What now?"), ("assistant", answer))), tok)
        examples.append({"input_ids": ids, "labels": labels})
    batch = collate_packed([examples], pad_id=0)
    packed = batch["labels"][0].tolist()
    expected: list[int] = []
    for ex in examples:  # each example's first label is dropped at its boundary: it is never an answer token
        assert ex["labels"][0] == IGNORE_INDEX
        expected += ex["labels"]
    assert packed[: len(expected)] == expected
    assert set(packed[len(expected):]) <= {IGNORE_INDEX}


@pytest.mark.parametrize("family", sorted(FAMILY_TEMPLATES))
def test_generation_stops_at_the_end_of_turn_marker_the_model_learns(family: str, tiny_folder: Path) -> None:
    tok = family_tokenizer(family, tiny_folder)
    eot = FAMILY_TEMPLATES[family][4][0]
    stops = stop_ids(tok)
    assert stops[0] == tok.eos_token_id  # the end of a sequence, first
    assert tok.convert_tokens_to_ids(eot) in stops  # Gemma: <end_of_turn>, though its eos is <eos>
    assert len(stops) == len(set(stops)) <= 2
