"""The hardware probe and a catalog of GPUs for machines we do not have."""

from peftstudio.hardware.gpus import GPU_CATALOG, GpuSpec, find_gpu, generic_gpu
from peftstudio.hardware.probe import hardware_dict, probe_hardware, simulated_hardware

__all__ = ["GPU_CATALOG", "GpuSpec", "find_gpu", "generic_gpu", "hardware_dict", "probe_hardware",
           "simulated_hardware"]
