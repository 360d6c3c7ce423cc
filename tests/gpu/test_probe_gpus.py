"""Issue 23 point 12: the hardware probe on NVIDIA machines (NVML is a stand-in here)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from peftstudio.hardware.gpus import find_gpu
from peftstudio.hardware.probe import _nvml_gpus

GIB = 2**30


@pytest.mark.parametrize(("probed", "name"), [
    ("NVIDIA A100-SXM4-80GB", "A100 80GB"),
    ("NVIDIA A100-SXM4-40GB", "A100 40GB"),
    ("NVIDIA A100-PCIE-40GB", "A100 40GB"),
    ("NVIDIA A10", "A10G 24GB"),
    ("NVIDIA A10G", "A10G 24GB"),
    ("NVIDIA H100 80GB HBM3", "H100 80GB"),
    ("NVIDIA L4", "L4 24GB"),
    ("NVIDIA L40S", "L40S 48GB"),
    ("Tesla T4", "T4 16GB"),
    ("NVIDIA GeForce RTX 4090", "RTX 4090 24GB"),
])
def test_probed_names_map_to_their_own_card(probed: str, name: str) -> None:
    assert find_gpu(probed).name == name


def test_geforce_figures_are_fp32_accumulate() -> None:
    # training accumulates in fp32: a GeForce card runs that at half its advertised fp16-accumulate rate
    assert find_gpu("RTX 4090").bf16_tflops == pytest.approx(165, rel=0.02)
    assert find_gpu("RTX 3090").bf16_tflops == pytest.approx(71, rel=0.02)
    assert find_gpu("RTX 3060").bf16_tflops < 30


class FakeNvml:
    """A stand-in for pynvml: three GPUs, the third a different card."""

    names = ["NVIDIA A10G", "NVIDIA A10G", "NVIDIA H100 80GB HBM3"]

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int: return 3
    def nvmlDeviceGetHandleByIndex(self, i: int) -> int: return i
    def nvmlDeviceGetName(self, h: int) -> str: return self.names[h]
    def nvmlDeviceGetUUID(self, h: int) -> str: return f"GPU-{h}aaa-uuid"
    def nvmlDeviceGetMemoryInfo(self, h: int) -> object: return SimpleNamespace(total=80 * GIB, free=70 * GIB, used=10 * GIB)
    def nvmlDeviceGetCudaComputeCapability(self, h: int) -> tuple[int, int]: return (9, 0) if h == 2 else (8, 6)
    NVML_TEMPERATURE_GPU = 0
    def nvmlDeviceGetTemperature(self, h: int, kind: int) -> float: return 40.0
    def nvmlDeviceGetUtilizationRates(self, h: int) -> object: return SimpleNamespace(gpu=0)
    def nvmlDeviceGetPowerManagementLimit(self, h: int) -> int: return 300_000


@pytest.mark.parametrize(("visible", "names"), [
    (None, ["NVIDIA A10G", "NVIDIA A10G", "NVIDIA H100 80GB HBM3"]),
    ("2", ["NVIDIA H100 80GB HBM3"]),
    ("2,0", ["NVIDIA H100 80GB HBM3", "NVIDIA A10G"]),
    ("GPU-2aaa", ["NVIDIA H100 80GB HBM3"]),
    ("", []),
])
def test_nvml_follows_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch, visible: str | None,
                                           names: list[str]) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml())
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    gpus = _nvml_gpus()
    assert gpus is not None and [g.name for g in gpus] == names
    if names and names[0].startswith("NVIDIA H100"):
        assert gpus[0].compute_capability == "9.0" and gpus[0].bf16 and gpus[0].bf16_tflops == 989


class CountingNvml(FakeNvml):
    def __init__(self) -> None:
        self.inits = self.shutdowns = 0

    def nvmlInit(self) -> None:
        self.inits += 1

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1


def test_monitor_readings_share_one_nvml_initialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    from peftstudio.callbacks.monitor import read_gpus
    from peftstudio.hardware import probe

    fake = CountingNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(probe, "_NVML", [])
    readings = [read_gpus() for _ in range(5)]  # what the monitor does every 2 s
    assert all(len(r) == 3 for r in readings) and readings[0][2].name == "NVIDIA H100 80GB HBM3"
    assert (fake.inits, fake.shutdowns) == (1, 0)
