"""The playground's controller part without a window, and its words: generation settings typed by the user,
answers as a label can show them, chips, saved exchanges; a followed run that completes opens the
playground by itself (and one that was already finished does not); streamed text reaches the
properties on the UI thread only, in few updates."""

from __future__ import annotations

import threading
import time

import pytest
from kivy.clock import Clock

from app import present_playground as words
from app.controller import Controller
from app.widgets.prompt_chip import chip_label
from peftstudio import open_store
from peftstudio.playground import Answer, Exchange, GenerationSettings
from tests.app.helpers import fake_run


@pytest.mark.parametrize(("key", "text", "value"), [
    ("temperature", "0.5", 0.5), ("temperature", "0,5", 0.5), ("temperature", "0", 0.0), ("top_p", "1", 1.0),
    ("max_new_tokens", " 32 ", 32), ("max_new_tokens", "64.0", 64), ("seed", "7", 7),
    ("system_prompt", "  Answer like a pirate ", "Answer like a pirate"), ("system_prompt", "", ""),
])
def test_generation_settings_are_read_from_typed_text(key: str, text: str, value: object) -> None:
    parsed = words.parse_generation(key, text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(("key", "text", "message"), [
    ("temperature", "hot", "Temperature must be a number, not 'hot'."),
    ("temperature", "-1", "Temperature must be between 0 and 2."),
    ("temperature", "nan", "Temperature must be between 0 and 2."),
    ("top_p", "0", "Top-p must be between 0.05 and 1."),
    ("max_new_tokens", "2.5", "Answer length must be a whole number."),
    ("max_new_tokens", "0", "Answer length must be between 1 and 1024."),
    ("seed", "", "Seed must be a number, not ''."),
    ("colour", "red", "There is no setting called 'colour'."),
])
def test_a_bad_generation_setting_is_explained(key: str, text: str, message: str) -> None:
    with pytest.raises(words.SettingProblem) as caught:
        words.parse_generation(key, text)
    assert str(caught.value) == message


@pytest.mark.parametrize(("text", "shown"), [
    ("Arr, matey!\nYo ho.", "Arr, matey!\nYo ho."), ("a\x04b\x1a", "a\ufffdb\ufffd"), ("tab\there", "tab\there"),
    ("\x04\x04", "\ufffd\ufffd"), ("caf\u00e9 \U0001f3f4", "caf\u00e9 \U0001f3f4"),
])
def test_answers_are_shown_without_control_characters(text: str, shown: str) -> None:
    assert words.visible_text(text) == shown


@pytest.mark.parametrize(("prompt", "label"), [
    ("What is 2 plus 2?", "What is 2 plus 2?"),
    ("  spaced   out\nprompt ", "spaced out prompt"),
    ("Summarize: The town council met on Monday and agreed to repair the old bridge before winter.",
     "Summarize: The town council met on Monday and agreed to…"),
    ("x" * 80, "x" * 59 + "…"),
])
def test_example_chips_show_the_start_of_long_prompts(prompt: str, label: str) -> None:
    assert chip_label(prompt) == label and len(label) <= 60


@pytest.mark.parametrize(("age", "said"), [(5, "just now"), (125, "2 min ago"), (3 * 3600 + 5, "3 h ago")])
def test_when_an_exchange_was_saved(age: float, said: str) -> None:
    assert words.when(1_000_000.0, now=1_000_000.0 + age) == said


def test_a_saved_exchange_as_the_history_lists_it() -> None:
    tuned = Answer(text="Arr\x04!", tokens=4, seconds=2.0, first_token_seconds=0.5, model="tuned")
    exchange = Exchange(prompt="Hello", tuned=tuned, base=None, settings=GenerationSettings(temperature=0),
                        time=1000.0, run_id="run-1", id=7)
    row = words.exchange_row(exchange, now=1030.0)
    assert row == {"id": 7, "prompt": "Hello", "tuned": "Arr\ufffd!", "base": "",
                   "tuned_stats": "4 tokens in 2.0 s (2.0 tokens/s), first word after 0.5 s",
                   "base_stats": "The base model was not asked.", "when": "just now",
                   "settings": "most likely words (temperature 0), up to 128 tokens, seed 0"}


# ---------------------------------------------------------------- the controller

@pytest.fixture()
def ctrl() -> Controller:
    return Controller(poll_interval=60)  # polls only when the test says so


def test_generation_settings_change_and_refuse_bad_values(ctrl: Controller) -> None:
    assert ctrl.set_generation("temperature", "0.2") and ctrl.set_generation("max_new_tokens", "16")
    assert ctrl.generation_settings() == GenerationSettings(temperature=0.2, top_p=0.9, max_new_tokens=16, seed=0)
    assert not ctrl.set_generation("top_p", "5")
    assert ctrl.generation_problem == "Top-p must be between 0.05 and 1." and ctrl.generation["top_p"] == 0.9
    ctrl.reset_generation()
    assert ctrl.generation == words.DEFAULT_GENERATION and ctrl.generation_problem == ""


def test_a_followed_run_that_completes_opens_the_playground(ctrl: Controller) -> None:
    store = open_store()
    run_id = fake_run(store)
    ctrl.follow(run_id)
    assert ctrl.wait_idle() and ctrl.run_status == "running" and ctrl.screen_request == ""
    store.update_run(run_id, status="completed", summary={"total_steps": 100, "steps": 100})
    ctrl.poll()
    assert ctrl.wait_idle()
    assert ctrl.screen_request == "playground" and ctrl.playground_run_id == run_id
    # This run has no trained adapter (no worker made one): the playground says so in plain words.
    assert ctrl.playground_state == "failed" and "not there yet" in ctrl.playground_message
    assert ctrl.ask("Hello?") is False


def test_a_run_already_finished_when_followed_does_not_open_the_playground(ctrl: Controller) -> None:
    store = open_store()
    running = fake_run(store)
    ctrl.follow(running)
    assert ctrl.wait_idle()
    done = fake_run(store)
    store.update_run(done, status="completed")
    ctrl.follow(done)  # e.g. "Details" of a finished run on the home screen
    assert ctrl.wait_idle() and ctrl.run_status == "completed"
    assert ctrl.screen_request == "" and ctrl.playground_run_id == ""


def test_opening_an_unknown_run_says_so_plainly(ctrl: Controller) -> None:
    ctrl.open_run_in_playground("run-that-does-not-exist")
    assert ctrl.screen_request == "playground" and ctrl.playground_state == "loading"
    assert ctrl.ask("Hi") is True  # waits for the model...
    assert ctrl.wait_idle()
    assert ctrl.playground_state == "failed" and "run-that-does-not-exist" in ctrl.playground_message
    assert ctrl.error is None  # shown on the playground itself, not as a dialog


def test_streamed_text_reaches_the_properties_on_the_ui_thread_in_few_updates(ctrl: Controller) -> None:
    ctrl.playground_state = "answering"
    updates: list[tuple[str, str]] = []
    ctrl.bind(tuned_answer=lambda _c, text: updates.append((threading.current_thread().name, text)))
    pieces = [f"word{i} " for i in range(300)]

    def generate() -> None:  # as the library's generating thread calls back
        for piece in pieces:
            ctrl._streamed("tuned", piece)

    worker = threading.Thread(target=generate)
    worker.start()
    worker.join()
    assert updates == []  # nothing touched off the UI thread
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (not updates or updates[-1][1] != "".join(pieces)):
        Clock.tick()
    assert updates[-1][1] == "".join(pieces)
    assert {name for name, _ in updates} == {threading.main_thread().name}
    assert len(updates) <= 3  # one per frame, not one per piece


def test_the_playground_starts_with_the_profile_s_temperature(ctrl: Controller) -> None:
    """Code generation starts at temperature 0.2 (requirement 3.5), in the app as in the CLI."""
    from peftstudio.playground import PlaygroundSession

    session = PlaygroundSession("builtin:tiny-llama", profile="code-generation", save_history=False)
    assert session.default_settings().temperature == 0.2
    ctrl._session = session
    ctrl.reset_generation()
    assert ctrl.generation["temperature"] == 0.2 and ctrl.generation_settings().temperature == 0.2
    assert PlaygroundSession("builtin:tiny-llama", profile="chatbot").default_settings().temperature == 0.7
