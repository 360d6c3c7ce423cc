"""Runs as their own process: start, pause, resume, and follow them through the store.

`start_run` records a run (status ``queued``) and starts a worker process
(``python -m peftstudio.engine.worker RUN``) that trains and writes status, events,
metrics and system readings to the store as they happen. Any process can pause it
with `pause_run` (a flag file in the run folder; the worker also honours SIGTERM and
SIGINT): the worker finishes the optimizer step, checkpoints, marks the run paused and
exits, which frees all its (GPU) memory. `resume_run` starts a new worker that
continues from the newest checkpoint, exactly where the run stopped.

Example:
    >>> is_worker_alive(None)
    False
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from peftstudio.errors import make
from peftstudio.records.config import RunConfig
from peftstudio.store.db import RunRow, Store, open_store

PAUSE_FLAG = "pause.request"
WORKER_MODULE = "peftstudio.engine.worker"
LOG_FILE = "worker.log"
ACTIVE = ("queued", "running")
RESUMABLE = ("paused", "failed", "queued", "running")

_children: dict[int, subprocess.Popen] = {}  # type: ignore[type-arg]  # workers started here, reaped on poll


def _get(store: Store, run_id: str) -> RunRow:
    try:
        return store.get_run(run_id)
    except KeyError:
        raise make("run_not_found", run_id=run_id) from None


def is_worker_alive(pid: int | None) -> bool:
    """Whether `pid` is a live (not zombie) PEFT Studio worker process."""
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None:  # started here: its own handle knows, even before it has exec'd the worker module
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return WORKER_MODULE in " ".join(proc.cmdline())  # a reused pid is not our worker
    except Exception:  # noqa: BLE001 - gone, or not ours to inspect (psutil raises several types)
        return False


def _worker_env() -> dict[str, str]:
    from peftstudio import paths

    env = dict(os.environ)
    env["PEFTSTUDIO_HOME"] = str(paths.home())
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def _spawn(run: RunRow, store: Store) -> int:
    folder = Path(run.folder)
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, run.id, "--db", str(store.path)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_worker_env(),
            start_new_session=True,  # a Ctrl-C in the terminal must not kill training; the CLI pauses instead
        )
    finally:
        log.close()
    _children[proc.pid] = proc
    store.update_run(run.id, pid=proc.pid)
    return proc.pid


class WarmWorker:
    """A worker process started before its run exists, loading torch, Lightning and transformers while the
    command plans the run and checks the data (seconds that would otherwise come after). `start_run` hands
    it the run; `cancel` (or this process ending) lets it exit without training.

    Example:
        >>> worker = WarmWorker.start(open_store())   # doctest: +SKIP
        >>> run_id = start_run(config, worker=worker)   # doctest: +SKIP
    """

    def __init__(self, proc: subprocess.Popen, store: Store) -> None:  # type: ignore[type-arg]
        self.proc = proc
        self.store_path = Path(store.path)

    @classmethod
    def start(cls, store: Store | None = None) -> WarmWorker:
        from peftstudio import paths

        s = open_store(store)
        log = open(paths.logs_dir() / "worker-start.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, "--wait", "--db", str(s.path)],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, env=_worker_env(),
                                    start_new_session=True)
        finally:
            log.close()
        _children[proc.pid] = proc
        return cls(proc, s)

    def take(self, run: RunRow, store: Store) -> int | None:
        """Hand `run` to the waiting worker; its pid, or None when it is gone (the caller spawns one)."""
        if self.proc.poll() is not None or self.proc.stdin is None or Path(store.path) != self.store_path:
            self.cancel()
            return None
        folder = Path(run.folder)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            self.proc.stdin.write(f"{run.id} {folder / LOG_FILE}\n".encode())
            self.proc.stdin.close()
        except OSError:
            return None
        store.update_run(run.id, pid=self.proc.pid)
        return self.proc.pid

    def cancel(self) -> None:
        """Let the worker exit without a run."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


#: Seconds after a spare worker is taken before the next one starts loading: on a small machine its loading
#: would otherwise compete with the start of the run just handed over (which is what the spare is for).
REFILL_AFTER_S = 15.0


