"""RunNotifier without a desktop: it keeps deciding, records what became of each notice, and
never raises or hangs (the desktop side is tested on a private bus in test_dbus.py)."""

from __future__ import annotations

import threading

import pytest

from peftstudio.errors import make
from peftstudio.notify import CompletionSummary, LauncherState, NotifySettings, RunNotifier


def _run(notifier: RunNotifier, steps: int = 8, stop_at: int | None = None) -> None:
    for step in range(1, steps + 1):
        notifier.progress(step / steps)
        if step == stop_at:
            notifier.failed(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
            return
    notifier.completed(CompletionSummary(steps=steps))


def test_without_a_bus_nothing_raises_and_every_notice_is_accounted_for() -> None:
    sounds: list[int] = []
    with RunNotifier(run_name="demo", play_sound=lambda: sounds.append(1)) as notifier:
        _run(notifier)
        assert notifier.flush(10)
    kinds = [(d.notice.milestone, d.outcome) for d in notifier.deliveries]
    assert kinds == [(25, "no_bus"), (50, "no_bus"), (75, "no_bus"), (100, "no_bus")]
    assert sounds == [1]  # no bus, no Do Not Disturb reading: the sound still plays


def test_any_exception_becomes_the_plain_urgent_notice() -> None:
    with RunNotifier(NotifySettings(sound=False), run_name="demo") as notifier:
        _run(notifier, stop_at=3)
    notices = [d.notice for d in notifier.deliveries]
    assert [n.kind for n in notices] == ["progress", "error"]
    assert notices[1].urgency == "critical"
    assert notices[1].title == f"Training stopped (demo): {make('out_of_memory').info.title}"
    assert notifier.state.launcher == LauncherState(0.375, urgent=True)


@pytest.mark.parametrize(("settings", "switched_off"), [
    (NotifySettings(progress=False), [25, 50, 75]),
    (NotifySettings(completion=False), [100]),
    (NotifySettings(progress=False, completion=False), [25, 50, 75, 100]),
])
def test_switched_off_kinds_are_not_sent(settings: NotifySettings, switched_off: list[int]) -> None:
    with RunNotifier(settings, play_sound=lambda: None) as notifier:
        _run(notifier)
    assert [d.notice.milestone for d in notifier.deliveries if d.outcome == "switched_off"] == switched_off


def test_sound_switch_and_do_not_disturb_silence_the_sound() -> None:
    played: list[int] = []
    with RunNotifier(NotifySettings(sound=False), play_sound=lambda: played.append(1)) as notifier:
        _run(notifier)
    with RunNotifier(environ={"PEFTSTUDIO_DND": "on"}, play_sound=lambda: played.append(2)) as notifier:
        _run(notifier)
    assert played == []


def test_launcher_hook_gets_every_state_and_may_fail() -> None:
    states: list[LauncherState] = []

    def hook(state: LauncherState) -> None:
        states.append(state)
        raise RuntimeError("a broken app hook")

    with RunNotifier(NotifySettings(sound=False), on_launcher=hook) as notifier:
        _run(notifier, steps=4)
    assert states == [LauncherState(0.25), LauncherState(0.5), LauncherState(0.75), LauncherState(1.0),
                      LauncherState(1.0, visible=False)]
    states.clear()
    with RunNotifier(NotifySettings(launcher=False, sound=False), on_launcher=hook) as notifier:
        _run(notifier, steps=4)
    assert states == []


def test_state_survives_a_resume() -> None:
    with RunNotifier(NotifySettings(sound=False)) as first:
        first.progress(0.3)
        first.progress(0.55)
        saved = first.state_dict()
    assert saved == {"sent": [25, 50], "finished": False}
    with RunNotifier(NotifySettings(sound=False)) as resumed:
        resumed.load_state_dict(saved)
        _run(resumed)
    assert [d.notice.milestone for d in resumed.deliveries] == [75, 100]
    with RunNotifier(NotifySettings(sound=False)) as fresh:
        fresh.skip_to(0.6)  # resumed without saved state: what is behind is not announced
        _run(fresh)
    assert [d.notice.milestone for d in fresh.deliveries] == [75, 100]


def test_feeding_from_many_threads_still_announces_each_milestone_once() -> None:
    with RunNotifier(NotifySettings(sound=False)) as notifier:
        threads = [threading.Thread(target=lambda: [notifier.progress(s / 200) for s in range(201)])
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(d.notice.milestone or 0 for d in notifier.deliveries) == [25, 50, 75]


def test_closed_notifier_ignores_late_reports() -> None:
    notifier = RunNotifier(NotifySettings(sound=False))
    notifier.progress(0.3)
    notifier.close()
    notifier.progress(0.9)
    notifier.completed()
    assert notifier.flush() is True
    assert [d.notice.milestone for d in notifier.deliveries if d.outcome != "switched_off"] == [25]
