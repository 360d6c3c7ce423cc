"""`check_notifications` and `peftstudio notify` without a desktop (with one: test_dbus.py)."""

from __future__ import annotations

import json

import pytest

from peftstudio.cli.main import main
from peftstudio.notify.check import NotifyCheck, check_notifications
from peftstudio.notify.dnd import DndStatus


def test_no_session_bus_is_reported_plainly(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEFTSTUDIO_DND", "on")  # so `--test` plays no sound on a developer's machine
    report = check_notifications(environ={})
    assert report.session_bus is False and report.server is None and report.will_show is False
    assert main(["notify", "--test"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No desktop session found") and "Test notification: not shown" in out
    assert main(["notify", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["session_bus"] is False and data["test"] is None


@pytest.mark.parametrize(("report", "starts"), [
    (NotifyCheck(True, None, DndStatus(False), None), "This desktop has no notification service"),
    (NotifyCheck(True, "GNOME Shell", DndStatus(True, "portal"), None), "Do Not Disturb is on (portal)"),
    (NotifyCheck(True, "Plasma", DndStatus(False), "/usr/bin/paplay"), "Notifications will be shown by Plasma."),
])
def test_advice(report: NotifyCheck, starts: str) -> None:
    assert report.advice().startswith(starts)
    assert report.will_show is (report.server is not None and not report.do_not_disturb.on)
