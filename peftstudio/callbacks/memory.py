"""Memory guard: shrink the micro-batch before memory runs out, keeping the effective batch the same.

`decide` is pure: recent memory-use fractions (GPU memory via torch.cuda, or system RAM
on a machine without a GPU) -> a `Decision`. It triggers above `limit` (90%), or earlier
(above `early_limit`, 80%) when use jumped by `jump` within the last readings (another
program started and free memory is draining): acting before the crash, not after. The
reaction is `shrink`: the micro-batch is divided (halved when it is even) and gradient
accumulation multiplied by the same factor, so micro-batch x accumulation stays equal.

At the optimizer-step boundary the callback asks the session control for a checkpoint and
a stop with reason ``memory_pressure``; the engine's session loop (`peftstudio.engine.session`)
then continues the run from that checkpoint with the smaller micro-batch. A CUDA out-of-memory
error inside a step is handled the same way, from the last checkpoint. On resume the
callback converts the saved data position and loop counters from the old micro-batch
size to the new one (same examples, smaller slices). The memory reading is injectable
(`reader`), which is how tests simulate a full GPU.

Example:
    >>> shrink(4, 2), shrink(3, 1), shrink(1, 8)
    ((2, 4), (1, 3), None)
    >>> d = decide([0.60, 0.62, 0.95], micro_batch_size=4, gradient_accumulation=2)
    >>> d.reason.value, d.details["new_micro_batch_size"], d.details["new_gradient_accumulation"]
    ('memory_high', 2, 4)
    >>> decide([0.85, 0.86, 0.84, 0.85], micro_batch_size=4, gradient_accumulation=2).triggered
    False
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
from attrs import frozen

from peftstudio.callbacks.decision import Decision, GuardAction, GuardReport, Reason, notify, sync_flag

RESIZE_REASON = "memory_pressure"


@frozen
class MemoryReading:
    """How full the training device's memory is (`device`: ``gpu`` or ``ram``)."""

    used_bytes: int
    total_bytes: int
    device: str = "gpu"

    @property
    def fraction(self) -> float:
        return self.used_bytes / self.total_bytes if self.total_bytes else 0.0


def gpu_reading(free_bytes: int, reserved_bytes: int) -> MemoryReading:
    """This process's share of a GPU: what PyTorch holds, out of what it holds plus what is still free.

    The planner budgets against the memory free when a run starts; measuring the whole device
    (CUDA context, other programs) against its total would halve correctly planned runs. Other
    programs still count: what they take leaves less free, so the fraction rises.

    Example:
        >>> r = gpu_reading(free_bytes=2 * 2**30, reserved_bytes=6 * 2**30)
        >>> r.fraction
        0.75
    """
    return MemoryReading(int(reserved_bytes), int(free_bytes + reserved_bytes), "gpu")


def read_memory() -> MemoryReading:
    """The memory in use on the training device now: this process's CUDA GPU, else system RAM."""
    import torch

    if torch.cuda.is_available():
        device = torch.cuda.current_device()  # this rank's GPU
        free, _total = torch.cuda.mem_get_info(device)
        return gpu_reading(int(free), int(torch.cuda.memory_reserved(device)))
    import psutil

    vm = psutil.virtual_memory()
    return MemoryReading(int(vm.total - vm.available), int(vm.total), "ram")


