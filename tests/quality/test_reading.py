"""Reading prompts once and answering greedily (`peftstudio.quality.reading`): every row gets the tokens
``generate(do_sample=False)`` gives it, in every family, with and without a start all prompts share, when rows
end at different steps; models it cannot serve are left to ``generate``."""

from __future__ import annotations

import logging
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
    assert got == want, family
    assert sorted(len(row) for row in got)[0] < NEW  # some rows ended early, and left the batch


def test_generation_settings_that_change_the_scores_are_left_to_generate() -> None:
    model = tiny_model("llama").eval()
    model.generation_config.repetition_penalty = 1.3
    with torch.no_grad():
        assert greedy_tokens(model, [[5, 6, 7]], pad=0, device="cpu", max_new_tokens=2, stops={2}) is None


class TransformersLog(logging.Handler):
    """What transformers logs while it is attached, its once-only warnings included."""

    def __enter__(self) -> list[str]:
        from transformers.utils import logging as hf_logging

        hf_logging.warning_once.cache_clear()  # a warning given earlier in the session would not come again
        self.said: list[str] = []
        logging.getLogger("transformers").addHandler(self)
        return self.said

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("transformers").removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_cache_is_handed_over_by_its_current_name(family: str) -> None:
    """transformers 5.2x renamed ``past_key_values`` to ``cache`` (the old name goes in 5.40): the checks' reading
    uses the name the model's forward takes, so it keeps working when the old one is gone."""
    from types import SimpleNamespace

    from peft import LoraConfig, get_peft_model

    from peftstudio.quality.run import _shared_prompt_scores

    rng = random.Random(3)
    start = [rng.randrange(3, 500) for _ in range(MIN_PREFIX + 4)]
    prompts = [start + [rng.randrange(3, 500) for _ in range(n)] for n in (3, 6)]
    plain = tiny_model(family).eval()
    tuned = get_peft_model(tiny_model(family), LoraConfig(r=2, target_modules="all-linear")).eval()
    for model in (plain, tuned):
        with TransformersLog() as said, torch.no_grad():
            greedy_tokens(model, prompts, pad=0, device="cpu", max_new_tokens=3, stops={2})
            _shared_prompt_scores(SimpleNamespace(model=model, device="cpu"), prompts, [[[7, 8], [9]], [[4]]], 0)
        assert not [m for m in said if "deprecated" in m], (family, said)
