"""Screens in their other states, with real touches: a dataset with problems and its Fix button, an
injected divergence banner with its actions, the plain error dialog, and the dashboard's frame time
while metrics stream in."""

from __future__ import annotations

import json
import statistics
import threading
import time
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.widgets.banner import Banner
from app.widgets.finding_row import FindingRow
from peftstudio import open_store
from peftstudio.errors import make
from tests.app.harness import Ui, frames, probed_ui
from tests.app.helpers import broken_dataset, fake_run


@pytest.fixture()
def ui() -> Iterator[Ui]:
    with probed_ui() as ui:
        ui.ctrl.choose_profile("chatbot")
        ui.ctrl.choose_model("builtin:tiny-llama")
        yield ui


@pytest.mark.slow
def test_data_with_errors_shows_findings_and_the_fix_button_fixes_them(ui: Ui, tmp_path: Path) -> None:
    ctrl = ui.ctrl
    ui.root.current = "data"
    frames(3)
    path = broken_dataset(tmp_path)
    ui.window.dispatch("on_drop_file", str(path).encode(), 200, 200)  # dragged onto the window
    ui.wait(lambda: ctrl.data_report is not None and not ctrl.data_busy, 300, "the data check")
    rows = ui.find(FindingRow)
    broken = next(r for r in rows if r.fix_id == "drop_malformed")
    assert broken.severity == "error" and "6" in broken.rows_text and "13" in broken.rows_text
    assert ui.button("Next").disabled and "Fix the problems" in ui.screen.hint
    ui.shot("12-data-findings")
    ui.tap(broken.ids.fix_button)
    ui.wait(lambda: ctrl.data_report is not None and ctrl.data_report.ok and not ctrl.data_busy, 300, "the fix")
    assert "cleaned" in ctrl.data_path and not any(r.fix_id == "drop_malformed" for r in ui.find(FindingRow))
    assert not ui.button("Next").disabled
    ui.shot("13-data-fixed")


def test_injected_divergence_shows_a_banner_with_actions(ui: Ui) -> None:
    ctrl = ui.ctrl
    store = open_store()
    run_id = fake_run(store)
    for step in range(1, 9):
        store.add_metrics(run_id, step, {"loss": [3.2, 2.9, 2.6, 2.4, 2.3, 2.2, 6.5, 9.1][step - 1],
                                         "tokens_per_second": 850.0})
        if step % 4 == 0:
            store.add_metrics(run_id, step, {"val_loss": 2.7 - step * 0.05})
    store.add_reading(run_id, {"cpu_percent": 63.0, "ram_percent": 41.0, "ram_used_bytes": 9 * 2**30,
                               "ram_total_bytes": 23 * 2**30, "gpus": [
                                   {"name": "RTX 3060", "utilization_percent": 97.0, "memory_percent": 81.0,
                                    "memory_used_bytes": int(9.7 * 2**30), "memory_total_bytes": 12 * 2**30,
                                    "temperature_c": 74.0}]})
    # what the divergence guard writes when it pauses a run: an event with suggestions, and the run's error
    from peftstudio.records.convert import to_dict

    err = make("nan_loss", value="9.1", step=8, suggested_lr="0.000067")
    store.update_run(run_id, status="paused", error=to_dict(err.info),
                     summary={"total_steps": 100, "pause": {"step": 8, "elapsed_seconds": 95.0,
                                                            "remaining_seconds": 1100.0}})
    store.add_event(run_id, "divergence", "The loss jumped from 2.2 to 9.1 in two steps and stayed there: "
                    "training became unstable. The run was paused; the last good checkpoint is kept.", step=8,
                    data={"suggestions": ["Resume with a learning rate of 0.000067 (a third of the current one).",
                                          "Check the data for broken or very long examples."],
                          "action": "pause", "reason": "loss_rising", "error_code": "nan_loss"})
    ui.root.current = "dashboard"
    ctrl.follow(run_id)
    ui.wait(lambda: ui.find(Banner), 30, "the banner")
    ui.wait(lambda: ui.screen.status_text == "Paused" and len(ui.screen.ids.chart.train_plot.points) == 8, 10,
            "the dashboard's throttled refresh")
    [banner] = ui.find(Banner)
    assert banner.title == "Training became unstable" and "9.1" in banner.message
    assert [a["label"] for a in banner.actions] == [a.label for a in err.info.actions] + ["Dismiss"]
    assert "0.000067" in banner.advice
    ui.shot("14-dashboard-divergence")
    ui.tap(ui.button("Check the data for broken examples", banner))  # a manual action shows its steps
    dialogs = [w for w in ui.window.children if w.__class__.__name__ == "StepsDialog"]
    assert dialogs and "Run the data check" in dialogs[0].steps_text
    ui.tap(ui.button("OK", dialogs[0]))
    ui.wait(lambda: dialogs[0].parent is None, 5, "the steps dialog to close")
    ui.tap(ui.button("Dismiss", banner))
    assert not ui.find(Banner) and ctrl.banners == []
    ctrl.stop_following()


