"""Desktop notifications for training runs: milestones, errors, completion, taskbar progress.

`RunNotifier` is the one object to use (the CLI and the app switch it on; the Lightning
`peftstudio.callbacks.notify.NotifyCallback` feeds it from a trainer). The decisions are
pure functions in `peftstudio.notify.decide`; the D-Bus parts (`desktop`, `dnd`, `launcher`)
and the `sound` never raise into a run.

Example:
    >>> from peftstudio.notify import NotifySettings, title_with_progress, LauncherState
    >>> NotifySettings(progress=False).allows("progress")
    False
    >>> title_with_progress("PEFT Studio", LauncherState(0.5))
    '50% · PEFT Studio'
"""

from peftstudio.notify.check import NotifyCheck, check_notifications
from peftstudio.notify.decide import (
    COMPLETION_MILESTONE,
    PROGRESS_MILESTONES,
    CompletionSummary,
    LauncherState,
    Notice,
    NotifySettings,
    ProgressState,
    completion_notice,
    error_notice,
    launcher_update,
    milestones_due,
    on_completed,
    on_failed,
    on_progress,
    percent,
    progress_notice,
    run_fraction,
    title_with_progress,
    warning_notice,
)
from peftstudio.notify.dnd import DndReading, DndStatus, read_dnd
from peftstudio.notify.runner import Delivery, RunNotifier
from peftstudio.notify.saved import load_settings, save_settings
from peftstudio.notify.sound import completion_wav, play_completion_sound

__all__ = [
    "COMPLETION_MILESTONE",
    "PROGRESS_MILESTONES",
    "CompletionSummary",
    "Delivery",
    "DndReading",
    "DndStatus",
    "LauncherState",
    "Notice",
    "NotifyCheck",
    "NotifySettings",
    "ProgressState",
    "RunNotifier",
    "check_notifications",
    "completion_notice",
    "completion_wav",
    "error_notice",
    "launcher_update",
    "load_settings",
    "milestones_due",
    "on_completed",
    "on_failed",
    "on_progress",
    "percent",
    "play_completion_sound",
    "progress_notice",
    "read_dnd",
    "run_fraction",
    "save_settings",
    "title_with_progress",
    "warning_notice",
]
