"""The plan's times follow this machine's own speed once it has finished runs (`history.measured_speed`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from peftstudio.hardware import simulated_hardware
from peftstudio.history.speed import MEASURED_RUNS, device_record, measured_speed
from peftstudio.planner import plan, summary_lines
from peftstudio.planner.estimates import CALIBRATED_BASIS, MEASURED_SPREAD
from peftstudio.planner.plan import calibrated_speed
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.store import Store, open_store

HERE = simulated_hardware(cpu_cores=2, ram_gb=24)


def _config(**training: Any) -> RunConfig:
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:smollm2-135m"), data=DataSettings(path="x.jsonl"),
                     training=TrainingSettings(**{"sequence_length": 256, "micro_batch_size": 4, **training}))


def _finished(store: Store, ratio: float, *, hardware: Any = HERE, steps: int = 50, seconds: float = 120.0,
              devices: int = 1, config: RunConfig | None = None, device: Any = "record") -> str:
    """A completed run that trained at `ratio` times the calibrated speed of its config on `hardware`."""
    cfg = config or _config()
    expected = calibrated_speed(hardware, cfg)
    assert expected is not None
    run = store.create_run(cfg)
    summary = {"tokens_per_second": ratio * expected.mid, "steps": steps, "duration_seconds": seconds}
    if device == "record":
        summary["device"] = device_record(hardware, devices)
    store.update_run(run.id, status="completed", summary=summary)
    return run.id


def test_a_slow_machine_gets_a_range_that_holds_its_own_speed() -> None:
    store = open_store()
    _finished(store, 0.5)  # this machine trains at half the calibrated middle: below the calibrated range
    measured = measured_speed(HERE, store)
    assert measured is not None and measured.ratios == (0.5,)
    calibrated = plan(HERE, "builtin:smollm2-135m", "chatbot", overrides=["sequence_length=256"])
    ours = plan(HERE, "builtin:smollm2-135m", "chatbot", overrides=["sequence_length=256"], measured=measured)
    truth = 0.5 * calibrated.estimates.tokens_per_second.mid
    assert not calibrated.estimates.tokens_per_second.min <= truth <= calibrated.estimates.tokens_per_second.max
    speed = ours.estimates.tokens_per_second
    assert speed.min <= truth <= speed.max
    assert speed.min == truth * MEASURED_SPREAD[0] and abs(speed.max - truth * MEASURED_SPREAD[1]) < 1e-9
    tokens = ours.estimates.tokens
    assert ours.estimates.duration_seconds.min <= tokens / truth <= ours.estimates.duration_seconds.max
    assert ours.estimates.checks_seconds.max > calibrated.estimates.checks_seconds.max  # the checks follow it
    time_line = next(line for line in summary_lines(ours) if line.startswith("Time:"))
    assert time_line.endswith("at the speed this machine's last run reached")
    assert calibrated.estimates.speed_basis == CALIBRATED_BASIS
    assert "this kind of hardware" in next(line for line in summary_lines(calibrated) if line.startswith("Time:"))


def test_other_models_and_settings_count_through_their_own_calibration() -> None:
    store = open_store()
    _finished(store, 0.6, config=_config(sequence_length=512, micro_batch_size=2))
    _finished(store, 0.7, config=attrs.evolve(_config(), model=ModelChoice("builtin:tiny-llama")))
    measured = measured_speed(HERE, store)
    assert measured is not None and measured.ratios == (0.7, 0.6)  # newest first
    speed = plan(HERE, "builtin:smollm2-135m", "chatbot", measured=measured).estimates.tokens_per_second
    mid = plan(HERE, "builtin:smollm2-135m", "chatbot").estimates.tokens_per_second.mid
    assert abs(speed.min - mid * 0.6 * MEASURED_SPREAD[0]) < 1e-6 and abs(speed.max - mid * 0.7 * MEASURED_SPREAD[1]) < 1e-6


def test_runs_that_cannot_say_how_fast_this_machine_is_do_not_count() -> None:
    store = open_store()
    _finished(store, 0.4, steps=5)  # start-up dominates a short run
    _finished(store, 0.4, seconds=10.0)
    _finished(store, 0.4, devices=2)  # several GPUs: not what a plan for one device estimates
    _finished(store, 0.4, device=None)  # a run from before runs recorded their device
    _finished(store, 0.4, hardware=simulated_hardware(cpu_cores=8))  # another machine
    _finished(store, 0.4, hardware=attrs.evolve(HERE, cpu_name="another processor"))
    running = store.create_run(_config())
    store.update_run(running.id, status="running", summary={"tokens_per_second": 1.0, "steps": 50,
                                                            "duration_seconds": 100.0, "device": device_record(HERE, 1)})
    assert measured_speed(HERE, store) is None
    for ratio in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        _finished(store, ratio)
    measured = measured_speed(HERE, store)
    assert measured is not None and measured.ratios == (0.7, 0.6, 0.5, 0.4, 0.3)[:MEASURED_RUNS]


def test_a_speed_measured_on_another_device_is_not_used() -> None:
    store = open_store()
    _finished(store, 0.5)
    measured = measured_speed(HERE, store)
    h100 = simulated_hardware("H100")
    assert measured_speed(h100, store) is None
    p = plan(h100, "llama-3.1-8b", "chatbot", measured=measured)  # e.g. the studio planning for another machine
    assert p.estimates.speed_basis == CALIBRATED_BASIS
    assert p.estimates == plan(h100, "llama-3.1-8b", "chatbot").estimates


def test_planning_in_a_new_home_creates_no_store(fresh_home: Path) -> None:
    assert measured_speed(HERE) is None
    assert not fresh_home.exists() or not any(fresh_home.rglob("*.db"))
