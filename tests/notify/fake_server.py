"""A fake desktop for the notification tests, run on a private session bus.

It owns ``org.freedesktop.Notifications`` (Notify, CloseNotification, GetCapabilities,
GetServerInformation and the KDE-style ``Inhibited`` property) and
``org.freedesktop.portal.Desktop`` (the Settings portal, answering GNOME's
``org.gnome.desktop.notifications show-banners``), listens to every
``com.canonical.Unity.LauncherEntry`` signal, and records all of it, in order, to a JSON file
(rewritten after each record). A small control interface lets the scenario switch Do Not
Disturb and mark phases.

Run: ``python tests/notify/fake_server.py RECORD.json`` inside ``dbus-run-session``; it prints
``ready`` once it owns its names and exits on ``Quit()``.
"""

# No `from __future__ import annotations`: dbus-fast reads the D-Bus signatures from the annotations.
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_method, dbus_property, dbus_signal

NOTIFICATIONS = "org.freedesktop.Notifications"
PORTAL = "org.freedesktop.portal.Desktop"
LAUNCHER = "com.canonical.Unity.LauncherEntry"


def plain(value: Any) -> Any:
    """Variants and containers as JSON-friendly values."""
    if isinstance(value, Variant):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return list(value)
    return value


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self.phase = ""
        self.inhibited = False
        self.show_banners = True
        self.quit = asyncio.Event()

    def add(self, kind: str, **data: Any) -> None:
        self.records.append({"kind": kind, "phase": self.phase, **data})
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.records, indent=1))
        os.replace(tmp, self.path)


class Notifications(ServiceInterface):
    def __init__(self, rec: Recorder) -> None:
        super().__init__(NOTIFICATIONS)
        self.rec = rec
        self.next_id = 1

    @dbus_method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",  # noqa: F821
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":  # noqa: F821
        nid = self.next_id
        self.next_id += 1
        self.rec.add("notify", id=nid, app_name=app_name, summary=summary, body=body, actions=list(actions),
                     hints=plain(hints), expire_timeout=expire_timeout)
        return nid

    @dbus_method()
    def CloseNotification(self, nid: "u") -> None:  # noqa: F821
        self.rec.add("close", id=nid)
        self.NotificationClosed(nid, 3)

    @dbus_method()
    def GetCapabilities(self) -> "as":
        return ["body", "actions", "persistence"]

    @dbus_method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return ["Fake Notifications", "peftstudio-tests", "1.0", "1.2"]

    @dbus_signal()
    def NotificationClosed(self, nid: "u", reason: "u") -> "uu":  # noqa: F821
        return [nid, reason]

    @dbus_signal()
    def ActionInvoked(self, nid: "u", action_key: "s") -> "us":  # noqa: F821
        return [nid, action_key]

    @dbus_property(access=PropertyAccess.READ)
    def Inhibited(self) -> "b":  # noqa: F821
        return self.rec.inhibited


class PortalSettings(ServiceInterface):
    def __init__(self, rec: Recorder) -> None:
        super().__init__("org.freedesktop.portal.Settings")
        self.rec = rec

    def _value(self, namespace: str, key: str) -> Variant:
        if (namespace, key) == ("org.gnome.desktop.notifications", "show-banners"):
            return Variant("b", self.rec.show_banners)
        from dbus_fast import DBusError

        raise DBusError("org.freedesktop.portal.Error.NotFound", f"{namespace} {key} not found")

    @dbus_method()
    def ReadOne(self, namespace: "s", key: "s") -> "v":  # noqa: F821
        return self._value(namespace, key)

    @dbus_method()
    def Read(self, namespace: "s", key: "s") -> "v":  # noqa: F821
        # The deprecated call wraps the value in a second variant.
        return Variant("v", self._value(namespace, key))

    @dbus_property(access=PropertyAccess.READ)
    def version(self) -> "u":  # noqa: F821
        return 2


class Control(ServiceInterface):
    def __init__(self, rec: Recorder) -> None:
        super().__init__("org.peftstudio.Test.FakeControl")
        self.rec = rec

    @dbus_method()
    def Mark(self, phase: "s") -> None:  # noqa: F821
        self.rec.phase = phase
        self.rec.add("mark")

    @dbus_method()
    def SetInhibited(self, on: "b") -> None:  # noqa: F821
        self.rec.inhibited = on

    @dbus_method()
    def SetShowBanners(self, on: "b") -> None:  # noqa: F821
        self.rec.show_banners = on

    @dbus_method()
    def Quit(self) -> None:
        self.rec.quit.set()


async def serve(path: Path) -> None:
    rec = Recorder(path)
    rec.add("start")
    bus = await MessageBus(bus_type=BusType.SESSION).connect()

    def on_message(msg: Message) -> None:
        if msg.message_type == MessageType.SIGNAL and msg.interface == LAUNCHER and msg.member == "Update":
            app_uri, properties = msg.body
            rec.add("launcher", path=msg.path, app_uri=app_uri, properties=plain(properties))

    bus.add_message_handler(on_message)
    await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                           interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                           body=[f"type='signal',interface='{LAUNCHER}'"]))
    bus.export("/org/freedesktop/Notifications", Notifications(rec))
    bus.export("/org/freedesktop/portal/desktop", PortalSettings(rec))
    bus.export("/org/peftstudio/Test", Control(rec))
    await bus.request_name(NOTIFICATIONS)
    await bus.request_name(PORTAL)
    print("ready", flush=True)
    await rec.quit.wait()
    rec.add("stop")
    bus.disconnect()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
