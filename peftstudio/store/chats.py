"""The ``chats`` table: playground exchanges kept per run (the logic lives in `peftstudio.playground`).

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.store import Store
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
    >>> add_chat(store, "run-1", None, 0.0, {"prompt": "hi"})
    1
    >>> chat_rows(store, "run-1")
    [(1, {'prompt': 'hi'})]
"""

from __future__ import annotations

import json
from typing import Any

from peftstudio.store.db import Store


def add_chat(store: Store, run_id: str, version_id: str | None, time: float, data: dict[str, Any]) -> int:
    """Store one exchange; returns its id."""
    with store.transaction() as c:
        cur = c.execute("INSERT INTO chats (run_id, version_id, time, data) VALUES (?, ?, ?, ?)",
                        (run_id, version_id, time, json.dumps(data)))
    return int(cur.lastrowid or 0)


def chat_rows(store: Store, run_id: str) -> list[tuple[int, dict[str, Any]]]:
    """(id, data) of a run's exchanges, oldest first."""
    return [(r["id"], json.loads(r["data"]))
            for r in store.query("SELECT id, data FROM chats WHERE run_id = ? ORDER BY id", (run_id,))]
