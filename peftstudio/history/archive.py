"""Archiving, restoring and deleting model versions, and removing what a crash left behind.

An archive is one ``vN.tar.gz`` file beside where the folder was; restoring
it gives back byte-identical files (checked against the version's manifest).
Each operation writes the new form first, then switches the row in one
transaction, then removes the old form, so after a kill -9 at any point the
row points at something whole and `repair_leftovers` removes the rest.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "v1").mkdir(); _ = (root / "v1" / "a.txt").write_text("hi")
    >>> _ = pack_folder(root / "v1", root / "v1.tar.gz")
    >>> unpack_into(root / "v1.tar.gz", root / "copy") and (root / "copy" / "a.txt").read_text()
    'hi'
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import uuid
from pathlib import Path

from peftstudio.errors import make
from peftstudio.history.versions import (
    MANIFEST,
    ModelVersion,
    _file_table,
    _store,
    crash_point,
    get_version,
    locked_version,
    versions_root,
)
from peftstudio.store import Store
from peftstudio.store.files import _fsync_dir, atomic_directory

ARCHIVE_SUFFIX = ".tar.gz"


def pack_folder(folder: Path, archive: Path) -> Path:
    """Compress a folder's contents into one ``.tar.gz`` file, atomically (temp file, then rename)."""
    tmp = archive.parent / f".{archive.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
            for child in sorted(folder.iterdir()):
                tar.add(child, arcname=child.name)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, archive)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(archive.parent)
    return archive


def unpack_into(archive: Path, target: Path) -> Path:
    """Extract an archive into a new folder `target`, atomically; refuses links and paths leaving it."""
    with atomic_directory(target) as tmp, tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp, filter="data")
    return target


def archive_version(ref: str, *, store: Store | None = None) -> ModelVersion:
    """Compress a version into one file; it stops being active until restored."""
    s = _store(store)
    with locked_version(ref, s, state="ready", refusal="{label} is {state}; only a ready version can be archived") as v:
        folder = Path(v.path)
        archive = folder.parent / (folder.name + ARCHIVE_SUFFIX)
        unpacked = v.size_bytes
        pack_folder(folder, archive)
        crash_point("archive:written")
        with s.transaction() as c:
            data = json.loads(c.execute("SELECT data FROM versions WHERE id = ?", (v.id,)).fetchone()["data"])
            data["unpacked_bytes"] = unpacked
            c.execute("UPDATE versions SET state = 'archived', active = 0, folder = ?, size_bytes = ?, data = ?"
                      " WHERE id = ?", (_rel(archive), archive.stat().st_size, json.dumps(data), v.id))
        crash_point("archive:recorded")
        shutil.rmtree(folder)
    return get_version(v.id, store=s)


def restore_version(ref: str, *, store: Store | None = None) -> ModelVersion:
    """Unpack an archived version back into its folder (byte-identical, checked against its manifest)."""
    s = _store(store)
    with locked_version(ref, s, state="archived", refusal="{label} is {state}, not archived; nothing to restore") as v:
        archive = Path(v.path)
        folder = archive.parent / archive.name[: -len(ARCHIVE_SUFFIX)]
        try:
            unpack_into(archive, folder)
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if _file_table(folder) != manifest["files"]:
                raise ValueError("files differ from the manifest")
        except (OSError, ValueError, KeyError, tarfile.TarError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise make("checkpoint_corrupt", path=str(archive),
                       fallback=f"Restoring {v.label} failed ({exc}); the archive is kept as it is.") from None
        crash_point("restore:extracted")
        from peftstudio.store.files import folder_size

        with s.transaction() as c:
            c.execute("UPDATE versions SET state = 'ready', folder = ?, size_bytes = ? WHERE id = ?",
                      (_rel(folder), folder_size(folder), v.id))
        crash_point("restore:recorded")
        archive.unlink()
    return get_version(v.id, store=s)


def delete_version(ref: str, *, store: Store | None = None) -> ModelVersion:
    """Delete a version's files; its row stays (as ``deleted``) so the timeline keeps its number and
    metrics. Returns the version as it was before deletion."""
    s = _store(store)
    with locked_version(ref, s) as v:
        with s.transaction() as c:
            c.execute("UPDATE versions SET state = 'deleted', active = 0, folder = '', size_bytes = 0"
                      " WHERE id = ?", (v.id,))
        crash_point("delete:recorded")
        _remove(Path(v.path))
    return v


def _rel(path: Path) -> str:
    return path.relative_to(versions_root()).as_posix()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def repair_leftovers(store: Store) -> list[str]:
    """Remove everything under the versions folder that no row points at (half-written folders,
    archives whose row was not switched, folders whose archive was). Call with the lock held."""
    referenced = {r["folder"] for r in store.query(
        "SELECT folder FROM versions WHERE state IN ('writing', 'ready', 'archived') AND folder != ''")}
    removed: list[str] = []
    root = versions_root()
    for line_dir in sorted(root.iterdir()):
        if line_dir.name == ".lock":
            continue
        if not line_dir.is_dir() or line_dir.is_symlink():
            if line_dir.name.startswith("."):
                _remove(line_dir)
                removed.append(line_dir.name)
            continue
        for child in sorted(line_dir.iterdir()):
            rel = f"{line_dir.name}/{child.name}"
            if rel not in referenced:
                _remove(child)
                removed.append(rel)
        if not any(line_dir.iterdir()):
            line_dir.rmdir()
    return removed


__all__ = [
    "ARCHIVE_SUFFIX",
    "archive_version",
    "delete_version",
    "pack_folder",
    "repair_leftovers",
    "restore_version",
    "unpack_into",
]
