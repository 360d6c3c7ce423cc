"""The home screen with real touches: the app opens on it; a real builtin:tiny-llama run, paused, is listed
with Resume; Resume continues it on the dashboard and, finished, it opens in the playground; back home it
offers Playground and Export; the big buttons lead to the wizard, presets, comparison and versions.
Screenshots 20 and 24 go to docs/screenshots/."""

from __future__ import annotations

import pytest

from app.controller import Controller
from app.screens.home.home import RunCard
from peftstudio.engine import pause_run, start_run
from peftstudio.hardware import simulated_hardware
from tests.app.harness import Ui
from tests.app.test_playground_screen import stop_worker, tiny_run_config

pytestmark = pytest.mark.slow


def card_for(ui: Ui, run_id: str) -> RunCard:
    return ui.wait(lambda: next((c for c in ui.find(RunCard) if c.run["id"] == run_id), None), 10, "the run's card")


def test_home_lists_runs_resumes_a_paused_one_and_leads_everywhere() -> None:
    ctrl = Controller(hardware=simulated_hardware())
    ui = Ui(ctrl)
    run_id = ""
    try:
        assert ui.root.current == "home"
        ctrl.start()
        ui.wait(lambda: ctrl.home_loaded, 30, "the runs")
        assert "No runs yet" in ui.screen.ids.empty.plain

        # A real run, paused at a step boundary (as the dashboard's Pause or the CLI would).
        run_id = start_run(tiny_run_config(max_steps=12), ctrl.store, name="Pirate chat")
        ui.wait(lambda: ctrl.store.metrics(run_id, "loss"), 300, "the first training step")
        paused = pause_run(run_id, ctrl.store, wait=True, timeout=300)
        assert paused.status == "paused"
        ui.tap(ui.button("Refresh"))
        card = card_for(ui, run_id)
        ui.wait(lambda: card.run["status"] == "paused", 10, "the paused status")
        assert card.ids.status.text == "Paused" and "paused at step" in card.run["detail"]
        ui.shot("20-home")

        # Resume: the library continues the run from its checkpoint; finished, it opens in the playground.
        ui.tap(ui.button("Resume", card))
        ui.wait(lambda: ui.root.current == "dashboard", 60, "the dashboard")
        ui.wait(lambda: ctrl.run_id == run_id and ctrl.run_status in ("queued", "running", "completed"), 60,
                "the resumed run")
        ui.wait(lambda: ctrl.run_status == "completed", 300, "the end of the run")
        ui.wait(lambda: ui.root.current == "playground" and ctrl.playground_run_id == run_id, 10, "the playground")

        # Home again: the finished run offers the playground and the export.
        ui.tap(ui.button("Home"))
        ui.wait(lambda: ui.root.current == "home", 5, "the home screen")
        card = card_for(ui, run_id)
        ui.wait(lambda: card.run["status"] == "completed", 10, "the finished status")
        assert [b.text for b in reversed(card.ids.actions.children)] == ["Playground", "Export"]
        ui.shot("24-home-finished")
        ui.tap(ui.button("Export", card))
        ui.wait(lambda: ctrl.screen_request == "export", 10, "the export screen")
        ctrl.go_home()
        ui.wait(lambda: ui.root.current == "home", 5, "the home screen")
        ui.tap(ui.button("Playground", card_for(ui, run_id)))
        ui.wait(lambda: ui.root.current == "playground", 5, "the playground")
        assert ctrl.playground_run_id == run_id

        # The big buttons.
        for label, screen in (("Presets", "presets"), ("Compare runs", "compare"), ("Versions", "versions"),
                              ("New training", "welcome")):
            ctrl.go_home()
            ui.wait(lambda: ui.root.current == "home" and not ui.root.transition.is_active, 5, "the home screen")
            ui.tap(ui.button(label, ui.screen))
            ui.wait(lambda s=screen: ctrl.screen_request == s, 10, f"the {screen} screen")
            if screen in ui.root.screen_names:
                ui.wait(lambda s=screen: ui.root.current == s, 10, f"the {screen} screen shown")
        assert ui.root.current == "welcome"
    finally:
        ui.close()
        stop_worker(ctrl, run_id)
