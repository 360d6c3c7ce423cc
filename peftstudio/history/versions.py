"""Model versions: every completed run becomes the next version (v1, v2, ...) of its model line.

A version is a folder under ``<home>/versions/<line>/vN`` holding the adapter
weights (``adapter/``), the run configuration (``config.json``), the metrics
(``metrics.json``) and a manifest with each file's size and SHA-256
(``version.json``), plus a row in the store's ``versions`` table.

Rows and folders stay consistent even if the process is killed at any moment
(kill -9, power loss): every change is ordered so that a crash leaves either a
state `repair_versions` can finish or leftovers it can remove, and each step on
the database is one transaction. Changes from several processes are serialised
by a lock file. Archiving, restoring and deleting live in
`peftstudio.history.archive`.

Example:
    >>> line_for_config_reference("builtin:tiny-llama", "chatbot")
    'builtin:tiny-llama [chatbot]'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attrs import frozen

from peftstudio import paths
from peftstudio.errors import PlainError, make
from peftstudio.history.compare import VAL_LOSS_NAMES, ConfigDifference, config_differences
from peftstudio.records import convert
from peftstudio.records.config import RunConfig
from peftstudio.store import Store, open_store
from peftstudio.store.files import atomic_directory, folder_size

STATES = ("writing", "ready", "archived", "deleted", "missing")
MANIFEST = "version.json"


@frozen
class ModelVersion:
    """One version of a model line as stored.

    `path` is the version's folder (state ``ready``) or its archive file (state ``archived``);
    `size_bytes` is what it takes on disk now.
    """

    id: str
    line: str
    number: int
    run_id: str | None
    created_at: float
    state: str
    active: bool
    path: str
    size_bytes: int
    metrics: dict[str, float]

    @property
    def label(self) -> str:
        return f"v{self.number}"


@frozen
class TimelineEntry:
    """A version with the change of each metric against the previous (non-deleted) version."""

    version: ModelVersion
    previous_id: str | None
    deltas: dict[str, float]


@frozen
class VersionComparison:
    """Two versions: each metric's change from `a` to `b` and the settings that differ."""

    a: ModelVersion
    b: ModelVersion
    metric_deltas: dict[str, float]
    differences: tuple[ConfigDifference, ...]


# ---------------------------------------------------------------- names and places


def line_for_config_reference(model: str, profile: str) -> str:
    """The default model line: the base model and the profile."""
    return f"{model} [{profile}]"


def line_for(config: RunConfig) -> str:
    """The model line a run's versions belong to (see `line_for_config_reference`)."""
    return line_for_config_reference(config.model.reference, config.profile)


def _line_hash(line: str) -> str:
    return hashlib.sha1(line.encode("utf-8")).hexdigest()[:6]


def line_folder_name(line: str) -> str:
    """A safe, unique folder name for a line, e.g. ``builtin-tiny-llama-chatbot-3fa2c1``.

    Example:
        >>> line_folder_name("../../etc [x]").startswith("etc-x-")
        True
    """
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", line).strip(".-_")[:40].strip(".-_")
    return f"{readable or 'line'}-{_line_hash(line)}"


def version_id(line: str, number: int) -> str:
    """A short id such as ``v2-3fa2c1`` (version number and a fingerprint of the line)."""
    return f"v{number}-{_line_hash(line)}"


def versions_root() -> Path:
    """The folder holding every version (under the home folder)."""
    return paths.sub("versions")


def _abs(rel: str) -> str:
    return str(versions_root() / rel) if rel else ""


