"""The pure decisions: which notice for which progress or event, and the taskbar state."""

from __future__ import annotations

import pytest

from peftstudio.errors import make
from peftstudio.notify import (
    CompletionSummary,
    LauncherState,
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
    title_with_progress,
)


@pytest.mark.parametrize(("fraction", "expected"), [
    (0.0, 0), (0.249, 24), (0.25, 25), (7 / 28, 25), (0.29, 29), (0.999, 99), (1.0, 100), (3.0, 100),
    (-0.5, 0), (float("nan"), 0), (float("inf"), 0),
])
def test_percent(fraction: float, expected: int) -> None:
    assert percent(fraction) == expected


@pytest.mark.parametrize(("fraction", "sent", "due"), [
    (0.1, set(), ()),
    (0.25, set(), (25,)),
    (0.5, {25}, (50,)),
    (0.8, set(), (25, 50, 75)),
    (0.8, {25, 50, 75}, ()),
    (1.0, set(), (25, 50, 75)),  # 100 belongs to completion, not to progress
])
def test_milestones_due(fraction: float, sent: set[int], due: tuple[int, ...]) -> None:
    assert milestones_due(fraction, frozenset(sent)) == due


def _announced(fractions: list[float]) -> list[int | None]:
    state, out = ProgressState(), []
    for f in fractions:
        state, notices = on_progress(state, f)
        out += [n.milestone for n in notices]
    return out


@pytest.mark.parametrize(("fractions", "announced"), [
    ([i / 8 for i in range(1, 9)], [25, 50, 75]),
    ([i / 100 for i in range(101)], [25, 50, 75]),
    ([0.3, 0.3, 0.2, 0.3], [25]),  # repeats and going back announce nothing new
    ([0.1, 0.9], [75]),  # a jump announces only the highest milestone
    ([0.6, 0.7, 0.8], [50, 75]),
])
def test_each_milestone_announced_once(fractions: list[float], announced: list[int]) -> None:
    assert _announced(fractions) == announced


def test_custom_milestones_and_their_validation() -> None:
    _, notices = on_progress(ProgressState(), 0.1, NotifySettings(milestones=(50, 10)))
    assert [n.milestone for n in notices] == [10]
    with pytest.raises(ValueError, match="between 1 and 99"):
        NotifySettings(milestones=(25, 100))


def test_completion_once_then_quiet() -> None:
    state, _ = on_progress(ProgressState(), 0.5)
    state, first = on_completed(state, CompletionSummary(run_name="demo", steps=10))
    state, second = on_completed(state, CompletionSummary(run_name="demo", steps=10))
    assert [n.milestone for n in first] == [100] and first[0].kind == "completion"
    assert second == ()
    assert on_progress(state, 0.9)[1] == ()  # nothing after the end


@pytest.mark.parametrize(("summary", "body"), [
    (CompletionSummary(), "Your model is ready."),
    (CompletionSummary(steps=3, saved_to="/runs/a"), "3 steps. Saved to /runs/a."),
    (CompletionSummary(elapsed_seconds=3725, final_loss=float("nan")), "Finished in 1h 02m."),
    (CompletionSummary(elapsed_seconds=59.6, final_loss=0.456), "Finished in 1m 00s · final loss 0.46."),
])
def test_completion_summary(summary: CompletionSummary, body: str) -> None:
    assert completion_notice(summary).body == body


def test_error_notice_is_urgent_with_the_plain_summary() -> None:
    info = make("disk_full", what="the checkpoint").info
    notice = error_notice(info, "demo")
    assert notice.urgency == "critical" and notice.kind == "error"
    assert notice.title == f"Training stopped (demo): {info.title}"
    assert notice.body.startswith(info.explanation)
    state, notices = on_failed(ProgressState(), info)
    assert state.finished and notices[0].title == f"Training stopped: {info.title}"


@pytest.mark.parametrize(("kind", "settings", "allowed"), [
    ("progress", NotifySettings(progress=False), False),
    ("completion", NotifySettings(completion=False), False),
    ("error", NotifySettings(errors=False), False),
    ("warning", NotifySettings(warnings=False), False),
    ("error", NotifySettings(progress=False, completion=False), True),
])
def test_settings_switch_each_kind(kind: str, settings: NotifySettings, allowed: bool) -> None:
    assert settings.allows(kind) is allowed  # type: ignore[arg-type]


def test_launcher_updates_only_when_the_percent_changes() -> None:
    last, sent = None, []
    for step in range(1, 1001):
        update = launcher_update(last, step / 1000)
        if update is not None:
            last = update
            sent.append(update.progress)
    assert len(sent) == 101 and sent[:2] == [0.001, 0.01] and sent[-1] == 1.0  # 0%, 1%, ..., 100%
    # after an urgent or hidden state, the next report shows the bar again
    assert launcher_update(LauncherState(0.5, urgent=True), 0.5) == LauncherState(0.5)
    assert launcher_update(LauncherState(0.5, visible=False), 0.5) == LauncherState(0.5)
    assert launcher_update(None, float("nan")) == LauncherState(0.0)


@pytest.mark.parametrize(("state", "title"), [
    (None, "PEFT Studio"),
    (LauncherState(0.0), "0% · PEFT Studio"),
    (LauncherState(0.999), "99% · PEFT Studio"),
    (LauncherState(0.4, urgent=True), "⚠ 40% · PEFT Studio"),
    (LauncherState(1.0, visible=False), "PEFT Studio"),
])
def test_window_title_fallback(state: LauncherState | None, title: str) -> None:
    assert title_with_progress("PEFT Studio", state) == title
