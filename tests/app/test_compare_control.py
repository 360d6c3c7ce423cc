"""Run comparison through the controller, without a window: the table and its sorting, choosing 2-5 runs,
the comparison (best per metric, differences), words for the screen, and cloning a run into the wizard."""

from __future__ import annotations

from typing import Any

import pytest

from app import present_compare as show
from app.control.compare import toggled
from app.controller import Controller
from peftstudio import open_store
from peftstudio.hardware import simulated_hardware
from peftstudio.history import runs_table
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings


def stored_run(store: Any, name: str, lr: float, losses: list[float], *, seconds: float, data_path: str = "x.jsonl",
               quality: int | None = None) -> str:
    """A completed run written to the store the way the engine writes one (metrics per step, a summary)."""
    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path=data_path),
                       training=TrainingSettings(learning_rate=lr, max_steps=len(losses)), name=name)
    run = store.create_run(config, name=name)
    for step, loss in enumerate(losses, 1):
        store.add_metrics(run.id, step, {"loss": loss, "tokens_per_second": 1000 / seconds,
                                         "eta_seconds": 9.0}, tokens_seen=step * 200)
    store.add_metrics(run.id, len(losses), {"val_loss": losses[-1] + 0.1}, tokens_seen=len(losses) * 200)
    summary: dict[str, Any] = {"duration_seconds": seconds, "final_val_loss": losses[-1] + 0.1}
    if quality is not None:
        summary["quality"] = {"total": quality, "parts": []}
    store.update_run(run.id, status="completed", summary=summary, finished_at=1_000_000.0 + seconds)
    return run.id


@pytest.fixture()
def ctrl() -> Controller:
    c = Controller(hardware=simulated_hardware())
    c.start()
    assert c.wait_idle()
    return c


@pytest.fixture()
def three() -> list[str]:
    s = open_store()
    return [stored_run(s, "Fast", 2e-2, [3.0, 2.0, 1.5], seconds=10, quality=60),
            stored_run(s, "Slow", 5e-3, [3.0, 2.5, 2.2], seconds=40, quality=40),
            stored_run(s, "Best", 1e-2, [3.0, 1.8, 1.2], seconds=20, quality=80)]


@pytest.mark.parametrize(("chosen", "run", "expected"), [
    ([], "a", ["a"]), (["a"], "a", []), (["a", "b"], "c", ["a", "b", "c"]),
    (list("abcde"), "f", list("abcde")), (list("abcde"), "c", list("abde"))])
def test_toggled(chosen: list[str], run: str, expected: list[str]) -> None:
    assert toggled(chosen, run) == expected


def test_the_quality_report_fills_the_quality_column(three: list[str]) -> None:
    assert {r.name: r.quality_score for r in runs_table(store=open_store())} == {"Fast": 60, "Slow": 40, "Best": 80}


def test_table_sorts_by_any_column_and_flips(ctrl: Controller, three: list[str]) -> None:
    ctrl.refresh_runs()
    ctrl.wait_idle()
    assert [r.name for r in ctrl.compare_rows] == ["Slow", "Best", "Fast"]  # newest first
    ctrl.sort_runs("final_val_loss")
    assert [r.name for r in ctrl.compare_rows] == ["Best", "Fast", "Slow"] and not ctrl.compare_descending
    ctrl.sort_runs("final_val_loss")
    assert [r.name for r in ctrl.compare_rows] == ["Slow", "Fast", "Best"]
    ctrl.sort_runs("quality_score")
    assert [r.name for r in ctrl.compare_rows] == ["Best", "Fast", "Slow"]  # highest first
    with pytest.raises(ValueError, match="unknown column"):
        ctrl.sort_runs("colour")


def test_choosing_runs_compares_them(ctrl: Controller, three: list[str]) -> None:
    fast, slow, best = three
    ctrl.toggle_compared(fast)
    ctrl.wait_idle()
    assert ctrl.comparison is None  # one run is no comparison
    ctrl.toggle_compared(slow)
    ctrl.toggle_compared(best)
    ctrl.wait_idle()
    c = ctrl.comparison
    assert c.run_ids == (fast, slow, best)
    assert c.best["final_val_loss"] == best and c.best["duration_seconds"] == fast
    assert c.best["quality_score"] == best
    charts = show.charts(c)
    assert [ch.name for ch in charts] == ["loss", "val_loss", "tokens_per_second"]  # no ETA chart
    names = {fast: "Fast", slow: "Slow", best: "Best"}
    assert show.chart_subtitle(charts[0], names) == "lower is better; lowest reached: Best (1.2)"
    assert show.series(charts[0])[best] == [(1.0, 3.0), (2.0, 1.8), (3.0, 1.2)]
    assert show.series(charts[0], "tokens")[best][-1] == (600.0, 1.2)
    assert show.differences(c, names) == [("Learning rate", "Fast: 0.02 \u00b7 Slow: 0.005 \u00b7 Best: 0.01")]
    assert show.best_columns(c, best) >= {"final_val_loss", "best_val_loss", "quality_score"}
    ctrl.toggle_compared(slow)
    ctrl.wait_idle()
    assert ctrl.comparison.run_ids == (fast, best)


def test_at_most_five_runs(ctrl: Controller) -> None:
    s = open_store()
    ids = [stored_run(s, f"R{i}", 1e-3 * (i + 1), [2.0, 1.0], seconds=5 + i) for i in range(6)]
    assert all(ctrl.toggle_compared(r) for r in ids[:5])
    assert ctrl.toggle_compared(ids[5]) is False
    ctrl.wait_idle()
    assert len(ctrl.comparison.run_ids) == 5


@pytest.mark.parametrize(("column", "value", "text"), [
    ("final_val_loss", 1.23456, "1.23"), ("quality_score", 71.2, "71 / 100"), ("duration_seconds", 3725, "1 h 2 min"),
    ("tokens_per_second", 15234.2, "15,234"), ("tokens_per_second", 3.456, "3.5"), ("cost", 0.5, "0.50"),
    ("cost", None, "\u2013")])
def test_cells(column: str, value: Any, text: str) -> None:
    assert show.cell(column, value) == text


def test_clone_prefills_the_wizard_with_the_runs_settings(ctrl: Controller) -> None:
    s = open_store()
    run = stored_run(s, "Mine", 7e-3, [2.0, 1.0], seconds=5, data_path=ctrl.sample_data_path())
    ctrl.clone_into_wizard(run)
    ctrl.wait_idle(120)
    ctrl.wait_idle(120)  # the data check the clone starts
    assert (ctrl.profile_id, ctrl.model_ref, ctrl.data_path) == ("chatbot", "builtin:tiny-llama",
                                                                  ctrl.sample_data_path())
    assert ctrl.overrides["learning_rate"] == 7e-3 and ctrl.overrides["max_steps"] == 2
    assert ctrl.plan.value("learning_rate") == 7e-3
    assert ctrl.screen_request == "review" and ctrl.wizard_reached >= 5


def test_a_clone_whose_data_is_gone_asks_for_data(ctrl: Controller) -> None:
    run = stored_run(open_store(), "Moved", 7e-3, [2.0, 1.0], seconds=5, data_path="/nowhere/chat.jsonl")
    ctrl.clone_into_wizard(run)
    ctrl.wait_idle()
    assert ctrl.screen_request == "data" and ctrl.overrides["learning_rate"] == 7e-3
