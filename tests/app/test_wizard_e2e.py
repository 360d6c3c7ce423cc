"""The whole app with real touches: the wizard on builtin:tiny-llama and the sample data, then training
on the dashboard: chart and gauges update, an interrupted run shows the plain error dialog whose action
resumes it, pause, resume, completion. Screenshots of each state go to docs/screenshots/."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from app.controller import Controller
from app.screens.model.model import ModelRow
from app.screens.settings.settings import SettingRow
from app.screens.usecase.usecase import ProfileCard
from tests.app.harness import Ui, frames

pytestmark = pytest.mark.slow

STEPS = 10  # a tiny run: every state of the dashboard is reached within a few minutes on a busy CPU


def type_into(ui: Ui, row: SettingRow, text: str) -> None:
    """Tap the setting's field, type, press Enter (as a person would)."""
    editor = row.editor
    ui.tap(editor)
    editor.text = ""
    editor.insert_text(text)
    editor.dispatch("on_text_validate")
    frames(3)


def test_walk_the_wizard_train_pause_resume_and_finish() -> None:
    ctrl = Controller()
    ui = Ui(ctrl)
    try:
        ctrl.start()
        ui.wait(lambda: ctrl.hardware is not None and len(ctrl.profile_estimates) == len(ctrl.profiles), 90,
                "the machine probe and the profile estimates")
        assert ui.root.current == "home"  # the app opens on the home screen
        ui.tap(ui.button("New training", ui.screen))
        assert ui.root.current == "welcome"
        ui.shot("01-welcome")
        ui.tap(ui.button("Let's start"))
        assert ui.root.current == "usecase"
        assert ui.button("Next").disabled  # nothing chosen yet
        ui.tap(ui.find(ProfileCard, profile_id="chatbot")[0])
        assert ctrl.profile_id == "chatbot"
        ui.shot("02-use-case")
        ui.tap(ui.button("Next"))

        assert ui.root.current == "model"
        # (the screen may still be fading in: its rows are on the window a few frames later)
        rows = {r.option["reference"]: r for r in ui.wait(lambda: ui.find(ModelRow), 10, "the model rows")}
        assert list(rows)[-2:] != ["builtin:smollm2-135m", "builtin:tiny-llama"]  # built-ins come first
        assert [m["reference"] for m in ctrl.models][:2] == ["builtin:smollm2-135m", "builtin:tiny-llama"]
        ui.tap(rows["builtin:tiny-llama"].ids.choose)
        assert ctrl.model_ref == "builtin:tiny-llama"
        ui.shot("03-model")
        ui.tap(ui.button("Next"))

        assert ui.root.current == "data"
        ui.tap(ui.button("Use the sample data (pirate chat)"))
        ui.wait(lambda: ctrl.data_report is not None and not ctrl.data_busy, 180, "the data check")
        assert ctrl.data_report.ok and ctrl.data_preview is not None
        assert ctrl.data_report.dataset_stats is not None  # exact token counts with the model's tokenizer
        assert "Arr!" in ui.screen.ids.preview.text
        ui.shot("04-data")
        ui.tap(ui.button("Next"))

        assert ui.root.current == "settings"
        assert ctrl.plan.stats_assumed is False  # planned from the real data
        ui.shot("05-settings")
        ui.tap(ui.button("Advanced: change any setting"))
        rows = {r.key: r for r in ui.find(SettingRow)}
        type_into(ui, rows["max_steps"], str(STEPS))
        assert ctrl.plan.value("max_steps") == STEPS and ctrl.plan.settings["max_steps"].source == "user"
        type_into(ui, rows["checkpoint_every_steps"], "2")
        type_into(ui, rows["eval_every_steps"], "5")
        ui.shot("06-settings-advanced")
        ui.tap(ui.button("Next"))

        assert ui.root.current == "review"
        before = ui.screen.ids.cost.note
        ui.tap(ui.screen.ids.rate)
        ui.screen.ids.rate.insert_text("0.40")
        frames(3)
        assert ctrl.electricity_rate == pytest.approx(0.40) and ui.screen.ids.cost.note != before
        ui.shot("07-review")
        ui.tap(ui.button("Start training"))
        assert ui.root.current == "dashboard"

        ui.wait(lambda: len(ctrl.loss_points) >= 2, 240, "the first loss points")
        ui.wait(lambda: ctrl.reading.get("cpu_percent") is not None, 30, "a system reading")
        dash = ui.screen
        ui.wait(lambda: dash.ids.gauge_cpu.value >= 0 and len(dash.ids.chart.train_plot.points) >= 2, 10,
                "the chart and the gauges")
        assert dash.ids.gauge_gpu.value == -1  # no GPU on this machine: the gauge says so
        assert len(dash.ids.chart.train_plot.points) >= 2 and dash.ids.chart.zones.bands
        ui.shot("08-dashboard-training")

        # The worker dies (as if the computer crashed): the plain error dialog offers to resume.
        checkpointed = ui.wait(lambda: [e for e in ctrl.store.events(ctrl.run_id, kind="checkpoint")], 120,
                               "a checkpoint")
        assert checkpointed
        os.kill(ctrl.store.get_run(ctrl.run_id).pid, signal.SIGKILL)
        ui.wait(lambda: ui.app.error_dialog is not None and ui.app.error_dialog.parent is not None, 180,
                "the error dialog")
        dialog = ui.app.error_dialog
        assert ctrl.error.code == "interrupted_run" and "Traceback" not in dialog.explanation
        ui.shot("09-error-dialog")
        ui.tap(ui.button("Resume from the last checkpoint", dialog))
        ui.wait(lambda: ctrl.run_status == "running", 120, "the resumed run")
        resumed_from = ctrl.step
        ui.wait(lambda: ctrl.step > resumed_from, 120, "steps after resuming")

        ui.tap(ui.button("Pause"))
        ui.wait(lambda: ctrl.run_status == "paused", 120, "the pause")
        ui.wait(lambda: "Paused at step" in dash.ids.paused_text.plain, 10, "the paused card")
        assert ctrl.pause_info.get("step")
        ui.shot("10-dashboard-paused")
        ui.tap(ui.button("Resume"))
        ui.wait(lambda: ctrl.run_status == "completed", 300, "the end of the run")
        assert ctrl.step == STEPS and ctrl.progress == 1.0
        ui.wait(lambda: ui.root.current == "playground", 10, "the playground, opened by the finished run")
        ui.tap(ui.button("Training summary"))  # the dashboard's finished card is one tap away
        ui.wait(lambda: ui.root.current == "dashboard" and not ui.root.transition.is_active, 10, "the dashboard")
        ui.wait(lambda: "Training finished" in dash.ids.finished_text.plain, 10, "the finished card")
        ui.shot("11-dashboard-finished")
        ui.tap(ui.button("Open playground", dash))  # and back: the finished dashboard leads on
        ui.wait(lambda: ui.root.current == "playground" and ctrl.playground_run_id == ctrl.run_id, 30,
                "the playground again")
        ui.tap(ui.button("Training summary"))
        ui.wait(lambda: ui.root.current == "dashboard" and not ui.root.transition.is_active, 10, "the dashboard")
        ui.tap(ui.button("Home", dash))
        ui.wait(lambda: ui.root.current == "home" and not ui.root.transition.is_active, 10, "home")
    finally:
        ui.close()
        stop_worker(ctrl)


def stop_worker(ctrl: Controller) -> None:
    """Never leave a worker training after a failed test."""
    if ctrl.run_id:
        pid = ctrl.store.get_run(ctrl.run_id).pid
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
