"""Notification tests never talk to the developer's real desktop: the session bus points nowhere
(the D-Bus test starts its own private bus), and no Do Not Disturb override leaks in."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_desktop_bus(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    missing = tmp_path_factory.mktemp("nobus") / "bus"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={missing}")
    monkeypatch.delenv("PEFTSTUDIO_DND", raising=False)
    monkeypatch.setenv("GSETTINGS_BACKEND", "memory")
