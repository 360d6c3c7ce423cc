"""The controller without a window: the wizard's state, planning, data checks and fixes, following a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.controller import Controller
from peftstudio import open_store
from peftstudio.errors import make
from peftstudio.hardware import simulated_hardware
from tests.app.helpers import broken_dataset, fake_run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def ctrl() -> Controller:
    c = Controller(hardware=simulated_hardware())
    c.start()
    assert c.wait_idle()
    return c


def test_no_window_is_opened_by_the_controller() -> None:
    code = ("import sys; from app.controller import Controller; c = Controller(); c.start(); c.wait_idle(); "
            "c.choose_profile('classification'); assert c.plan is not None; "
            "assert 'kivy.core.window' not in sys.modules, 'a window was created'; "
            "assert 'torch' not in sys.modules, 'torch was imported for planning'")
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_start_probes_and_estimates_every_profile(ctrl: Controller) -> None:
    assert ctrl.hardware is not None and "processor" in ctrl.hardware_text
    assert set(ctrl.profile_estimates) == {p.id for p in ctrl.profiles}
    assert all(text.startswith("On this computer:") for text in ctrl.profile_estimates.values())


def test_choosing_a_profile_lists_models_with_builtins_first_and_plans(ctrl: Controller) -> None:
    ctrl.choose_profile("chatbot")
    refs = [m["reference"] for m in ctrl.models]
    assert refs[:2] == ["builtin:smollm2-135m", "builtin:tiny-llama"]
    assert any(not m["fits"] for m in ctrl.models) or all(m["fits"] for m in ctrl.models)
    assert all(m["where"] for m in ctrl.models)
    ctrl.choose_model("builtin:tiny-llama")
    assert ctrl.plan.model == "builtin:tiny-llama" and ctrl.plan.profile == "chatbot"


def test_a_model_that_does_not_fit_is_marked(ctrl: Controller) -> None:
    small = Controller(hardware=simulated_hardware(gpu_memory_gb=4))
    small.start()
    small.wait_idle()
    small.choose_profile("chatbot")
    marks = {m["reference"]: m["fits"] for m in small.models}
    assert marks["builtin:tiny-llama"] is True and marks["qwen3-8b"] is False


def test_overrides_replan_at_once_and_bad_values_are_explained(ctrl: Controller) -> None:
    ctrl.choose_profile("chatbot")
    ctrl.choose_model("builtin:tiny-llama")
    assert ctrl.set_override("max_steps", "12")
    assert ctrl.plan.value("max_steps") == 12 and ctrl.plan.settings["max_steps"].source == "user"
    assert not ctrl.set_override("learning_rate", "fast")
    assert "learning_rate" in ctrl.setting_problem and ctrl.plan.value("max_steps") == 12
    ctrl.reset_overrides()
    assert ctrl.plan.value("max_steps") is None and not ctrl.overrides


def test_a_fix_before_any_run_changes_the_planned_settings_by_their_one_key(ctrl: Controller) -> None:
    """A fix names RunConfig places (training.micro_batch_size); the wizard's overrides use the schema's keys."""
    ctrl.choose_profile("chatbot")
    ctrl.choose_model("builtin:tiny-llama")
    assert ctrl.set_override("micro_batch_size", "4") and ctrl.set_override("learning_rate", "3e-4")
    assert ctrl.apply_action({"fix_id": "halve_batch"}) and ctrl.apply_action({"fix_id": "lower_learning_rate"})
    assert ctrl.overrides["micro_batch_size"] == 2 and ctrl.overrides["learning_rate"] == pytest.approx(1e-4)
    assert ctrl.plan.value("micro_batch_size") == 2 and ctrl.plan.settings["learning_rate"].source == "user"
    assert set(ctrl.overrides) <= set(ctrl.plan.settings)


def test_electricity_rate_changes_the_cost(ctrl: Controller) -> None:
    ctrl.choose_profile("chatbot")
    ctrl.choose_model("builtin:smollm2-135m")
    default = ctrl.plan.estimates.electricity_cost.max
    assert ctrl.set_electricity_rate("0,60")
    assert ctrl.plan.estimates.electricity_rate == pytest.approx(0.6)
    assert ctrl.plan.estimates.electricity_cost.max == pytest.approx(default * 4)
    assert not ctrl.set_electricity_rate("cheap") and ctrl.electricity_rate == pytest.approx(0.6)


def test_switching_to_an_alternative_applies_its_changes(ctrl: Controller) -> None:
    ctrl.choose_profile("chatbot")
    ctrl.choose_model("builtin:smollm2-135m")
    alt = next(i for i, a in enumerate(ctrl.plan.alternatives) if not a.model)
    changes = ctrl.plan.alternatives[alt].changes
    ctrl.switch_alternative(alt)
    for key, value in changes.items():
        assert ctrl.plan.value(key) == value


@pytest.mark.slow
def test_broken_data_shows_findings_and_a_fix_repairs_a_copy(ctrl: Controller, tmp_path: Path) -> None:
    ctrl.choose_profile("chatbot")
    ctrl.choose_model("builtin:tiny-llama")
    path = broken_dataset(tmp_path)
    original = path.read_bytes()
    ctrl.check_data(str(path))
    assert ctrl.wait_idle(300)
    report = ctrl.data_report
    assert not report.ok and "drop_malformed" in report.fix_ids
    bad = next(f for f in report.findings if f.fix_id == "drop_malformed")
    assert set(bad.rows) == {6, 13}
    ctrl.apply_fix("drop_malformed")
    assert ctrl.wait_idle(300)
    assert ctrl.data_report.ok and ctrl.data_path != str(path) and Path(ctrl.data_path).exists()
    assert path.read_bytes() == original  # the user's file is never changed
    assert ctrl.plan.data_path == ctrl.data_path


def test_following_a_run_reads_metrics_events_and_readings(ctrl: Controller) -> None:
    store = open_store()
    run_id = fake_run(store)
    for step in range(1, 6):
        store.add_metrics(run_id, step, {"loss": 3.0 - step * 0.2, "tokens_per_second": 500.0})
    store.add_metrics(run_id, 4, {"val_loss": 2.5, "eta_seconds": 30.0, "eta_low_seconds": 20.0,
                                  "eta_high_seconds": 45.0})
    store.add_reading(run_id, {"cpu_percent": 42.0, "ram_percent": 30.0, "ram_used_bytes": 3 * 2**30,
                               "ram_total_bytes": 10 * 2**30, "gpus": []})
    store.add_event(run_id, "overfitting", "The validation loss rose for 3 evaluations.", step=5,
                    data={"suggestions": ["Stop early and keep the best checkpoint.", "Add more examples."],
                          "action": "recommend", "reason": "validation_rising"})
    store.add_event(run_id, "checkpoint", "Saved a checkpoint at step 4.", step=4)
    ctrl.follow(run_id)
    assert ctrl.wait_idle()
    ctrl.stop_following()
    assert ctrl.loss_points[-1] == (5, pytest.approx(2.0)) and ctrl.val_points == [(4, 2.5)]
    assert ctrl.step == 5 and ctrl.total_steps == 100 and ctrl.progress == pytest.approx(0.05)
    assert ctrl.remaining == (30.0, 20.0, 45.0) and ctrl.tokens_per_second == 500.0
    assert ctrl.reading["cpu_percent"] == 42.0
    [banner] = ctrl.banners  # the checkpoint event has no suggestions: no banner
    assert banner["title"].startswith("The model is starting to memorise") and banner["actions"] == []
    assert "Add more examples." in banner["advice"] and banner["severity"] == "warning"
    ctrl.dismiss_banner(banner["id"])
    assert ctrl.banners == []


def test_a_failed_run_shows_its_plain_error(ctrl: Controller) -> None:
    from peftstudio.records.convert import to_dict

    store = open_store()
    run_id = fake_run(store)
    err = make("out_of_memory", device="the GPU")
    store.update_run(run_id, status="failed", error=to_dict(err.info))
    ctrl.follow(run_id)
    ctrl.wait_idle()
    assert ctrl.error is not None and ctrl.error.code == "out_of_memory"
    assert ctrl.error.title == err.info.title and len(ctrl.error.actions) == 3
    assert ctrl._follow_event is None  # a failed run is no longer polled


def test_manual_actions_are_not_applied_and_help_points_at_the_section(ctrl: Controller) -> None:
    info = make("file_not_found", path="x.jsonl").info
    ctrl.fail(info)
    assert ctrl.apply_action(info.actions[0]) is False and ctrl.error is info
    url = ctrl.help_url(info)
    assert url.startswith("file://") and url.endswith("docs/errors.md#file-not-found")
    assert Path(url[len("file://"):].split("#")[0]).exists()
    assert "## file_not_found" in (ROOT / "docs" / "errors.md").read_text() or \
        "file-not-found" in (ROOT / "docs" / "errors.md").read_text()


def test_an_automatic_action_in_the_wizard_changes_the_plan(ctrl: Controller) -> None:
    ctrl.choose_profile("chatbot")
    ctrl.choose_model("builtin:tiny-llama")
    batch, accumulation = ctrl.plan.value("micro_batch_size"), ctrl.plan.value("gradient_accumulation")
    info = make("out_of_memory").info
    ctrl.fail(info)
    assert ctrl.apply_action(info.actions[0]) is True  # "Halve the batch size (the effective batch stays the same)"
    assert ctrl.error is None and ctrl.plan.value("micro_batch_size") == batch // 2
    assert ctrl.plan.value("gradient_accumulation") == accumulation * 2


@pytest.mark.slow
def test_a_guard_banner_action_fixes_the_run_and_resumes_it(ctrl: Controller) -> None:
    from peftstudio.engine import wait_run
    from peftstudio.records.convert import to_dict

    store = open_store()
    run_id = fake_run(store)
    err = make("nan_loss", value="nan", step=7, suggested_lr="0.000067")
    store.update_run(run_id, status="paused", error=to_dict(err.info))
    store.add_event(run_id, "divergence", "The training loss became nan at step 7.", step=7,
                    data={"suggestions": ["Resume with a learning rate of 0.000067."], "action": "pause",
                          "error_code": "nan_loss"})
    ctrl.follow(run_id)
    assert ctrl.wait_idle()
    [banner] = ctrl.banners
    assert [a["fix_id"] for a in banner["actions"]] == ["lower_learning_rate", "enable_clipping", None]
    assert ctrl.apply_banner_action(banner["actions"][0]) is True
    assert ctrl.wait_idle()
    run = store.get_run(run_id)
    assert run.config.training.learning_rate < 2e-4  # the library applied the fix to the run's settings
    assert any(e["kind"] == "fix_applied" for e in store.events(run_id))
    wait_run(run_id, store, timeout=240)  # the resumed worker ends (this fake run has no data file)
    ctrl.stop_following()


def test_notification_toggles(ctrl: Controller) -> None:
    ctrl.set_notification("progress", False)
    assert ctrl.notifications["progress"] is False and ctrl.notifications["errors"] is True
    with pytest.raises(ValueError, match="unknown notification kind"):
        ctrl.set_notification("fireworks", True)


def test_the_run_notifier_follows_progress_and_the_toggles(ctrl: Controller) -> None:
    from peftstudio.notify import RunNotifier

    made: list[RunNotifier] = []

    def factory(settings, **kwargs):  # type: ignore[no-untyped-def]
        made.append(RunNotifier(settings, play_sound=lambda: None, environ={}, **kwargs))  # no bus, no sound
        return made[-1]

    quiet = Controller(hardware=simulated_hardware(), notifier_factory=factory)
    quiet.set_notification("sound", False)
    store = open_store()
    run_id = fake_run(store)
    for step in range(1, 56):
        store.add_metrics(run_id, step, {"loss": 2.0})
    quiet.follow(run_id)
    quiet.wait_idle()
    quiet.stop_following()
    [notifier] = made
    assert notifier.settings.sound is False and notifier.settings.progress is True
    assert {25, 50} <= set(notifier.state.sent) and 75 not in notifier.state.sent
    assert quiet.window_title.startswith("55%")
    quiet.set_notification("progress", False)
    assert notifier.settings.progress is False  # the toggles reach the running notifier
    quiet.shutdown()
