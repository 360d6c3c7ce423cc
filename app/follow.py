"""Following a run through the store: what changed since the last look, as one `RunUpdate`.

`RunFollower.poll()` reads only what is new (metrics and events after the last ids seen, the newest
system reading) so it stays cheap on long runs; the controller calls it on a background thread and
hands the update to the UI thread. A worker that redoes steps after a resume replaces their points.

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.store import Store
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
    >>> run = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...                                  data=DataSettings(path="chat.jsonl")))
    >>> store.add_metrics(run.id, 1, {"loss": 2.5})
    >>> follower = RunFollower(store, run.id)
    >>> follower.poll().loss
    [(1, 2.5)]
"""

from __future__ import annotations

import time
from typing import Any

from attrs import field, frozen

from peftstudio.store import Store

#: Event kinds after which the metrics are read again from the start (a resume may redo steps).
RELOAD_KINDS = ("resumed",)


@frozen
class RunUpdate:
    """The state of a run as of one poll; `events` are only the new ones."""

    run_id: str
    name: str
    status: str
    step: int
    total_steps: int
    elapsed_seconds: float
    remaining_seconds: float | None
    remaining_low_seconds: float | None
    remaining_high_seconds: float | None
    tokens_per_second: float | None
    loss: list[tuple[int, float]] = field(factory=list)  # all points so far, by step
    val_loss: list[tuple[int, float]] = field(factory=list)
    events: list[dict[str, Any]] = field(factory=list)
    reading: dict[str, Any] | None = None
    summary: dict[str, Any] = field(factory=dict)
    error: dict[str, Any] | None = None
    changed_points: bool = False


class RunFollower:
    """Remembers what it has read of one run; `poll()` returns the run's state with the new parts."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self._metric_id = 0
        self._event_id = 0
        self._loss: dict[int, float] = {}
        self._val: dict[int, float] = {}
        self._latest: dict[str, float] = {}
        self._step = 0
        self._last_metric_time = 0.0
        self._session_start: float | None = None

    def _read_metrics(self) -> bool:
        rows = self.store.metrics_after(self.run_id, self._metric_id)
        for r in rows:
            self._metric_id = r["id"]
            name, step, value = r["name"], int(r["step"]), float(r["value"])
            if name == "loss":
                self._loss[step] = value
            elif name == "val_loss":
                self._val[step] = value
            self._latest[name] = value
            self._last_metric_time = float(r["time"])
            if name == "loss":
                self._step = max(self._step, step)
        return bool(rows)

    def _reload(self) -> None:
        self._metric_id = 0
        self._loss.clear()
        self._val.clear()
        self._latest.clear()
        self._step = 0

    def poll(self) -> RunUpdate:
        from peftstudio.engine import run_status  # notices a worker that died (the run becomes failed)

        run = run_status(self.run_id, self.store)
        events = self.store.events(self.run_id, after_id=self._event_id)
        for event in events:
            self._event_id = event["id"]
            if event["kind"] in ("started", "resumed"):
                self._session_start = event["time"]
            if event["kind"] in RELOAD_KINDS:
                self._reload()
        changed = self._read_metrics()
        readings = self.store.readings(self.run_id, last=1)
        step = self._step
        total = int(run.summary.get("total_steps") or 0)
        elapsed = float(run.elapsed_seconds or 0.0)
        if run.status == "running" and self._session_start is not None:
            elapsed += max(0.0, time.time() - self._session_start)
        elif run.status == "failed" and self._session_start is not None and self._last_metric_time:
            elapsed += max(0.0, self._last_metric_time - self._session_start)  # a killed worker saved no total
        pause = run.summary.get("pause") if run.status == "paused" else None
        remaining = self._latest.get("eta_seconds")
        low, high = self._latest.get("eta_low_seconds"), self._latest.get("eta_high_seconds")
        if pause:
            remaining = pause.get("remaining_seconds", remaining)
            low, high = pause.get("remaining_low_seconds", low), pause.get("remaining_high_seconds", high)
            elapsed = float(pause.get("elapsed_seconds") or elapsed)
        if run.status == "completed":
            remaining = low = high = 0.0
            step = max(step, int(run.summary.get("steps") or 0))
        return RunUpdate(
            run_id=run.id, name=run.name, status=run.status, step=step, total_steps=total, elapsed_seconds=elapsed,
            remaining_seconds=remaining, remaining_low_seconds=low, remaining_high_seconds=high,
            tokens_per_second=self._latest.get("tokens_per_second"),
            loss=sorted(self._loss.items()), val_loss=sorted(self._val.items()), events=events,
            reading=readings[-1] if readings else None, summary=dict(run.summary), error=run.error,
            changed_points=changed,
        )
