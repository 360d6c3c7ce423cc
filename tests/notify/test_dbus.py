"""Acceptance: a fake ``org.freedesktop.Notifications`` server on a private session bus
(``dbus-run-session``) receives the 25/50/75/100% notices exactly once each, the urgent one on
error with its summary, none while Do Not Disturb is on (KDE's ``Inhibited`` property, then
GNOME's ``show-banners`` through the Settings portal), and the taskbar progress signal.

The scenario (scenario.py) and the server (fake_server.py) run as subprocesses inside the
private bus; this test reads what they recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from peftstudio.errors import make

HERE = Path(__file__).parent
STEPS = 8

pytestmark = pytest.mark.skipif(shutil.which("dbus-run-session") is None,
                                reason="dbus-run-session is not installed (Debian/Ubuntu package 'dbus')")


def run_scenario(out: Path, driver: str = "loop") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "PEFTSTUDIO_DND", "DISPLAY")}
    env["GSETTINGS_BACKEND"] = "memory"  # never the developer's real GNOME settings
    proc = subprocess.run(["dbus-run-session", "--", sys.executable, str(HERE / "scenario.py"), str(out),
                           "--driver", driver], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    server = json.loads((out / "server.json").read_text())
    client = json.loads((out / "client.json").read_text())
    return server, client


def in_phase(records: list[dict[str, Any]], phase: str, kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["phase"] == phase and r["kind"] == kind]


def check_progress_phase(server: list[dict[str, Any]], client: dict[str, Any]) -> None:
    notes = in_phase(server, "progress", "notify")
    assert [n["summary"] for n in notes] == ["Training 25% done", "Training 50% done", "Training 75% done",
                                             "Training finished: run-progress"]
    assert all(n["app_name"] == "PEFT Studio" and n["hints"]["urgency"] == 1 for n in notes)
    assert f"{STEPS} steps" in notes[-1]["body"]  # the completion summary
    # each new progress banner replaces the previous one
    assert [c["id"] for c in in_phase(server, "progress", "close")] == [notes[0]["id"], notes[1]["id"]]
    signals = in_phase(server, "progress", "launcher")
    assert {s["app_uri"] for s in signals} == {"application://peftstudio.desktop"}
    shown = [s["properties"]["progress"] for s in signals if s["properties"]["progress-visible"]]
    assert shown == pytest.approx([step / STEPS for step in range(1, STEPS + 1)])
    assert signals[-1]["properties"]["progress-visible"] is False  # the bar goes away at the end
    assert client["progress"]["sounds"] == 1
    assert [d["outcome"] for d in client["progress"]["deliveries"]] == ["shown"] * 4


def test_fake_desktop_receives_milestones_error_launcher_and_respects_dnd(tmp_path: Path) -> None:
    server, client = run_scenario(tmp_path)

    # Before the server is up: nothing shown, nothing raised.
    assert [d["outcome"] for d in client["no-server"]["deliveries"]] == ["no_server"]

    check_progress_phase(server, client)

    # An error: the urgent notice with the plain title, after the 25% one; the taskbar turns urgent.
    info = make("out_of_memory").info
    notes = in_phase(server, "error", "notify")
    assert [n["hints"]["urgency"] for n in notes] == [1, 2]
    assert notes[1]["summary"] == f"Training stopped (run-error): {info.title}"
    assert notes[1]["body"].startswith(info.explanation)
    last = in_phase(server, "error", "launcher")[-1]["properties"]
    assert last["urgent"] is True and last["progress"] == pytest.approx(3 / STEPS)

    # Do Not Disturb, both ways a desktop says it: no banner, no sound; the taskbar still moves.
    for phase, source in (("dnd-inhibited", "inhibited"), ("dnd-gnome", "portal")):
        assert in_phase(server, phase, "notify") == []
        assert [(d["notice"]["milestone"], d["outcome"], d["reason"]) for d in client[phase]["deliveries"]] == [
            (25, "do_not_disturb", source), (50, "do_not_disturb", source), (75, "do_not_disturb", source),
            (100, "do_not_disturb", source)]
        assert client[phase]["sounds"] == 0
        assert len(in_phase(server, phase, "launcher")) == STEPS + 1

    # DND off again: banners are back.
    assert [n["summary"] for n in in_phase(server, "after-dnd", "notify")] == ["Loss is rising"]

    # A script that exits right after `completed()` without closing still gets every notice out.
    assert [n["summary"] for n in in_phase(server, "no-close", "notify")] == [
        "Training 25% done", "Training 50% done", "Training 75% done", "Training finished"]

    # `peftstudio notify --test` finds the server and its test notice arrives.
    assert client["cli"]["server"] == "Fake Notifications" and client["cli"]["will_show"] is True
    assert client["cli"]["test"] == "shown"
    assert [n["summary"] for n in in_phase(server, "cli", "notify")] == ["PEFT Studio test notification"]


@pytest.mark.slow
def test_lightning_trainer_drives_the_notices(tmp_path: Path) -> None:
    """The same checks with progress from a real Lightning trainer through NotifyCallback."""
    server, client = run_scenario(tmp_path, driver="lightning")
    check_progress_phase(server, client)
    assert "final loss" in in_phase(server, "progress", "notify")[-1]["body"]
