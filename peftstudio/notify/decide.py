"""Which notification for which progress or event: pure functions, no D-Bus, no clock.

A run announces 25%, 50% and 75% once each (a jump past several milestones announces only
the highest, so a resumed run does not send a burst), 100% once when it completes (with a
short summary), and an urgent notice when it stops on an error. The taskbar progress is
updated whenever the whole percent changes.

Example:
    >>> state, notices = on_progress(ProgressState(), 0.5)
    >>> [n.title for n in notices], sorted(state.sent)
    (['Training 50% done'], [25, 50])
    >>> on_progress(state, 0.6)[1]
    ()
    >>> state, notices = on_completed(state, CompletionSummary(run_name="demo", steps=40, elapsed_seconds=95))
    >>> notices[0].milestone, notices[0].title
    (100, 'Training finished: demo')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from attrs import evolve, field, frozen

from peftstudio.errors import ErrorInfo
from peftstudio.units import short_duration

Kind = Literal["progress", "completion", "error", "warning"]
Urgency = Literal["low", "normal", "critical"]

#: Progress milestones announced while training (100 is announced by completion).
PROGRESS_MILESTONES: tuple[int, ...] = (25, 50, 75)
COMPLETION_MILESTONE = 100


def _milestones(value: tuple[int, ...]) -> tuple[int, ...]:
    value = tuple(sorted(int(v) for v in value))
    if any(not 0 < v < 100 for v in value):
        raise ValueError(f"progress milestones must be whole percents between 1 and 99, got {value}")
    return value


def _sound_by_default() -> bool:
    from peftstudio.notify.dnd import can_read

    return can_read()


@frozen
class NotifySettings:
    """What to tell the user, one switch per kind (all on by default; the sound only where Do Not Disturb
    can be read).

    `respect_do_not_disturb` off shows banners even while the desktop's Do Not Disturb is on.

    Example:
        >>> NotifySettings(sound=False).allows("completion")
        True
    """

    progress: bool = True
    completion: bool = True
    errors: bool = True
    warnings: bool = True
    #: on by default where Do Not Disturb can be read; on macOS or Windows when the system does not say
    #: whether Focus is on, off by default (a sound in a meeting is worse than a missed chime)
    sound: bool = field(factory=lambda: _sound_by_default())
    launcher: bool = True
    respect_do_not_disturb: bool = True
    milestones: tuple[int, ...] = field(default=PROGRESS_MILESTONES, converter=_milestones)

    def allows(self, kind: Kind) -> bool:
        """Whether notices of `kind` are switched on."""
        return {"progress": self.progress, "completion": self.completion, "error": self.errors,
                "warning": self.warnings}[kind]


@frozen
class Notice:
    """One desktop notification: what it says and how urgent it is."""

    kind: Kind
    title: str
    body: str
    urgency: Urgency = "normal"
    milestone: int | None = None


@frozen
class LauncherState:
    """The taskbar icon's progress bar (`progress` 0..1), shown or hidden, and its urgent mark."""

    progress: float
    visible: bool = True
    urgent: bool = False
    count: int | None = None


@frozen
class CompletionSummary:
    """What the completion notice says about a finished run (every field optional)."""

    run_name: str = ""
    steps: int | None = None
    elapsed_seconds: float | None = None
    final_loss: float | None = None
    best_val_loss: float | None = None
    saved_to: str | None = None


def _int_set(values: Iterable[int]) -> frozenset[int]:
    return frozenset(int(v) for v in values)


@frozen
class ProgressState:
    """What was already announced for one run: milestones sent and the last taskbar state."""

    sent: frozenset[int] = field(default=frozenset(), converter=_int_set)
    launcher: LauncherState | None = None
    finished: bool = False


def percent(fraction: float) -> int:
    """Whole percent done, clamped to 0..100 (a tiny epsilon so 0.29 * 100 counts as 29).

    Example:
        >>> percent(0.25), percent(7 / 28), percent(1.7), percent(float("nan"))
        (25, 25, 100, 0)
    """
    if not math.isfinite(fraction):
        return 0
    return max(0, min(100, math.floor(fraction * 100 + 1e-9)))


def run_fraction(global_step: int, total_steps: float) -> float | None:
    """Share of the run done (`global_step` of `total_steps`), or None when the total is unknown.

    Example:
        >>> run_fraction(3, 12), run_fraction(3, float("inf"))
        (0.25, None)
    """
    if not total_steps or not math.isfinite(total_steps) or total_steps <= 0:
        return None
    return min(1.0, max(0.0, global_step / float(total_steps)))


def milestones_due(fraction: float, sent: frozenset[int], milestones: tuple[int, ...] = PROGRESS_MILESTONES
                   ) -> tuple[int, ...]:
    """The milestones reached by `fraction` and not yet sent, lowest first.

    Example:
        >>> milestones_due(0.8, frozenset({25}))
        (50, 75)
    """
    done = percent(fraction)
    return tuple(m for m in milestones if m <= done and m not in sent)


