"""`RunNotifier`: tells the desktop how a run is going, without ever getting in its way.

Feed it progress (0..1), warnings, the completion and errors from any thread. It decides
what to say with the pure functions in `peftstudio.notify.decide` right away (in the caller's
thread) and does all D-Bus work on its own background thread with its own asyncio loop, one
job after another: Do Not Disturb check, banner, taskbar signal, sound. Nothing it does can
raise into training or block it; with no session bus it logs once and stays quiet.

Example:
    >>> quiet = {"PEFTSTUDIO_DND": "on"}  # Do Not Disturb, so the example shows no banners
    >>> notifier = RunNotifier(NotifySettings(sound=False), run_name="demo", environ=quiet)
    >>> for step in range(1, 5):
    ...     notifier.progress(step / 4)
    >>> notifier.completed(CompletionSummary(run_name="demo", steps=4))
    >>> notifier.close()
    >>> [d.notice.milestone for d in notifier.deliveries]
    [25, 50, 75, 100]
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from attrs import frozen

from peftstudio.errors import ErrorInfo, PlainError
from peftstudio.notify import dnd, launcher
from peftstudio.notify.decide import (
    CompletionSummary,
    LauncherState,
    Notice,
    NotifySettings,
    ProgressState,
    launcher_update,
    on_completed,
    on_failed,
    on_progress,
    warning_notice,
)
from peftstudio.notify.desktop import APP_NAME, DesktopSender
from peftstudio.notify.sound import play_completion_sound

log = logging.getLogger(__name__)

Outcome = Literal["shown", "not_shown", "do_not_disturb", "switched_off", "no_bus", "no_server"]
NOTIFICATIONS = "org.freedesktop.Notifications"
BUS_RETRY_S = 30.0  # after a failed connection, try the bus again at most this often
CONNECT_TIMEOUT_S = 3.0
EXIT_FLUSH_S = 5.0  # at interpreter exit, wait at most this long for unsent notices
#: Platforms whose notifications go through D-Bus (macOS and Windows have native backends).
USES_DBUS = sys.platform not in ("darwin", "win32")


@frozen
class Delivery:
    """What became of one notice: shown, held back by Do Not Disturb, switched off, ..."""

    notice: Notice
    outcome: Outcome
    reason: str = ""


class RunNotifier:
    """Desktop notifications, taskbar progress and the completion sound for one run.

    `on_launcher` is called (in the caller's thread) with every new `LauncherState`, so an app
    can put the progress in its window title where no dock shows it. `settings` may be
    replaced at any time (the app's toggles).
    """

    def __init__(self, settings: NotifySettings | None = None, *, run_name: str = "",
                 app_name: str = APP_NAME, desktop_id: str = launcher.DEFAULT_DESKTOP_ID,
                 on_launcher: Callable[[LauncherState], Any] | None = None,
                 play_sound: Callable[[], Any] = play_completion_sound,
                 environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings if settings is not None else NotifySettings()
        self.run_name = run_name
        self.desktop_id = desktop_id
        self.on_launcher = on_launcher
        self.play_sound = play_sound
        self._environ = environ
        self._sender = DesktopSender(app_name)
        self._lock = threading.RLock()  # re-entered: queuing a switched-off notice records it
        self._state = ProgressState()
        self._deliveries: list[Delivery] = []
        self._worker: _Worker | None = None
        self._bus: Any = None
        self._bus_failed_at: float | None = None
        self._closed = False
        self._exit_hook: Callable[[], None] | None = None

    # ------------------------------------------------------------------ what callers feed in
    def progress(self, fraction: float) -> None:
        """Report the run's progress (0..1): milestones and the taskbar follow."""
        with self._lock:  # decide and queue in one step, so jobs keep the order of the decisions
            if self._state.finished:
                return
            self._state, notices = on_progress(self._state, fraction, self.settings, self.run_name)
            new_launcher = launcher_update(self._state.launcher, fraction)
            if new_launcher is not None:
                self._state = _with_launcher(self._state, new_launcher)
            for notice in notices:
                self._notify(notice)
            if new_launcher is not None:
                self._launcher(new_launcher)
        if new_launcher is not None:
            self._hook(new_launcher)

    def skip_to(self, fraction: float) -> None:
        """Mark milestones up to `fraction` as announced (a resumed run), silently."""
        with self._lock:
            self._state, _ = on_progress(self._state, fraction, self.settings)

    def warning(self, title: str, message: str) -> None:
        """Something worth a look that does not stop the run (e.g. a guard's finding)."""
        with self._lock:
            self._notify(warning_notice(title, message))

    def completed(self, summary: CompletionSummary | None = None) -> None:
        """The run finished: the 100% notice with its summary, the sound, the taskbar cleared."""
        summary = summary or CompletionSummary(run_name=self.run_name)
        with self._lock:
            self._state, notices = on_completed(self._state, summary)
            final = LauncherState(1.0, visible=False)
            self._state = _with_launcher(self._state, final)
            for notice in notices:
                self._notify(notice)
            self._launcher(final)
            if notices and self.settings.sound:
                self._submit(self._sound)
        self._hook(final)

    def failed(self, error: BaseException | ErrorInfo) -> None:
        """The run stopped on `error`: an urgent notice with its plain title and explanation."""
        info = error if isinstance(error, ErrorInfo) else _plain_info(error)
        with self._lock:
            self._state, notices = on_failed(self._state, info, self.run_name)
            last = self._state.launcher.progress if self._state.launcher else 0.0
            mark = LauncherState(last, visible=True, urgent=True)
            self._state = _with_launcher(self._state, mark)
            for notice in notices:
                self._notify(notice)
            self._launcher(mark)
        self._hook(mark)

    # ------------------------------------------------------------------ results and lifetime
    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        """Every notice so far and what became of it (complete after `flush`)."""
        with self._lock:
            return tuple(self._deliveries)

    @property
    def state(self) -> ProgressState:
        return self._state

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far went out; False on timeout."""
        if self._worker is None:
            return True
        future = self._worker.submit(self._sync_bus)
        try:
            future.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Flush, then stop the background thread and drop the bus connection."""
        self.flush(timeout)
        with self._lock:
            self._closed = True
            if self._exit_hook is not None:
                atexit.unregister(self._exit_hook)
                self._exit_hook = None
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.submit(self._disconnect).result(timeout)
            worker.stop(timeout)

    def __enter__(self) -> RunNotifier:  # noqa: PYI034 - not meant to be subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def state_dict(self) -> dict[str, Any]:
        """Milestones already announced, as plain data (kept in checkpoints by the callback)."""
        return {"sent": sorted(self._state.sent), "finished": self._state.finished}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        with self._lock:
            self._state = ProgressState(sent=frozenset(int(m) for m in state.get("sent", ())),
                                        finished=bool(state.get("finished", False)))

    # ------------------------------------------------------------------ the background side
    def _record(self, notice: Notice, outcome: Outcome, reason: str = "") -> None:
        with self._lock:
            self._deliveries.append(Delivery(notice, outcome, reason))

    def _notify(self, notice: Notice) -> None:
        if not self.settings.allows(notice.kind):
            self._record(notice, "switched_off")
            return
        self._submit(lambda: self._deliver(notice))

    def _launcher(self, state: LauncherState) -> None:
        if self.settings.launcher and USES_DBUS:
            self._submit(lambda: self._emit(state))

    def _hook(self, state: LauncherState) -> None:
        # Outside the lock: the app's code may call back into the notifier.
        if self.settings.launcher and self.on_launcher is not None:
            try:
                self.on_launcher(state)
            except Exception:
                log.exception("launcher hook failed")

    def _submit(self, job: Callable[[], Awaitable[Any]]) -> None:
        if self._closed:
            return
        if self._worker is None:
            self._worker = _Worker()
            # A script that ends right after `completed()` should still get its notice out.
            self._exit_hook = functools.partial(_flush_at_exit, weakref.ref(self))
            atexit.register(self._exit_hook)
        self._worker.submit(job)

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    async def _get_bus(self) -> Any:
        if self._bus is not None and self._bus.connected:
            return self._bus
        if self._bus_failed_at is not None and time.monotonic() - self._bus_failed_at < BUS_RETRY_S:
            return None
        try:
            from dbus_fast.aio import MessageBus

            self._bus = await asyncio.wait_for(MessageBus().connect(), CONNECT_TIMEOUT_S)
            self._bus_failed_at = None
            return self._bus
        except Exception as exc:  # noqa: BLE001
            if self._bus_failed_at is None:
                log.info("no desktop session bus (%s); desktop notifications are off", exc)
            self._bus, self._bus_failed_at = None, time.monotonic()
            return None

    async def _dnd(self) -> dnd.DndStatus:
        if not self.settings.respect_do_not_disturb:
            return dnd.DndStatus(False)
        bus = await self._get_bus() if USES_DBUS else None
        return await dnd.read_dnd(bus, self._env(), use_gsettings=USES_DBUS)

    async def _deliver(self, notice: Notice) -> None:
        if USES_DBUS:
            bus = await self._get_bus()
            if bus is None:
                self._record(notice, "no_bus")
                return
            if not await _server_available(bus):
                # Checked here so a desktop without a notification server costs one quiet line in
                # the log, not a traceback per notice from desktop-notifier.
                self._record(notice, "no_server")
                return
        status = await self._dnd()
        if status.on:
            self._record(notice, "do_not_disturb", status.source)
            return
        shown = await self._sender.send(notice)
        self._record(notice, "shown" if shown else "not_shown")

    async def _emit(self, state: LauncherState) -> None:
        bus = await self._get_bus()
        if bus is not None:
            try:
                await launcher.emit(bus, state, self.desktop_id)
            except Exception as exc:  # noqa: BLE001
                log.debug("launcher signal not sent: %s", exc)

    async def _sound(self) -> None:
        if (await self._dnd()).on:
            return
        try:
            self.play_sound()
        except Exception as exc:  # noqa: BLE001
            log.debug("completion sound skipped: %s", exc)

    async def _sync_bus(self) -> None:
        # A round trip to the bus daemon: every signal we sent before it has been routed.
        if self._bus is not None and self._bus.connected:
            from dbus_fast import Message

            try:
                await asyncio.wait_for(self._bus.call(Message(
                    destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus.Peer", member="Ping")), CONNECT_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001
                log.debug("bus ping failed: %s", exc)

    async def _disconnect(self) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None


def _flush_at_exit(ref: weakref.ref[RunNotifier]) -> None:
    notifier = ref()
    if notifier is not None:
        notifier.flush(EXIT_FLUSH_S)


async def _server_available(bus: Any) -> bool:
    """Whether a notification server runs on `bus` or can be started by it."""
    from dbus_fast import Message, MessageType

    async def ask(member: str, signature: str = "", body: list[Any] | None = None) -> Any:
        reply = await asyncio.wait_for(bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus", interface="org.freedesktop.DBus",
            member=member, signature=signature, body=body or [])), CONNECT_TIMEOUT_S)
        return reply.body[0] if reply is not None and reply.message_type == MessageType.METHOD_RETURN else None

    try:
        if await ask("NameHasOwner", "s", [NOTIFICATIONS]):
            return True
        if NOTIFICATIONS in (await ask("ListActivatableNames") or ()):
            return True
    except Exception as exc:  # noqa: BLE001 - cannot tell: let desktop-notifier try
        log.debug("could not ask the bus for a notification server: %s", exc)
        return True
    log.info("no desktop notification server on the session bus; notice not shown")
    return False


def _with_launcher(state: ProgressState, value: LauncherState) -> ProgressState:
    from attrs import evolve

    return evolve(state, launcher=value)


def _plain_info(error: BaseException) -> ErrorInfo:
    if isinstance(error, PlainError):
        return error.info
    from peftstudio.errors import as_plain

    return as_plain(error).info


class _Worker:
    """One daemon thread running an asyncio loop; jobs run one at a time, in submission order."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._lock: asyncio.Lock | None = None
        self.thread = threading.Thread(target=self._run, name="peftstudio-notify", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def _serial(self, job: Callable[[], Awaitable[Any]]) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # FIFO: jobs keep their order
            try:
                return await job()
            except Exception:
                log.exception("notification job failed")
                return None

    def submit(self, job: Callable[[], Awaitable[Any]]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(self._serial(job), self.loop)

    def stop(self, timeout: float) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        if not self.thread.is_alive():
            self.loop.close()
