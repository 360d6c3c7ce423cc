"""`peftstudio train` tells the desktop what the app tells it (requirement 12.1/12.2 in the CLI):
milestones, completion and errors, from a real builtin:tiny-llama run followed in the terminal."""

from __future__ import annotations

import pytest

from peftstudio.cli.train import follow
from peftstudio.engine.runs import start_run
from peftstudio.notify import NotifySettings, RunNotifier
from tests.engine.test_runs import config

pytestmark = pytest.mark.slow


def test_following_a_run_in_the_terminal_notifies_milestones_and_completion(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """...and after the last step the terminal says what the checks do and about how long they take (the
    progress line would otherwise stand at the last step's ETA, 0 s, while they run)."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # no desktop here: notices are recorded
    run_id = start_run(config(max_steps=8, checkpoint_every_steps=4, eval_every_steps=4))
    notifier = RunNotifier(NotifySettings(sound=False), run_name="terminal run")
    assert follow(run_id, poll=0.05, notifier=notifier) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Checking the tuned model")]
    assert len(said) == 1 and said[0].endswith("at this run's training speed."), said
    notices = [d.notice for d in notifier.deliveries]
    assert [n.kind for n in notices][-1] == "completion" and [n.kind for n in notices].count("completion") == 1
    milestones = [n.milestone for n in notices if n.kind == "progress"]
    assert milestones and milestones == sorted(set(milestones)) and set(milestones) <= {25, 50, 75}
    assert notifier.state.finished


def test_a_failed_run_sends_the_urgent_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import attrs

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not json at all\n" * 5, encoding="utf-8")
    cfg = config(max_steps=4)
    run_id = start_run(attrs.evolve(cfg, data=attrs.evolve(cfg.data, path=str(broken))))
    notifier = RunNotifier(NotifySettings(sound=False), run_name="broken run")
    assert follow(run_id, poll=0.05, notifier=notifier) == 2
    errors = [d.notice for d in notifier.deliveries if d.notice.kind == "error"]
    assert len(errors) == 1 and errors[0].urgency == "critical"
