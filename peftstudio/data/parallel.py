"""Worker processes for the data check's big-file work, forked only where that is safe.

Arrow and numpy hold Python's GIL often enough that threads barely overlap on the check's work, so big
files are shared among processes. They are forked (not spawned: "spawn" runs the caller's main script
again in every worker unless it is guarded by ``if __name__ == "__main__"``), and only from a process
that runs a single Python thread: forking copies just the calling thread, so a lock another Python
thread holds would stay locked in the child forever. (The native threads numpy's BLAS and Arrow's
allocator start at import reset themselves in a fork; the workers never use torch.) Elsewhere (the app
checks data on a background thread) the check uses threads.

Workers hand big arrays back through `Slots`, shared memory mapped before the fork, rather than
pickled through a pipe (which held each worker up for about a twentieth of its block's work).

Example:
    >>> cores() >= 1
    True
    >>> import numpy as np
    >>> slots = Slots(count=1, size=1 << 16)
    >>> slot = slots.acquire()
    >>> placed = slots.put(slot, {"a": np.arange(5)})  # (in a worker)
    >>> slots.take(slot, placed)["a"].tolist()
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import math
import mmap
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any, NamedTuple

import numpy as np

#: The most worker processes the check starts.
MAX_PROCESSES = 4


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def fork_is_safe() -> bool:
    """Whether worker processes can be forked here: Linux, and this process runs a single Python thread."""
    import threading

    return sys.platform.startswith("linux") and threading.active_count() == 1


def fork_pool(processes: int) -> ProcessPoolExecutor | None:
    """A pool of `processes` forked workers (all forked at once, before the pool's own thread starts),
    or None where forking is not safe or not possible. Use it as a context manager.
    """
    import multiprocessing

    if processes < 2 or not fork_is_safe():
        return None
    try:
        return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"),
                                   initializer=keep_freed_memory)
    except (OSError, ValueError):
        return None


#: glibc's mallopt parameters (malloc.h) and the values a worker uses.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_WORKER_MALLOC = ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 1 << 30), (_M_TOP_PAD, 64 << 20))


def keep_freed_memory() -> bool:
    """Let this process keep the memory it frees for its next blocks (glibc only; a worker's start).

    By default glibc hands every big block (numpy's arrays of a few MB) back to the system when it is
    freed, and the next block's arrays fault the same pages in again: in the check's workers that was a
    fifth of their time, in the kernel. A worker lives for one check, so keeping its memory is free.
    Never called in the caller's own process, whose memory is the caller's business. Returns whether
    the settings were taken.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        return all(libc.mallopt(option, value) == 1 for option, value in _WORKER_MALLOC)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


class Placed(NamedTuple):
    """Where `Slots.put` left an array: its byte offset in the shared memory, dtype and shape."""

    offset: int
    dtype: str
    shape: tuple[int, ...]


class Slots:
    """Anonymous shared memory, made before the workers are forked, for handing arrays back to the parent.

    The parent gives each task a free slot (`acquire`); the worker copies the task's arrays into it
    (`put`) and returns only where they lie; the parent copies them out (`take`, which frees the slot
    again). An array that no longer fits in its slot is returned as it is (and then travels pickled).
    Only the parent hands out slots, so no two tasks in flight ever share one.
    """

    def __init__(self, count: int, size: int) -> None:
        self.size = size
        self._memory = mmap.mmap(-1, count * size)  # (anonymous and shared: forked workers write into it)
        self._free = list(range(count - 1, -1, -1))

    def acquire(self) -> int:
        """A free slot (the parent only); raises IndexError when all are in use."""
        return self._free.pop()

    def put(self, slot: int, arrays: dict[str, np.ndarray]) -> dict[str, Placed | np.ndarray]:
        """Copy `arrays` into `slot` (in a worker); returns what `take` needs to read them back."""
        out: dict[str, Placed | np.ndarray] = {}
        offset, end = slot * self.size, (slot + 1) * self.size
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            start = -(-offset // 64) * 64  # (each array on a cache line of its own)
            if start + array.nbytes > end:
                out[name] = array
                continue
            np.frombuffer(self._memory, np.uint8, array.nbytes, start)[:] = array.reshape(-1).view(np.uint8)
            out[name] = Placed(start, array.dtype.str, array.shape)
            offset = start + array.nbytes
        return out

    def take(self, slot: int, placed: dict[str, Any]) -> dict[str, np.ndarray]:
        """The arrays `put` left in `slot`, copied out (in the parent), and the slot freed."""
        out = {}
        for name, where in placed.items():
            if isinstance(where, Placed):
                count = math.prod(where.shape)
                where = np.frombuffer(self._memory, np.dtype(where.dtype), count, where.offset).reshape(where.shape)
                where = where.copy()
            out[name] = where
        self._free.append(slot)
        return out

    def close(self) -> None:
        self._memory.close()


__all__ = ["MAX_PROCESSES", "Placed", "Slots", "cores", "fork_is_safe", "fork_pool", "keep_freed_memory"]
