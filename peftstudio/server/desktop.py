"""The library's desktop notifications, sent by the studio server when it runs on the person's own computer.

When the studio is served on loopback (`peftstudio app`, or `serve` without ``--host``) the desktop that
shows the page is this one: `DesktopNotices` follows every unfinished run through the typed run API
(`peftstudio.runs.updates_since`) and feeds one `peftstudio.notify.RunNotifier` per run: progress
milestones, the guards' warnings, completion with the sound, urgent errors; Do Not Disturb and the switches
saved from the page (`peftstudio.notify.load_settings`) are respected by the notifier itself. Runs that had
already finished when the server started stay quiet, and a run first seen half way announces only what
comes next.

Example:
    >>> notices = DesktopNotices(poll_s=2.0)
    >>> notices.poll()  # one look at the runs (the server calls it every `poll_s` seconds in a thread)
    >>> notices.close()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from peftstudio import runs
from peftstudio.notify import CompletionSummary, NotifySettings, RunNotifier, load_settings

log = logging.getLogger(__name__)

#: the guards' events that are worth a desktop warning (the page shows them as banners)
WARNING_KINDS = ("divergence", "overfitting", "memory_pressure", "gradient_explosion")


class _Followed:
    def __init__(self, notifier: RunNotifier, cursor: runs.Cursor, total: int | None) -> None:
        self.notifier, self.cursor, self.total = notifier, cursor, total


class DesktopNotices:
    """Desktop notices for every run, from one background thread (`start`), or by calling `poll`."""

    def __init__(self, *, poll_s: float = 2.0, settings: Callable[[], NotifySettings] = load_settings,
                 environ: Mapping[str, str] | None = None, play_sound: Callable[[], Any] | None = None) -> None:
        self.poll_s = poll_s
        self._settings = settings
        self._environ = environ
        self._play_sound = play_sound
        self._followed: dict[str, _Followed] = {}
        self._history: set[str] = set()  # runs that had ended before the first look
        self._first = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def notifiers(self) -> dict[str, RunNotifier]:
        """The notifier of each followed run (their `deliveries` say what became of each notice)."""
        return {rid: f.notifier for rid, f in self._followed.items()}

    def _notifier(self, record: runs.RunRecord, settings: NotifySettings) -> RunNotifier:
        extra: dict[str, Any] = {} if self._play_sound is None else {"play_sound": self._play_sound}
        return RunNotifier(settings, run_name=record.name or record.id, environ=self._environ, **extra)

    def _follow(self, record: runs.RunRecord, settings: NotifySettings, *, from_start: bool) -> None:
        notifier = self._notifier(record, settings)
        cursor = runs.Cursor()
        total = record.summary.total_steps
        if not from_start:  # seen half way: what happened before is not news
            for update in runs.updates_since(record.id):
                cursor = update.cursor
            step = record.summary.step or 0
            if total:
                notifier.skip_to(step / total)
        self._followed[record.id] = _Followed(notifier, cursor, total)

    def poll(self) -> None:
        """Look at every run once and send what is new."""
        with self._lock:
            settings = self._settings()
            for record in runs.list_runs():
                followed = self._followed.get(record.id)
                if followed is None:
                    if record.status in runs.FINAL_STATUSES:
                        if self._first or record.id in self._history:
                            self._history.add(record.id)  # finished before the server started
                            continue
                        self._follow(record, settings, from_start=True)  # started and ended between two looks
                    else:
                        self._follow(record, settings, from_start=not self._first)
                    followed = self._followed[record.id]
                elif followed.cursor.status in runs.FINAL_STATUSES and record.status not in runs.FINAL_STATUSES:
                    followed.notifier.close(timeout=2)  # resumed or fixed after it ended: a new story
                    self._follow(record, settings, from_start=False)
                    followed = self._followed[record.id]
                followed.notifier.settings = settings  # the page's switches, changed at any time
                self._feed(record.id, followed)
            self._first = False

    def _feed(self, run_id: str, f: _Followed) -> None:
        for update in runs.updates_since(run_id, f.cursor):
            f.cursor = update.cursor
            if isinstance(update, runs.MetricUpdate) and update.name == "loss" and f.total:
                f.notifier.progress(update.step / f.total)
            elif isinstance(update, runs.EventUpdate) and update.kind in WARNING_KINDS:
                title = str(update.data.get("reason_message") or update.kind.replace("_", " ").capitalize())
                f.notifier.warning(title, update.message)
            elif isinstance(update, runs.StatusUpdate):
                run = update.run
                f.total = run.summary.total_steps or f.total
                if update.status == "completed":
                    s = run.summary
                    f.notifier.completed(CompletionSummary(
                        run_name=run.name or run.id, steps=s.steps, elapsed_seconds=run.elapsed_seconds,
                        final_loss=s.final_loss, best_val_loss=s.best_val_loss))
                elif update.status == "failed" and run.error:
                    from peftstudio.errors import ErrorInfo

                    e = run.error
                    f.notifier.failed(ErrorInfo(code=str(e.get("code", "")), title=str(e.get("title", "")),
                                                explanation=str(e.get("explanation", ""))))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every notice decided so far went out (for tests and shutdown)."""
        for notifier in list(self.notifiers.values()):
            notifier.flush(timeout)

    def start(self) -> DesktopNotices:
        """Poll in a daemon thread until `close`."""
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.poll()
                except Exception:  # noqa: BLE001 - a notice must never take the server down
                    log.exception("desktop notices: a look at the runs failed")
                self._stop.wait(self.poll_s)

        self._thread = threading.Thread(target=loop, daemon=True, name="studio-desktop-notices")
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and close every notifier (sending what is still queued)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for notifier in list(self.notifiers.values()):
            notifier.close(timeout=5)


__all__ = ["WARNING_KINDS", "DesktopNotices"]
