"""The ``versions`` table: every SQL statement on model versions (the logic lives in `peftstudio.history`).

Rows come back as plain dicts with their ``data`` column parsed; `peftstudio.history.versions`
turns them into `ModelVersion` records. Each change is one transaction.

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.store import Store
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
    >>> reserve_version(store, "line", "run-1", lambda n: (f"v{n}", f"line/v{n}"), {"metrics": {}})
    ('v1', 1, 'line/v1')
    >>> [r["state"] for r in version_rows(store, include_writing=True)]
    ['writing']
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from peftstudio.store.db import Store

LIVE = ("ready", "archived", "missing")  # not being written, not deleted


def _row(r: Any) -> dict[str, Any]:
    out = dict(r)
    out["data"] = json.loads(r["data"] or "{}")
    return out


def version_rows(store: Store, *, line: str | None = None, include_deleted: bool = False,
                 include_writing: bool = False) -> list[dict[str, Any]]:
    """Version rows by line, then number."""
    sql, params = "SELECT * FROM versions WHERE 1 = 1", []
    if not include_writing:
        sql += " AND state != 'writing'"
    if not include_deleted:
        sql += " AND state != 'deleted'"
    if line is not None:
        sql += " AND line = ?"
        params.append(line)
    return [_row(r) for r in store.query(sql + " ORDER BY line, number", tuple(params))]


def version_data(store: Store, vid: str) -> dict[str, Any]:
    """The ``data`` column of one version (its metrics and config document); empty if there is none."""
    rows = store.query("SELECT data FROM versions WHERE id = ?", (vid,))
    return json.loads(rows[0]["data"] or "{}") if rows else {}


def version_lines(store: Store) -> list[str]:
    """The model lines that have (not deleted) versions."""
    return [r["line"] for r in store.query(
        "SELECT DISTINCT line FROM versions WHERE state NOT IN ('writing', 'deleted') ORDER BY line")]


def reserve_version(store: Store, line: str, run_id: str, names: Callable[[int], tuple[str, str]],
                    data: dict[str, Any], *, created_at: float | None = None) -> tuple[str, int, str]:
    """Take the line's next number in a ``writing`` row; `names(number)` gives (id, folder).

    Returns (id, number, folder).
    """
    with store.transaction() as c:
        number = int(c.execute("SELECT COALESCE(MAX(number), 0) FROM versions WHERE line = ?",
                               (line,)).fetchone()[0]) + 1
        vid, folder = names(number)
        c.execute("INSERT INTO versions (id, line, number, run_id, created_at, state, active, folder, data)"
                  " VALUES (?, ?, ?, ?, ?, 'writing', 0, ?, ?)",
                  (vid, line, number, run_id, created_at or time.time(), folder, json.dumps(data)))
    return vid, number, folder


def mark_ready(store: Store, vid: str, size_bytes: int) -> None:
    """A written version becomes ``ready``; it becomes active unless the user pinned an older one."""
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
                  (size_bytes, 1 if follow else 0, vid))


def activate(store: Store, vid: str, line: str) -> None:
    """Make `vid` the only active version of its line."""
    with store.transaction() as c:
        c.execute("UPDATE versions SET active = 0 WHERE line = ?", (line,))
        c.execute("UPDATE versions SET active = 1 WHERE id = ?", (vid,))


def folders_in(store: Store, states: tuple[str, ...]) -> list[tuple[str, str]]:
    """(id, folder) of the versions in these states."""
    marks = ", ".join("?" for _ in states)
    return [(r["id"], r["folder"]) for r in store.query(
        f"SELECT id, folder FROM versions WHERE state IN ({marks}) ORDER BY id", states)]


def drop_unwritten(store: Store, vid: str) -> None:
    """Forget a version whose folder was never placed (a crash while writing it)."""
    with store.transaction() as c:
        c.execute("DELETE FROM versions WHERE id = ? AND state = 'writing'", (vid,))


def mark_missing(store: Store, vid: str) -> None:
    """A version whose files were removed outside PEFT Studio."""
    with store.transaction() as c:
        c.execute("UPDATE versions SET state = 'missing', active = 0, size_bytes = 0 WHERE id = ?", (vid,))


def mark_archived(store: Store, vid: str, folder: str, size_bytes: int, unpacked_bytes: int) -> None:
    """The version now lives in one archive file `folder` (it stops being active)."""
    with store.transaction() as c:
        data = json.loads(c.execute("SELECT data FROM versions WHERE id = ?", (vid,)).fetchone()["data"])
        data["unpacked_bytes"] = unpacked_bytes
        c.execute("UPDATE versions SET state = 'archived', active = 0, folder = ?, size_bytes = ?, data = ?"
                  " WHERE id = ?", (folder, size_bytes, json.dumps(data), vid))


def mark_restored(store: Store, vid: str, folder: str, size_bytes: int) -> None:
    """The version's archive was unpacked back into `folder`."""
    with store.transaction() as c:
        c.execute("UPDATE versions SET state = 'ready', folder = ?, size_bytes = ? WHERE id = ?",
                  (folder, size_bytes, vid))


def mark_deleted(store: Store, vid: str) -> None:
    """The version's files are gone; its row stays so the timeline keeps its number."""
    with store.transaction() as c:
        c.execute("UPDATE versions SET state = 'deleted', active = 0, folder = '', size_bytes = 0"
                  " WHERE id = ?", (vid,))


def referenced_folders(store: Store) -> set[str]:
    """Folders (relative to the versions folder) that some live or half-written row points at."""
    return {r["folder"] for r in store.query(
        "SELECT folder FROM versions WHERE state IN ('writing', 'ready', 'archived') AND folder != ''")}
