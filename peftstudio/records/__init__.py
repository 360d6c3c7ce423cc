"""Frozen, typed records for every configuration and result, and their JSON form."""

from peftstudio.records.config import (
    DatasetReference,
    DataSettings,
    LoraSettings,
    ModelChoice,
    RunConfig,
    TrainingSettings,
)
from peftstudio.records.convert import SCHEMA_VERSION, RecordError, dumps, load, loads, save
from peftstudio.records.data import DatasetStats
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
