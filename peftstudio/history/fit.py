"""Fitting an imported preset to this machine: the planner re-checks memory-related settings.

(Completed once `peftstudio.planner.plan` is available; until then settings are kept as they are.)
"""

from __future__ import annotations

from typing import Any

from peftstudio.records.config import RunConfig


def fit_to_hardware(config: RunConfig, hardware: Any) -> tuple[RunConfig, list[Any]]:
    """`config` adjusted to `hardware`, and the list of adjustments with their reasons."""
    return config, []


__all__ = ["fit_to_hardware"]
