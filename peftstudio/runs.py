"""The typed run API: read a run as a record, and follow it as a stream of typed updates.

One way for every front end (the CLI's progress bar, the app, the HTTP server's event stream, a script)
to see a run: `get` returns a `RunRecord` (status, config, a typed summary, the quality score, the
versions made from it); `follow` yields `MetricUpdate`, `EventUpdate`, `ReadingUpdate` and
`StatusUpdate` records in the order they were stored, across pauses and resumes, until the run ends.
Each update carries a `Cursor`; handing the last one back as ``since=`` resumes exactly after it, so a
client that reconnects gets every update once (the cursor's text form suits an SSE ``Last-Event-ID``).

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
    >>> from peftstudio.store import Store
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
    >>> rid = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...                                  data=DataSettings(path="chat.jsonl"))).id
    >>> store.add_metrics(rid, 1, {"loss": 2.5})
    >>> store.update_run(rid, status="completed", summary={"steps": 1, "final_loss": 2.5})
    >>> get(rid, store=store).summary.final_loss
    2.5
    >>> [type(u).__name__ for u in follow(rid, store=store)]
    ['MetricUpdate', 'StatusUpdate']
    >>> Cursor.parse(str(Cursor(metric=3, event=1))) == Cursor(metric=3, event=1)
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import attrs
from attrs import field, frozen

from peftstudio.errors import make
from peftstudio.records.config import RunConfig
from peftstudio.store import RunRow, Store, open_store

#: statuses after which a run changes no more (until someone resumes or fixes it)
FINAL_STATUSES = ("completed", "failed")


@frozen
class Cursor:
    """Where a follower is: the last metric, event and reading row it has seen, and the status it saw.

    Its text form ``m.e.r.status`` travels as an SSE event id.
    """

    metric: int = 0
    event: int = 0
    reading: int = 0
    status: str = ""

    def __str__(self) -> str:
        return f"{self.metric}.{self.event}.{self.reading}.{self.status}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor of a text made by `str(cursor)`; a plain error for anything else."""
        parts = text.strip().split(".", 3)
        try:
            metric, event, reading = (int(p) for p in parts[:3])
            status = parts[3] if len(parts) > 3 else ""
        except ValueError:
            raise make("config_invalid", problems=f"the position {text!r} is not one this server gave out") from None
        if min(metric, event, reading) < 0:
            raise make("config_invalid", problems=f"the position {text!r} is not one this server gave out")
        return cls(metric, event, reading, status)


