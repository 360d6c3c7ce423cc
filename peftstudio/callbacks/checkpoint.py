"""Checkpoints every N optimizer steps, on demand (pause), and of the best validation loss.

Each checkpoint is a folder ``step-0000120`` written atomically through Lightning's
``trainer.save_checkpoint`` (with `FolderCheckpointIO` it holds the adapter weights,
optimizer, LR scheduler, gradient scaler, loop progress, data position and every
callback's state). This callback adds all RNG states (Python, NumPy, torch, CUDA)
and restores them right before training resumes, so a resumed run draws the same
random numbers as an uninterrupted one. The decisions (is a save due, which old
checkpoints go) are pure functions.

Example:
    >>> is_due(step=100, every=50, last_saved=50)
    True
    >>> [c.step for c in to_remove([CheckpointInfo(s, f"step-{s}") for s in (10, 20, 30, 40)],
    ...                            keep_last=2, best_step=10)]
    [20]
    >>> [c.step for c in to_remove([CheckpointInfo(s, f"step-{s}") for s in (10, 20, 30, 40)],
    ...                            keep_last=2, best_step=None, kept=(10,))]
    [20]
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from attrs import frozen

from peftstudio.store.files import atomic_write_text

INDEX_FILE = "checkpoints.json"
_NAME = re.compile(r"^step-(\d+)$")


@frozen
class CheckpointInfo:
    """A checkpoint folder and what it holds."""

    step: int
    path: str
    val_loss: float | None = None


def checkpoint_name(step: int) -> str:
    """The folder name for a checkpoint at `step` (sorts by step).

    Example:
        >>> checkpoint_name(42)
        'step-0000042'
    """
    return f"step-{step:07d}"


def is_due(*, step: int, every: int, last_saved: int) -> bool:
    """Whether a periodic checkpoint is due after optimizer step `step`.

    Example:
        >>> is_due(step=0, every=10, last_saved=-1), is_due(step=10, every=10, last_saved=10)
        (False, False)
    """
    return step > 0 and step != last_saved and step % every == 0


def to_remove(saved: Sequence[CheckpointInfo], *, keep_last: int, best_step: int | None,
              kept: Iterable[int] = ()) -> list[CheckpointInfo]:
    """Checkpoints to delete: all but the newest `keep_last`, the best one and the steps in `kept`."""
    ordered = sorted(saved, key=lambda c: c.step)
    keep = {c.step for c in ordered[-keep_last:]} if keep_last > 0 else set()
    keep.update(kept)
    if best_step is not None:
        keep.add(best_step)
    return [c for c in ordered if c.step not in keep]


def is_better(value: float, best: float | None) -> bool:
    """Lower validation loss is better; NaN never is.

    Example:
        >>> is_better(1.0, None), is_better(1.0, 0.5), is_better(float("nan"), None)
        (True, False, False)
    """
    return not math.isnan(value) and (best is None or value < best)


def list_checkpoints(folder: str | Path) -> list[CheckpointInfo]:
    """Complete checkpoints in `folder`, oldest first (partial writes are ignored)."""
    from peftstudio.callbacks.checkpoint_io import is_complete

    root = Path(folder)
    if not root.is_dir():
        return []
    vals: dict[int, float] = {}
    index = root / INDEX_FILE
    if index.is_file():
        try:
            vals = {int(k): float(v) for k, v in json.loads(index.read_text()).get("val_loss", {}).items()}
        except (ValueError, OSError, AttributeError):
            vals = {}
    found = []
    for child in root.iterdir():
        m = _NAME.match(child.name)
        if m and child.is_dir() and is_complete(child):
            step = int(m.group(1))
            found.append(CheckpointInfo(step, str(child), vals.get(step)))
    return sorted(found, key=lambda c: c.step)


def latest_checkpoint(folder: str | Path) -> CheckpointInfo | None:
    """The newest complete checkpoint in `folder`, if any."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


def best_checkpoint(folder: str | Path) -> CheckpointInfo | None:
    """The complete checkpoint with the lowest validation loss, if any has one."""
    scored = [c for c in list_checkpoints(folder) if c.val_loss is not None]
    return min(scored, key=lambda c: c.val_loss) if scored else None  # type: ignore[arg-type, return-value]


