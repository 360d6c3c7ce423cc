"""The playground with real touches on a real builtin:tiny-llama run: a run the app follows to completion
lands in the playground; an example chip gets an answer from both models, streamed; the advanced settings
change what is asked; the saved history is browsable; the training summary stays reachable.
Screenshots 21-23 go to docs/screenshots/."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from app.controller import Controller
from app.screens.playground.playground import HistoryRow, SettingField
from app.widgets.prompt_chip import PromptChip
from peftstudio.data import sample_path
from peftstudio.engine import start_run
from peftstudio.hardware import simulated_hardware
from peftstudio.playground import chat_history
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
from tests.app.harness import Ui, frames

pytestmark = pytest.mark.slow


def tiny_run_config(max_steps: int = 6) -> RunConfig:
    training = TrainingSettings(learning_rate=2e-2, max_steps=max_steps, micro_batch_size=2, gradient_accumulation=1,
                                sequence_length=128, eval_every_steps=max_steps, checkpoint_every_steps=2, seed=0)
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                     data=DataSettings(path=str(sample_path("pirate_chat.jsonl"))), training=training)


def type_into(ui: Ui, field: SettingField, text: str) -> None:
    editor = field.ids.field
    ui.tap(editor)
    editor.text = ""
    editor.insert_text(text)
    editor.dispatch("on_text_validate")
    frames(3)


def test_completing_a_run_lands_in_the_playground_with_an_answer_from_both_models() -> None:
    ctrl = Controller(hardware=simulated_hardware())
    ui = Ui(ctrl)
    run_id = ""
    try:
        ctrl.start()
        run_id = start_run(tiny_run_config(), ctrl.store, name="Pirate chat")
        ctrl.follow(run_id)
        ui.root.current = "dashboard"
        ui.wait(lambda: ctrl.run_status == "completed", 300, "the end of the run")

        # The finished run opens in the playground by itself, with the run's example prompts as chips.
        ui.wait(lambda: ui.root.current == "playground", 10, "the playground")
        assert ctrl.playground_run_id == run_id
        ui.wait(lambda: ctrl.playground_state == "ready", 180, "the trained model to load")
        screen = ui.screen
        chips = ui.find(PromptChip, screen.ids.chips)
        assert [c.prompt for c in chips] == ctrl.playground_examples and len(chips) >= 3
        ui.wait(lambda: "Pirate chat" in screen.ids.title.text, 10, "the run's name in the title")

        # Tap an example: both models answer, side by side, the text arriving piece by piece.
        ctrl.set_generation("max_new_tokens", "24")
        seen: list[str] = []
        ctrl.bind(tuned_answer=lambda _c, text: seen.append(text))
        ui.tap(chips[0])
        assert ctrl.playground_prompt == chips[0].prompt
        ui.wait(lambda: ctrl.playground_state == "ready" and ctrl.base_answer, 180, "both answers")
        assert ctrl.tuned_answer and ctrl.base_answer
        assert screen.ids.tuned.answer == ctrl.tuned_answer and screen.ids.base.answer == ctrl.base_answer
        assert len(seen) >= 3, f"the answer did not stream: {seen}"  # cleared, then pieces, then the final text
        assert "tokens/s" in ctrl.tuned_stats and "tokens/s" in ctrl.base_stats
        saved = chat_history(run_id, store=ctrl.store)
        assert len(saved) == 1 and saved[0].prompt == chips[0].prompt and saved[0].base is not None
        ui.shot("21-playground")

        # Advanced: generation settings behind the expander; a bad value is explained, a good one is used.
        ui.tap(ui.button("Advanced: generation settings"))
        fields = {f.key: f for f in ui.find(SettingField)}
        assert set(fields) == {"temperature", "top_p", "max_new_tokens", "seed", "system_prompt"}
        type_into(ui, fields["temperature"], "7")
        assert "between 0 and 2" in ui.screen.ids.generation_problem.text
        type_into(ui, fields["temperature"], "0")
        assert ctrl.generation["temperature"] == 0 and not ctrl.generation_problem
        ui.tap(ui.button("Also ask the original model: on"))
        assert ctrl.compare_base is False
        ui.shot("22-playground-advanced")
        prompt = screen.ids.prompt
        ui.tap(prompt)
        prompt.insert_text("Where be the treasure?")
        ui.tap(ui.button("Ask"))
        ui.wait(lambda: ctrl.playground_state == "ready" and ctrl.tuned_answer, 180, "the second answer")
        assert ctrl.playground_prompt == "Where be the treasure?" and ctrl.base_answer == ""
        second = chat_history(run_id, store=ctrl.store)[-1]
        assert second.settings.temperature == 0 and second.settings.max_new_tokens == 24 and second.base is None

        # The saved history, newest first; "Show" brings an older exchange back.
        ui.tap(ui.button("Hide advanced settings"))
        ui.tap(ui.button("History (2 saved)"))
        frames(6)  # the rows are laid out
        rows = ui.find(HistoryRow, screen.ids.history_box)
        assert [r.row["prompt"] for r in rows] == ["Where be the treasure?", chips[0].prompt]
        ui.shot("23-playground-history")
        ui.tap(rows[1].ids.show_button)
        assert ctrl.playground_prompt == chips[0].prompt
        assert ctrl.base_answer == rows[1].row["base"] != "" and ctrl.tuned_answer == rows[1].row["tuned"]
        rows = ui.find(HistoryRow, screen.ids.history_box)
        assert [r.selected for r in rows] == [False, True]

        # The dashboard's finished summary is one tap away.
        ui.tap(ui.button("Training summary"))
        ui.wait(lambda: ui.root.current == "dashboard", 5, "the dashboard")
        ui.wait(lambda: "Training finished" in ui.screen.ids.finished_text.plain, 10, "the finished card")
    finally:
        ui.close()
        stop_worker(ctrl, run_id)


def stop_worker(ctrl: Controller, run_id: str) -> None:
    """Never leave a worker training after a failed test."""
    if run_id:
        pid = ctrl.store.get_run(run_id).pid
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
