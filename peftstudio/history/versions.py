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
from peftstudio.files import atomic_directory, folder_size
from peftstudio.history.compare import VAL_LOSS_NAMES, ConfigDifference, config_differences, quality_figures
from peftstudio.records import convert
from peftstudio.records.config import RunConfig
from peftstudio.store import Store, open_store
from peftstudio.store import versions as rows

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


def _from_row(r: dict[str, Any]) -> ModelVersion:
    data = r["data"]
    return ModelVersion(id=r["id"], line=r["line"], number=r["number"], run_id=r["run_id"],
                        created_at=r["created_at"], state=r["state"], active=bool(r["active"]),
                        path=_abs(r["folder"]), size_bytes=r["size_bytes"], metrics=data.get("metrics", {}))


def version_config(ref: str, *, store: Store | None = None) -> RunConfig:
    """The run configuration a version was trained with."""
    s = open_store(store)
    return convert.from_document(RunConfig, rows.version_data(s, get_version(ref, store=s).id)["config"])


def list_versions(
    line: str | None = None, *, include_deleted: bool = False, store: Store | None = None
) -> list[ModelVersion]:
    """Versions by line, then number (oldest first); deleted ones only if asked."""
    s = open_store(store)
    try_repair(s)
    return [_from_row(r) for r in rows.version_rows(s, line=line, include_deleted=include_deleted)]


def lines(*, store: Store | None = None) -> list[str]:
    """The model lines that have versions."""
    return rows.version_lines(open_store(store))


def get_version(ref: str, *, store: Store | None = None) -> ModelVersion:
    """A version by id (``v2-3fa2c1``), by a unique beginning of an id, or by ``v2`` when only one line
    has a v2."""
    live = rows.version_rows(open_store(store))
    exact = [r for r in live if r["id"] == ref]
    if not exact:
        exact = [r for r in live if r["id"].startswith(ref + "-")] or [r for r in live if r["id"].startswith(ref)]
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
    out.update(quality_figures(summary))  # the quality score and its task and retention parts
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
    s = open_store(store)
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
        done = [v["id"] for v in s.versions_of_run(run.id) if v["line"] == line]
        if done:  # already recorded (a hook called twice must not make two versions of one run)
            return get_version(done[0], store=s)
        now = time.time()
        assert line is not None
        data = {"metrics": values, "config": convert.to_document(run.config)}
        vid, number, rel = rows.reserve_version(
            s, line, run.id, lambda n: (version_id(line, n), f"{line_folder_name(line)}/v{n}"), data,
            created_at=now)
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
    rows.mark_ready(store, vid, folder_size(folder))


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
    s = open_store(store)
    refusal = "{label} is {state}; restore it before making it active"
    with locked_version(ref, s, state="ready", refusal=refusal) as v:
        rows.activate(s, v.id, v.line)
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
    s = open_store(store)
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
        return _repair_locked(open_store(store))


def _repair_locked(store: Store) -> dict[str, list[str]]:
    report: dict[str, list[str]] = {"finished": [], "dropped": [], "removed": [], "missing": []}
    for vid, rel in rows.folders_in(store, ("writing",)):
        folder = versions_root() / rel
        if (folder / MANIFEST).is_file():  # the folder was placed whole; only the last step was lost
            _mark_ready(store, vid, folder)
            report["finished"].append(vid)
        else:
            rows.drop_unwritten(store, vid)
            report["dropped"].append(vid)
    report["removed"] += repair_leftovers(store)
    for vid, rel in rows.folders_in(store, ("ready", "archived")):
        if not (versions_root() / rel).exists():  # removed by hand outside PEFT Studio
            rows.mark_missing(store, vid)
            report["missing"].append(vid)
    return report


def remove_path(path: Path) -> None:
    """Remove a file, link or folder if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def repair_leftovers(store: Store) -> list[str]:
    """Remove everything under the versions folder that no row points at (half-written folders,
    archives whose row was not switched, folders whose archive was). Call with the lock held."""
    referenced = rows.referenced_folders(store)
    removed: list[str] = []
    root = versions_root()
    for line_dir in sorted(root.iterdir()):
        if line_dir.name == ".lock":
            continue
        if not line_dir.is_dir() or line_dir.is_symlink():
            if line_dir.name.startswith("."):
                remove_path(line_dir)
                removed.append(line_dir.name)
            continue
        for child in sorted(line_dir.iterdir()):
            rel = f"{line_dir.name}/{child.name}"
            if rel not in referenced:
                remove_path(child)
                removed.append(rel)
        if not any(line_dir.iterdir()):
            line_dir.rmdir()
    return removed


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
