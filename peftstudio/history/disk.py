"""Disk space before a run or an export: enough free, or a prompt listing versions to archive or delete.

Example:
    >>> check_space(10 * 2**20, free_bytes=50 * 2**30) is None
    True
"""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

from attrs import frozen

from peftstudio import paths
from peftstudio.errors import PlainError, make
from peftstudio.history.versions import list_versions
from peftstudio.records.config import RunConfig
from peftstudio.store import Store
from peftstudio.units import human_bytes

#: Kept free beyond what an operation needs: 10% of it, and at least this much.
MIN_MARGIN_BYTES = 100 * 2**20
#: How much of the biggest file is compressed to estimate what archiving a version saves.
_SAMPLE_BYTES = 1 << 20


@frozen
class SpaceCandidate:
    """A version the user could archive or delete, and about how much each frees."""

    version_id: str
    label: str
    line: str
    created_at: float
    state: str
    size_bytes: int
    frees_if_deleted: int
    frees_if_archived: int  # estimated from a compressed sample; 0 for a version already archived


@frozen
class SpacePrompt:
    """Not enough free space: what is needed, what is free, and what could be cleared.

    `candidates` are the inactive versions, oldest first (ties: largest first); `suggested` is the
    shortest run of them from the oldest whose deletion frees enough (empty if all of them would not).
    """

    needed_bytes: int
    margin_bytes: int
    free_bytes: int
    missing_bytes: int
    candidates: tuple[SpaceCandidate, ...]
    suggested: tuple[str, ...]

    @property
    def enough_if_all_deleted(self) -> bool:
        return sum(c.frees_if_deleted for c in self.candidates) >= self.missing_bytes

    @property
    def message(self) -> str:
        lines = [(f"This needs about {human_bytes(self.needed_bytes)} (plus {human_bytes(self.margin_bytes)} to "
                  f"spare), but only {human_bytes(self.free_bytes)} is free: "
                  f"{human_bytes(self.missing_bytes)} more is needed.")]
        if self.candidates:
            lines.append("You can free space by archiving or deleting older model versions:")
            for c in self.candidates:
                archive = (f"archive frees about {human_bytes(c.frees_if_archived)}, " if c.state == "ready" else "")
                lines.append(f"  {c.label} of {c.line} ({human_bytes(c.size_bytes)}): {archive}"
                             + f"delete frees {human_bytes(c.frees_if_deleted)}")
        else:
            lines.append("There are no older model versions to clear; free space on the disk yourself.")
        return "\n".join(lines)

    def as_error(self, what: str = "the files") -> PlainError:
        """The ``disk_full`` plain error for this prompt (its action ``free_space`` opens the list)."""
        return make("disk_full", what=what, needed=human_bytes(self.needed_bytes + self.margin_bytes),
                    free=human_bytes(self.free_bytes), prompt=self.message,
                    candidates=",".join(c.version_id for c in self.candidates),
                    # the figures themselves, so a screen can check again after the user frees space
                    needed_bytes=self.needed_bytes + self.margin_bytes, free_bytes=self.free_bytes)


def margin_for(needed_bytes: int) -> int:
    """Space kept free beyond the need (10%, at least 100 MB).

    Example:
        >>> margin_for(10 * 2**30) // 2**20
        1024
    """
    return max(needed_bytes // 10, MIN_MARGIN_BYTES)


def free_space(path: str | Path | None = None) -> int:
    """Free bytes on the disk holding `path` (or its nearest existing parent; the home folder by default)."""
    probe = Path(path or paths.home()).resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def archive_saving(folder: str | Path) -> int:
    """Estimated bytes archiving a folder frees, from compressing a sample of its largest file."""
    files = [f for f in Path(folder).rglob("*") if f.is_file()]
    total = sum(f.stat().st_size for f in files)
    if not files or total == 0:
        return 0
    biggest = max(files, key=lambda f: f.stat().st_size)
    with open(biggest, "rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
    ratio = len(zlib.compress(sample, 6)) / max(len(sample), 1)
    return max(int(total * (1 - ratio)), 0)


def check_space(
    needed_bytes: int,
    free_bytes: int | None = None,
    *,
    margin_bytes: int | None = None,
    store: Store | None = None,
) -> SpacePrompt | None:
    """None if `needed_bytes` plus a margin fits in the free space; else a prompt listing what to clear.

    `free_bytes` defaults to the free space of the home folder's disk (tests pass it in).
    """
    free = free_space() if free_bytes is None else free_bytes
    margin = margin_for(needed_bytes) if margin_bytes is None else margin_bytes
    missing = needed_bytes + margin - free
    if missing <= 0:
        return None
    candidates = []
    for v in list_versions(store=store):
        if v.active or v.state not in ("ready", "archived"):
            continue
        candidates.append(SpaceCandidate(
            version_id=v.id, label=v.label, line=v.line, created_at=v.created_at, state=v.state,
            size_bytes=v.size_bytes, frees_if_deleted=v.size_bytes,
            frees_if_archived=archive_saving(v.path) if v.state == "ready" else 0,
        ))
    candidates.sort(key=lambda c: (c.created_at, -c.size_bytes))
    suggested: list[str] = []
    freed = 0
    for c in candidates:
        if freed >= missing:
            break
        suggested.append(c.version_id)
        freed += c.frees_if_deleted
    return SpacePrompt(needed_bytes=needed_bytes, margin_bytes=margin, free_bytes=free, missing_bytes=missing,
                       candidates=tuple(candidates), suggested=tuple(suggested) if freed >= missing else ())


def run_disk_need(config: RunConfig) -> int | None:
    """Bytes a run will write: its checkpoints (adapter weights and optimizer state, the kept ones plus the
    one being written and the best), the final adapter and the model version made from it. None when the
    model cannot be described (offline, unknown), so nothing is promised.

    Example:
        >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="x"))
        >>> 0 < run_disk_need(cfg) < 100 * 2**20
        True
    """
    from peftstudio.models.catalog import describe_offline
    from peftstudio.planner.memory import lora_parameters

    spec = describe_offline(config.model.reference)
    if spec is None:  # a model we cannot describe: no estimate rather than a wrong one
        return None
    n = lora_parameters(spec, config.lora.rank, config.lora.target_modules)
    checkpoint = 12 * n + 64 * 1024  # fp32 weights + AdamW's two moments, plus the small training state
    kept = config.training.keep_checkpoints + 2  # the new one is written before an old one goes; the best stays
    return checkpoint * kept + 2 * 4 * n  # + the final adapter and its copy as a model version


def check_run_space(config: RunConfig, *, store: Store | None = None, free_bytes: int | None = None,
                    what: str = "this run's checkpoints and model version") -> None:
    """Raise the ``disk_full`` plain error (listing older versions to clear) when the run will not fit."""
    need = run_disk_need(config)
    if need is None:
        return
    prompt = check_space(need, free_bytes, store=store)
    if prompt is not None:
        raise prompt.as_error(what)


__all__ = ["MIN_MARGIN_BYTES", "SpaceCandidate", "SpacePrompt", "archive_saving", "check_space", "free_space",
           "check_run_space", "margin_for", "run_disk_need"]
