"""System monitor: CPU, RAM and per-GPU use, sampled on a background thread.

`build_reading` and `summarize` are pure; `read_system` asks psutil and (if there is
an NVIDIA GPU) NVML. `SystemMonitor` samples every `interval` seconds (2 by default)
on a daemon thread and passes each `SystemReading` to listeners; `MonitorCallback`
runs it while a Lightning fit is training. A `reader` can be injected (tests, the
memory guard's simulated pressure).

Example:
    >>> r = build_reading(cpu_percent=50.0, ram_used_bytes=4 * 2**30, ram_total_bytes=16 * 2**30,
    ...                   process_rss_bytes=2**30, gpus=())
    >>> r.ram_percent
    25.0
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
from attrs import asdict, field, frozen

from peftstudio.tuples import as_tuple


@frozen
class GpuReading:
    """One GPU at one moment."""

    index: int
    name: str
    utilization_percent: float | None
    memory_used_bytes: int
    memory_total_bytes: int
    temperature_c: float | None = None

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_used_bytes / self.memory_total_bytes if self.memory_total_bytes else 0.0


@frozen
class SystemReading:
    """The machine at one moment."""

    time: float
    cpu_percent: float
    ram_used_bytes: int
    ram_total_bytes: int
    process_rss_bytes: int
    gpus: tuple[GpuReading, ...] = field(default=(), converter=as_tuple)

    @property
    def ram_percent(self) -> float:
        return 100.0 * self.ram_used_bytes / self.ram_total_bytes if self.ram_total_bytes else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the store (with the percentages spelled out)."""
        data = asdict(self, recurse=True)
        data["gpus"] = [dict(asdict(g), memory_percent=g.memory_percent) for g in self.gpus]
        data["ram_percent"] = self.ram_percent
        return data


@frozen
class ResourceSummary:
    """Peaks and means over a stretch of readings."""

    samples: int
    cpu_percent_mean: float
    ram_used_peak_bytes: int
    process_rss_peak_bytes: int
    gpu_memory_peak_bytes: tuple[int, ...]


def build_reading(*, cpu_percent: float, ram_used_bytes: int, ram_total_bytes: int, process_rss_bytes: int,
                  gpus: Sequence[GpuReading], at: float | None = None) -> SystemReading:
    """A reading from raw numbers (clamps impossible values rather than failing)."""
    return SystemReading(time=time.time() if at is None else at, cpu_percent=max(0.0, min(float(cpu_percent), 100.0)),
                         ram_used_bytes=max(0, int(ram_used_bytes)), ram_total_bytes=max(0, int(ram_total_bytes)),
                         process_rss_bytes=max(0, int(process_rss_bytes)), gpus=tuple(gpus))  # type: ignore[arg-type]


def summarize(readings: Sequence[SystemReading]) -> ResourceSummary:
    """Mean CPU use and peak memory over `readings` (GPU peaks per device index).

    Example:
        >>> a = build_reading(cpu_percent=10, ram_used_bytes=5, ram_total_bytes=10, process_rss_bytes=1, gpus=())
        >>> b = build_reading(cpu_percent=30, ram_used_bytes=7, ram_total_bytes=10, process_rss_bytes=2, gpus=())
        >>> s = summarize([a, b]); (s.cpu_percent_mean, s.ram_used_peak_bytes)
        (20.0, 7)
    """
    if not readings:
        return ResourceSummary(0, 0.0, 0, 0, ())
    n_gpu = max(len(r.gpus) for r in readings)
    peaks = tuple(max((r.gpus[i].memory_used_bytes for r in readings if len(r.gpus) > i), default=0)
                  for i in range(n_gpu))
    return ResourceSummary(samples=len(readings),
                           cpu_percent_mean=sum(r.cpu_percent for r in readings) / len(readings),
                           ram_used_peak_bytes=max(r.ram_used_bytes for r in readings),
                           process_rss_peak_bytes=max(r.process_rss_bytes for r in readings),
                           gpu_memory_peak_bytes=peaks)


def read_gpus() -> tuple[GpuReading, ...]:
    """Per-GPU readings via NVML; empty when there is no NVIDIA GPU or driver."""
    from peftstudio.hardware.probe import nvml

    pynvml = nvml()  # initialised once, not every reading
    if pynvml is None:
        return ()
    out = []
    for i in range(pynvml.nvmlDeviceGetCount()):
        h = pynvml.nvmlDeviceGetHandleByIndex(i)
        mem = pynvml.nvmlDeviceGetMemoryInfo(h)
        util: float | None = None
        temp: float | None = None
        with contextlib.suppress(Exception):
            util = float(pynvml.nvmlDeviceGetUtilizationRates(h).gpu)
        with contextlib.suppress(Exception):
            temp = float(pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU))
        name = pynvml.nvmlDeviceGetName(h)
        out.append(GpuReading(index=i, name=name.decode() if isinstance(name, bytes) else str(name),
                              utilization_percent=util, memory_used_bytes=int(mem.used),
                              memory_total_bytes=int(mem.total), temperature_c=temp))
    return tuple(out)


def read_system(gpu_reader: Callable[[], Sequence[GpuReading]] = read_gpus) -> SystemReading:
    """The machine now (CPU use since the previous call, RAM, this process's memory, GPUs)."""
    import psutil

    vm = psutil.virtual_memory()
    return build_reading(cpu_percent=psutil.cpu_percent(interval=None), ram_used_bytes=vm.total - vm.available,
                         ram_total_bytes=vm.total, process_rss_bytes=psutil.Process().memory_info().rss,
                         gpus=gpu_reader())


class SystemMonitor:
    """Samples `reader` every `interval` seconds on a daemon thread; keeps the readings and the latest one."""

    def __init__(self, listeners: Sequence[Callable[[SystemReading], None]] = (), *, interval: float = 2.0,
                 reader: Callable[[], SystemReading] = read_system, keep: int = 1000) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be above 0 seconds, got {interval}")
        self.listeners = list(listeners)
        self.interval = interval
        self.reader = reader
        self.keep = keep
        self.readings: list[SystemReading] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def latest(self) -> SystemReading | None:
        with self._lock:
            return self.readings[-1] if self.readings else None

    def sample(self) -> SystemReading:
        """Take one reading now (also called by the thread)."""
        reading = self.reader()
        with self._lock:
            self.readings = (self.readings + [reading])[-self.keep:]
        for listener in self.listeners:
            with contextlib.suppress(Exception):  # a broken listener must not stop the monitor
                listener(reading)
        return reading

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.sample()
            self._stop.wait(self.interval)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="peftstudio-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class MonitorCallback(L.Callback):
    """Runs a `SystemMonitor` while training (main process only); `.latest` is the newest reading."""

    def __init__(self, listeners: Sequence[Callable[[SystemReading], None]] = (), *, interval: float = 2.0,
                 reader: Callable[[], SystemReading] = read_system) -> None:
        self.monitor = SystemMonitor(listeners, interval=interval, reader=reader)
        self.interval = interval

    @property
    def latest(self) -> SystemReading | None:
        return self.monitor.latest

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.monitor.start()

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.monitor.stop()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self.monitor.stop()

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self.monitor.stop()

    def state_dict(self) -> dict[str, Any]:
        return {"interval": self.interval}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        pass  # readings describe the machine now, not the past run
