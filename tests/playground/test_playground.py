"""The playground on builtin:tiny-llama: one loaded copy, exact base logits with the adapter off, history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from peftstudio.cli.main import main
from peftstudio.models import load_model
from peftstudio.playground import (
    GenerationSettings,
    PlaygroundSession,
    chat_history,
    export_history,
    open_playground,
    profile_examples,
    prompts_from_conversations,
    search_history,
)
from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.store import open_store


@pytest.fixture
def tuned_run(tmp_path: Path) -> str:
    """A completed run whose adapter is a real, non-trivial LoRA adapter over builtin:tiny-llama."""
    from peft import LoraConfig, get_peft_model

    store = open_store()
    run = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                     data=DataSettings(path="chat.jsonl")))
    torch.manual_seed(0)
    model = get_peft_model(load_model("builtin:tiny-llama"),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(Path(run.folder) / "adapter")
    store.update_run(run.id, status="completed")
    return run.id


def test_base_answer_uses_the_exact_base_logits_from_one_copy(tuned_run: str) -> None:
    session = open_playground(tuned_run)
    reference = load_model("builtin:tiny-llama")
    text = "<|im_start|>user\nhello there<|im_end|>\n"
    ids = session.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        expected = reference(**ids).logits[0]
    assert torch.equal(session.logits(text, use_adapter=False), expected)
    assert not torch.equal(session.logits(text, use_adapter=True), expected)  # the adapter does change things
    # one copy: the base weights are shared, not duplicated
    assert sum(1 for n, _ in session.model.named_parameters() if "lora_" not in n) == sum(
        1 for _ in reference.parameters())


def test_compare_streams_and_saves_history(tuned_run: str, tmp_path: Path) -> None:
    session = open_playground(tuned_run)
    pieces: dict[str, list[str]] = {"tuned": [], "base": []}
    settings = GenerationSettings(temperature=0, max_new_tokens=8)
    ex = session.compare("Say hello", settings, on_token=lambda w, t: pieces[w].append(t))
    assert ex.tuned is not None and ex.base is not None
    assert "".join(pieces["tuned"]).strip() == ex.tuned.text and "".join(pieces["base"]).strip() == ex.base.text
    assert ex.tuned.tokens == 8 and ex.tuned.first_token_seconds <= ex.tuned.seconds
    assert ex.tuned.text != ex.base.text
    session.compare("Second question", settings, compare_base=False)
    history = chat_history(tuned_run)
    assert [e.prompt for e in history] == ["Say hello", "Second question"]
    assert history[0].tuned == ex.tuned and history[1].base is None
    assert [e.prompt for e in search_history(tuned_run)] == ["Second question", "Say hello"]  # newest first
    assert [e.prompt for e in search_history(tuned_run, "  say HELLO ")] == ["Say hello"]
    assert [e.prompt for e in search_history(tuned_run, ex.base.text[:6])] == ["Say hello"]  # found by its answer
    assert search_history(tuned_run, "nothing like this") == []
    out = export_history(tuned_run, tmp_path / "chat.json")
    assert [e["prompt"] for e in json.loads(out.read_text())["exchanges"]] == ["Say hello", "Second question"]


def test_greedy_answers_are_repeatable() -> None:
    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    a = session.generate("hi", GenerationSettings(temperature=0, max_new_tokens=6))
    b = session.generate("hi", GenerationSettings(temperature=0, max_new_tokens=6))
    assert a.text == b.text and a.model == "base"


def test_chat_cli_json_and_history(tuned_run: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", tuned_run, "--prompt", "hello", "--compare-base", "--temperature", "0",
                 "--max-tokens", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["prompt"] == "hello" and data["tuned"]["tokens"] == 5 and data["base"]["text"]
    assert main(["chat", tuned_run, "--history", "--json"]) == 0
    assert [e["prompt"] for e in json.loads(capsys.readouterr().out)] == ["hello"]


def test_chat_with_unknown_run_is_plain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "run-nope", "--prompt", "x"]) == 2
    assert "No such run" in capsys.readouterr().err


def test_examples() -> None:
    from peftstudio.planner.profiles import PROFILES

    for profile in PROFILES:
        assert len(profile_examples(profile.id)) >= 3
    convs = [[{"role": "system", "content": "s"}, {"role": "user", "content": "Q1"}], [{"role": "user", "content": "Q2"}]]
    assert prompts_from_conversations(convs, 5) == ["Q1", "Q2"]


def test_run_examples_include_held_out_questions_from_its_own_data() -> None:
    from peftstudio.data import build_datasets, sample_path
    from peftstudio.models import load_tokenizer
    from peftstudio.playground import run_example_prompts

    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                       data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))))
    prompts = run_example_prompts(config, n_from_data=3)
    assert prompts[:3] == list(profile_examples("chatbot"))
    from_data = prompts[3:]
    assert len(from_data) == 3
    # they are held-out questions: none of them is the user turn of a training example
    tok = load_tokenizer("builtin:tiny-llama")
    splits = build_datasets(config.data, tok, 128, config.training.seed)
    train_text = [tok.decode(e["input_ids"]) for e in splits.train]
    val_text = [tok.decode(e["input_ids"]) for e in splits.validation]
    for q in from_data:
        assert any(q in t for t in val_text) and not any(q in t for t in train_text)
    missing = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                        data=DataSettings(path="/no/such/file.jsonl"))
    assert run_example_prompts(missing) == list(profile_examples("chatbot"))


def test_a_stop_ends_the_answer_half_way_and_keeps_what_was_said() -> None:
    import threading

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    settings = GenerationSettings(temperature=0, max_new_tokens=40)
    full = session.generate("hello there", settings)
    assert not full.stopped and full.tokens == 40
    stop, pieces = threading.Event(), []

    def on_token(text: str) -> None:
        pieces.append(text)
        if len(pieces) == 5:
            stop.set()  # as a Stop button from another thread would, while tokens are coming

    half = session.generate("hello there", settings, on_token=on_token, cancel=stop)  # a piece per token
    assert half.stopped and 5 <= half.tokens < 40
    assert full.text.startswith(half.text) and half.text  # the same greedy answer, cut where it was stopped
    # an event set before anything was generated: nothing is generated
    early = session.generate("hi", settings, cancel=stop)
    assert early.stopped and early.tokens == 0 and early.text == ""


def test_a_stop_from_another_thread_ends_a_long_generation_soon() -> None:
    import threading
    import time

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    start = time.perf_counter()
    answer = session.generate("hi", GenerationSettings(temperature=0, max_new_tokens=5000), cancel=stop)
    assert answer.stopped and 0 < answer.tokens < 5000 and time.perf_counter() - start < 20


def test_a_stopped_comparison_skips_the_base_and_saves_what_was_said(tuned_run: str) -> None:
    import threading

    session = open_playground(tuned_run)
    stop = threading.Event()
    done = []

    def on_token(which: str, text: str) -> None:
        stop.set()

    ex = session.compare("Say hello", GenerationSettings(temperature=0, max_new_tokens=30), on_token=on_token,
                         cancel=stop, on_answer=done.append)
    assert ex.tuned is not None and ex.tuned.stopped and ex.tuned.tokens < 30 and ex.base is None
    assert done == [ex.tuned]
    [saved] = chat_history(tuned_run)
    assert saved.tuned is not None and saved.tuned.stopped and saved.tuned.text == ex.tuned.text