def _store(store: Store | None) -> Store:
    return store if store is not None else open_store()


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: kill -9 this process here when asked to.

    Only active when the environment variable ``PEFTSTUDIO_CRASH_AT`` equals `name`.
    """
    if os.environ.get("PEFTSTUDIO_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def versions_lock(*, blocking: bool = True) -> Iterator[bool]:
    """Hold the lock that serialises changes to versions across processes (yields whether it is held).

    The operating system releases it when the holder dies, so a killed writer never blocks others.
    """
    lock_path = versions_root() / ".lock"
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one writer at a time is then the user's job
        yield True
        return
    with open(lock_path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------- rows


def _from_row(r: Any) -> ModelVersion:
    data = json.loads(r["data"] or "{}")
    return ModelVersion(id=r["id"], line=r["line"], number=r["number"], run_id=r["run_id"],
                        created_at=r["created_at"], state=r["state"], active=bool(r["active"]),
                        path=_abs(r["folder"]), size_bytes=r["size_bytes"], metrics=data.get("metrics", {}))


def _row_data(store: Store, vid: str) -> dict[str, Any]:
    rows = store.query("SELECT data FROM versions WHERE id = ?", (vid,))
    return json.loads(rows[0]["data"] or "{}") if rows else {}


def version_config(ref: str, *, store: Store | None = None) -> RunConfig:
    """The run configuration a version was trained with."""
    s = _store(store)
    return convert.from_document(RunConfig, _row_data(s, get_version(ref, store=s).id)["config"])


def list_versions(
    line: str | None = None, *, include_deleted: bool = False, store: Store | None = None
) -> list[ModelVersion]:
    """Versions by line, then number (oldest first); deleted ones only if asked."""
    s = _store(store)
    try_repair(s)
    sql, params = "SELECT * FROM versions WHERE state != 'writing'", []
    if line is not None:
        sql += " AND line = ?"
        params.append(line)
    if not include_deleted:
        sql += " AND state != 'deleted'"
    return [_from_row(r) for r in s.query(sql + " ORDER BY line, number", tuple(params))]


def lines(*, store: Store | None = None) -> list[str]:
    """The model lines that have versions."""
    return [r["line"] for r in _store(store).query(
        "SELECT DISTINCT line FROM versions WHERE state NOT IN ('writing', 'deleted') ORDER BY line")]


def get_version(ref: str, *, store: Store | None = None) -> ModelVersion:
    """A version by id (``v2-3fa2c1``), by a unique beginning of an id, or by ``v2`` when only one line
    has a v2."""
    rows = _store(store).query("SELECT * FROM versions WHERE state NOT IN ('writing', 'deleted')")
    exact = [r for r in rows if r["id"] == ref]
    if not exact:
        exact = [r for r in rows if r["id"].startswith(ref + "-")] or [r for r in rows if r["id"].startswith(ref)]
    if len(exact) > 1:
        ids = ", ".join(sorted(r["id"] for r in exact))
        raise make("config_invalid", problems=f"{ref} could mean several versions ({ids}); give the full id")
    if not exact:
        raise make("item_not_found", kind="model version", name=ref, command="versions")
    return _from_row(exact[0])


# ---------------------------------------------------------------- creating


def _final_metrics(store: Store, run_id: str) -> dict[str, float]:
    # The last value of each metric, the best validation loss, and the run summary's numbers.
    out: dict[str, float] = {}
    for m in store.metrics(run_id):
        out[m["name"]] = float(m["value"])
    for name in VAL_LOSS_NAMES:
        values = [float(m["value"]) for m in store.metrics(run_id, name)]
        if values:
            out["best_val_loss"] = min(values)
            break
    summary = store.get_run(run_id).summary or {}
    for k, v in summary.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = float(v)
    return out


def _file_table(root: Path) -> dict[str, dict[str, Any]]:
    table = {}
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.name != MANIFEST:
            digest = hashlib.sha256()
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            table[f.relative_to(root).as_posix()] = {"size": f.stat().st_size, "sha256": digest.hexdigest()}
    return table


def create_version(
    run_id: str,
    adapter_dir: str | Path,
    *,
    metrics: dict[str, float] | None = None,
    line: str | None = None,
    store: Store | None = None,
) -> ModelVersion:
    """Make the next version of the run's model line from its adapter folder.

    Steps (each safe to interrupt): reserve the number in a ``writing`` row; build the folder under a
    temporary name and rename it into place; mark the row ``ready``. The newest version becomes the
    active one unless the user chose an older one as active. Calling it again for the same run and
    line returns the version already made.
    """
    s = _store(store)
    try:
        run = s.get_run(run_id)
    except KeyError:
        raise make("run_not_found", run_id=run_id) from None
    source = Path(adapter_dir)
    if not source.is_dir():
        raise make("file_not_found", path=str(source))
    line = line or line_for(run.config)
    values = dict(metrics) if metrics is not None else _final_metrics(s, run.id)
    with versions_lock():
        _repair_locked(s)
        done = s.query("SELECT id FROM versions WHERE run_id = ? AND line = ? AND state != 'deleted'",
                       (run.id, line))
        if done:  # already recorded (a hook called twice must not make two versions of one run)
            return get_version(done[0]["id"], store=s)
        now = time.time()
        with s.transaction() as c:
            number = int(c.execute("SELECT COALESCE(MAX(number), 0) FROM versions WHERE line = ?",
                                   (line,)).fetchone()[0]) + 1
            vid = version_id(line, number)
            rel = f"{line_folder_name(line)}/v{number}"
            data = {"metrics": values, "config": convert.to_document(run.config)}
            c.execute("INSERT INTO versions (id, line, number, run_id, created_at, state, active, folder, data)"
                      " VALUES (?, ?, ?, ?, ?, 'writing', 0, ?, ?)",
                      (vid, line, number, run.id, now, rel, json.dumps(data)))
        crash_point("create:reserved")
        target = versions_root() / rel
        with atomic_directory(target) as tmp:
            shutil.copytree(source, tmp / "adapter")
            (tmp / "config.json").write_text(convert.dumps(run.config), encoding="utf-8")
            (tmp / "metrics.json").write_text(json.dumps(values, indent=2, sort_keys=True), encoding="utf-8")
            crash_point("create:copied")
            manifest = {"id": vid, "line": line, "number": number, "run_id": run.id, "created_at": now,
                        "files": _file_table(tmp)}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        crash_point("create:placed")
        _mark_ready(s, vid, target)
    return get_version(vid, store=s)


def _mark_ready(store: Store, vid: str, folder: Path) -> None:
    with store.transaction() as c:
        row = c.execute("SELECT line, number FROM versions WHERE id = ?", (vid,)).fetchone()
        active = c.execute("SELECT number FROM versions WHERE line = ? AND active = 1", (row["line"],)).fetchone()
        newest_ready = c.execute("SELECT MAX(number) FROM versions WHERE line = ? AND state IN ('ready', "
                                 "'archived') AND id != ?", (row["line"], vid)).fetchone()[0]
        # Follow the newest version unless the user pinned an older one as active.
        follow = active is None or active["number"] == newest_ready
        if follow:
            c.execute("UPDATE versions SET active = 0 WHERE line = ?", (row["line"],))
        c.execute("UPDATE versions SET state = 'ready', size_bytes = ?, active = ? WHERE id = ?",
                  (folder_size(folder), 1 if follow else 0, vid))


def record_completed_run(
    store: Store | None,
    run_id: str,
    adapter_dir: str | Path,
    metrics: dict[str, float] | None = None,
    *,
    line: str | None = None,
) -> ModelVersion:
    """The engine's hook: called once when a run completes, it stores the run as the next version.

    `metrics` defaults to the last value of each stored metric, the best validation loss and the
    numbers in the run's summary.
    """
    return create_version(run_id, adapter_dir, metrics=metrics, line=line, store=store)


# ---------------------------------------------------------------- using versions


@contextlib.contextmanager
def locked_version(ref: str, store: Store, *, state: str | None = None,
                   refusal: str = "") -> Iterator[ModelVersion]:
    """The version `ref`, under the versions lock with leftovers repaired first.

    With `state`, a version in any other state is refused with `refusal` (``{label}`` and ``{state}``
    are filled in) as a plain ``config_invalid`` error.
    """
    with versions_lock():
        _repair_locked(store)
        v = get_version(ref, store=store)
        if state is not None and v.state != state:
            raise make("config_invalid", problems=refusal.format(label=v.label, state=v.state))
        yield v



def set_active(ref: str, *, store: Store | None = None) -> ModelVersion:
    """Make a version the one exports and the playground use by default for its line."""
    s = _store(store)
    refusal = "{label} is {state}; restore it before making it active"
    with locked_version(ref, s, state="ready", refusal=refusal) as v, s.transaction() as c:
        c.execute("UPDATE versions SET active = 0 WHERE line = ?", (v.line,))
        c.execute("UPDATE versions SET active = 1 WHERE id = ?", (v.id,))
    return get_version(v.id, store=s)


def active_version(line: str, *, store: Store | None = None) -> ModelVersion | None:
    """The line's active version, else its newest ready one; None if it has none."""
    ready = [v for v in list_versions(line, store=store) if v.state == "ready"]
    return next((v for v in ready if v.active), ready[-1] if ready else None)


