"""Frozen, typed records for every configuration and result, and their JSON form."""

from peftstudio.records.config import (
    DataSettings,
    DatasetReference,
    LoraSettings,
    ModelChoice,
    RunConfig,
    TrainingSettings,
)
from peftstudio.records.data import DatasetStats
from peftstudio.records.convert import RecordError, SCHEMA_VERSION, dumps, load, loads, save
from peftstudio.records.hardware import GpuInfo, HardwareProfile
from peftstudio.records.setting import Setting

__all__ = [
    "DataSettings",
    "DatasetReference",
    "DatasetStats",
    "GpuInfo",
    "HardwareProfile",
    "LoraSettings",
    "ModelChoice",
    "RecordError",
    "RunConfig",
    "SCHEMA_VERSION",
    "Setting",
    "TrainingSettings",
    "dumps",
    "load",
    "loads",
    "save",
]
