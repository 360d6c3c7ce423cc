"""Read this machine: CPU, RAM, disk, and GPUs through NVML (torch.cuda as fallback, MPS noticed).

Example:
    >>> hw = probe_hardware()
    >>> hw.cpu_cores >= 1
    True
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
from typing import Any

import attrs
import psutil

from peftstudio import paths
from peftstudio.hardware.gpus import GpuSpec, find_gpu, generic_gpu
from peftstudio.records.hardware import GpuInfo, HardwareProfile

log = logging.getLogger(__name__)


_NVML: list[Any] = []  # the initialised pynvml module, once (empty: not tried yet)


def nvml() -> Any | None:
    """pynvml, initialised once per process (None without it or without a driver).

    Readers every few seconds share this one initialisation: NVML's init and shutdown each cost
    milliseconds of driver work, and the driver keeps the library loaded between readings anyway.
    """
    if not _NVML:
        try:
            import pynvml

            pynvml.nvmlInit()
            _NVML.append(pynvml)
        except Exception as exc:  # noqa: BLE001 - no module, no driver, no GPU: NVML raises its own types
            log.debug("NVML unavailable: %s", exc)
            _NVML.append(None)
    return _NVML[0]


def _nvml_gpus() -> list[GpuInfo] | None:
    """GPUs as NVML sees them; None when NVML is missing or has no driver (it raises without a GPU)."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - no driver / no GPU: NVML raises NVMLError_LibraryNotFound etc.
        log.debug("NVML unavailable: %s", exc)
        return None
    try:
        gpus = []
        count = pynvml.nvmlDeviceGetCount()
        uuids = [_safe(lambda i=i: _text(pynvml.nvmlDeviceGetUUID(pynvml.nvmlDeviceGetHandleByIndex(i)))) or ""
                 for i in range(count)]
        for i in visible_indices(os.environ.get("CUDA_VISIBLE_DEVICES"), uuids):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(h)
            name = name.decode() if isinstance(name, bytes) else str(name)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            cc: str | None
            try:
                major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(h)
                cc = f"{major}.{minor}"
            except Exception:  # noqa: BLE001 - an old driver lacks the call: the probe goes on without it
                cc = None
            # (the lambdas run at once, each with this loop's handle bound as a default)
            temp = _safe(lambda h=h: float(pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)))
            util = _safe(lambda h=h: float(pynvml.nvmlDeviceGetUtilizationRates(h).gpu))
            power = _safe(lambda h=h: pynvml.nvmlDeviceGetPowerManagementLimit(h) / 1000.0)
            gpus.append(_with_spec(GpuInfo(
                name=name,
                memory_total_bytes=int(mem.total),
                memory_free_bytes=int(mem.free),
                compute_capability=cc,
                bf16=cc is not None and float(cc) >= 8.0,
                temperature_c=temp,
                utilization_percent=util,
                board_power_watts=power,
            )))
        return gpus
    finally:
        _safe(pynvml.nvmlShutdown)


def visible_indices(visible: str | None, uuids: list[str]) -> list[int]:
    """NVML indices of the GPUs this process's CUDA sees, in CUDA's order.

    `visible` is ``CUDA_VISIBLE_DEVICES`` (None: every GPU); entries are indices or UUIDs (a unique
    prefix is enough) and, as CUDA does, the list ends at the first entry that names no GPU.

    Example:
        >>> visible_indices("2,0", ["GPU-a", "GPU-b", "GPU-c"]), visible_indices(None, ["GPU-a", "GPU-b"])
        ([2, 0], [0, 1])
        >>> visible_indices("GPU-c,7,1", ["GPU-a", "GPU-b", "GPU-c"]), visible_indices("", ["GPU-a"])
        ([2], [])
    """
    if visible is None:
        return list(range(len(uuids)))
    out: list[int] = []
    for entry in (e.strip() for e in visible.split(",")):
        if entry.isdigit():
            index = int(entry)
        else:
            found = [i for i, u in enumerate(uuids) if u and entry and u.startswith(entry if entry.startswith("GPU-")
                                                                                  else f"GPU-{entry}")]
            index = found[0] if len(found) == 1 else -1
        if not 0 <= index < len(uuids) or index in out:
            break
        out.append(index)
    return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception:  # noqa: BLE001 - any NVML reading may be unsupported on a given GPU
        return None


