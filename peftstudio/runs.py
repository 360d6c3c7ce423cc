"""The typed run API: read a run as a `RunRecord`, follow its updates as they happen.

`get(run_id)` returns the run's status, config, summary, quality score and versions as one frozen
record; `list_runs()` every run, newest first. `follow(run_id, since=cursor)` yields the run's
updates in order - a `MetricUpdate` per stored metric value, an `EventUpdate` per event, a
`StatusUpdate` when the run's row changes (status, summary, error) - across pauses and resumes, for the
CLI, the app and the studio server alike. Every update carries a `cursor`: pass the last one you
handled as ``since`` (after a reconnect, or after a resume) and you get every later update once, in
order, and nothing twice.

After a crash (not a pause) a resumed run redoes the steps since its last checkpoint: the
``resumed`` event says from which step, and the redone steps' metrics come again after it (they
replace the earlier values of those steps).

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.store import Store
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
    >>> rid = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...                                  data=DataSettings(path="chat.jsonl"))).id
    >>> store.add_metrics(rid, 1, {"loss": 2.5})
    >>> store.update_run(rid, status="completed", summary={"steps": 1})
    >>> get(rid, store=store).summary.steps
    1
    >>> [type(u).__name__ for u in follow(rid, store=store)]
    ['MetricUpdate', 'StatusUpdate']
    >>> last = list(follow(rid, store=store))[-1]
    >>> list(follow(rid, since=last.cursor, store=store))
    []
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Union

from attrs import field, frozen

from peftstudio.errors import ErrorInfo, make
from peftstudio.records import convert
from peftstudio.records.config import RunConfig
from peftstudio.records.run import RunSummary, summary_from_stored
from peftstudio.store import RunRow, Store, open_store

if TYPE_CHECKING:
    from peftstudio.history.versions import ModelVersion
    from peftstudio.quality import QualityScore

#: Statuses after which nothing more happens to a run (a paused run waits for a resume).
FINISHED = ("completed", "failed")


@frozen
class RunRecord:
    """One run as the library, the CLI and the studio show it."""

    id: str
    name: str
    status: str  # queued, running, paused, failed or completed
    config: RunConfig
    summary: RunSummary
    quality: QualityScore | None
    versions: tuple[ModelVersion, ...]
    error: ErrorInfo | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    elapsed_seconds: float
    folder: str


@frozen
class Cursor:
    """Where a follower is: the last metric and event row it has seen and the run row's last change.

    Its text form (``str(cursor)``, e.g. ``"m42.e17.u1764930000123456"``) is what clients keep.

    Example:
        >>> str(Cursor.parse("m42.e17.u5"))
        'm42.e17.u5'
    """

    metric: int = 0
    event: int = 0
    updated: int = 0  # the run row's updated_at, in microseconds

    def __str__(self) -> str:
        return f"m{self.metric}.e{self.event}.u{self.updated}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """The cursor of an update's `cursor` text; None or "" is the beginning of the run."""
        if not text:
            return cls()
        try:
            m, e, u = text.split(".")
            if (m[0], e[0], u[0]) != ("m", "e", "u"):
                raise ValueError(text)
            return cls(int(m[1:]), int(e[1:]), int(u[1:]))
        except (ValueError, IndexError):
            raise make("config_invalid", problems=f"{text!r} is not a run cursor; pass the `cursor` of an update "
                                                  f"you received, or nothing to start from the beginning") from None


@frozen
class MetricUpdate:
    """One metric value the run recorded (loss, val_loss, tokens_per_second, eta_seconds, ...)."""

    cursor: str
    step: int
    name: str
    value: float
    tokens_seen: int
    time: float


@frozen
class EventUpdate:
    """One event of the run (started, checkpoint, paused, resumed, completed, a guard's decision, ...)."""

    cursor: str
    kind: str
    message: str
    step: int | None
    time: float
    data: dict[str, Any] = field(factory=dict)


@frozen
class StatusUpdate:
    """The run's row changed: its status, its summary (total steps, results) or its error."""

    cursor: str
    status: str
    summary: RunSummary
    error: ErrorInfo | None
    time: float


Update = Union[MetricUpdate, EventUpdate, StatusUpdate]


def _row(s: Store, run_id: str) -> RunRow:
    try:
        return s.get_run(run_id)
    except KeyError:
        raise make("run_not_found", run_id=run_id) from None


def _error(row: RunRow) -> ErrorInfo | None:
    return convert.from_dict(ErrorInfo, row.error) if row.error else None


def record(row: RunRow, store: Store | None = None) -> RunRecord:
    """The `RunRecord` of a stored run row (its quality and versions read alongside)."""
    from peftstudio.history.versions import get_version
    from peftstudio.quality import QualityScore
    from peftstudio.store.versions import run_version_ids

    s = open_store(store)
    quality = row.summary.get("quality")
    return RunRecord(
        id=row.id, name=row.name, status=row.status, config=row.config, summary=summary_from_stored(row.summary),
        quality=convert.from_dict(QualityScore, quality) if quality else None,
        versions=tuple(get_version(v, store=s) for v in run_version_ids(s, row.id)), error=_error(row),
        created_at=row.created_at, started_at=row.started_at, finished_at=row.finished_at,
        elapsed_seconds=row.elapsed_seconds, folder=row.folder)


