"""Why notifications do (not) show up: the session bus, the server, Do Not Disturb, the player.

Example:
    >>> report = check_notifications(environ={"PEFTSTUDIO_DND": "on"})
    >>> report.do_not_disturb.on
    True
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from peftstudio.notify import dnd
from peftstudio.notify.sound import find_player

CONNECT_TIMEOUT_S = 3.0


@frozen
class NotifyCheck:
    """What a run's notifications would meet on this desktop right now."""

    session_bus: bool
    server: str | None  # the notification server's name, None when there is none
    do_not_disturb: dnd.DndStatus
    sound_player: str | None

    @property
    def will_show(self) -> bool:
        """Whether a banner would appear now."""
        return self.server is not None and not self.do_not_disturb.on

    def advice(self) -> str:
        """One plain sentence on what to expect (or what to do)."""
        if not self.session_bus:
            return ("No desktop session found (e.g. over SSH or in a container): training runs fine, "
                    "but notifications cannot be shown here.")
        if self.server is None:
            return "This desktop has no notification service running, so notifications cannot be shown."
        if self.do_not_disturb.on:
            return (f"Do Not Disturb is on ({self.do_not_disturb.source}): notifications are held back "
                    f"until you switch it off.")
        return f"Notifications will be shown by {self.server}."


async def _server_name(bus: Any) -> str | None:
    from dbus_fast import Message, MessageType

    try:
        reply = await asyncio.wait_for(bus.call(Message(
            destination="org.freedesktop.Notifications", path="/org/freedesktop/Notifications",
            interface="org.freedesktop.Notifications", member="GetServerInformation")), CONNECT_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - no server is an answer, not an error
        return None
    if reply is None or reply.message_type != MessageType.METHOD_RETURN or not reply.body:
        return None
    return str(reply.body[0]) or "the desktop's notification service"


async def _check(environ: Mapping[str, str]) -> NotifyCheck:
    from dbus_fast.aio import MessageBus

    player = find_player()
    try:
        bus = await asyncio.wait_for(MessageBus().connect(), CONNECT_TIMEOUT_S)
    except Exception:  # noqa: BLE001
        return NotifyCheck(False, None, await dnd.read_dnd(None, environ), player[0] if player else None)
    try:
        return NotifyCheck(True, await _server_name(bus), await dnd.read_dnd(bus, environ),
                           player[0] if player else None)
    finally:
        bus.disconnect()


def check_notifications(environ: Mapping[str, str] | None = None) -> NotifyCheck:
    """Look at this desktop's notification set-up (takes a moment; call it off the UI thread)."""
    return asyncio.run(_check(os.environ if environ is None else environ))
