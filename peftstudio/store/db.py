"""The store: one SQLite database (WAL mode) with versioned, forward-only migrations.

Rows for runs, their events, metrics and system readings, presets, model
versions and chat histories live here; large artifacts (weights, checkpoints)
live in folders beside it (see `peftstudio.paths`). Every multi-step change
runs in one transaction (`Store.transaction`), so a crash leaves either all of
it or none.

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...                 data=DataSettings(path="chat.jsonl"))
    >>> run = store.create_run(cfg)
    >>> store.get_run(run.id).status
    'queued'
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attrs import frozen

from peftstudio import paths
from peftstudio.records import convert
from peftstudio.records.config import RunConfig

RUN_STATUSES = ("queued", "running", "paused", "failed", "completed")

# Each entry upgrades the database from version i to i+1. Never edit a released entry: add one.
MIGRATIONS: list[str] = [
    # 0 -> 1: runs and everything a run produces; presets, versions, chats.
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        config TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        elapsed_seconds REAL NOT NULL DEFAULT 0,
        pid INTEGER,
        folder TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '{}',
        error TEXT
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        time REAL NOT NULL,
        step INTEGER,
        kind TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_run ON events(run_id, id);
    CREATE TABLE metrics (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        time REAL NOT NULL,
        step INTEGER NOT NULL,
        tokens_seen INTEGER NOT NULL DEFAULT 0,
        name TEXT NOT NULL,
        value REAL NOT NULL
    );
    CREATE INDEX metrics_run ON metrics(run_id, name, step);
    CREATE TABLE system_readings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        time REAL NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX readings_run ON system_readings(run_id, id);
    CREATE TABLE presets (
        name TEXT PRIMARY KEY,
        profile TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        notes TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE versions (
        id TEXT PRIMARY KEY,
        line TEXT NOT NULL,
        number INTEGER NOT NULL,
        run_id TEXT,
        created_at REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'ready',
        active INTEGER NOT NULL DEFAULT 0,
        folder TEXT NOT NULL,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL DEFAULT '{}',
        UNIQUE(line, number)
    );
    CREATE TABLE chats (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        version_id TEXT,
        time REAL NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX chats_run ON chats(run_id, id);
    """,
]


@frozen
class RunRow:
    """One run as stored: its status, config and bookkeeping."""

    id: str
    name: str
    status: str
    config: RunConfig
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    elapsed_seconds: float
    pid: int | None
    folder: str
    summary: dict[str, Any]
    error: dict[str, Any] | None


