"""Do Not Disturb: does the desktop want banners hidden right now?

Sources, first that answers wins for the override, any "on" wins otherwise:

1. ``PEFTSTUDIO_DND`` (``on``/``off``, ``1``/``0``): the user's explicit override, for desktops
   we cannot read.
2. The notification server's ``Inhibited`` property on ``org.freedesktop.Notifications``
   (KDE Plasma and other servers that implement the inhibition extension).
3. GNOME's ``org.gnome.desktop.notifications show-banners`` read through the Settings portal
   (``org.freedesktop.portal.Settings.ReadOne``), which works inside Flatpak too, or, when no
   portal answers, through the ``gsettings`` command.
4. macOS Focus: the active Focus assertions in ``~/Library/DoNotDisturb/DB/Assertions.json``
   (macOS 12 and later; readable only when the terminal or app has Full Disk Access).
5. Windows Focus Assist ("priority only" or "alarms only", read from the shell's quiet-hours state)
   and the shell's own "do not disturb the user now" states (presentation mode, a full-screen game,
   quiet time) from ``SHQueryUserNotificationState``.

A source that is missing or fails counts as "unknown"; all unknown means DND is off.

Example:
    >>> combine([DndReading("inhibited", None), DndReading("gnome", True)])
    DndStatus(on=True, source='gnome', known=True)
    >>> combine([]).on
    False
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import field, frozen

log = logging.getLogger(__name__)

ENV_OVERRIDE = "PEFTSTUDIO_DND"
_ON = {"1", "on", "true", "yes"}
_OFF = {"0", "off", "false", "no"}
TIMEOUT_S = 5.0  # local calls take milliseconds; this only bounds a hung service


@frozen
class DndReading:
    """What one source says: True (DND on), False (off) or None (unknown)."""

    source: str
    on: bool | None


@frozen
class DndStatus:
    """Whether Do Not Disturb is on, which source said so, and whether any source answered at all."""

    on: bool
    source: str = ""
    #: whether any source answered (not part of equality: "off" is "off" whoever said it)
    known: bool = field(default=True, eq=False)


def combine(readings: Sequence[DndReading]) -> DndStatus:
    """DND is on when any source says so; unknown (and off) when no source answered.

    Example:
        >>> combine([DndReading("macos", None)]).known, combine([DndReading("macos", False)]).known
        (False, True)
    """
    for reading in readings:
        if reading.on:
            return DndStatus(True, reading.source)
    return DndStatus(False, known=any(r.on is not None for r in readings))


def env_reading(environ: Mapping[str, str] = os.environ) -> DndReading:
    """The ``PEFTSTUDIO_DND`` override.

    Example:
        >>> env_reading({"PEFTSTUDIO_DND": "on"}).on, env_reading({}).on
        (True, None)
    """
    value = environ.get(ENV_OVERRIDE, "").strip().lower()
    return DndReading("env", True if value in _ON else False if value in _OFF else None)


def show_banners_reading(value: Any, source: str) -> DndReading:
    """GNOME's ``show-banners`` value (a bool, or gsettings' text) as a DND reading.

    Example:
        >>> show_banners_reading("false\\n", "gsettings").on, show_banners_reading(True, "portal").on
        (True, False)
    """
    if isinstance(value, str):
        value = {"true": True, "false": False}.get(value.strip().lower())
    if not isinstance(value, bool):
        return DndReading(source, None)
    return DndReading(source, not value)


def _unwrap(value: Any) -> Any:
    from dbus_fast import Variant

    while isinstance(value, Variant):
        value = value.value
    return value


async def _call(bus: Any, destination: str, path: str, interface: str, member: str, signature: str,
                body: list[Any]) -> Any | None:
    """One method call's first return value, or None on any error or timeout."""
    from dbus_fast import Message, MessageType

    try:
        reply = await asyncio.wait_for(bus.call(Message(destination=destination, path=path, interface=interface,
                                                        member=member, signature=signature, body=body)),
                                       TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - an unreadable source is "unknown", never an error
        log.debug("DND source %s.%s unavailable: %s", interface, member, exc)
        return None
    if reply is None or reply.message_type != MessageType.METHOD_RETURN or not reply.body:
        return None
    return _unwrap(reply.body[0])


async def read_inhibited(bus: Any) -> DndReading:
    """The notification server's ``Inhibited`` property (KDE and compatible servers)."""
    value = await _call(bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                        "org.freedesktop.DBus.Properties", "Get", "ss",
                        ["org.freedesktop.Notifications", "Inhibited"])
    return DndReading("inhibited", value if isinstance(value, bool) else None)


async def read_portal(bus: Any) -> DndReading:
    """GNOME's ``show-banners`` through the Settings portal (``ReadOne``, else the older ``Read``)."""
    for member in ("ReadOne", "Read"):
        value = await _call(bus, "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
                            "org.freedesktop.portal.Settings", member, "ss",
                            ["org.gnome.desktop.notifications", "show-banners"])
        if value is not None:
            return show_banners_reading(value, "portal")
    return DndReading("portal", None)


async def read_gsettings() -> DndReading:
    """GNOME's ``show-banners`` through the ``gsettings`` command (unknown when it is missing)."""
    exe = shutil.which("gsettings")
    if exe is None:
        return DndReading("gsettings", None)
    try:
        proc = await asyncio.create_subprocess_exec(
            exe, "get", "org.gnome.desktop.notifications", "show-banners",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001
        log.debug("gsettings unavailable: %s", exc)
        return DndReading("gsettings", None)
    if proc.returncode != 0:
        return DndReading("gsettings", None)
    return show_banners_reading(out.decode(errors="replace"), "gsettings")


MACOS_ASSERTIONS = Path("~/Library/DoNotDisturb/DB/Assertions.json")


def macos_focus_reading(text: str | None) -> DndReading:
    """macOS Focus from the text of ``Assertions.json``: on while any Focus assertion is stored.

    Example:
        >>> on = '{"data": [{"storeAssertionRecords": [{"assertionDetails": {"assertionDetailsModeIdentifier": "x"}}]}]}'
        >>> macos_focus_reading(on).on, macos_focus_reading('{"data": [{}]}').on, macos_focus_reading(None).on
        (True, False, None)
    """
    if text is None:
        return DndReading("macos", None)
    try:
        data = json.loads(text).get("data", [])
        records = [r for entry in data for r in entry.get("storeAssertionRecords", []) or []]
    except (ValueError, AttributeError, TypeError):
        return DndReading("macos", None)
    return DndReading("macos", bool(records))


def read_macos(path: Path | None = None) -> DndReading:
    """macOS Focus; unknown when the file cannot be read (no Full Disk Access, or an older macOS)."""
    try:
        text = (path or MACOS_ASSERTIONS).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.debug("macOS Focus state unreadable: %s", exc)
        text = None
    return macos_focus_reading(text)


#: SHQueryUserNotificationState answers that mean "do not disturb the user now": busy, a full-screen
#: Direct3D program, presentation mode, quiet time (the first hour after a new user's first log-in).
_WINDOWS_QUIET_STATES = {2, 3, 4, 6}


def windows_focus_reading(focus_assist: int | None, notification_state: int | None) -> DndReading:
    """Windows Focus Assist (0 off, 1 priority only, 2 alarms only) and the shell's notification state.

    Example:
        >>> windows_focus_reading(1, 5).on, windows_focus_reading(0, 4).on, windows_focus_reading(0, 5).on
        (True, True, False)
        >>> windows_focus_reading(None, None).on
    """
    if focus_assist is None and notification_state is None:
        return DndReading("windows", None)
    return DndReading("windows", bool(focus_assist) or notification_state in _WINDOWS_QUIET_STATES)


def _windows_focus_assist() -> int | None:
    """Focus Assist's profile from the shell's quiet-hours WNF state (undocumented; None when unreadable)."""
    import ctypes

    state_name = ctypes.c_uint64(0x0D83063EA3BF1C75)  # WNF_SHEL_QUIETHOURS_ACTIVE_PROFILE_CHANGED
    change_stamp, value, size = ctypes.c_ulong(0), ctypes.c_int32(0), ctypes.c_ulong(4)
    status = ctypes.windll.ntdll.NtQueryWnfStateData(  # type: ignore[attr-defined]
        ctypes.byref(state_name), None, None, ctypes.byref(change_stamp), ctypes.byref(value), ctypes.byref(size))
    return int(value.value) if status == 0 else None


def _windows_notification_state() -> int | None:
    import ctypes

    state = ctypes.c_int(0)
    result = ctypes.windll.shell32.SHQueryUserNotificationState(ctypes.byref(state))  # type: ignore[attr-defined]
    return int(state.value) if result == 0 else None


def read_windows() -> DndReading:
    """Windows Focus Assist and quiet states; unknown when the shell cannot be asked."""
    values: list[int | None] = []
    for read in (_windows_focus_assist, _windows_notification_state):
        try:
            values.append(read())
        except Exception as exc:  # noqa: BLE001 - an unreadable source is "unknown", never an error
            log.debug("Windows quiet state unreadable: %s", exc)
            values.append(None)
    return windows_focus_reading(*values)


def read_native(platform: str | None = None) -> DndReading | None:
    """The operating system's own Focus / Do Not Disturb on macOS and Windows (None elsewhere)."""
    platform = platform or sys.platform
    if platform == "darwin":
        return read_macos()
    if platform == "win32":
        return read_windows()
    return None


def can_read(platform: str | None = None) -> bool:
    """Whether this computer's Do Not Disturb can be read at all (always on Linux desktops, where an
    unreadable desktop means no notifications either; on macOS and Windows only if the system answers)."""
    native = read_native(platform)
    return native is None or native.on is not None


async def read_dnd(bus: Any | None, environ: Mapping[str, str] = os.environ, *, use_gsettings: bool = True,
                   platform: str | None = None) -> DndStatus:
    """The desktop's Do Not Disturb state from every source we can reach (`bus` may be None)."""
    override = env_reading(environ)
    if override.on is not None:
        return DndStatus(override.on, "env" if override.on else "")
    readings: list[DndReading] = []
    native = read_native(platform)
    if native is not None:
        readings.append(native)
    if bus is not None:
        readings.append(await read_inhibited(bus))
        readings.append(await read_portal(bus))
    if use_gsettings and not any(r.source == "portal" and r.on is not None for r in readings):
        readings.append(await read_gsettings())
    return combine(readings)
