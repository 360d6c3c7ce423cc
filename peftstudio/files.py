"""Atomic file and folder writes: a crash mid-write never leaves a half-written file.

The bottom layer: records, the store and everything else import it; it imports nothing of PEFT Studio.

Every write goes to a temporary file beside the target, is flushed and fsynced,
then renamed over the target (rename is atomic on POSIX and Windows). Folders
are built under a temporary name and renamed into place the same way.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "settings.json"
    >>> _ = atomic_write_text(p, '{"a": 1}')
    >>> p.read_text()
    '{"a": 1}'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


def _fsync_dir(path: Path) -> None:
    # Make the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    r"""A file to write into that replaces `path` only when the block succeeds (streaming, any size).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
        >>> with atomic_open(p, "w", encoding="utf-8") as fh:
        ...     _ = fh.write("{}\\n")
        >>> p.read_text()
        '{}\\n'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` so that readers see either the old file or the new one, never a mix."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(path: str | Path, *, replace: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary name and move it to `path` only when the block succeeds.

    If the block raises, the temporary folder is removed and `path` is untouched.
    With `replace=True` an existing `path` is swapped out (and removed) after the new one is in place;
    otherwise an existing `path` makes this raise `FileExistsError` at the end.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_directory(root / "export") as tmp:
        ...     _ = (tmp / "model.txt").write_text("weights")
        >>> (root / "export" / "model.txt").read_text()
        'weights'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.partial"
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        if target.exists():
            if not replace:
                raise FileExistsError(f"{target} already exists")
            old = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.old"
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def remove_partials(folder: str | Path) -> int:
    """Remove leftovers of interrupted atomic writes in `folder`; returns how many were removed."""
    removed = 0
    root = Path(folder)
    if not root.is_dir():
        return 0
    for child in root.iterdir():
        if child.name.startswith(".") and (child.name.endswith(".partial") or child.name.endswith(".tmp")
                                           or child.name.endswith(".old")):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed += 1
    return removed


def folder_size(path: str | Path) -> int:
    """Total bytes of the files under `path` (a file's own size if it is a file)."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


#: The files that hold a model's weights (`weights_stamp`).
WEIGHT_FILES = ("*.safetensors", "*.bin", "*.gguf")


def weights_stamp(folder: str | Path) -> list[tuple[str, int, int]]:
    """Name, size and modification time of each weight file in `folder` (empty when there are none): the key a
    cache of what a model computed is filed under, so that other weights find nothing.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = atomic_write_bytes(d / "model.safetensors", b"12345")
        >>> [(name, size) for name, size, _ in weights_stamp(d)], weights_stamp(d / "missing")
        ([('model.safetensors', 5)], [])
    """
    root = Path(folder) if str(folder) else None
    if root is None or not root.is_dir():
        return []
    files = sorted({f for pattern in WEIGHT_FILES for f in root.glob(pattern) if f.is_file()})
    return [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]


def cache_file(folder: str | Path, what: Any) -> Path:
    """The file in `folder` for a cached result that depends on `what` (a JSON value), named by its digest.

    Example:
        >>> cache_file("/c", ["model", 1]) == cache_file("/c", ["model", 1]) != cache_file("/c", ["model", 2])
        True
    """
    digest = hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return Path(folder) / f"{digest}.json"


def read_json(path: Path | None, *, valid: Callable[[Any], bool] = lambda _: True) -> Any:
    """The JSON value kept in `path` if it is there and `valid`, else None (no path, no file, a damaged file).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
        >>> write_json(p, [1, 2]); read_json(p), read_json(p, valid=lambda v: len(v) == 1), read_json(None)
        ([1, 2], None, None)
    """
    if path is None or not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if valid(value) else None


def write_json(path: Path | None, value: Any) -> None:
    """Keep `value` in `path` as JSON, written atomically (nothing when it is None or there is no `path`)."""
    if path is not None and value is not None:
        atomic_write_text(path, json.dumps(value, ensure_ascii=False))


def cached_json(path: Path | None, compute: Callable[[], Any], *, valid: Callable[[Any], bool] = lambda _: True) -> Any:
    """The JSON value kept in `path` if it is there and `valid` (`read_json`), else `compute()`'s, written there
    (`write_json`). A damaged file is computed again and rewritten.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
        >>> cached_json(p, lambda: [1, 2]), cached_json(p, lambda: [3])  # the second is read back
        ([1, 2], [1, 2])
        >>> cached_json(p, lambda: [3], valid=lambda v: len(v) == 1)  # not what is wanted now: computed again
        [3]
    """
    value = read_json(path, valid=valid)
    if value is None:
        value = compute()
        write_json(path, value)
    return value