def get(run_id: str, *, store: Store | None = None) -> RunRecord:
    """The run `run_id` (a unique beginning of the id is enough); a plain "no such run" error otherwise.

    A run whose worker died while training is reported (and stored) as failed.
    """
    from peftstudio.engine.runs import run_status

    s = open_store(store)
    return record(run_status(run_id, s), s)


def list_runs(*, status: str | None = None, store: Store | None = None) -> list[RunRecord]:
    """Every run, newest first (only those in `status` if given)."""
    s = open_store(store)
    return [record(r, s) for r in s.list_runs(status)]


def _updated(row: RunRow) -> int:
    return int(round(row.updated_at * 1_000_000))


def updates(run_id: str, since: str | None = None, *, store: Store | None = None) -> list[Update]:
    """The updates after cursor `since` that are stored now, in order (what `follow` yields per poll)."""
    from peftstudio.engine.runs import run_status

    s = open_store(store)
    at = Cursor.parse(since)
    row = run_status(run_id, s)  # read first: whatever the worker wrote before this row is visible below
    metrics = [(m["time"], 0, m) for m in s.metrics_after(row.id, at.metric)]
    events = [(e["time"], 1, e) for e in s.events(row.id, after_id=at.event)]
    status = [(row.updated_at, 2, row)] if _updated(row) > at.updated else []
    out: list[Update] = []
    metric, event, updated = at.metric, at.event, at.updated
    # by time, but each table in its id order (the cursor's order), so that resuming from any cursor loses nothing
    for _time, kind, item in heapq.merge(metrics, events, status, key=lambda r: (r[0], r[1])):
        if kind == 0:
            metric = max(metric, item["id"])
            out.append(MetricUpdate(str(Cursor(metric, event, updated)), int(item["step"]), item["name"],
                                    float(item["value"]), int(item["tokens_seen"]), float(item["time"])))
        elif kind == 1:
            event = max(event, item["id"])
            out.append(EventUpdate(str(Cursor(metric, event, updated)), item["kind"], item["message"], item["step"],
                                   float(item["time"]), item["data"]))
        else:
            updated = _updated(item)
            out.append(StatusUpdate(str(Cursor(metric, event, updated)), item.status,
                                    summary_from_stored(item.summary), _error(item), item.updated_at))
    return out


def follow(run_id: str, *, since: str | None = None, poll: float = 0.5, until_done: bool = True,
           stop_on_pause: bool = False, timeout: float | None = None,
           store: Store | None = None) -> Iterator[Update]:
    """Yield the run's updates after cursor `since` (all of them if None), in order, as they are stored.

    With `until_done` it returns once the run has completed or failed and its worker has exited
    (everything the worker wrote has then been yielded); with `stop_on_pause` also once it has paused.
    Otherwise it follows the run across pauses and resumes until `timeout` seconds have passed (None:
    no limit), polling the store every `poll` seconds.

    Example:
        >>> def show(run_id):  # what `peftstudio train` does, in short
        ...     for u in follow(run_id, stop_on_pause=True):
        ...         if isinstance(u, MetricUpdate) and u.name == "loss":
        ...             print(f"step {u.step}: loss {u.value:.3f}")
    """
    from peftstudio.engine.runs import ACTIVE, is_worker_alive

    s = open_store(store)
    run_id = _row(s, run_id).id
    cursor = since
    deadline = None if timeout is None else time.monotonic() + timeout
    worker: int | None = None  # the newest worker's pid: its exit means it has written everything
    while True:
        row = _row(s, run_id)
        worker = row.pid or worker
        batch = updates(run_id, cursor, store=s)
        yield from batch
        if batch:
            cursor = batch[-1].cursor
        row = _row(s, run_id)
        worker = row.pid or worker
        stops = FINISHED + (("paused",) if stop_on_pause else ())
        if until_done and row.status in stops and row.status not in ACTIVE and not is_worker_alive(worker):
            last = updates(run_id, cursor, store=s)  # what it wrote between the read above and its exit
            yield from last
            return
        if deadline is not None and time.monotonic() >= deadline:
            return
        time.sleep(poll)


# The names at the package's top level (``peftstudio.get_run``, ``peftstudio.follow_run``).
get_run = get
follow_run = follow

__all__ = [
    "FINISHED",
    "Cursor",
    "EventUpdate",
    "MetricUpdate",
    "RunRecord",
    "StatusUpdate",
    "Update",
    "follow",
    "follow_run",
    "get",
    "get_run",
    "list_runs",
    "record",
    "updates",
]