def shrink(micro_batch_size: int, gradient_accumulation: int) -> tuple[int, int] | None:
    """A smaller micro-batch that divides the current one, with accumulation scaled to keep their product.

    Halves an even micro-batch; an odd one goes to its largest divisor below half (3 -> 1).
    None when the micro-batch is already 1.

    Example:
        >>> shrink(6, 1), shrink(9, 2)
        ((3, 2), (3, 6))
    """
    if micro_batch_size <= 1:
        return None
    new = next(d for d in range(micro_batch_size // 2, 0, -1) if micro_batch_size % d == 0)
    return new, gradient_accumulation * (micro_batch_size // new)


def decide(fractions: Sequence[float], *, micro_batch_size: int, gradient_accumulation: int, limit: float = 0.90,
           early_limit: float = 0.80, jump: float = 0.10, window: int = 5, device: str = "gpu") -> Decision:
    """Whether to shrink the micro-batch, from memory-use fractions (oldest first, latest last)."""
    if not fractions:
        return Decision.ok()
    latest = float(fractions[-1])
    recent = [float(f) for f in fractions[-(window + 1):-1]]
    if latest > limit:
        reason = Reason.MEMORY_HIGH
    elif latest > early_limit and recent and latest - min(recent) >= jump:
        reason = Reason.MEMORY_DROPPING
    else:
        return Decision.ok()
    where = "GPU memory" if device == "gpu" else "system memory (RAM)"
    found = (f"{where} is {latest:.0%} full" + (f", up from {min(recent):.0%} moments ago"
                                                 if reason is Reason.MEMORY_DROPPING else ""))
    return _shrink_decision(reason, found, micro_batch_size, gradient_accumulation,
                            {"memory_fraction": latest, "device": device})


def decide_oom(*, micro_batch_size: int, gradient_accumulation: int) -> Decision:
    """What to do after a step ran out of memory: shrink the micro-batch (if it can shrink).

    Example:
        >>> decide_oom(micro_batch_size=8, gradient_accumulation=1).details["new_gradient_accumulation"]
        2
    """
    return _shrink_decision(Reason.OUT_OF_MEMORY, "a training step ran out of memory", micro_batch_size,
                            gradient_accumulation, {})


def _shrink_decision(reason: Reason, found: str, micro: int, accumulation: int, details: dict[str, Any]) -> Decision:
    smaller = shrink(micro, accumulation)
    details = {**details, "micro_batch_size": micro, "gradient_accumulation": accumulation,
               "effective_batch_size": micro * accumulation}
    if smaller is None:
        message = (f"Memory is short: {found}, and the micro-batch is already 1, so it cannot shrink further. "
                   f"Training goes on, but may stop with an out-of-memory error.")
        return Decision(reason, message, (
            "Use 4-bit loading of the base model (training.quantization = 4bit) on an NVIDIA GPU.",
            "Use a shorter sequence length, or turn on gradient checkpointing (training.gradient_checkpointing).",
            "Close other programs that use the GPU or memory.",
        ), GuardAction.CANNOT_SHRINK, details)
    new_micro, new_accumulation = smaller
    details.update(new_micro_batch_size=new_micro, new_gradient_accumulation=new_accumulation)
    message = (f"Memory is short: {found}. The micro-batch went from {micro} to {new_micro} and gradient "
               f"accumulation from {accumulation} to {new_accumulation}, so the effective batch stays "
               f"{micro * accumulation}; training continues from the step it reached.")
    return Decision(reason, message, (
        "Nothing to do: results stay comparable, each step just takes a little longer.",
        "Close other programs that use the GPU or memory if training got slower.",
    ), GuardAction.SHRINK_BATCH, details)


def changes_for(decision: Decision) -> dict[str, Any]:
    """The run-setting changes a shrink decision makes (empty when it makes none)."""
    if decision.action is not GuardAction.SHRINK_BATCH:
        return {}
    return {"training.micro_batch_size": decision.details["new_micro_batch_size"],
            "training.gradient_accumulation": decision.details["new_gradient_accumulation"]}


# ---------------------------------------------------------------- converting a resumed run's position
def batches_per_epoch(rows: int, micro_batch_size: int, world_size: int = 1) -> int:
    """Micro-batches per epoch on each device (as the engine's sampler counts them).

    Example:
        >>> batches_per_epoch(10, 4), batches_per_epoch(10, 2)
        (3, 5)
    """
    n = math.ceil(rows / micro_batch_size)
    return n // world_size if world_size > 1 else n


def rescale_count(count: int, *, old: int, new: int, rows: int, world_size: int = 1) -> int:
    """Micro-batches done within an epoch at size `old` -> the same rows counted at size `new`.

    `new` divides `old` (as `shrink` makes it). A finished epoch stays finished.

    Example:
        >>> rescale_count(2, old=4, new=2, rows=10), rescale_count(3, old=4, new=2, rows=10)
        (4, 5)
    """
    if count >= batches_per_epoch(rows, old, world_size):
        return batches_per_epoch(rows, new, world_size)
    return count * old // new


def rescale_loop_progress(progress: dict[str, Any], *, old: int, new: int, rows: int, world_size: int = 1) -> None:
    """Convert Lightning's saved batch progress (``epoch_loop.batch_progress``) in place to micro-batch `new`."""
    per_old = batches_per_epoch(rows, old, world_size)
    per_new = batches_per_epoch(rows, new, world_size)
    current, total = progress.get("current", {}), progress.get("total", {})
    for key in list(current):
        done_epochs = max(int(total.get(key, 0)) - int(current[key]), 0) // max(per_old, 1)
        current[key] = rescale_count(int(current[key]), old=old, new=new, rows=rows, world_size=world_size)
        if key in total:
            total[key] = done_epochs * per_new + current[key]


class MemoryGuard(L.Callback):
    """Shrinks the micro-batch under memory pressure (see the module docstring).

    `micro_batch_size`/`gradient_accumulation` are this session's settings; `reader` returns a
    `MemoryReading` (default: `read_memory`). Checks at each optimizer-step boundary.
    """

    def __init__(self, listeners: Sequence[Callable[[Any], None]] = (), *, micro_batch_size: int,
                 gradient_accumulation: int, reader: Callable[[], MemoryReading] | None = None, limit: float = 0.90,
                 early_limit: float = 0.80, jump: float = 0.10, window: int = 5) -> None:
        if not 0 < early_limit <= limit <= 1:
            raise ValueError(f"expected 0 < early_limit <= limit <= 1, got early_limit={early_limit}, limit={limit}")
        self.listeners = list(listeners)
        self.micro_batch_size = micro_batch_size
        self.gradient_accumulation = gradient_accumulation
        self.reader = reader or read_memory
        self.limit, self.early_limit, self.jump, self.window = limit, early_limit, jump, window
        self.fractions: list[float] = []
        self.warned = False
        self._seen_step = -1
        self.resized_from: tuple[int, int] | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._seen_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if trainer.global_step == self._seen_step:
            return  # still accumulating: the micro-batch can only change between optimizer steps
        self._seen_step = trainer.global_step
        reading = self.reader()
        self.fractions = [*self.fractions, reading.fraction][-50:]
        decision = decide(self.fractions, micro_batch_size=self.micro_batch_size,
                          gradient_accumulation=self.gradient_accumulation, limit=self.limit,
                          early_limit=self.early_limit, jump=self.jump, window=self.window, device=reading.device)
        if not sync_flag(trainer, decision.triggered):
            return
        if decision.action is GuardAction.CANNOT_SHRINK:
            if not self.warned:
                self.warned = True
                notify(self.listeners, trainer, GuardReport("memory", trainer.global_step, decision))
            return
        self._resize(trainer, decision)

    def _resize(self, trainer: L.Trainer, decision: Decision) -> None:
        from peftstudio.callbacks.control import Stop, ask, build_report

        notify(self.listeners, trainer, GuardReport("memory", trainer.global_step, decision,
                                                    config_changes=changes_for(decision)))
        # a checkpoint of this step, then the session goes on from it with the smaller micro-batch
        ask(trainer, Stop(build_report(step=trainer.global_step, reason=RESIZE_REASON, elapsed=None, eta=None,
                                       resources=None, checkpoint=None), save=True))

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if is_out_of_memory(exception):
            decision = decide_oom(micro_batch_size=self.micro_batch_size,
                                  gradient_accumulation=self.gradient_accumulation)
            notify(self.listeners, trainer, GuardReport("memory", trainer.global_step, decision,
                                                        config_changes=changes_for(decision)))

    # ------------------------------------------------------------ resuming with another micro-batch
    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get("callbacks", {}).get(self.state_key, {})
        old = int(saved.get("micro_batch_size", self.micro_batch_size))
        new = self.micro_batch_size
        if old == new or old % new != 0:
            return
        self.resized_from = (old, int(saved.get("gradient_accumulation", self.gradient_accumulation)))
        datamodule = getattr(trainer, "datamodule", None)
        rows = int(getattr(datamodule, "train_rows", 0) or 0)
        if not rows:
            return
        world = int(trainer.world_size)
        # the data module was restored just before the callbacks: move its position to the new size
        if datamodule is not None and hasattr(datamodule, "position"):
            epoch, next_batch = datamodule.position
            datamodule.position = (epoch, rescale_count(next_batch, old=old, new=new, rows=rows, world_size=world))
        progress = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_loop.batch_progress")
        if isinstance(progress, dict):  # the loops are restored after the callbacks: convert them in place
            rescale_loop_progress(progress, old=old, new=new, rows=rows, world_size=world)

    def state_dict(self) -> dict[str, Any]:
        return {"micro_batch_size": self.micro_batch_size, "gradient_accumulation": self.gradient_accumulation}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        pass  # the sizes of this session come from its settings; readings describe the machine now


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is an out-of-memory failure of training (CUDA, or the CPU allocator).

    Running out while loading the base model (a plain error with ``stage="loading"``) is not one:
    a smaller micro-batch would not help.

    Example:
        >>> is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")), is_out_of_memory(KeyError())
        (True, False)
    """
    import torch

    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    info = getattr(exc, "info", None)
    if getattr(info, "code", None) == "out_of_memory":
        return (getattr(info, "details", None) or {}).get("stage") != "loading"
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text


def release_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