def new_run_id() -> str:
    """A short, sortable, unique run id such as ``run-20261125-121804-3fa2``."""
    return time.strftime("run-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]


class Store:
    """The database. Safe to share between threads; each process opens its own.

    Writers in several processes at once are serialised by SQLite (WAL mode and
    a generous busy timeout), so no row is lost.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.database_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path, timeout=60.0, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=60000")
        self._migrate()

    # ------------------------------------------------------------ plumbing
    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                version = self.schema_version
                if version > len(MIGRATIONS):
                    raise RuntimeError(
                        f"The database at {self.path} was made by a newer PEFT Studio; upgrade PEFT Studio."
                    )
                for i in range(version, len(MIGRATIONS)):
                    for statement in MIGRATIONS[i].split(";"):
                        if statement.strip():
                            self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version={i + 1}")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change: everything inside is committed together or not at all."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Read rows (outside any explicit transaction)."""
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------ runs
    def create_run(self, config: RunConfig, *, name: str = "", run_id: str | None = None) -> RunRow:
        """Record a new run in status ``queued``; its folder is created under the home's runs folder."""
        rid = run_id or new_run_id()
        folder = paths.runs_dir() / rid
        folder.mkdir(parents=True, exist_ok=True)
        now = time.time()
        with self.transaction() as c:
            c.execute(
                "INSERT INTO runs (id, name, status, config, created_at, updated_at, folder)"
                " VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                (rid, name or config.name, convert.dumps(config), now, now, str(folder)),
            )
        return self.get_run(rid)

    def get_run(self, run_id: str) -> RunRow:
        """The run with this id (a unique prefix is enough); `KeyError` if there is none."""
        rows = self.query("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            rows = self.query("SELECT * FROM runs WHERE id LIKE ? ORDER BY created_at", (run_id + "%",))
            if len(rows) != 1:
                raise KeyError(run_id)
        return _run_from_row(rows[0])

    def list_runs(self, status: str | None = None) -> list[RunRow]:
        """Runs, newest first, optionally only those in one status."""
        if status:
            rows = self.query("SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC", (status,))
        else:
            rows = self.query("SELECT * FROM runs ORDER BY created_at DESC")
        return [_run_from_row(r) for r in rows]

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change some of a run's columns (`summary` and `error` may be given as dicts)."""
        allowed = {"name", "status", "started_at", "finished_at", "elapsed_seconds", "pid", "summary", "error",
                   "config"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        if "status" in fields and fields["status"] not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}")
        values = dict(fields)
        for key in ("summary", "error"):
            if key in values and values[key] is not None and not isinstance(values[key], str):
                values[key] = json.dumps(values[key])
        if "config" in values and not isinstance(values["config"], str):
            values["config"] = convert.dumps(values["config"])
        values["updated_at"] = time.time()
        cols = ", ".join(f"{k} = ?" for k in values)
        with self.transaction() as c:
            cur = c.execute(f"UPDATE runs SET {cols} WHERE id = ?", (*values.values(), run_id))
            if cur.rowcount == 0:
                raise KeyError(run_id)

    def delete_run(self, run_id: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # ------------------------------------------------------------ events, metrics, readings
    def add_event(self, run_id: str, kind: str, message: str = "", *, step: int | None = None,
                  data: dict[str, Any] | None = None) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO events (run_id, time, step, kind, message, data) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, time.time(), step, kind, message, json.dumps(data or {})),
            )
            return int(cur.lastrowid or 0)

    def events(self, run_id: str, *, after_id: int = 0, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM events WHERE run_id = ? AND id > ?"
        params: list[Any] = [run_id, after_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self.query(sql + " ORDER BY id", tuple(params))
        return [
            {"id": r["id"], "time": r["time"], "step": r["step"], "kind": r["kind"], "message": r["message"],
             "data": json.loads(r["data"])}
            for r in rows
        ]

    def add_metrics(self, run_id: str, step: int, values: dict[str, float], *, tokens_seen: int = 0) -> None:
        now = time.time()
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO metrics (run_id, time, step, tokens_seen, name, value) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, now, step, tokens_seen, k, float(v)) for k, v in values.items()],
            )

    def metrics(self, run_id: str, name: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT step, tokens_seen, name, value, time FROM metrics WHERE run_id = ?"
        params: tuple[Any, ...] = (run_id,)
        if name:
            sql += " AND name = ?"
            params = (run_id, name)
        return [dict(r) for r in self.query(sql + " ORDER BY step, id", params)]

    def metrics_after(self, run_id: str, after_id: int = 0) -> list[dict[str, Any]]:
        """Metric rows stored after row `after_id`, in the order they were stored (each with its ``id``)."""
        return [dict(r) for r in self.query(
            "SELECT id, step, tokens_seen, name, value, time FROM metrics WHERE run_id = ? AND id > ? ORDER BY id",
            (run_id, after_id))]

    def delete_metrics(self, run_id: str, *, after_step: int | None = None) -> None:
        """Forget a run's metrics (all, or those of steps after `after_step`: a resume from a checkpoint)."""
        with self.transaction() as c:
            if after_step is None:
                c.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            else:
                c.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, after_step))

    def add_reading(self, run_id: str, data: dict[str, Any]) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO system_readings (run_id, time, data) VALUES (?, ?, ?)",
                      (run_id, time.time(), json.dumps(data)))

    def readings_after(self, run_id: str, after_id: int = 0) -> list[dict[str, Any]]:
        """System readings stored after row `after_id`, oldest first (each with its ``id``)."""
        rows = self.query("SELECT * FROM system_readings WHERE run_id = ? AND id > ? ORDER BY id", (run_id, after_id))
        return [{"id": r["id"], "time": r["time"], **json.loads(r["data"])} for r in rows]

    def versions_of_run(self, run_id: str) -> list[dict[str, Any]]:
        """The model versions made from a run (not deleted), oldest first."""
        return [dict(r) for r in self.query(
            "SELECT id, line, number, state, active FROM versions WHERE run_id = ? AND state != 'deleted'"
            " ORDER BY created_at, number", (run_id,))]

    # ------------------------------------------------------------ chats
    def add_chat(self, run_id: str, data: dict[str, Any], *, version_id: str | None = None,
                 at: float | None = None) -> int:
        """Store one playground exchange of a run; returns its id."""
        with self.transaction() as c:
            cur = c.execute("INSERT INTO chats (run_id, version_id, time, data) VALUES (?, ?, ?, ?)",
                            (run_id, version_id, time.time() if at is None else at, json.dumps(data)))
            return int(cur.lastrowid or 0)

    def chats(self, run_id: str) -> list[tuple[int, dict[str, Any]]]:
        """A run's stored exchanges as (id, data), oldest first."""
        rows = self.query("SELECT id, data FROM chats WHERE run_id = ? ORDER BY id", (run_id,))
        return [(int(r["id"]), json.loads(r["data"])) for r in rows]

    def readings(self, run_id: str, *, last: int | None = None) -> list[dict[str, Any]]:
        if last:
            rows = self.query("SELECT * FROM (SELECT * FROM system_readings WHERE run_id = ? ORDER BY id DESC"
                              " LIMIT ?) ORDER BY id", (run_id, last))
        else:
            rows = self.query("SELECT * FROM system_readings WHERE run_id = ? ORDER BY id", (run_id,))
        return [{"time": r["time"], **json.loads(r["data"])} for r in rows]


def _run_from_row(r: sqlite3.Row) -> RunRow:
    return RunRow(
        id=r["id"],
        name=r["name"],
        status=r["status"],
        config=convert.loads(RunConfig, r["config"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        elapsed_seconds=r["elapsed_seconds"],
        pid=r["pid"],
        folder=r["folder"],
        summary=json.loads(r["summary"] or "{}"),
        error=json.loads(r["error"]) if r["error"] else None,
    )


_default: Store | None = None
_default_key: tuple[str, int] | None = None


def open_store(store: Store | None = None) -> Store:
    """`store` if given, else the store of the current home folder (one per process, reopened if the home
    changes). The one way every function taking an optional ``store=`` finds its store.

    Example:
        >>> import tempfile, pathlib
        >>> mine = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
        >>> open_store(mine) is mine
        True
    """
    global _default, _default_key
    if store is not None:
        return store
    key = (str(paths.database_path()), os.getpid())
    if _default is None or _default_key != key:
        _default = Store(paths.database_path())
        _default_key = key
    return _default