def test_gauges_show_a_gpu_reading(ui: Ui) -> None:
    ctrl = ui.ctrl
    store = open_store()
    run_id = fake_run(store)
    store.add_metrics(run_id, 1, {"loss": 2.0})
    store.add_reading(run_id, {"cpu_percent": 63.0, "ram_percent": 41.0, "ram_used_bytes": 9 * 2**30,
                               "ram_total_bytes": 23 * 2**30, "gpus": [
                                   {"name": "RTX 3060", "utilization_percent": 97.0, "memory_percent": 81.0,
                                    "memory_used_bytes": int(9.7 * 2**30), "memory_total_bytes": 12 * 2**30,
                                    "temperature_c": 74.0}]})
    ui.root.current = "dashboard"
    ctrl.follow(run_id)
    dash = ui.screen
    ui.wait(lambda: dash.ids.gauge_gpu.value == 97.0, 30, "the GPU gauge")
    assert dash.ids.gauge_gpu_memory.value == 81.0 and dash.ids.gauge_gpu_temp.value == 74.0
    assert dash.ids.gauge_cpu.value == 63.0 and "9.7 GB of 12.0 GB" == dash.ids.gauge_gpu_memory.detail
    ui.shot("16-dashboard-gpu-gauges")
    dialog = dash.open_notifications()
    frames(4)
    ui.tap(dialog.switch_progress)
    assert ctrl.notifications["progress"] is False and dialog.switch_progress.text == "Off"
    ui.shot("17-notification-settings")
    ui.tap(ui.button("Done", dialog))
    ui.wait(lambda: dialog.parent is None, 5, "the dialog to close")
    ctrl.stop_following()


