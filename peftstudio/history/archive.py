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
from peftstudio.files import _fsync_dir, atomic_directory, folder_size
from peftstudio.history.versions import (
    MANIFEST,
    ModelVersion,
    _file_table,
    crash_point,
    get_version,
    locked_version,
    remove_path,
    repair_leftovers,
    versions_root,
)
from peftstudio.store import Store, open_store
from peftstudio.store import versions as rows

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
    s = open_store(store)
    with locked_version(ref, s, state="ready", refusal="{label} is {state}; only a ready version can be archived") as v:
        folder = Path(v.path)
        archive = folder.parent / (folder.name + ARCHIVE_SUFFIX)
        unpacked = v.size_bytes
        pack_folder(folder, archive)
        crash_point("archive:written")
        rows.mark_archived(s, v.id, _rel(archive), archive.stat().st_size, unpacked)
        crash_point("archive:recorded")
        shutil.rmtree(folder)
    return get_version(v.id, store=s)


def restore_version(ref: str, *, store: Store | None = None) -> ModelVersion:
    """Unpack an archived version back into its folder (byte-identical, checked against its manifest)."""
    s = open_store(store)
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
        rows.mark_restored(s, v.id, _rel(folder), folder_size(folder))
        crash_point("restore:recorded")
        archive.unlink()
    return get_version(v.id, store=s)


def delete_version(ref: str, *, store: Store | None = None) -> ModelVersion:
    """Delete a version's files; its row stays (as ``deleted``) so the timeline keeps its number and
    metrics. Returns the version as it was before deletion."""
    s = open_store(store)
    with locked_version(ref, s) as v:
        rows.mark_deleted(s, v.id)
        crash_point("delete:recorded")
        remove_path(Path(v.path))
    return v


def _rel(path: Path) -> str:
    return path.relative_to(versions_root()).as_posix()


__all__ = [
    "ARCHIVE_SUFFIX",
    "archive_version",
    "delete_version",
    "pack_folder",
    "repair_leftovers",
    "restore_version",
    "unpack_into",
]
