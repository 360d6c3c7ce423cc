"""The ``presets`` table: every SQL statement on saved presets (the logic lives in `peftstudio.history.presets`).

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.store import Store
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
    >>> put_preset(store, "p", profile="chatbot", model="m", tags=("a",), notes="", data="{}", replace=False)
    False
    >>> [r["name"] for r in preset_rows(store)]
    ['p']
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from peftstudio.store.db import Store


def put_preset(store: Store, name: str, *, profile: str, model: str, tags: tuple[str, ...], notes: str, data: str,
               replace: bool, refuse: Callable[[], Exception] | None = None) -> bool:
    """Insert or replace a preset in one transaction; returns whether one of that name was replaced.

    Without `replace`, an existing preset raises `refuse()` (a `ValueError` if not given) and nothing changes.
    """
    now = time.time()
    with store.transaction() as c:
        old = c.execute("SELECT created_at FROM presets WHERE name = ?", (name,)).fetchone()
        if old is not None and not replace:
            raise refuse() if refuse is not None else ValueError(f"a preset named {name!r} already exists")
        c.execute(
            "INSERT OR REPLACE INTO presets (name, profile, model, tags, notes, created_at, updated_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, profile, model, json.dumps(list(tags)), notes, old["created_at"] if old is not None else now,
             now, data),
        )
    return old is not None


def preset_data(store: Store, name: str) -> str | None:
    """The stored JSON document of the preset `name`, or None."""
    rows = store.query("SELECT data FROM presets WHERE name = ?", (name,))
    return rows[0]["data"] if rows else None


def preset_rows(store: Store) -> list[dict[str, Any]]:
    """Every preset's columns (``tags`` parsed), most recently changed first."""
    return [{**dict(r), "tags": tuple(json.loads(r["tags"]))}
            for r in store.query("SELECT * FROM presets ORDER BY updated_at DESC, name")]


def remove_preset(store: Store, name: str) -> bool:
    """Delete a preset; returns whether there was one."""
    with store.transaction() as c:
        return c.execute("DELETE FROM presets WHERE name = ?", (name,)).rowcount > 0
