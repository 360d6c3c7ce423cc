"""How fast this machine trains, learned from its own finished runs, for the planner's time estimates.

The planner's speeds are calibrated on one machine of each kind, and two machines of the same kind differ
by more than its range allows. Each completed run records the device it trained on and how many tokens per
second it reached; `measured_speed` compares the newest of them (`MEASURED_RUNS`) with what the calibration
expected for each run's own model and settings (`peftstudio.planner.calibrated_speed`), and the planner
scales its estimate by that ratio (`peftstudio.planner.estimates.MeasuredSpeed`). A run too short to say how
fast the machine trains (fewer than `MIN_STEPS` steps or `MIN_SECONDS` seconds: start-up would dominate)
does not count, nor does one on another device or on several GPUs.

Example:
    >>> from peftstudio.hardware import simulated_hardware
    >>> measured_speed(simulated_hardware("H100")) is None   # no run on an H100 here
    True
"""

from __future__ import annotations

from typing import Any

from peftstudio.planner.estimates import MeasuredSpeed
from peftstudio.planner.plan import calibrated_speed
from peftstudio.records.hardware import HardwareProfile
from peftstudio.store.db import RunRow, Store, open_store

MEASURED_RUNS = 5  # the newest finished runs a machine's speed comes from
MIN_STEPS = 20  # optimizer steps a run needs to count
MIN_SECONDS = 30.0  # seconds of training a run needs to count


def device_record(hardware: HardwareProfile, devices: int) -> dict[str, Any]:
    """What a finished run keeps of the device it trained on (its summary's ``device``).

    Example:
        >>> from peftstudio.hardware import simulated_hardware
        >>> device_record(simulated_hardware(cpu_cores=2), 1)["name"]
        'processor (2 cores)'
    """
    return {"name": hardware.device_name, "cpu": hardware.cpu_name, "count": int(devices)}


def _ran_here(run: RunRow, hardware: HardwareProfile) -> bool:
    device = run.summary.get("device")
    if not isinstance(device, dict) or device.get("count") != 1:
        return False
    return device.get("name") == hardware.device_name and device.get("cpu") == hardware.cpu_name


def _ratio(run: RunRow, hardware: HardwareProfile) -> float | None:
    """The run's tokens per second over what the calibration expected of it; None when it cannot say."""
    speed, steps, seconds = (run.summary.get(k) for k in ("tokens_per_second", "steps", "duration_seconds"))
    if not (isinstance(speed, int | float) and isinstance(steps, int) and isinstance(seconds, int | float)):
        return None
    if speed <= 0 or steps < MIN_STEPS or seconds < MIN_SECONDS:
        return None
    expected = calibrated_speed(hardware, run.config)
    return float(speed) / expected.mid if expected is not None and expected.mid > 0 else None


def measured_speed(hardware: HardwareProfile, store: Store | None = None) -> MeasuredSpeed | None:
    """How fast `hardware` trained in its newest finished runs in `store` (the home's, when there is one yet),
    compared with the calibration; None before a run long enough to tell has finished on this device. Pass
    it to `peftstudio.planner.plan` (``measured=``).

    Example:
        >>> from peftstudio.planner import plan
        >>> from peftstudio.hardware import probe_hardware
        >>> hw = probe_hardware()
        >>> p = plan(hw, "builtin:smollm2-135m", "chatbot", measured=measured_speed(hw))
        >>> p.estimates.speed_basis   # doctest: +SKIP
        "the speed this machine's last 3 runs reached"
    """
    if store is None:
        from peftstudio import paths

        if not paths.database_path().is_file():  # nothing has run here: planning creates no store
            return None
    runs = sorted((r for r in open_store(store).list_runs("completed") if _ran_here(r, hardware)),
                  key=lambda r: r.finished_at or r.updated_at, reverse=True)
    ratios: list[float] = []
    for run in runs:
        ratio = _ratio(run, hardware)
        if ratio is not None:
            ratios.append(round(ratio, 4))
        if len(ratios) == MEASURED_RUNS:
            break
    return MeasuredSpeed(hardware.device_name, tuple(ratios)) if ratios else None


__all__ = ["MEASURED_RUNS", "MIN_SECONDS", "MIN_STEPS", "device_record", "measured_speed"]