def progress_notice(milestone: int, run_name: str = "") -> Notice:
    """The notice for a progress milestone.

    Example:
        >>> progress_notice(75, "demo").body
        'demo is 75% done. You can keep working; PEFT Studio will tell you when it finishes.'
    """
    who = run_name or "Your training run"
    return Notice("progress", f"Training {milestone}% done",
                  f"{who} is {milestone}% done. You can keep working; PEFT Studio will tell you when it finishes.",
                  milestone=milestone)


def completion_notice(summary: CompletionSummary) -> Notice:
    """The 100% notice, with a one-line summary of the run.

    Example:
        >>> completion_notice(CompletionSummary(steps=200, elapsed_seconds=750, final_loss=1.234,
        ...                                     best_val_loss=1.31, saved_to="/tmp/run")).body
        'Finished in 12m 30s · 200 steps · final loss 1.23 · best validation loss 1.31. Saved to /tmp/run.'
    """
    parts = []
    if summary.elapsed_seconds is not None and math.isfinite(summary.elapsed_seconds):
        parts.append(f"Finished in {short_duration(summary.elapsed_seconds)}")
    if summary.steps is not None:
        parts.append(f"{summary.steps} steps")
    if summary.final_loss is not None and math.isfinite(summary.final_loss):
        parts.append(f"final loss {summary.final_loss:.2f}")
    if summary.best_val_loss is not None and math.isfinite(summary.best_val_loss):
        parts.append(f"best validation loss {summary.best_val_loss:.2f}")
    body = " · ".join(parts) + "." if parts else "Your model is ready."
    if summary.saved_to:
        body += f" Saved to {summary.saved_to}."
    title = f"Training finished: {summary.run_name}" if summary.run_name else "Training finished"
    return Notice("completion", title, body, milestone=COMPLETION_MILESTONE)


def error_notice(info: ErrorInfo, run_name: str = "") -> Notice:
    """The urgent notice for a run that stopped: the plain title and explanation.

    Example:
        >>> from peftstudio.errors import make
        >>> n = error_notice(make("out_of_memory").info, "demo")
        >>> n.urgency, n.title.startswith("Training stopped (demo): ")
        ('critical', True)
    """
    where = f" ({run_name})" if run_name else ""
    body = f"{info.explanation} Open PEFT Studio to see what you can do."
    return Notice("error", f"Training stopped{where}: {info.title}", body.strip(), urgency="critical")


def warning_notice(title: str, message: str) -> Notice:
    """A notice for something worth a look that does not stop the run (a guard's finding)."""
    return Notice("warning", title, message)


def launcher_update(last: LauncherState | None, fraction: float) -> LauncherState | None:
    """The new taskbar state for `fraction`, or None when the whole percent has not changed.

    Example:
        >>> s = launcher_update(None, 0.101)
        >>> s.progress, launcher_update(s, 0.105) is None, launcher_update(s, 0.11).progress
        (0.101, True, 0.11)
    """
    value = max(0.0, min(1.0, fraction)) if math.isfinite(fraction) else 0.0
    if last is not None and last.visible and not last.urgent and percent(last.progress) == percent(value):
        return None
    return LauncherState(progress=value, visible=True)


def on_progress(state: ProgressState, fraction: float, settings: NotifySettings = NotifySettings(),
                run_name: str = "") -> tuple[ProgressState, tuple[Notice, ...]]:
    """New state and the notices to send for a progress report.

    All reached milestones are marked sent, but only the highest is announced. Nothing is
    announced after the run finished.
    """
    if state.finished:
        return state, ()
    due = milestones_due(fraction, state.sent, settings.milestones)
    if not due:
        return state, ()
    state = evolve(state, sent=state.sent | set(due))
    return state, (progress_notice(due[-1], run_name),)


def on_completed(state: ProgressState, summary: CompletionSummary = CompletionSummary()
                 ) -> tuple[ProgressState, tuple[Notice, ...]]:
    """The 100% notice, once per run."""
    if COMPLETION_MILESTONE in state.sent:
        return evolve(state, finished=True), ()
    state = evolve(state, sent=state.sent | {COMPLETION_MILESTONE}, finished=True)
    return state, (completion_notice(summary),)


def on_failed(state: ProgressState, info: ErrorInfo, run_name: str = "") -> tuple[ProgressState, tuple[Notice, ...]]:
    """The urgent notice for an error; the run is over, so later progress stays quiet."""
    return evolve(state, finished=True), (error_notice(info, run_name),)


def title_with_progress(title: str, state: LauncherState | None) -> str:
    """The window title with the progress in front: the fallback where no taskbar shows it.

    Example:
        >>> title_with_progress("PEFT Studio", LauncherState(0.42))
        '42% · PEFT Studio'
        >>> title_with_progress("PEFT Studio", LauncherState(1.0, visible=False))
        'PEFT Studio'
    """
    if state is None or not state.visible:
        return title
    mark = "⚠ " if state.urgent else ""
    return f"{mark}{percent(state.progress)}% · {title}"
