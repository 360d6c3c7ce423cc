"""Lightning callbacks, one per concern, each a thin shell over pure functions in its module.

They work in any Lightning project: ``from peftstudio.callbacks import EtaCallback``.
"""

from peftstudio.callbacks.checkpoint import (
    CheckpointCallback,
    CheckpointInfo,
    latest_checkpoint,
    list_checkpoints,
)
from peftstudio.callbacks.control import SessionControl
from peftstudio.callbacks.decision import Decision, GuardReport
from peftstudio.callbacks.divergence import DivergenceGuard
from peftstudio.callbacks.eta import EtaCallback, EtaEstimate, estimate
from peftstudio.callbacks.gradients import GradientGuard
from peftstudio.callbacks.guards import guard_callbacks
from peftstudio.callbacks.memory import MemoryGuard
from peftstudio.callbacks.monitor import MonitorCallback, SystemMonitor, SystemReading, read_system
from peftstudio.callbacks.notify import NotifyCallback
from peftstudio.callbacks.overfitting import OverfittingGuard
from peftstudio.callbacks.pause import PauseCallback, PauseReport, RunPaused
from peftstudio.callbacks.progress import ProgressCallback, StepReport, ValidationReport

__all__ = [
    "CheckpointCallback",
    "CheckpointInfo",
    "Decision",
    "DivergenceGuard",
    "EtaCallback",
    "EtaEstimate",
    "GradientGuard",
    "GuardReport",
    "MemoryGuard",
    "MonitorCallback",
    "NotifyCallback",
    "OverfittingGuard",
    "PauseCallback",
    "PauseReport",
    "ProgressCallback",
    "RunPaused",
    "SessionControl",
    "StepReport",
    "SystemMonitor",
    "SystemReading",
    "ValidationReport",
    "estimate",
    "guard_callbacks",
    "latest_checkpoint",
    "list_checkpoints",
    "read_system",
]
