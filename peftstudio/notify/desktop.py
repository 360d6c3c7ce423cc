"""Desktop banners through desktop-notifier (``org.freedesktop.Notifications`` on Linux).

`DesktopSender` lives on one asyncio loop (the notifier's thread). desktop-notifier already
logs and carries on when there is no bus or no server; on top of that every call here has a
timeout and swallows errors, so a stuck or missing notification service can never hold up or
break a training run.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from peftstudio.notify.decide import Notice

log = logging.getLogger(__name__)

APP_NAME = "PEFT Studio"
TIMEOUT_S = 5.0


def _urgency(name: str) -> Any:
    from desktop_notifier import Urgency

    return {"low": Urgency.Low, "normal": Urgency.Normal, "critical": Urgency.Critical}[name]


class DesktopSender:
    """Sends `Notice`s; a new progress notice replaces the previous one on screen."""

    def __init__(self, app_name: str = APP_NAME, icon: str | None = None) -> None:
        self.app_name = app_name
        self.icon = icon
        self._notifier: Any = None
        self._last_progress_id: str | None = None

    def _get(self) -> Any:
        if self._notifier is None:
            from desktop_notifier import DesktopNotifier, Icon

            icon = Icon(name=self.icon) if self.icon else None
            self._notifier = DesktopNotifier(app_name=self.app_name, app_icon=icon)
        return self._notifier

    async def send(self, notice: Notice) -> bool:
        """Show `notice`; False when it could not be handed to the desktop."""
        try:
            notifier = self._get()
        except Exception as exc:  # noqa: BLE001 - e.g. an unsupported platform
            log.info("desktop notifications unavailable: %s", exc)
            return False
        if notice.kind == "progress" and self._last_progress_id is not None:
            # One progress banner at a time: 50% replaces 25% instead of piling up.
            try:
                await asyncio.wait_for(notifier.clear(self._last_progress_id), TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - already closed by the user
                log.debug("could not close the previous progress banner: %s", exc)
            self._last_progress_id = None
        dispatched: list[bool] = []
        try:
            ident = await asyncio.wait_for(
                notifier.send(notice.title, notice.body, urgency=_urgency(notice.urgency),
                              on_dispatched=lambda: dispatched.append(True)), TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - notifications are best effort
            log.info("desktop notification not shown (%s): %s", notice.title, exc)
            return False
        # desktop-notifier logs instead of raising when the server refuses; it reports
        # "dispatched" only for notifications the server accepted.
        if dispatched and notice.kind == "progress":
            self._last_progress_id = ident
        return bool(dispatched)