def _with_spec(gpu: GpuInfo) -> GpuInfo:
    """Fill throughput and power from the catalog when the probed name is known."""
    try:
        spec: GpuSpec = find_gpu(gpu.name)
    except KeyError:
        return gpu
    return attrs.evolve(
        gpu,
        bf16_tflops=gpu.bf16_tflops or spec.bf16_tflops,
        board_power_watts=gpu.board_power_watts or spec.board_power_watts,
    )


def _torch_gpus() -> tuple[list[GpuInfo], bool]:
    """CUDA GPUs and MPS through torch, only if torch is installed (it is imported here, lazily)."""
    try:
        import torch
    except ImportError:
        return [], False
    gpus: list[GpuInfo] = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            free, total = torch.cuda.mem_get_info(i)
            cc = f"{props.major}.{props.minor}"
            gpus.append(_with_spec(GpuInfo(
                name=props.name, memory_total_bytes=int(total), memory_free_bytes=int(free),
                compute_capability=cc, bf16=props.major >= 8,
            )))
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return gpus, mps


def _torch_may_see_a_gpu() -> bool:
    """Whether torch could find a GPU that NVML did not: Apple's MPS, AMD's ROCm (its /dev/kfd device), or
    torch already loaded. Elsewhere no NVIDIA driver means no CUDA, and importing torch (seconds) to learn
    that would only slow every command's start."""
    import sys

    return sys.platform == "darwin" or os.path.exists("/dev/kfd") or "torch" in sys.modules


def probe_hardware(*, use_torch: bool = True) -> HardwareProfile:
    """This machine's hardware profile. Without a GPU, `gpus` is empty."""
    vm = psutil.virtual_memory()
    gpus = _nvml_gpus()
    mps = False
    if gpus is None:  # NVML unusable (no NVIDIA driver, or macOS): ask torch, which also knows MPS and ROCm
        gpus, mps = _torch_gpus() if use_torch and _torch_may_see_a_gpu() else ([], False)
    disk = shutil.disk_usage(paths.home())
    return HardwareProfile(
        cpu_cores=os.cpu_count() or 1,
        ram_total_bytes=int(vm.total),
        ram_available_bytes=int(vm.available),
        disk_free_bytes=int(disk.free),
        gpus=tuple(gpus),
        cpu_name=platform.processor() or platform.machine(),
        mps=mps,
    )


def simulated_hardware(
    gpu: str | None = None,
    *,
    gpu_memory_gb: float | None = None,
    cpu_cores: int = 8,
    ram_gb: float = 32,
    disk_free_gb: float = 200,
) -> HardwareProfile:
    """A hardware profile for a machine we do not have: a catalog GPU by name, or only its memory.

    Example:
        >>> simulated_hardware("H100").gpus[0].memory_total_bytes // 2**30
        80
        >>> simulated_hardware(gpu_memory_gb=8).gpus[0].memory_total_bytes // 2**30
        8
        >>> simulated_hardware().gpus
        ()
    """
    gib = 1024**3
    gpus: tuple[GpuInfo, ...] = ()
    if gpu:
        gpus = (find_gpu(gpu).as_gpu(),)
    elif gpu_memory_gb:
        gpus = (generic_gpu(gpu_memory_gb),)
    return HardwareProfile(
        cpu_cores=cpu_cores,
        ram_total_bytes=int(ram_gb * gib),
        ram_available_bytes=int(ram_gb * 0.8 * gib),
        disk_free_bytes=int(disk_free_gb * gib),
        gpus=gpus,
        cpu_name="simulated",
    )


def hardware_dict(hw: HardwareProfile) -> dict[str, Any]:
    """The profile as the plain mapping `peftstudio hardware --json` prints."""
    return {
        "cpu_cores": hw.cpu_cores,
        "cpu_name": hw.cpu_name,
        "ram_total_bytes": hw.ram_total_bytes,
        "ram_available_bytes": hw.ram_available_bytes,
        "disk_free_bytes": hw.disk_free_bytes,
        "mps": hw.mps,
        "gpus": [
            {
                "name": g.name,
                "memory_total_bytes": g.memory_total_bytes,
                "memory_free_bytes": g.memory_free_bytes,
                "compute_capability": g.compute_capability,
                "bf16": g.bf16,
                "temperature_c": g.temperature_c,
                "utilization_percent": g.utilization_percent,
            }
            for g in hw.gpus
        ],
    }
