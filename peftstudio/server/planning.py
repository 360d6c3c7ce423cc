"""The wizard's questions: this machine, the use cases with estimates, which models fit, the settings
schema, a plan for the current choices (re-planned on every change: it takes milliseconds)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from peftstudio.server.datafiles import resolve
from peftstudio.server.deps import as_json, hardware_of, settings_of
from peftstudio.server.errors import JSON

router = APIRouter(prefix="/api", tags=["plan"])

_stats_cache: dict[tuple[str, float, int, str], Any] = {}
_stats_lock = threading.Lock()


class Machine(BaseModel):
    """Plan for this machine (all empty), a known GPU, a GPU with this much memory, or the processor."""

    gpu: str | None = Field(default=None, max_length=100)
    gpu_memory_gb: float | None = Field(default=None, gt=0, le=4096)
    cpu: bool = False


class PlanRequest(BaseModel):
    profile: str = Field(max_length=100)
    model: str = Field(max_length=1000)
    data: str | None = Field(default=None, max_length=4096, description="upload:ID/NAME, sample:NAME or a path")
    overrides: dict[str, Any] = Field(default_factory=dict, description="setting key -> value (the schema's keys)")
    electricity_rate: float | None = Field(default=None, ge=0, le=100)
    currency: str = Field(default="USD", max_length=12)
    grid_intensity: float | None = Field(default=None, ge=0, le=5)
    machine: Machine = Field(default_factory=Machine)


def machine_for(request: Request, machine: Machine) -> Any:
    import attrs

    hw = hardware_of(request)
    if machine.cpu:
        return attrs.evolve(hw, gpus=())
    if machine.gpu:
        from peftstudio.hardware import find_gpu

        try:
            return attrs.evolve(hw, gpus=(find_gpu(machine.gpu).as_gpu(),))
        except KeyError as exc:
            from peftstudio.errors import make

            raise make("config_invalid", problems=f"`machine.gpu`: {exc.args[0]}") from None
    if machine.gpu_memory_gb:
        from peftstudio.hardware import generic_gpu

        return attrs.evolve(hw, gpus=(generic_gpu(machine.gpu_memory_gb),))
    return hw


def stats_for(path: Path, model: str) -> Any:
    """The data statistics the planner needs (measured once per file version and model)."""
    from peftstudio.data import planning_stats

    st = path.stat()
    key = (str(path), st.st_mtime, st.st_size, model)
    with _stats_lock:
        if key in _stats_cache:
            return _stats_cache[key]
    stats = planning_stats(str(path), model)
    with _stats_lock:
        _stats_cache[key] = stats
    return stats


def make_plan(body: PlanRequest, request: Request) -> tuple[Any, Path | None]:
    """The plan for a request, and the data file it names (None when none yet)."""
    from peftstudio.planner import plan

    path = resolve(body.data, settings_of(request)) if body.data else None
    stats = stats_for(path, body.model) if path else None
    from peftstudio.history.speed import measured_speed

    hw = machine_for(request, body.machine)
    p = plan(hw, body.model, body.profile, stats=stats, overrides=dict(body.overrides),
             electricity_rate=body.electricity_rate, currency=body.currency, grid_intensity=body.grid_intensity,
             data_path=str(path) if path else None, measured=measured_speed(hw))
    return p, path


@router.get("/hardware")
def hardware(request: Request) -> JSON:
    """This machine: processor, memory, GPUs."""
    return JSON(as_json(hardware_of(request)))


@router.get("/profiles")
def profiles(request: Request) -> JSON:
    """The use cases, each with the model it picks for this machine (`peftstudio.planner.pick_model`, as the
    CLI and the app), why, and the time and memory that model needs here."""
    from peftstudio.history.speed import measured_speed
    from peftstudio.planner import PROFILES, pick_model

    hw = hardware_of(request)
    measured = measured_speed(hw)
    rows = []
    for profile in PROFILES:
        pick = pick_model(hw, profile.id, measured=measured)
        p = pick.plan
        rows.append({**as_json(profile), "estimate": {
            "model": pick.reference, "model_reason": pick.reason, "device": p.device_name, "duration_seconds": as_json(p.estimates.duration_seconds),
            "estimated_peak_bytes": p.memory.estimated_peak_bytes, "available_bytes": p.memory.available_bytes,
            "fits": p.memory.fits, "assumed_examples": p.stats.rows if p.stats_assumed else None}})
    return JSON({"profiles": rows, "device": as_json(hw)})


def model_option(hw: Any, ref: str, profile: str, *, builtin: bool, about: str, measured: Any) -> dict[str, Any]:
    """One model as the model step lists it: whether it fits here, the memory, the time (at the speed this
    machine has `measured`, `peftstudio.history.measured_speed`), the warnings."""
    from peftstudio.planner import plan

    p = plan(hw, ref, profile, measured=measured)
    return {"reference": ref, "title": p.model_title, "fits": p.memory.fits,
            "estimated_peak_bytes": p.memory.estimated_peak_bytes, "available_bytes": p.memory.available_bytes,
            "device": p.device_name, "duration_seconds": as_json(p.estimates.duration_seconds),
            "warnings": list(p.warnings), "builtin": builtin, "about": about}


@router.get("/models")
def models(request: Request, profile: str) -> JSON:
    """The models to choose from for a use case (built-ins first), each with whether it fits here and why."""
    from peftstudio.errors import as_plain
    from peftstudio.history.speed import measured_speed
    from peftstudio.models import BUILTIN_MODELS
    from peftstudio.planner import get_profile

    hw = hardware_of(request)
    measured = measured_speed(hw)  # read once for every model listed
    builtins = [f"builtin:{name}" for name in BUILTIN_MODELS]
    refs = builtins + [m for m in get_profile(profile).suggested_models if m not in builtins]
    out = []
    for ref in refs:
        about = BUILTIN_MODELS.get(ref.removeprefix("builtin:"), "")
        try:
            out.append(model_option(hw, ref, profile, builtin=ref in builtins, about=about, measured=measured))
        except Exception as exc:  # noqa: BLE001 - a model the catalog cannot plan is listed with the reason
            info = as_plain(exc).info
            out.append({"reference": ref, "title": ref, "fits": False, "problem": info.explanation,
                        "builtin": ref in builtins, "about": about})
    return JSON({"models": out})


class LocalModelRequest(BaseModel):
    path: str = Field(max_length=4096, description="the full path, on the server, of a model folder or a .gguf file")
    profile: str = Field(max_length=100)


#: what the model step says about a model of each kind found on the server
LOCAL_ABOUT = {"folder": "A model folder on the server.",
               "gguf": "A .gguf file on the server; it is converted once into a folder PEFT Studio can train."}


@router.post("/models/local")
def local_model(body: LocalModelRequest, request: Request) -> JSON:
    """A model on the server's disk, named by its full path: checked (a folder with config.json, or a .gguf
    file), then listed as the model step lists the others; its reference is the path itself."""
    from peftstudio.history.speed import measured_speed
    from peftstudio.models import local_model as check
    from peftstudio.planner import get_profile

    get_profile(body.profile)  # an unknown use case: a plain error before the disk is looked at
    ref = check(body.path)
    hw = hardware_of(request)
    return JSON({**model_option(hw, ref.value, body.profile, builtin=False, about=LOCAL_ABOUT[ref.kind],
                                measured=measured_speed(hw)), "kind": ref.kind})


@router.get("/settings")
def settings_schema() -> JSON:
    """The one settings schema: every setting a person may choose, its type, range, label and help."""
    from peftstudio.settings import settings_schema as schema

    return JSON({"settings": schema()})


@router.post("/plan")
def make(body: PlanRequest, request: Request) -> JSON:
    """A plan for the choices: every setting with its reason, memory, time, energy, cost, CO2, alternatives."""
    p, _ = make_plan(body, request)
    return JSON(p.as_dict())
