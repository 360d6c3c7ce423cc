"""Reading prompts once and answering greedily (`peftstudio.quality.reading`): every row gets the tokens
``generate(do_sample=False)`` gives it, in every family, with and without a start all prompts share, when rows
end at different steps; models it cannot serve are left to ``generate``."""

from __future__ import annotations

import random

import pytest
import torch

from peftstudio.quality.reading import MIN_PREFIX, greedy_tokens, left_padded
from tests.family_models import FAMILIES, tiny_model

NEW = 8


def generated(model: torch.nn.Module, prompts: list[list[int]], stops: list[int]) -> list[list[int]]:
    """What ``generate`` answers, each row cut after its first stop token."""
    ids, mask = left_padded(prompts, 0, "cpu")
    out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW, do_sample=False, pad_token_id=0,
                         eos_token_id=stops)[:, ids.shape[1]:].tolist()
    rows = []
    for row in out:
        end = next((i + 1 for i, t in enumerate(row) if t in stops), len(row))
        rows.append(row[:end])
    return rows


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_greedy_answers_are_generates_token_for_token(family: str, shared: bool) -> None:
    rng = random.Random(7)
    model = tiny_model(family).eval()
    start = [rng.randrange(3, 500) for _ in range(MIN_PREFIX + 12)] if shared else []
    prompts = [start + [rng.randrange(3, 500) for _ in range(n)] for n in (5, 14, 1, 9)]
    with torch.no_grad():
        free = generated(model, prompts, stops=[2])  # rarely ends: stop at tokens the rows do produce instead
        stops = [free[0][1], free[2][4]]
        want = generated(model, prompts, stops)
        got = greedy_tokens(model, prompts, pad=0, device="cpu", max_new_tokens=NEW, stops=set(stops))
    if family == "qwen3_5":  # linear attention: no rows to drop from its cache
        assert got is None
        return
    assert got == want, family
    assert sorted(len(row) for row in got)[0] < NEW  # some rows ended early, and left the batch


def test_generation_settings_that_change_the_scores_are_left_to_generate() -> None:
    model = tiny_model("llama").eval()
    model.generation_config.repetition_penalty = 1.3
    with torch.no_grad():
        assert greedy_tokens(model, [[5, 6, 7]], pad=0, device="cpu", max_new_tokens=2, stops={2}) is None