# ---------------------------------------------------------------- RNG states
def collect_rng_states() -> dict[str, Any]:
    """Every random generator's state, as checkpointable data."""
    states: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                              "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    """Put back what `collect_rng_states` returned."""
    if "python" in states:
        version, internal, gauss = states["python"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy" in states:
        name, keys, pos, has_gauss, cached = states["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss), float(cached)))
    if "torch" in states:
        torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class CheckpointCallback(L.Callback):
    """Saves to `folder` every `every_n_steps` optimizer steps; keeps the last `keep_last`, the best and
    those a guard went back to (`keep`): the last stable weights a pause must be able to resume from."""

    def __init__(self, folder: str | Path, *, every_n_steps: int = 50, keep_last: int = 2,
                 monitor: str = "val_loss", listeners: Sequence[Callable[[CheckpointInfo], None]] = ()) -> None:
        if every_n_steps < 1 or keep_last < 1:
            raise ValueError("every_n_steps and keep_last must be at least 1")
        self.folder = Path(folder)
        self.every_n_steps = every_n_steps
        self.keep_last = keep_last
        self.monitor = monitor
        self.listeners = list(listeners)
        self.last_saved_step = -1
        self.best_step: int | None = None
        self.best_score: float | None = None
        self.val_losses: dict[int, float] = {}
        self.kept: set[int] = set()
        self._pending_rng: dict[str, Any] | None = None

    # ------------------------------------------------------------ saving
    def save(self, trainer: L.Trainer) -> CheckpointInfo:
        """Write a checkpoint for the current step now (all processes must call this together)."""
        step = trainer.global_step
        path = self.folder / checkpoint_name(step)
        if trainer.is_global_zero:
            self._check_space(step)
        self.last_saved_step = step  # before dumping, so the saved state knows it was saved
        trainer.save_checkpoint(path, weights_only=False)  # False: the full training state, not only weights
        info = CheckpointInfo(step, str(path), self.val_losses.get(step))
        if trainer.is_global_zero:
            self._write_index()
            for old in to_remove(list_checkpoints(self.folder), keep_last=self.keep_last, best_step=self.best_step,
                                 kept=self.kept):
                trainer.strategy.remove_checkpoint(old.path)
            for listener in self.listeners:
                listener(info)
        return info

    def keep(self, step: int) -> None:
        """Never delete the checkpoint of `step` in this run (a guard rolled back to it: it is the newest
        weights known to be stable, which a later pause for divergence resumes from)."""
        self.kept.add(step)

    def _check_space(self, step: int) -> None:
        """Before writing: is there room for one more checkpoint the size of the last one? If not, stop with
        the ``disk_full`` error and its list of older model versions to clear (the last checkpoint stays)."""
        from peftstudio.history.disk import check_space
        from peftstudio.store.files import folder_size

        saved = list_checkpoints(self.folder)
        if not saved:
            return
        prompt = check_space(folder_size(saved[-1].path), free_bytes=self.free_bytes())
        if prompt is not None:
            raise prompt.as_error(f"the checkpoint of step {step}")

    def free_bytes(self) -> int:
        """Free space on the checkpoints' disk (a method so a test can say the disk is full)."""
        from peftstudio.history.disk import free_space

        return free_space(self.folder)

    def _write_index(self) -> None:
        atomic_write_text(self.folder / INDEX_FILE, json.dumps(
            {"best_step": self.best_step, "val_loss": {str(k): v for k, v in self.val_losses.items()}}))

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if is_due(step=trainer.global_step, every=self.every_n_steps, last_saved=self.last_saved_step):
            self.save(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or trainer.sanity_checking or trainer.state.fn != "fit":
            return
        score, step = float(value), trainer.global_step
        self.val_losses[step] = score
        if is_better(score, self.best_score):
            self.best_score, self.best_step = score, step
            if self.last_saved_step != step and step > 0:
                self.save(trainer)  # the best weights must exist as a checkpoint
                return
        if trainer.is_global_zero:
            self._write_index()

    # ------------------------------------------------------------ RNG and state
    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        checkpoint["rng_states"] = collect_rng_states()

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        self._pending_rng = checkpoint.get("rng_states")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # restore as late as possible: nothing may draw random numbers between here and the next step
        if self._pending_rng is not None:
            restore_rng_states(self._pending_rng)
            self._pending_rng = None

    def state_dict(self) -> dict[str, Any]:
        return {"last_saved_step": self.last_saved_step, "best_step": self.best_step, "best_score": self.best_score,
                "val_loss_steps": list(self.val_losses), "val_loss_values": list(self.val_losses.values()),
                "kept_steps": sorted(self.kept)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.last_saved_step = int(state_dict.get("last_saved_step", -1))
        best = state_dict.get("best_step")
        self.best_step = None if best is None else int(best)
        score = state_dict.get("best_score")
        self.best_score = None if score is None else float(score)
        self.val_losses = {int(s): float(v) for s, v in zip(state_dict.get("val_loss_steps", []),
                                                            state_dict.get("val_loss_values", []), strict=False)}
        self.kept = {int(s) for s in state_dict.get("kept_steps", [])}
