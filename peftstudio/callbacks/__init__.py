"""Lightning callbacks, one per concern, each a thin shell over pure functions in its module.

They work in any Lightning project: ``from peftstudio.callbacks import EtaCallback``.
"""

from peftstudio.callbacks.checkpoint import CheckpointCallback, CheckpointInfo, latest_checkpoint, list_checkpoints
from peftstudio.callbacks.eta import EtaCallback, EtaEstimate, estimate
from peftstudio.callbacks.monitor import MonitorCallback, SystemMonitor, SystemReading, read_system
from peftstudio.callbacks.notify import NotifyCallback
from peftstudio.callbacks.pause import PauseCallback, PauseReport, RunPaused
from peftstudio.callbacks.progress import ProgressCallback, StepReport, ValidationReport

__all__ = [
    "CheckpointCallback",
    "CheckpointInfo",
    "EtaCallback",
    "EtaEstimate",
    "MonitorCallback",
    "NotifyCallback",
    "PauseCallback",
    "PauseReport",
    "ProgressCallback",
    "RunPaused",
    "StepReport",
    "SystemMonitor",
    "SystemReading",
    "ValidationReport",
    "estimate",
    "latest_checkpoint",
    "list_checkpoints",
    "read_system",
]
