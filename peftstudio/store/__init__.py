"""The store: SQLite rows for runs and history, atomic files for artifacts."""

from peftstudio.files import atomic_directory, atomic_write_bytes, atomic_write_text, folder_size
from peftstudio.store.db import RUN_STATUSES, RunRow, Store, open_store

__all__ = [
    "RUN_STATUSES",
    "RunRow",
    "Store",
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_text",
    "folder_size",
    "open_store",
]
