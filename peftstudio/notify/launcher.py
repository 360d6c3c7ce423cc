"""Progress on the taskbar icon: the ``com.canonical.Unity.LauncherEntry`` D-Bus signal.

Docks and taskbars that follow the Unity launcher API (KDE Plasma, Ubuntu Dock, Dash to
Dock, Plank, ...) listen on the session bus for

    Update(app_uri: s, properties: a{sv})

and draw a progress bar over the icon of the application whose desktop file matches
``app_uri`` (``application://peftstudio.desktop``). Nobody answers a signal, so emitting one
where no dock listens costs nothing; the window title is the fallback (see
`peftstudio.notify.title_with_progress`).

Example:
    >>> from peftstudio.notify.decide import LauncherState
    >>> sorted(launcher_properties(LauncherState(0.5)))
    ['count-visible', 'progress', 'progress-visible', 'urgent']
    >>> app_uri("peftstudio.desktop")
    'application://peftstudio.desktop'
"""

from __future__ import annotations

import zlib
from typing import Any

from peftstudio.notify.decide import LauncherState

INTERFACE = "com.canonical.Unity.LauncherEntry"
DEFAULT_DESKTOP_ID = "peftstudio.desktop"


def app_uri(desktop_id: str = DEFAULT_DESKTOP_ID) -> str:
    """The URI docks match against installed desktop files."""
    return f"application://{desktop_id}"


def object_path(desktop_id: str = DEFAULT_DESKTOP_ID) -> str:
    """A stable object path for our signals (docks ignore it; libunity uses one per entry)."""
    return f"/com/canonical/unity/launcherentry/{zlib.crc32(desktop_id.encode())}"


def launcher_properties(state: LauncherState) -> dict[str, Any]:
    """The ``a{sv}`` properties of one Update signal."""
    from dbus_fast import Variant

    props: dict[str, Any] = {
        "progress": Variant("d", float(state.progress)),
        "progress-visible": Variant("b", bool(state.visible)),
        "urgent": Variant("b", bool(state.urgent)),
        "count-visible": Variant("b", state.count is not None),
    }
    if state.count is not None:
        props["count"] = Variant("x", int(state.count))
    return props


async def emit(bus: Any, state: LauncherState, desktop_id: str = DEFAULT_DESKTOP_ID) -> None:
    """Send one Update signal on `bus` (a connected ``dbus_fast.aio.MessageBus``)."""
    from dbus_fast import Message

    await bus.send(Message.new_signal(object_path(desktop_id), INTERFACE, "Update", "sa{sv}",
                                      [app_uri(desktop_id), launcher_properties(state)]))
