"""Do Not Disturb: does the desktop want banners hidden right now?

Sources, first that answers wins for the override, any "on" wins otherwise:

1. ``PEFTSTUDIO_DND`` (``on``/``off``, ``1``/``0``): the user's explicit override, for desktops
   we cannot read.
2. The notification server's ``Inhibited`` property on ``org.freedesktop.Notifications``
   (KDE Plasma and other servers that implement the inhibition extension).
3. GNOME's ``org.gnome.desktop.notifications show-banners`` read through the Settings portal
   (``org.freedesktop.portal.Settings.ReadOne``), which works inside Flatpak too, or, when no
   portal answers, through the ``gsettings`` command.

A source that is missing or fails counts as "unknown"; all unknown means DND is off.

Example:
    >>> combine([DndReading("inhibited", None), DndReading("gnome", True)])
    DndStatus(on=True, source='gnome')
    >>> combine([]).on
    False
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen

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
    """Whether Do Not Disturb is on and which source said so."""

    on: bool
    source: str = ""


def combine(readings: Sequence[DndReading]) -> DndStatus:
    """DND is on when any source says so."""
    for reading in readings:
        if reading.on:
            return DndStatus(True, reading.source)
    return DndStatus(False)


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


async def read_dnd(bus: Any | None, environ: Mapping[str, str] = os.environ, *, use_gsettings: bool = True
                   ) -> DndStatus:
    """The desktop's Do Not Disturb state from every source we can reach (`bus` may be None)."""
    override = env_reading(environ)
    if override.on is not None:
        return DndStatus(override.on, "env" if override.on else "")
    readings: list[DndReading] = []
    if bus is not None:
        readings.append(await read_inhibited(bus))
        readings.append(await read_portal(bus))
    if use_gsettings and not any(r.source == "portal" and r.on is not None for r in readings):
        readings.append(await read_gsettings())
    return combine(readings)
