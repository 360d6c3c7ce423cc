"""Atomic writes, re-exported where the store's users have always found them (they live in `peftstudio.files`)."""

from peftstudio.files import (
    _fsync_dir,
    atomic_directory,
    atomic_open,
    atomic_write_bytes,
    atomic_write_text,
    folder_size,
    remove_partials,
)

__all__ = ["atomic_directory", "atomic_open", "atomic_write_bytes", "atomic_write_text", "folder_size",
           "remove_partials"]
_ = _fsync_dir  # imported by name by older callers