@frozen
class RunSummary:
    """What a run reported about itself; every field None until the run has said it.

    `extra` keeps what this version of PEFT Studio does not know by name (summaries are stored as JSON
    and older or newer runs may carry other keys).
    """

    total_steps: int | None = None
    steps_per_epoch: int | None = None
    steps: int | None = None
    step: int | None = None  # where a paused run stopped
    final_loss: float | None = None
    final_val_loss: float | None = None
    best_val_loss: float | None = None
    base_val_loss: float | None = None
    train_examples: int | None = None
    tokens_seen: int | None = None
    duration_seconds: float | None = None
    tokens_per_second: float | None = None
    adapter_path: str | None = None
    packing: bool | None = None
    pause: dict[str, Any] | None = None
    quality: dict[str, Any] | None = None
    extra: dict[str, Any] = field(factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        """The typed summary of a stored summary dict (unknown keys go to `extra`).

        Example:
            >>> s = RunSummary.from_dict({"steps": 10, "final_loss": 1.2, "new_key": 1})
            >>> s.steps, s.extra
            (10, {'new_key': 1})
        """
        known = {a.name for a in attrs.fields(cls)} - {"extra"}
        unknown = {k: v for k, v in data.items() if k not in known and k != "extra"}
        return cls(**{k: v for k, v in data.items() if k in known}, extra={**(data.get("extra") or {}), **unknown})


@frozen
class VersionRef:
    """A model version made from the run."""

    id: str
    line: str
    number: int
    state: str
    active: bool


@frozen
class RunRecord:
    """A run as the typed API reads it."""

    id: str
    name: str
    status: str
    config: RunConfig
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    elapsed_seconds: float
    folder: str
    summary: RunSummary
    error: dict[str, Any] | None
    versions: tuple[VersionRef, ...] = ()

    @property
    def quality(self) -> dict[str, Any] | None:
        """The quality score with its parts, once the run has completed."""
        return self.summary.quality


@frozen
class MetricUpdate:
    """One training or validation number at a step (``loss``, ``val_loss``, ``lr``, ...)."""

    cursor: Cursor
    step: int
    name: str
    value: float
    tokens_seen: int
    time: float


@frozen
class EventUpdate:
    """Something that happened: a checkpoint, a guard's action, a pause, the quality score, ..."""

    cursor: Cursor
    kind: str
    message: str
    step: int | None
    data: dict[str, Any]
    time: float


@frozen
class ReadingUpdate:
    """A system reading (processor, memory, GPU) taken while the run trained."""

    cursor: Cursor
    data: dict[str, Any]
    time: float


@frozen
class StatusUpdate:
    """The run's status changed (queued, running, paused, failed, completed)."""

    cursor: Cursor
    status: str
    run: RunRecord


Update = MetricUpdate | EventUpdate | ReadingUpdate | StatusUpdate

#: Below this share of the first loss the curve is in the good zone.
GOOD_SHARE = 0.75


@frozen
class LossZones:
    """Where a loss chart's coloured zones lie: below `good_below` the model is learning well, between the
    two it learns slowly (acceptable), at or above `problem_above` it is not learning or diverging.

    Every front end draws these numbers; none decides them.
    """

    good_below: float
    problem_above: float


def loss_zones(first_loss: float) -> LossZones | None:
    """The zones of a run whose first training loss was `first_loss`; None when that loss says nothing.

    Example:
        >>> loss_zones(2.0)
        LossZones(good_below=1.5, problem_above=2.0)
        >>> loss_zones(float("nan")) is None
        True
    """
    if not math.isfinite(first_loss) or first_loss <= 0:
        return None
    return LossZones(round(first_loss * GOOD_SHARE, 6), first_loss)


def run_loss_zones(run_id: str, *, store: Store | None = None) -> LossZones | None:
    """The loss zones of a stored run (from its first finite training loss); None before it has one."""
    s = open_store(store)
    for m in s.metrics(_row(s, run_id).id, "loss"):
        zones = loss_zones(float(m["value"]))
        if zones is not None:
            return zones
    return None


def _row(store: Store, run_id: str) -> RunRow:
    try:
        return store.get_run(run_id)
    except KeyError:
        raise make("run_not_found", run_id=run_id) from None


def _record(store: Store, row: RunRow) -> RunRecord:
    versions = tuple(VersionRef(v["id"], v["line"], int(v["number"]), v["state"], bool(v["active"]))
                     for v in store.versions_of_run(row.id))
    return RunRecord(id=row.id, name=row.name, status=row.status, config=row.config, created_at=row.created_at,
                     updated_at=row.updated_at, started_at=row.started_at, finished_at=row.finished_at,
                     elapsed_seconds=row.elapsed_seconds, folder=row.folder,
                     summary=RunSummary.from_dict(row.summary), error=row.error, versions=versions)


def get(run_id: str, *, store: Store | None = None) -> RunRecord:
    """The run `run_id` (a unique beginning of the id is enough); a plain error when there is none."""
    s = open_store(store)
    return _record(s, _row(s, run_id))


def list_runs(status: str | None = None, *, store: Store | None = None) -> list[RunRecord]:
    """Every run, newest first (optionally only those in one status)."""
    s = open_store(store)
    return [_record(s, row) for row in s.list_runs(status)]


def updates_since(run_id: str, since: Cursor | None = None, *, store: Store | None = None) -> list[Update]:
    """Everything stored about the run after `since`, in order: events, metrics, readings, then the status
    if it differs from the one the cursor saw. Each update's cursor covers it and everything before it."""
    s = open_store(store)
    row = _row(s, run_id)  # read first: what was stored before the status changed is read after it
    cur = since or Cursor()
    out: list[Update] = []
    for e in s.events(row.id, after_id=cur.event):
        cur = attrs.evolve(cur, event=int(e["id"]))
        out.append(EventUpdate(cur, e["kind"], e["message"], e["step"], e["data"], e["time"]))
    for m in s.metrics_after(row.id, cur.metric):
        cur = attrs.evolve(cur, metric=int(m["id"]))
        out.append(MetricUpdate(cur, int(m["step"]), m["name"], float(m["value"]), int(m["tokens_seen"]), m["time"]))
    for r in s.readings_after(row.id, cur.reading):
        cur = attrs.evolve(cur, reading=int(r.pop("id")))
        out.append(ReadingUpdate(cur, r, r["time"]))
    if row.status != cur.status:
        cur = attrs.evolve(cur, status=row.status)
        out.append(StatusUpdate(cur, row.status, _record(s, row)))
    return out


def follow(run_id: str, since: Cursor | str | None = None, *, store: Store | None = None, poll_s: float = 0.5,
           timeout_s: float | None = None, stop_on_pause: bool = False) -> Iterator[Update]:
    """Yield the run's updates as they are stored, from `since` on, until it completes or fails.

    A paused run is followed on through its resume (unless `stop_on_pause`); `timeout_s` bounds the
    whole wait. The last update of a finished run is its final `StatusUpdate`.
    """
    s = open_store(store)
    cur = Cursor.parse(since) if isinstance(since, str) else (since or Cursor())
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        batch = updates_since(run_id, cur, store=s)
        for update in batch:
            cur = update.cursor
            yield update
        if cur.status in FINAL_STATUSES or (stop_on_pause and cur.status == "paused"):
            return
        if deadline is not None and time.monotonic() >= deadline:
            return
        if not batch:
            time.sleep(poll_s)


__all__ = [
    "FINAL_STATUSES",
    "GOOD_SHARE",
    "Cursor",
    "EventUpdate",
    "LossZones",
    "MetricUpdate",
    "ReadingUpdate",
    "RunRecord",
    "RunSummary",
    "StatusUpdate",
    "Update",
    "VersionRef",
    "follow",
    "get",
    "list_runs",
    "loss_zones",
    "run_loss_zones",
    "updates_since",
]
