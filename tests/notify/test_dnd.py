"""Do Not Disturb: combining the sources, the override, GNOME's value (the D-Bus sources are
exercised against the fake server in test_dbus.py)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from peftstudio.notify.dnd import DndReading, DndStatus, combine, env_reading, read_dnd, show_banners_reading


@pytest.mark.parametrize(("readings", "status"), [
    ([], DndStatus(False)),
    ([DndReading("inhibited", None), DndReading("portal", None)], DndStatus(False)),
    ([DndReading("inhibited", False), DndReading("portal", True)], DndStatus(True, "portal")),
    ([DndReading("inhibited", True), DndReading("portal", False)], DndStatus(True, "inhibited")),
])
def test_any_source_saying_on_wins(readings: list[DndReading], status: DndStatus) -> None:
    assert combine(readings) == status


@pytest.mark.parametrize(("value", "on"), [
    ("on", True), ("1", True), ("TRUE", True), (" yes ", True),
    ("off", False), ("0", False), ("false", False), ("no", False),
    ("", None), ("maybe", None),
])
def test_env_override(value: str, on: bool | None) -> None:
    assert env_reading({"PEFTSTUDIO_DND": value}).on is on


@pytest.mark.parametrize(("value", "on"), [
    (True, False), (False, True), ("true\n", False), ("false\n", True), ("'x'", None), (3, None),
])
def test_gnome_show_banners_false_means_dnd(value: object, on: bool | None) -> None:
    assert show_banners_reading(value, "portal").on is on


def test_override_decides_without_any_bus() -> None:
    assert asyncio.run(read_dnd(None, {"PEFTSTUDIO_DND": "on"})) == DndStatus(True, "env")
    assert asyncio.run(read_dnd(None, {"PEFTSTUDIO_DND": "off"})) == DndStatus(False)


def test_nothing_readable_means_off() -> None:
    assert asyncio.run(read_dnd(None, {}, use_gsettings=False)) == DndStatus(False)


SCHEMAS = Path("/usr/share/glib-2.0/schemas")
NOTIFICATIONS_SCHEMA = SCHEMAS / "org.gnome.desktop.notifications.gschema.xml"


@pytest.mark.skipif(shutil.which("gsettings") is None or shutil.which("glib-compile-schemas") is None
                    or not NOTIFICATIONS_SCHEMA.exists(),
                    reason="needs gsettings, glib-compile-schemas and GNOME's notifications schema")
@pytest.mark.parametrize(("show_banners", "status"), [
    ("false", DndStatus(True, "gsettings")),
    ("true", DndStatus(False)),
])
def test_gnome_setting_read_through_gsettings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              show_banners: str, status: DndStatus) -> None:
    # A private schema folder whose default for show-banners is the value under test (with the
    # memory backend from conftest, the default is what gsettings reports).
    shutil.copy(NOTIFICATIONS_SCHEMA, tmp_path)
    if (SCHEMAS / "org.gnome.desktop.enums.xml").exists():
        shutil.copy(SCHEMAS / "org.gnome.desktop.enums.xml", tmp_path)
    (tmp_path / "99_test.gschema.override").write_text(
        f"[org.gnome.desktop.notifications]\nshow-banners={show_banners}\n")
    subprocess.run(["glib-compile-schemas", str(tmp_path)], check=True, capture_output=True)
    monkeypatch.setenv("GSETTINGS_SCHEMA_DIR", str(tmp_path))
    assert asyncio.run(read_dnd(None, {})) == status


# ---------------------------------------------------------------- macOS and Windows (requirement 12.5)
FOCUS_ON = ('{"data": [{"storeAssertionRecords": [{"assertionUUID": "A", "assertionDetails": '
            '{"assertionDetailsModeIdentifier": "com.apple.donotdisturb.mode.default"}}]}]}')


def test_macos_focus_is_read_from_the_assertions_file(tmp_path: Path) -> None:
    from peftstudio.notify.dnd import read_macos

    path = tmp_path / "Assertions.json"
    path.write_text(FOCUS_ON)
    assert read_macos(path) == DndReading("macos", True)
    path.write_text('{"data": [{"storeAssertionRecords": []}]}')
    assert read_macos(path) == DndReading("macos", False)
    path.write_text("not json")
    assert read_macos(path).on is None
    assert read_macos(tmp_path / "missing.json").on is None  # no Full Disk Access reads as missing


@pytest.mark.parametrize(("focus_assist", "state", "on"), [
    (0, 5, False), (1, 5, True), (2, 5, True), (0, 4, True), (0, 3, True), (None, 6, True), (None, None, None)])
def test_windows_focus_assist_and_quiet_states(focus_assist: int | None, state: int | None, on: bool | None) -> None:
    from peftstudio.notify.dnd import windows_focus_reading

    assert windows_focus_reading(focus_assist, state).on is on


def test_macos_focus_holds_back_notices_and_unreadable_means_no_sound(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    from peftstudio.notify import dnd
    from peftstudio.notify.decide import NotifySettings

    path = tmp_path / "Assertions.json"
    monkeypatch.setattr(dnd, "MACOS_ASSERTIONS", path)
    path.write_text(FOCUS_ON)
    status = asyncio.run(read_dnd(None, {}, use_gsettings=False, platform="darwin"))
    assert status == DndStatus(True, "macos") and status.known
    path.unlink()
    status = asyncio.run(read_dnd(None, {}, use_gsettings=False, platform="darwin"))
    assert not status.on and not status.known
    monkeypatch.setattr(dnd.sys, "platform", "darwin")
    assert NotifySettings().sound is False  # Focus cannot be read: the sound starts off
    path.write_text('{"data": []}')
    assert NotifySettings().sound is True
    monkeypatch.setattr(dnd.sys, "platform", "linux")
    path.unlink()
    assert NotifySettings().sound is True