def test_an_error_shows_the_plain_dialog_with_actions_and_help(ui: Ui, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    ctrl = ui.ctrl
    ui.root.current = "model"
    frames(2)
    ctrl.fail(make("model_offline", reference="meta-llama/Llama-3.1-8B-Instruct"))
    ui.wait(lambda: ui.app.error_dialog is not None and ui.app.error_dialog.parent is not None, 10, "the dialog")
    dialog = ui.app.error_dialog
    labels = [b.text for b in ui.find(type(ui.button("Get help", dialog)), dialog.ids.actions)]
    assert 2 <= len(labels) <= 3 and "Traceback" not in dialog.explanation
    assert dialog.title == "This model must be downloaded, and there is no internet connection"
    ui.shot("15-error-dialog")
    ui.tap(ui.button("Get help", dialog))
    assert opened and opened[0].endswith("docs/errors.md#model-offline")
    assert dialog.ids.help_button.text == "Opened the help page"
    ui.tap(ui.button("Connect to the internet and try again", dialog))  # manual: the steps are shown
    assert "Check your network connection" in dialog.steps_text
    ui.tap(ui.button("Use a built-in model instead", dialog))  # automatic: applied, dialog closed
    assert ctrl.model_ref == "builtin:smollm2-135m" and ctrl.error is None
    ui.wait(lambda: dialog.parent is None, 5, "the dialog to close")


def draw_timer(window):  # type: ignore[no-untyped-def]
    """Wrap the window's draw and flip to count the time spent rasterizing (restore with the returned fn)."""
    spent = [0.0]
    draw, flip = window.on_draw, window.on_flip

    def timed(fn):  # type: ignore[no-untyped-def]
        def run(*args):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                spent[0] += time.perf_counter() - t0
        return run

    window.on_draw, window.on_flip = timed(draw), timed(flip)

    def restore() -> None:
        window.on_draw, window.on_flip = draw, flip

    return spent, restore


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@pytest.mark.slow
def test_frame_time_while_streaming_ten_metrics_per_second(ui: Ui, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's one timing requirement: frames stay under 50 ms while 10 metric events/s arrive for 10 s.

    Each frame's time is split into the app's work (clock callbacks, layout, text, the chart's points)
    and the window's drawing. Here the drawing is Mesa's software renderer on a shared CPU (without
    anti-aliasing, see `app.display`), which costs about the same for any full-window redraw (the static
    baseline below); with a GPU it is a few ms. Both the app's part and the whole frame are asserted
    (95th percentile); the figures are printed for the record.
    """
    ctrl = ui.ctrl
    store = open_store()
    run_id = fake_run(store)
    ui.root.current = "dashboard"
    ctrl.follow(run_id)
    frames(10)
    spent, restore = draw_timer(ui.window)
    # baseline: what one redraw of this screen costs on this machine, with nothing streaming
    baseline = []
    for i in range(6):
        ui.screen.ids.speed.text = f"baseline {i}"
        t0 = time.perf_counter()
        frames(1)
        baseline.append(time.perf_counter() - t0)
        time.sleep(0.05)
    stop = threading.Event()

    def stream() -> None:
        step = 0
        while not stop.is_set():
            step += 1
            store.add_metrics(run_id, step, {"loss": 3.0 / (1 + step / 30), "tokens_per_second": 900.0 + step,
                                             "eta_seconds": 100.0 - step / 10})
            if step % 20 == 0:
                store.add_reading(run_id, {"cpu_percent": 50.0 + step % 40, "ram_percent": 40.0,
                                           "ram_used_bytes": 9 * 2**30, "ram_total_bytes": 23 * 2**30, "gpus": []})
            time.sleep(0.1)

    writer = threading.Thread(target=stream, daemon=True)
    writer.start()
    full: list[float] = []
    app: list[float] = []
    end = time.monotonic() + 10.0
    try:
        while time.monotonic() < end:
            spent[0] = 0.0
            t0 = time.perf_counter()
            frames(1)
            full.append(time.perf_counter() - t0)
            app.append(full[-1] - spent[0])
            time.sleep(max(0.0, 1 / 60 - full[-1]))  # a 60 fps display
    finally:
        stop.set()
        writer.join()
        restore()
        ctrl.stop_following()
    assert len(ui.screen.ids.chart.train_plot.points) >= 50  # the chart really followed the stream
    ms = lambda v: round(v * 1000, 1)
    result = {"frames": len(full), "app_p95_ms": ms(percentile(app, 0.95)), "app_max_ms": ms(max(app)),
              "frame_p50_ms": ms(percentile(full, 0.5)), "frame_p95_ms": ms(percentile(full, 0.95)),
              "frame_max_ms": ms(max(full)), "static_redraw_ms": ms(statistics.median(baseline)),
              "redraws": ui.screen.redraws}
    with capsys.disabled():
        print("\nframe_time " + json.dumps(result))
    assert percentile(app, 0.95) < 0.050, result  # the app's own work per frame
    assert percentile(full, 0.95) < 0.050, result  # the whole frame, drawing included