class SpareWorker:
    """A warm worker kept waiting for the next run in a long-lived process (the studio's server): starting or
    resuming a run hands the run to it at once, instead of a new worker spending its first seconds (about
    5 s on a 2-core machine) loading torch, Lightning and transformers; the next spare starts loading
    a little later (`REFILL_AFTER_S`), once that run is under way. It costs the memory of those libraries
    (about 0.5 GB) while it waits; `close` lets it exit.

    Example:
        >>> spare = SpareWorker(open_store())   # doctest: +SKIP
        >>> run_id = start_run(config, worker=spare.take())   # doctest: +SKIP
        >>> spare.close()   # doctest: +SKIP
    """

    def __init__(self, store: Store | None = None, *, refill_after: float | None = None) -> None:
        import threading

        self._store = store
        self._lock = threading.Lock()
        self._closed = False
        self._refill_after = REFILL_AFTER_S if refill_after is None else refill_after
        self._timer: threading.Timer | None = None
        self._worker: WarmWorker | None = WarmWorker.start(store)

    def take(self) -> WarmWorker | None:
        """The waiting worker (None once closed, or while the next one is not started yet); the next one
        starts `refill_after` seconds later, once the run it was taken for is past its own start."""
        import threading

        with self._lock:
            worker, self._worker = self._worker, None
            if worker is not None and not self._closed:
                self._timer = threading.Timer(self._refill_after, self._refill)
                self._timer.daemon = True
                self._timer.start()
        return worker

    def _refill(self) -> None:
        with self._lock:
            if not self._closed and self._worker is None:
                self._worker = WarmWorker.start(self._store)

    def close(self) -> None:
        """Let the waiting worker exit without a run; `take` gives None from now on."""
        with self._lock:
            self._closed = True
            worker, self._worker = self._worker, None
            if self._timer is not None:
                self._timer.cancel()
        if worker is not None:
            worker.cancel()


@contextlib.contextmanager
def _cancelled_on_error(worker: WarmWorker | None) -> Iterator[None]:
    """Let a waiting `worker` go when the run it was taken for cannot start (e.g. the disk is too full)."""
    try:
        yield
    except BaseException:
        if worker is not None:
            worker.cancel()
        raise


def start_run(config: RunConfig, store: Store | None = None, *, detach: bool = True, name: str = "",
              worker: WarmWorker | None = None) -> str:
    """Record a new run and train it in a worker process (`worker`, already loading, when given); returns the
    run id.

    With ``detach=False`` this waits until the worker has finished (completed, paused or failed).
    """
    from peftstudio.history.disk import check_run_space

    s = open_store(store)
    with _cancelled_on_error(worker):
        check_run_space(config, store=s)  # before anything is written: the disk prompt lists versions to clear
    run = s.create_run(config, name=name)
    s.add_event(run.id, "queued", "The run is waiting for its worker to start.")
    if worker is None or worker.take(run, s) is None:
        _spawn(run, s)
    if not detach:
        wait_run(run.id, s)
    return run.id


def run_status(run_id: str, store: Store | None = None) -> RunRow:
    """The run, with a dead worker noticed: a run left ``running`` by a killed worker becomes ``failed``."""
    s = open_store(store)
    run = _get(s, run_id)
    if run.status in ACTIVE and run.pid and not is_worker_alive(run.pid):
        time.sleep(0.2)  # the worker may be writing its final status right now
        run = _get(s, run_id)
        if run.status in ACTIVE:
            from peftstudio.callbacks.checkpoint import latest_checkpoint
            from peftstudio.records.convert import to_dict

            ckpt = latest_checkpoint(Path(run.folder) / "checkpoints")
            err = make("interrupted_run", where="", step=ckpt.step if ckpt else 0)
            s.update_run(run.id, status="failed", error=to_dict(err.info), pid=None)
            s.add_event(run.id, "interrupted", err.info.explanation)
            run = _get(s, run_id)
    return run


def wait_run(run_id: str, store: Store | None = None, *, timeout: float | None = None,
             poll: float = 0.2) -> RunRow:
    """Block until the run's worker has exited (or `timeout` seconds passed); returns the run."""
    s = open_store(store)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = run_status(run_id, s)
        if not (run.status in ACTIVE and is_worker_alive(run.pid)):
            return run
        if deadline is not None and time.monotonic() > deadline:
            return run
        time.sleep(poll)


def pause_run(run_id: str, store: Store | None = None, *, wait: bool = False, timeout: float = 30.0) -> RunRow:
    """Ask the run's worker to pause (from any process). With `wait`, return once it has stopped."""
    s = open_store(store)
    run = run_status(run_id, s)
    if run.status not in ACTIVE:
        return run
    (Path(run.folder) / PAUSE_FLAG).touch()
    s.add_event(run.id, "pause_requested", "Pausing after the current micro-batch.")
    return wait_run(run.id, s, timeout=timeout) if wait else run


def resume_run(run_id: str, store: Store | None = None, *, detach: bool = True,
               worker: WarmWorker | None = None) -> str:
    """Continue a paused, failed or interrupted run from its newest checkpoint in a new worker (`worker`, already
    loading, when given)."""
    s = open_store(store)
    run = run_status(run_id, s)
    if run.status == "completed" or (run.status in ACTIVE and is_worker_alive(run.pid)):  # done, or training
        if worker is not None:
            worker.cancel()
        return run.id
    from peftstudio.history.disk import check_run_space

    with _cancelled_on_error(worker):
        check_run_space(run.config, store=s)
    (Path(run.folder) / PAUSE_FLAG).unlink(missing_ok=True)
    s.update_run(run.id, status="queued", error=None)
    s.add_event(run.id, "resume_requested", "Resuming from the last checkpoint.")
    if worker is None or worker.take(_get(s, run.id), s) is None:
        _spawn(_get(s, run.id), s)
    if not detach:
        wait_run(run.id, s)
    return run.id
