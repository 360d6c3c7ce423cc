"""Fitting a preset to a machine: keep what fits, let the planner re-choose what does not, say why.

A preset made on a 24 GB GPU may not fit on an 8 GB one. The preset's own values
are planned as the user's choices first; if the planner's memory estimate says
they will not fit (or the machine cannot run them at all: bf16 without bf16
support, 4-bit without a CUDA GPU, more GPUs than there are), the settings that
shape memory are handed back to the planner, which chooses values that fit and
gives its reasons. The preset's batch per learning step (micro-batch x
accumulation) is kept, so training behaves the same.

Example:
    >>> from peftstudio.hardware import simulated_hardware
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings, TrainingSettings
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("llama-3.2-3b"), data=DataSettings(path="d.jsonl"),
    ...                 training=TrainingSettings(precision="bf16", micro_batch_size=4, gradient_accumulation=4,
    ...                                           sequence_length=1024))
    >>> fit = fit_to_hardware(cfg, simulated_hardware(gpu_memory_gb=8))
    >>> fit.config.training.quantization, "training.quantization" in [a.setting for a in fit.adjustments]
    ('4bit', True)
"""

from __future__ import annotations

import math
from typing import Any

import attrs
from attrs import frozen

from peftstudio.records.config import RunConfig
from peftstudio.records.data import DatasetStats
from peftstudio.records.hardware import HardwareProfile
from peftstudio.settings import apply_settings, read_settings, spec


@frozen
class Adjustment:
    """A setting an import changed, from what to what, and why (readable by a beginner)."""

    setting: str
    old: Any
    new: Any
    reason: str


@frozen
class Fit:
    """A configuration fitted to a machine: the changes (each with its reason) and any notes."""

    config: RunConfig
    adjustments: tuple[Adjustment, ...] = ()
    notes: tuple[str, ...] = ()


# Planned settings that shape memory, in the order they are handed back to the planner.
_MEMORY_KEYS = ("quantization", "gradient_checkpointing", "micro_batch_size")


def preset_overrides(config: RunConfig) -> dict[str, Any]:
    """A run configuration's planned settings as the planner's user overrides (read through the settings
    schema)."""
    values = read_settings(config, planned=True)
    if values["max_steps"] is None:  # no step limit is what the planner plans anyway: not the user's choice
        del values["max_steps"]
    return values


def _path(key: str) -> str:
    """Where a setting lives in a `RunConfig` (what an `Adjustment` names)."""
    return str(spec(key).path)


def _incompatible(overrides: dict[str, Any], hw: HardwareProfile) -> dict[str, str]:
    """Settings this machine cannot run at all, each with why (independent of memory)."""
    out: dict[str, str] = {}
    gpu = hw.gpus[0] if hw.gpus else None
    cuda = gpu is not None and gpu.kind == "cuda"
    if overrides["quantization"] != "none" and not cuda:
        out["quantization"] = f"{overrides['quantization']} loading needs an NVIDIA GPU with CUDA, and this machine has none"
    if overrides["precision"] == "bf16" and not (gpu is not None and gpu.bf16):
        out["precision"] = "bf16 needs a GPU that supports it" + (f"; {gpu.name} does not" if gpu else "")
    elif overrides["precision"] == "fp16" and gpu is None:
        out["precision"] = "fp16 training needs a GPU"
    return out


def fit_to_hardware(
    config: RunConfig, hardware: HardwareProfile, *, stats: DatasetStats | None = None
) -> Fit:
    """`config` adjusted so it fits `hardware`, with every change and its reason.

    Nothing changes when it fits as it is. Only models of the catalog (and the built-ins) are checked:
    a preset's model folder or unknown hub id is never read or downloaded while importing (a note
    says the settings were not checked).
    """
    from peftstudio.models.catalog import lookup
    from peftstudio.planner.plan import plan

    adjustments: list[Adjustment] = []
    gpus = len(hardware.gpus)
    training = config.training
    if training.devices > max(gpus, 1):
        new_devices = max(gpus, 1)
        where = f"this machine has {gpus} GPU{'s' if gpus != 1 else ''}" if gpus else "this machine has no GPU"
        adjustments.append(Adjustment(_path("devices"), training.devices, new_devices,
                                      f"The preset trains on {training.devices} devices; {where}."))
        training = attrs.evolve(training, devices=new_devices,
                                strategy="auto" if new_devices == 1 else training.strategy)
        if training.strategy != config.training.strategy:
            adjustments.append(Adjustment(_path("strategy"), config.training.strategy, "auto",
                                          "One device needs no strategy for sharing work between devices."))
    user = preset_overrides(attrs.evolve(config, training=training))
    model, profile = lookup(config.model.reference), config.profile
    if model is None:
        note = (f"The settings were not checked against this machine: {config.model.reference} is not in the "
                "model catalog. Run `peftstudio plan` with this model to check them.")
        return Fit(attrs.evolve(config, training=training), tuple(adjustments), (note,))
    kept = plan(hardware, model, profile, stats, overrides=user)
    problems = _incompatible(user, hardware)
    if kept.memory.fits and not problems:
        return Fit(attrs.evolve(config, training=training), tuple(adjustments))

    # Hand back as little as possible: first what this machine cannot run, then what shapes memory,
    # and the sequence length only if nothing else is enough.
    stages = (tuple(problems), (*problems, *_MEMORY_KEYS), (*problems, *_MEMORY_KEYS, "sequence_length"))
    for released in stages:
        chosen = plan(hardware, model, profile, stats,
                      overrides={k: v for k, v in user.items() if k not in released and k != "gradient_accumulation"})
        if chosen.memory.fits:
            break
    why_not = "" if kept.memory.fits else (
        f"The preset's settings need about {kept.memory.estimated_peak_bytes / 2**30:.1f} GB and "
        f"{chosen.device_name} offers {kept.memory.available_bytes / 2**30:.1f} GB. ")
    values: dict[str, Any] = {}
    for key in released:
        new = chosen.value(key)
        if new == user[key]:
            continue
        if key in problems:
            lead = problems[key][0].upper() + problems[key][1:] + ". "
        else:
            lead, why_not = why_not, ""  # the memory figures once, on the first memory change
        reason = chosen.settings[key].reason
        if key == "sequence_length":  # the planner's reason speaks of its own length, not the preset's
            reason = (f"{new} tokens instead of the preset's {user[key]}, so training fits in memory; longer "
                      "examples will be cut.")
        adjustments.append(Adjustment(_path(key), user[key], new, lead + reason))
        values[key] = new
    if "micro_batch_size" in values:
        # Keep the preset's examples per learning step, so the learning rate stays right for it.
        per_step = training.micro_batch_size * training.gradient_accumulation
        accumulation = max(1, math.ceil(per_step / values["micro_batch_size"]))
        if accumulation != training.gradient_accumulation:
            adjustments.append(Adjustment(
                _path("gradient_accumulation"), training.gradient_accumulation, accumulation,
                f"{values['micro_batch_size']} x {accumulation} keeps about the preset's {per_step} examples per "
                "learning step with the smaller micro-batch."))
            values["gradient_accumulation"] = accumulation
    return Fit(apply_settings(attrs.evolve(config, training=training), values), tuple(adjustments))


__all__ = ["Adjustment", "Fit", "fit_to_hardware", "preset_overrides"]
