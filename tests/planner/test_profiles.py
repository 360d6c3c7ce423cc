"""Task profiles are complete data a beginner can read."""

from __future__ import annotations

import pytest

from peftstudio.errors import PlainError
from peftstudio.models.catalog import find_model
from peftstudio.planner.profiles import PROFILES, get_profile, profile_ids

REQUIRED = ("chatbot", "code-generation", "summarization", "question-answering", "instruction-following",
            "classification", "creative-writing", "domain-adaptation")
STRUCTURES = {"chat", "sharegpt", "alpaca", "prompt_completion", "question_answer", "text", "classification"}


def test_at_least_eight_profiles_with_the_required_ids() -> None:
    assert len(PROFILES) >= 8
    assert set(REQUIRED) <= set(profile_ids())
    assert len(set(profile_ids())) == len(PROFILES)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.id)
def test_every_profile_has_description_examples_and_settings(profile) -> None:  # type: ignore[no-untyped-def]
    assert profile.title and len(profile.description) > 40
    assert 2 <= len(profile.examples) <= 3 and all(e.strip() for e in profile.examples)
    assert profile.data_structures and set(profile.data_structures) <= STRUCTURES
    assert profile.sequence_length >= 256 and profile.lora_rank > 0 and profile.lora_alpha > 0
    assert 0 <= profile.lora_dropout < 1 and profile.target in ("attention", "all")
    assert 0 < profile.learning_rate < 1e-2 and profile.epochs > 0 and profile.evaluations_per_epoch > 0
    assert profile.suggested_models
    for alias in profile.suggested_models:
        find_model(alias)  # every suggestion is in the catalog


def test_code_profile_keeps_whitespace_longer_context_low_temperature() -> None:
    code, chat = get_profile("code-generation"), get_profile("chatbot")
    # whitespace is kept and the model's own chat template used for every profile (tests/data/test_code_whitespace.py)
    assert "Whitespace is kept exactly" in code.description and "the code model's own" in code.description
    assert code.playground_temperature <= 0.3
    assert code.sequence_length >= chat.sequence_length >= 1024


def test_unknown_profile_is_a_plain_error_listing_ids() -> None:
    with pytest.raises(PlainError) as err:
        get_profile("poetry")
    assert err.value.code == "config_invalid" and "chatbot" in err.value.info.explanation


def test_profiles_suggest_current_models() -> None:
    from peftstudio.models.catalog import find_model

    current = {"qwen3", "qwen3_5_text", "gemma3_text", "smollm3", "gpt_oss"}
    for profile in PROFILES:
        if profile.id == "code-generation":  # Qwen2.5 Coder is still the small code model
            continue
        assert any(find_model(a).architecture in current for a in profile.suggested_models), profile.id
    assert not any(a.startswith(("qwen2.5-1.5b", "qwen2.5-0.5b")) for p in PROFILES for a in p.suggested_models)
