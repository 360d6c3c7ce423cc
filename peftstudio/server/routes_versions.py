"""Model versions: the timeline of each model line (metrics and the change from the previous version, sizes),
set active, archive, restore, delete, two versions compared, and the disk-space prompt (what to clear when a
``disk_full`` error says the disk is short); all through `peftstudio.history`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from peftstudio.server.deps import as_json
from peftstudio.server.errors import JSON

router = APIRouter(prefix="/api/versions", tags=["versions"])


def version_json(v: Any) -> dict[str, Any]:
    """A version as the page shows it (its label; the folder stays on the server)."""
    from peftstudio.history.versions import version_dict

    data = version_dict(v)
    data.pop("path", None)
    return data


@router.get("")
def timelines() -> JSON:
    """Every model line, its versions oldest first with the change of each metric from the previous one,
    the active version, the free space on the disk that holds them, and which way each number is better."""
    from peftstudio.history.compare import lower_is_better
    from peftstudio.history.disk import free_space
    from peftstudio.history.versions import lines, timeline, versions_root

    out = []
    names: set[str] = set()
    for line in lines():
        entries = timeline(line)
        names.update(k for e in entries for k in e.version.metrics)
        out.append({"line": line, "active": next((e.version.id for e in entries if e.version.active), None),
                    "size_bytes": sum(e.version.size_bytes for e in entries),
                    "versions": [{**version_json(e.version), "previous_id": e.previous_id, "deltas": e.deltas}
                                 for e in entries]})
    # which way is better for each number (the library's rule; None: neither, e.g. the learning rate)
    return JSON({"lines": out, "free_bytes": free_space(versions_root()),
                 "lower_is_better": {k: lower_is_better(k) for k in sorted(names)}})


#: the most bytes a space question may name (an exabyte: anything larger is a mistake)
MAX_NEEDED = 2**60


@router.get("/space")
def space(needed_bytes: int | None = Query(default=None, ge=0, le=MAX_NEEDED)) -> JSON:
    """What the disk-space prompt shows: the free space on the disk that holds the home folder and the
    versions that could be archived or deleted (the inactive ones, oldest first), with what each frees.

    With `needed_bytes` (a ``disk_full`` error's ``details.needed_bytes``, its margin included): whether that
    fits now (`enough`), how much is missing, and the suggested set (the fewest versions from the oldest whose
    deletion frees enough; empty when even all of them would not). Without it (a disk that filled up while
    writing, the need not known): every candidate, nothing suggested."""
    from peftstudio.history.disk import check_space, free_space

    free = free_space()
    if needed_bytes is None:
        listing = check_space(1, 0, margin_bytes=0)  # one byte short of an empty disk: every candidate listed
        candidates = listing.candidates if listing is not None else ()
        return JSON({"needed_bytes": None, "free_bytes": free, "missing_bytes": None, "enough": None,
                     "candidates": [as_json(c) for c in candidates], "suggested": [],
                     "enough_if_all_deleted": None})
    prompt = check_space(needed_bytes, free, margin_bytes=0)  # the error's need already holds its margin
    if prompt is None:
        return JSON({"needed_bytes": needed_bytes, "free_bytes": free, "missing_bytes": 0, "enough": True,
                     "candidates": [], "suggested": [], "enough_if_all_deleted": True})
    return JSON({"needed_bytes": needed_bytes, "free_bytes": free, "missing_bytes": prompt.missing_bytes,
                 "enough": False, "candidates": [as_json(c) for c in prompt.candidates],
                 "suggested": list(prompt.suggested), "enough_if_all_deleted": prompt.enough_if_all_deleted})


@router.get("/compare")
def compare(a: str = Query(max_length=200), b: str = Query(max_length=200)) -> JSON:
    """How version `b` differs from `a`: each metric's change and the settings that differ."""
    from peftstudio.history.versions import compare_versions

    c = compare_versions(a, b)
    return JSON({"a": version_json(c.a), "b": version_json(c.b), "metric_deltas": c.metric_deltas,
                 "differences": [as_json(d) for d in c.differences]})


@router.get("/{ref}")
def one(ref: str) -> JSON:
    """One version (by id, a unique beginning of one, or ``v2`` when only one line has a v2)."""
    from peftstudio.history.versions import get_version

    return JSON(version_json(get_version(ref)))


@router.post("/{ref}/activate")
def activate(ref: str) -> JSON:
    """Make the version the active one of its line (what the playground and exports use by default)."""
    from peftstudio.history import set_active

    return JSON(version_json(set_active(ref)))


@router.post("/{ref}/archive")
def archive(ref: str) -> JSON:
    """Compress a ready version into one file (it is no longer active until restored)."""
    from peftstudio.history import archive_version

    return JSON(version_json(archive_version(ref)))


@router.post("/{ref}/restore")
def restore(ref: str) -> JSON:
    """Unpack an archived version, checked file by file against its manifest."""
    from peftstudio.history import restore_version

    return JSON(version_json(restore_version(ref)))


@router.delete("/{ref}")
def delete(ref: str) -> JSON:
    """Delete the version's files (its number and metrics stay in the timeline); the size it freed."""
    from peftstudio.history import delete_version

    gone = delete_version(ref)
    return JSON({"deleted": version_json(gone), "freed_bytes": gone.size_bytes})


__all__ = ["router", "version_json"]