def adapter_path(ref: str, *, store: Store | None = None) -> Path:
    """The adapter folder of a version, to load in the playground or export."""
    v = get_version(ref, store=store)
    if v.state != "ready":
        raise make("config_invalid", problems=f"{v.label} is {v.state}; restore it first to use it")
    return Path(v.path) / "adapter"


def deltas(new: dict[str, float], old: dict[str, float]) -> dict[str, float]:
    """``new - old`` for each metric both have.

    Example:
        >>> deltas({"val_loss": 1.5, "x": 1.0}, {"val_loss": 2.0})
        {'val_loss': -0.5}
    """
    return {k: new[k] - old[k] for k in sorted(new) if k in old}


def timeline(line: str, *, store: Store | None = None) -> list[TimelineEntry]:
    """The line's versions, oldest first, each with its metrics' change against the previous one."""
    out: list[TimelineEntry] = []
    previous: ModelVersion | None = None
    for v in list_versions(line, store=store):
        out.append(TimelineEntry(version=v, previous_id=previous.id if previous else None,
                                 deltas=deltas(v.metrics, previous.metrics) if previous else {}))
        previous = v
    return out


def compare_versions(a: str, b: str, *, store: Store | None = None) -> VersionComparison:
    """How `b` differs from `a`: metric changes and the settings that differ."""
    s = _store(store)
    va, vb = get_version(a, store=s), get_version(b, store=s)
    diffs = config_differences([version_config(va.id, store=s), version_config(vb.id, store=s)])
    return VersionComparison(a=va, b=vb, metric_deltas=deltas(vb.metrics, va.metrics), differences=tuple(diffs))


