"""The checks' arithmetic through `run_checks` on `builtin:tiny-llama` runs' data and models, against hand-made
answers: a forgotten answer is counted, a label outside the label set is wrong, code that does not parse is
caught; and the suggestions follow from what went wrong."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from peftstudio.playground import PlaygroundSession
from peftstudio.quality import RunNumbers, score
from peftstudio.quality.retention import Question
from peftstudio.quality.run import held_out, run_checks
from tests.family_models import FAMILIES, tiny_model
from tests.guards.helpers import config

CAT = Question("cat", "en", "How many legs does a cat have?", ("4", "four"))
PARIS = Question("paris", "en", "What is the capital of France?", ("Paris",))
SKY = Question("sky", "en", "What colour is the sky?", ("blue",))
GENERAL = (CAT, PARIS, SKY)


@pytest.fixture(scope="module")
def session() -> PlaygroundSession:
    return PlaygroundSession("builtin:tiny-llama", save_history=False)


def scripted(monkeypatch: pytest.MonkeyPatch, base: dict[str, str], tuned: dict[str, str]) -> None:
    """Both models answer from a script (prompt -> answer) instead of generating: the arithmetic is what is tested."""

    def answer(_session: Any, conversations: Sequence[list[dict[str, str]]], *, use_adapter: bool,
               max_new_tokens: int) -> list[str]:
        script = tuned if use_adapter else base
        return [script[c[-1]["content"]] for c in conversations]

    monkeypatch.setattr("peftstudio.quality.run.answer", answer)
    monkeypatch.setattr("peftstudio.quality.run.base_answers",  # scripted answers must not reach the cache
                        lambda s, c, *, max_new_tokens: answer(s, c, use_adapter=False, max_new_tokens=max_new_tokens))


def test_a_forgotten_answer_is_counted(session: PlaygroundSession, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config()
    conversations, references, _ = held_out(cfg)
    prompts = [c[-1]["content"] for c in conversations]
    base = {CAT.question: "A cat has four legs.", PARIS.question: "Paris.", SKY.question: "Green.",
            **{p: "" for p in prompts}}
    tuned = {CAT.question: "Arr! A cat has five legs, me hearty!", PARIS.question: "Arr! Paris, matey!",
             SKY.question: "Blue, arr!", **dict(zip(prompts, references, strict=True))}
    scripted(monkeypatch, base, tuned)
    report = run_checks(session, cfg, asked=GENERAL)
    r = report.retention
    assert r is not None and (r.asked, r.base_right, r.tuned_right, r.learned) == (3, 2, 2, 1)
    assert [f.question for f in r.forgotten] == [CAT.question] and r.forgotten[0].base == "A cat has four legs."
    assert report.task is not None and (report.task.base, report.task.tuned) == (0.0, 1.0)
    q = score(RunNumbers(train_losses=(2.0, 1.9), steps=2, checks=report))
    retention = next(p for p in q.parts if p.name == "retention")
    assert retention.points == pytest.approx(0.0)  # forgot 1 of the 2 it knew: half lost is no points
    assert "forgot 1 of the 2" in retention.measured and "newly right 1" in retention.measured
    assert not q.forgetting  # one slip is below FORGET_MIN (2)


def test_a_label_outside_the_label_set_is_wrong(tmp_path: Path, session: PlaygroundSession,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "reviews.csv"
    rows = [f"review number {i} was {'good' if i % 2 else 'bad'},{'positive' if i % 2 else 'negative'}"
            for i in range(40)]
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cfg = config(data, validation_fraction=0.25)
    conversations, references, labels = held_out(cfg)
    assert labels == ["negative", "positive"] and len(references) >= 4
    prompts = [c[-1]["content"] for c in conversations]
    # the base model always says a word outside the labels; the tuned one is right on all but the first,
    # where it says the right label inside a sentence (outside the label set: wrong)
    tuned = dict(zip(prompts, references, strict=True))
    tuned[prompts[0]] = f"The review is {references[0]}."
    scripted(monkeypatch, {**{p: "good" for p in prompts}, **{q.question: "" for q in GENERAL}},
             {**tuned, **{q.question: "" for q in GENERAL}})
    report = run_checks(session, cfg, asked=GENERAL)
    t = report.task
    assert t is not None and t.metric == "label accuracy"
    assert t.base == 0.0 and t.tuned == pytest.approx(round((len(prompts) - 1) / len(prompts), 4))
    assert prompts[0] not in {c.prompt for c in t.changed}  # wrong before, wrong after: not a change


def test_code_that_does_not_parse_is_caught(tmp_path: Path, session: PlaygroundSession,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "code.jsonl"
    with open(data, "w", encoding="utf-8") as fh:
        for i in range(30):
            fh.write(json.dumps({"instruction": f"Write a Python function f{i} that returns {i}.",
                                 "output": f"```python\ndef f{i}():\n    return {i}\n```"}) + "\n")
    cfg = attrs.evolve(config(data, validation_fraction=0.2), profile="code-generation")
    conversations, _, _ = held_out(cfg)
    prompts = [c[-1]["content"] for c in conversations]
    assert len(prompts) >= 2
    good = {p: "```python\ndef f():\n    return 1\n```" for p in prompts}
    broken = {**good, prompts[0]: "```python\ndef f()\n    return 1\n```"}  # the colon is missing
    scripted(monkeypatch, {**broken, **{q.question: "" for q in GENERAL}},
             {**good, **{q.question: "" for q in GENERAL}})
    report = run_checks(session, cfg, asked=GENERAL)
    t = report.task
    assert t is not None and t.metric == "code parses" and t.language == "python"
    assert t.base == pytest.approx(round(1 - 1 / len(prompts), 4)) and t.tuned == 1.0
    assert [c.prompt for c in t.changed] == [prompts[0]]


def test_the_suggestions_follow_from_what_went_wrong(session: PlaygroundSession,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config()
    conversations, _, _ = held_out(cfg)
    prompts = [c[-1]["content"] for c in conversations]
    knows = {CAT.question: "Four.", PARIS.question: "Paris.", SKY.question: "Blue."}
    numbers = RunNumbers(train_losses=tuple(2.5 - 0.01 * i for i in range(60)), val_losses=(2.0, 1.8),
                         base_val_loss=2.4, final_val_loss=1.8, steps=60, steps_per_epoch=60, train_examples=600,
                         learning_rate=1e-2, rank=16)
    # forgetting: every general answer lost -> flagged, and the learning rate comes first
    scripted(monkeypatch, {**knows, **{p: "" for p in prompts}},
             {**{q.question: "Arr!" for q in GENERAL}, **{p: "Arr, ye" for p in prompts}})
    forgot = score(attrs.evolve(numbers, checks=run_checks(session, cfg, asked=GENERAL)))
    assert forgot.forgetting and forgot.total <= 60
    first = forgot.suggestions[0]
    assert "Lower the learning rate to 0.0033" in first and "fewer epochs" in first
    assert "smaller LoRA rank (8)" in first and "mix general examples" in first
    # no task gain: the tuned model answers exactly as the base -> more or cleaner data, more steps
    same = {**knows, **{p: "I do not know." for p in prompts}}
    scripted(monkeypatch, same, same)
    flat = score(attrs.evolve(numbers, checks=run_checks(session, cfg, asked=GENERAL)))
    assert not flat.forgetting
    assert any(s.startswith("Add more or cleaner examples, or train for more steps") for s in flat.suggestions)
    assert not any("Lower the learning rate" in s for s in flat.suggestions)


def test_the_likelihoods_of_padded_rows_are_those_of_each_statement_alone(session: PlaygroundSession) -> None:
    import torch

    from peftstudio.data.template import prompt_ids
    from peftstudio.quality.retention import questions
    from peftstudio.quality.run import likelihoods

    asked = [q for q in questions() if q.id in ("en-cat-legs", "en-capital-uk", "zh-capital", "en-count")]
    batched = likelihoods(session, asked, use_adapter=False)  # rows of several lengths, left-padded together
    tok = session.tokenizer
    for q, scores in zip(asked, batched, strict=True):
        prompt = prompt_ids(tok, [{"role": "user", "content": q.question}])
        for text, got in zip(q.completions(), scores, strict=True):
            answer = tok(text, add_special_tokens=False)["input_ids"]
            with torch.no_grad():
                logits = session.model(input_ids=torch.tensor([prompt + answer])).logits[0].float().log_softmax(-1)
            alone = sum(float(logits[len(prompt) + i - 1, t]) for i, t in enumerate(answer))
            assert got == pytest.approx(alone, abs=1e-3), text


def test_without_an_adapter_every_question_is_asked_and_nothing_drifts(session: PlaygroundSession) -> None:
    from peftstudio.data import sample_path
    from peftstudio.quality.retention import questions

    cfg = config(sample_path("pirate_chat.jsonl"))
    report = run_checks(session, cfg)  # no adapter: the tuned model is the base, no drift at all
    assert report.retention is not None and report.retention.asked == len(questions())
    assert report.retention.drift == 0.0 and report.retention.drift_asked == len(questions())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_question_read_once_scores_as_every_row_read_whole(family: str) -> None:
    """The drift's statements after a question read once (its cache copied to each statement's row) score
    as rows read whole, in every family; a family whose cache cannot be copied (Qwen3.5's linear attention)
    reads rows whole."""
    from types import SimpleNamespace

    import torch

    from peftstudio.quality.run import _shared_prompt_scores, _whole_row_scores

    rng = random.Random(0)
    session = SimpleNamespace(model=tiny_model(family).eval(), device=torch.device("cpu"))
    prompts = [[rng.randrange(3, 500) for _ in range(n)] for n in (7, 12, 4)]  # left-padded together
    answers = [[[rng.randrange(3, 500) for _ in range(k)] for k in lengths] for lengths in ((3, 1, 5), (2, 2), (4,))]
    with torch.no_grad():
        whole = _whole_row_scores(session, prompts, answers, pad=0)
        shared = _shared_prompt_scores(session, prompts, answers, pad=0)
    if family == "qwen3_5":
        assert shared is None
        return
    assert shared is not None and [len(s) for s in shared] == [3, 2, 1]
    for got, want in zip(shared, whole, strict=True):
        assert got == pytest.approx(want, abs=2e-4), family


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_what_every_prompt_starts_with_is_read_once_and_scores_alike(family: str) -> None:
    """A system prompt that all the drift's questions start with is read once, its cache copied to every row
    (padding then sits between it and each question): the statements score as rows read whole. Models with
    sliding-window or linear-attention layers read each prompt whole."""
    from types import SimpleNamespace

    import torch

    from peftstudio.quality.reading import MIN_PREFIX, read_prefix
    from peftstudio.quality.run import _shared_prompt_scores, _whole_row_scores

    rng = random.Random(1)
    system = [rng.randrange(3, 500) for _ in range(MIN_PREFIX + 3)]
    session = SimpleNamespace(model=tiny_model(family).eval(), device=torch.device("cpu"))
    prompts = [system + [rng.randrange(3, 500) for _ in range(n)] for n in (6, 1, 9)]
    answers = [[[rng.randrange(3, 500) for _ in range(k)] for k in lengths] for lengths in ((3, 1), (2, 4, 2), (5,))]
    with torch.no_grad():
        prefix = read_prefix(session.model, prompts, session.device)
        if family in ("qwen3_5", "gemma3", "gemma4", "gpt_oss"):  # linear attention, sliding windows: each row
            assert prefix is None  # reads its prompt whole (the question once, as before)
            return
        assert prefix is not None and prefix[0] == len(system)
        shared = _shared_prompt_scores(session, prompts, answers, pad=0, prefix=prefix)
        whole = _whole_row_scores(session, prompts, answers, pad=0)
    assert shared is not None and [len(x) for x in shared] == [2, 3, 1]
    for got, want in zip(shared, whole, strict=True):
        assert got == pytest.approx(want, abs=2e-4), family


def test_prompts_that_share_little_are_read_whole() -> None:
    from types import SimpleNamespace

    import torch

    from peftstudio.quality.reading import MIN_PREFIX, read_prefix

    session = SimpleNamespace(model=tiny_model("llama").eval(), device=torch.device("cpu"))
    short = [[5] * (MIN_PREFIX - 1) + [7, 8], [5] * (MIN_PREFIX - 1) + [9]]
    assert read_prefix(session.model, short, session.device) is None
    same = [[5] * MIN_PREFIX + [6]] * 2  # identical prompts: each keeps its last token to read
    assert read_prefix(session.model, same, session.device)[0] == MIN_PREFIX  # type: ignore[index]


def test_the_checks_say_how_long_they_take_at_the_runs_own_speed() -> None:
    """The 'checking' event states the checks' estimate from the speed the run trained at: twice the speed,
    half the time; no speed or a model the catalog cannot describe: no figure."""
    from types import SimpleNamespace

    from peftstudio.quality.run import expected_seconds
    from peftstudio.quality.score import checking_message
    from peftstudio.records import DataSettings, ModelChoice, RunConfig
    from peftstudio.units import worded_duration

    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:smollm2-135m"), data=DataSettings(path="x"))
    config = attrs.evolve(config, training=attrs.evolve(config.training, sequence_length=256))
    slow, fast = expected_seconds(config, 200.0), expected_seconds(config, 400.0)
    assert slow is not None and fast is not None and slow == pytest.approx(2 * fast)
    said = checking_message(SimpleNamespace(config=config, summary={"tokens_per_second": 200.0}))
    assert said == ("Checking the tuned model on held-out examples and general questions: up to about "
                    f"{worded_duration(slow)} at this run's training speed.")
    plain = "Checking the tuned model on held-out examples and general questions."
    assert checking_message(SimpleNamespace(config=config, summary={})) == plain
    elsewhere = attrs.evolve(config, model=ModelChoice("/no/such/model"))
    assert checking_message(SimpleNamespace(config=elsewhere, summary={"tokens_per_second": 200.0})) == plain
