"""The training engine: Lightning over transformers + PEFT, runs in their own process, exact pause/resume.

Names are imported on first use so that ``import peftstudio.engine`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FitOutcome": "peftstudio.engine.trainer",
    "LoraModule": "peftstudio.engine.module",
    "TextDataModule": "peftstudio.engine.datamodule",
    "TrainerPlan": "peftstudio.engine.trainer",
    "build_trainer": "peftstudio.engine.trainer",
    "fit": "peftstudio.engine.trainer",
    "plan_trainer": "peftstudio.engine.trainer",
    "pause_run": "peftstudio.engine.runs",
    "resume_run": "peftstudio.engine.runs",
    "run_status": "peftstudio.engine.runs",
    "start_run": "peftstudio.engine.runs",
    "wait_run": "peftstudio.engine.runs",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'peftstudio.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