# ---------------------------------------------------------------- repair


def try_repair(store: Store) -> None:
    """Repair if no other process is changing versions right now (never waits)."""
    with versions_lock(blocking=False) as held:
        if held:
            _repair_locked(store)


def repair_versions(*, store: Store | None = None) -> dict[str, list[str]]:
    """Bring rows and folders back in line after a crash; returns what was finished and removed."""
    with versions_lock():
        return _repair_locked(_store(store))


def _repair_locked(store: Store) -> dict[str, list[str]]:
    from peftstudio.history.archive import repair_leftovers

    report: dict[str, list[str]] = {"finished": [], "dropped": [], "removed": [], "missing": []}
    for r in store.query("SELECT id, folder FROM versions WHERE state = 'writing'"):
        folder = versions_root() / r["folder"]
        if (folder / MANIFEST).is_file():  # the folder was placed whole; only the last step was lost
            _mark_ready(store, r["id"], folder)
            report["finished"].append(r["id"])
        else:
            with store.transaction() as c:
                c.execute("DELETE FROM versions WHERE id = ? AND state = 'writing'", (r["id"],))
            report["dropped"].append(r["id"])
    report["removed"] += repair_leftovers(store)
    for r in store.query("SELECT id, folder FROM versions WHERE state IN ('ready', 'archived')"):
        if not (versions_root() / r["folder"]).exists():  # removed by hand outside PEFT Studio
            with store.transaction() as c:
                c.execute("UPDATE versions SET state = 'missing', active = 0, size_bytes = 0 WHERE id = ?",
                          (r["id"],))
            report["missing"].append(r["id"])
    return report


def version_dict(v: ModelVersion) -> dict[str, Any]:
    """Plain data for ``--json`` and screens."""
    return {**convert.to_dict(v), "label": v.label}


__all__ = [
    "STATES",
    "ModelVersion",
    "TimelineEntry",
    "VersionComparison",
    "active_version",
    "adapter_path",
    "compare_versions",
    "create_version",
    "deltas",
    "get_version",
    "line_folder_name",
    "line_for",
    "lines",
    "list_versions",
    "record_completed_run",
    "repair_versions",
    "set_active",
    "timeline",
    "version_config",
    "version_dict",
    "version_id",
    "versions_root",
]

_ = PlainError
