"""Worker processes for the data check's big-file work, forked only where that is safe.

Arrow and numpy hold Python's GIL often enough that threads barely overlap on the check's work, so big
files are shared among processes. They are forked (not spawned: "spawn" runs the caller's main script
again in every worker unless it is guarded by ``if __name__ == "__main__"``), and only from a process
that runs a single Python thread: forking copies just the calling thread, so a lock another Python
thread holds would stay locked in the child forever. (The native threads numpy's BLAS and Arrow's
allocator start at import reset themselves in a fork; the workers never use torch.) Elsewhere (the app
checks data on a background thread) the check uses threads.

Example:
    >>> cores() >= 1
    True
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor

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
        return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"))
    except (OSError, ValueError):
        return None


__all__ = ["MAX_PROCESSES", "cores", "fork_is_safe", "fork_pool"]
