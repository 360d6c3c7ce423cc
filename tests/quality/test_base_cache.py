"""The base model's answers are cached: the same model and questions are answered once, a retrained or damaged
cache entry is answered again."""

from __future__ import annotations

from typing import Any

import pytest

from peftstudio.playground import PlaygroundSession
from peftstudio.quality import run as quality_run

BATCH = [[{"role": "user", "content": "How many legs does a cat have?"}],
         [{"role": "user", "content": "What is the capital of France?"}]]


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real generations of the base model (the answers themselves are not touched)."""
    calls: list[int] = []
    real = quality_run.answer

    def counting(session: Any, conversations: Any, *, use_adapter: bool, max_new_tokens: int) -> list[str]:
        calls.append(len(conversations))
        return real(session, conversations, use_adapter=use_adapter, max_new_tokens=max_new_tokens)

    monkeypatch.setattr(quality_run, "answer", counting)
    return calls


def test_the_second_ask_comes_from_the_cache_with_the_same_answers(counted: list[int]) -> None:
    from peftstudio import paths

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    first = quality_run.base_answers(session, BATCH, max_new_tokens=6)
    again = quality_run.base_answers(session, BATCH, max_new_tokens=6)
    assert first == again and counted == [2]
    longer = quality_run.base_answers(session, BATCH, max_new_tokens=7)  # another length is another question
    assert counted == [2, 2] and len(longer) == 2
    for f in (paths.home() / "cache" / "base-answers").glob("*.json"):
        f.write_text("{not json", encoding="utf-8")  # damaged: answered again and rewritten
    assert quality_run.base_answers(session, BATCH, max_new_tokens=6) == first and counted == [2, 2, 2]
    assert quality_run.base_answers(session, BATCH, max_new_tokens=6) == first and counted == [2, 2, 2]


def test_a_changed_model_is_not_answered_from_the_cache(counted: list[int], tmp_path: Any) -> None:
    import shutil

    from peftstudio.models import model_folder

    folder = tmp_path / "model"
    shutil.copytree(model_folder("builtin:tiny-llama"), folder)
    session = PlaygroundSession(str(folder), save_history=False)
    quality_run.base_answers(session, BATCH, max_new_tokens=5)
    weights = next(folder.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes())  # rewritten: a new time stamp, as after retraining
    quality_run.base_answers(session, BATCH, max_new_tokens=5)
    assert counted == [2, 2]


def test_after_warming_the_retention_check_asks_only_the_tuned_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from peftstudio.data import sample_path
    from peftstudio.quality.retention import questions
    from peftstudio.records import DataSettings, ModelChoice, RunConfig

    assert quality_run.warm_base_answers("builtin:tiny-llama") in (0, len(questions()))
    assert quality_run.warm_base_answers("builtin:tiny-llama") == 0  # all cached now
    asked: list[tuple[bool, str]] = []
    real = quality_run.answer

    def recording(session: Any, conversations: Any, *, use_adapter: bool, max_new_tokens: int) -> list[str]:
        asked.extend((use_adapter, c[-1]["content"]) for c in conversations)
        return real(session, conversations, use_adapter=use_adapter, max_new_tokens=max_new_tokens)

    monkeypatch.setattr(quality_run, "answer", recording)
    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                    data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))))
    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    report = quality_run.run_checks(session, cfg)
    general = {q.question for q in questions()}
    assert report.retention is not None and report.retention.asked == len(general)
    assert not [q for tuned, q in asked if not tuned and q in general]  # no base answer to a general question
    assert {q for tuned, q in asked if tuned} >= general


def test_each_question_is_found_again_in_any_batch(counted: list[int]) -> None:
    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    together = quality_run.base_answers(session, BATCH, max_new_tokens=6)
    alone = quality_run.base_answers(session, BATCH[1:], max_new_tokens=6)
    assert alone == together[1:] and counted == [2]  # read from the cache, not answered again
    third = [{"role": "user", "content": "Name a colour."}]
    mixed = quality_run.base_answers(session, [BATCH[0], third], max_new_tokens=6)
    assert mixed[0] == together[0] and counted == [2, 1]  # only the new question is answered


def test_a_question_is_answered_alike_alone_and_in_a_batch() -> None:
    from peftstudio.quality.retention import questions

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    asked = [[{"role": "user", "content": q.question}] for q in questions()[:12]]
    together = quality_run.answer(session, asked, use_adapter=False, max_new_tokens=8)
    alone = [quality_run.answer(session, [c], use_adapter=False, max_new_tokens=8)[0] for c in asked]
    assert together == alone
