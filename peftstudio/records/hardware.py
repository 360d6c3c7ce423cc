"""Records describing the machine a run plans for or runs on."""

from __future__ import annotations

from attrs import field, frozen

from peftstudio.tuples import as_tuple


@frozen
class GpuInfo:
    """One accelerator as seen by the probe (or taken from the GPU catalog).

    Readings that a simulated GPU cannot have (temperature, utilization) are ``None``.

    Example:
        >>> GpuInfo(name="RTX 3060", memory_total_bytes=12 * 2**30, memory_free_bytes=12 * 2**30).bf16
        False
    """

    name: str
    memory_total_bytes: int
    memory_free_bytes: int
    compute_capability: str | None = None
    bf16: bool = False
    temperature_c: float | None = None
    utilization_percent: float | None = None
    kind: str = "cuda"  # "cuda" or "mps"
    bf16_tflops: float | None = None
    board_power_watts: float | None = None
    simulated: bool = False


@frozen
class HardwareProfile:
    """What the planner knows about a machine.

    Build it with `peftstudio.probe_hardware()` for this machine, or with
    `peftstudio.simulated_hardware("RTX 3060 12GB")` for one we do not have.

    Example:
        >>> hw = HardwareProfile(cpu_cores=2, ram_total_bytes=24 * 2**30,
        ...                      ram_available_bytes=20 * 2**30, disk_free_bytes=50 * 2**30)
        >>> hw.has_gpu
        False
    """

    cpu_cores: int
    ram_total_bytes: int
    ram_available_bytes: int
    disk_free_bytes: int
    gpus: tuple[GpuInfo, ...] = field(default=(), converter=as_tuple)
    cpu_name: str = ""
    mps: bool = False

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    @property
    def device_name(self) -> str:
        """What a run trains on here, in words: the first GPU's name, else the processor and its cores.

        Example:
            >>> HardwareProfile(cpu_cores=2, ram_total_bytes=0, ram_available_bytes=0, disk_free_bytes=0).device_name
            'processor (2 cores)'
        """
        return self.gpus[0].name if self.gpus else f"processor ({self.cpu_cores} cores)"

    @property
    def gpu_memory_total_bytes(self) -> int:
        """Memory of the first GPU (the one a single-device run uses); 0 without a GPU."""
        return self.gpus[0].memory_total_bytes if self.gpus else 0
