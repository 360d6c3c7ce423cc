"""System monitor: readings, summaries, and the background sampler."""

from __future__ import annotations

import threading
import time

import pytest

from peftstudio.callbacks.monitor import (
    GpuReading,
    SystemMonitor,
    build_reading,
    read_gpus,
    read_system,
    summarize,
)

GIB = 2**30


@pytest.mark.parametrize(
    ("cpu", "used", "total", "cpu_out", "ram_pct"),
    [
        (50.0, 4 * GIB, 16 * GIB, 50.0, 25.0),
        (130.0, 1, 0, 100.0, 0.0),  # impossible values are clamped, no division by zero
        (-5.0, -3, 8, 0.0, 0.0),
    ],
)
def test_build_reading(cpu: float, used: int, total: int, cpu_out: float, ram_pct: float) -> None:
    r = build_reading(cpu_percent=cpu, ram_used_bytes=used, ram_total_bytes=total, process_rss_bytes=1, gpus=())
    assert r.cpu_percent == cpu_out
    assert r.ram_percent == pytest.approx(ram_pct)


@pytest.mark.parametrize(("used", "total", "pct"), [(9, 10, 90.0), (0, 0, 0.0), (24 * GIB, 24 * GIB, 100.0)])
def test_gpu_memory_percent(used: int, total: int, pct: float) -> None:
    g = GpuReading(index=0, name="RTX", utilization_percent=None, memory_used_bytes=used, memory_total_bytes=total)
    assert g.memory_percent == pytest.approx(pct)


def _reading(cpu: float, ram: int, gpu_used: tuple[int, ...]) -> object:
    gpus = [GpuReading(i, "g", 50.0, u, 10 * GIB) for i, u in enumerate(gpu_used)]
    return build_reading(cpu_percent=cpu, ram_used_bytes=ram, ram_total_bytes=100, process_rss_bytes=ram // 2,
                         gpus=gpus)


@pytest.mark.parametrize(
    ("readings", "cpu_mean", "ram_peak", "gpu_peaks"),
    [
        ([], 0.0, 0, ()),
        ([(10.0, 20, (1, 5)), (30.0, 40, (3, 2))], 20.0, 40, (3, 5)),
        ([(100.0, 7, ())], 100.0, 7, ()),
    ],
)
def test_summarize(readings: list[tuple[float, int, tuple[int, ...]]], cpu_mean: float, ram_peak: int,
                   gpu_peaks: tuple[int, ...]) -> None:
    s = summarize([_reading(*r) for r in readings])  # type: ignore[misc]
    assert s.samples == len(readings)
    assert s.cpu_percent_mean == pytest.approx(cpu_mean)
    assert s.ram_used_peak_bytes == ram_peak
    assert s.gpu_memory_peak_bytes == gpu_peaks


def test_as_dict_is_plain_data() -> None:
    r = _reading(10.0, 20, (GIB,))
    d = r.as_dict()  # type: ignore[attr-defined]
    assert d["gpus"][0]["memory_percent"] == pytest.approx(10.0)
    assert d["ram_percent"] == pytest.approx(20.0)


def test_read_system_without_gpu_is_guarded() -> None:
    r = read_system()
    assert r.ram_total_bytes > 0 and r.process_rss_bytes > 0
    assert isinstance(read_gpus(), tuple)  # empty here (no NVIDIA driver), never an exception


def test_background_sampler_calls_listeners_at_its_interval() -> None:
    got: list[object] = []
    seen = threading.Event()

    def listener(reading: object) -> None:
        got.append(reading)
        if len(got) >= 3:
            seen.set()

    fake = build_reading(cpu_percent=1, ram_used_bytes=1, ram_total_bytes=2, process_rss_bytes=1, gpus=())
    monitor = SystemMonitor([listener], interval=0.01, reader=lambda: fake)
    monitor.start()
    assert seen.wait(5)
    monitor.stop()
    n = len(got)
    time.sleep(0.05)
    assert len(got) == n  # stopped means stopped
    assert monitor.latest is fake


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        SystemMonitor(interval=0)
