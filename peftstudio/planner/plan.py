"""The plan: every setting with its reason, the memory it needs, what the run will cost, and alternatives.

`plan()` is a pure function of its inputs (no I/O for catalog models, no torch) and runs in a few
milliseconds, so a screen can re-plan on every change.

Example:
    >>> from peftstudio.hardware import simulated_hardware
    >>> p = plan(simulated_hardware(gpu_memory_gb=8), "llama-3.1-8b", "chatbot")
    >>> p.settings["quantization"].value, p.memory.fits
    ('4bit', True)
    >>> p.estimates.duration_seconds.min <= p.estimates.duration_seconds.max
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import field, frozen

from peftstudio.models.catalog import MODEL_CATALOG, ModelSpec, describe_offline, find_model
from peftstudio.planner.defaults import (
    Choice,
    choose_settings,
    gb,
    kept_tokens,
    planning_device,
    truncated_fraction,
)
from peftstudio.planner.estimates import DEFAULT_CURRENCY, Estimates, MeasuredSpeed, Range, estimate_run
from peftstudio.planner.memory import MemoryBreakdown, lora_parameters
from peftstudio.planner.profiles import Profile, get_profile
from peftstudio.records.config import DataSettings, ModelChoice, RunConfig
from peftstudio.records.data import DatasetStats
from peftstudio.records.hardware import HardwareProfile
from peftstudio.records.setting import Setting, SettingValue
from peftstudio.settings import PLANNED, apply_settings, parse_overrides, read_settings
from peftstudio.tuples import as_tuple

PLANNED_KEYS = frozenset(s.key for s in PLANNED)


@frozen
class Alternative:
    """Another configuration worth considering, with what changes compared to the plan.

    Deltas are fractions: ``memory_delta=-0.45`` is 45% less memory, ``duration_delta=0.2`` is 20% slower.
    `truncated_fraction` is the share of examples cut at the alternative's sequence length.
    """

    title: str
    description: str
    changes: dict[str, SettingValue]
    memory_bytes: int
    memory_delta: float
    duration_delta: float
    truncated_fraction: float | None
    fits: bool
    model: str | None = None


@frozen
class Plan:
    """A complete, explained training plan.

    Example:
        >>> from peftstudio.hardware import simulated_hardware
        >>> p = plan(simulated_hardware(), "builtin:tiny-llama", "chatbot")
        >>> p.run_config("chat.jsonl").training.precision
        'fp32'
    """

    model: str
    model_title: str
    profile: str
    device: str
    device_name: str
    settings: dict[str, Setting]
    memory: MemoryBreakdown
    estimates: Estimates
    alternatives: tuple[Alternative, ...] = field(converter=as_tuple)
    warnings: tuple[str, ...] = field(converter=as_tuple)
    stats: DatasetStats
    stats_assumed: bool
    data_path: str | None = None
    #: The user's values of settings the planner does not choose (``quality_checks``, ``keep_checkpoints``...).
    own: dict[str, Any] = field(factory=dict)

    def value(self, key: str) -> Any:
        return self.settings[key].value

    def run_config(self, data_path: str | None = None, *, name: str = "") -> RunConfig:
        """The `RunConfig` the engine trains from (`data_path` defaults to the planned data file): every
        setting of the plan written to its place by the settings schema."""
        base = RunConfig(profile=self.profile, model=ModelChoice(self.model),
                         data=DataSettings(path=data_path or self.data_path or ""), name=name)
        return apply_settings(base, {**{key: s.value for key, s in self.settings.items()}, **self.own})

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and screens; the memory part adds `estimated_peak_bytes` and `fits`."""
        from peftstudio.records.convert import to_dict

        data = to_dict(self)
        data["memory"].update(estimated_peak_bytes=self.memory.estimated_peak_bytes, fits=self.memory.fits,
                              held_bytes=self.memory.held_bytes)
        return data


def _resolve(model: str | ModelSpec) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else find_model(model)


def _duration(spec: ModelSpec, hw: HardwareProfile, device: str, values: Mapping[str, Any],
              tokens: int, **more: Any) -> Estimates:
    gpu = hw.gpus[0] if hw.gpus else None
    return estimate_run(
        spec, device=device, tokens=tokens, steps=int(values.get("steps", 0)),
        sequence_length=values["sequence_length"], micro_batch_size=values["micro_batch_size"],
        quantization=values["quantization"], precision=values["precision"],
        gradient_checkpointing=values["gradient_checkpointing"],
        lora_parameters=lora_parameters(spec, values["lora_rank"], str(values["target_modules"]).split(",")),
        cpu_cores=hw.cpu_cores, gpu_tflops=gpu.bf16_tflops if gpu else None,
        gpu_watts=gpu.board_power_watts if gpu else None, **more,
    )


def calibrated_speed(hardware: HardwareProfile, config: RunConfig) -> Range | None:
    """The tokens per second the calibration expects of `config` on `hardware` (a run's settings as it ran,
    whatever the planner would choose now); None when its model cannot be described without the network.

    Example:
        >>> from peftstudio.hardware import simulated_hardware
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:smollm2-135m"), data=DataSettings(path="x"))
        >>> 100 < calibrated_speed(simulated_hardware(cpu_cores=2), cfg).mid < 1000
        True
    """
    spec = describe_offline(config.model.reference)
    if spec is None:
        return None
    device, _, _ = planning_device(hardware)
    return _duration(spec, hardware, device, read_settings(config), 0).tokens_per_second


def _tokens(choice: Choice, values: Mapping[str, Any]) -> int:
    """Tokens processed in training: the (truncated) training tokens times the passes, or the step limit."""
    seq = values["sequence_length"]
    per_epoch = int(kept_tokens(choice.stats, seq) * (1 - values["validation_fraction"]))
    if values["max_steps"]:
        return int(values["max_steps"] * values["micro_batch_size"] * values["gradient_accumulation"] * seq)
    return int(per_epoch * values["epochs"])


def _whole(value: object) -> int:
    """A whole-number setting's value (settings hold numbers, text and None side by side)."""
    if not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return int(value)


def _gated(spec: ModelSpec) -> tuple[str, ...]:
    """The plain note a gated model needs before its first download."""
    if not spec.gated:
        return ()
    return (f"{spec.title} is gated on the Hugging Face Hub: accept its licence on "
            f"https://huggingface.co/{spec.hub_id} and log in (hf auth login) before the first download.",)


def _smaller_model(spec: ModelSpec, profile: Profile, fits: Any = None) -> ModelSpec | None:
    """The largest catalog model clearly smaller than `spec` that `fits` (a predicate) this machine, else the
    smallest of them (so the alternative still shows how far off it is)."""
    pool = [find_model(a) for a in profile.suggested_models] + [s for s in MODEL_CATALOG if not s.builtin]
    smaller = sorted({s.alias: s for s in pool if s.parameters < spec.parameters * 0.6 and s.alias != spec.alias
                      and not s.is_moe}.values(), key=lambda s: s.parameters, reverse=True)
    if not smaller:
        return None
    return next((s for s in smaller if fits is None or fits(s)), smaller[-1])


_SHAPE_KEYS = ("quantization", "precision", "gradient_checkpointing", "sequence_length", "micro_batch_size",
               "gradient_accumulation")


def _alternatives(spec: ModelSpec, hw: HardwareProfile, profile: Profile, choice: Choice, user: dict[str, Any],
                  stats: DatasetStats | None, base_time: float,
                  measured: MeasuredSpeed | None = None) -> list[Alternative]:
    """Other configurations, each re-planned with one change forced (so the rest adapts to it)."""
    values = {k: s.value for k, s in choice.settings.items()}
    base_peak = choice.memory.estimated_peak_bytes
    out: list[Alternative] = []

    def add(title: str, description: str, forced: dict[str, Any], other: ModelSpec | None = None) -> None:
        target = other or spec
        alt = choose_settings(hw, target, profile, stats, {**user, **forced}, explain_overrides=False)
        new = {k: s.value for k, s in alt.settings.items()}
        mem = alt.memory
        est = _duration(target, hw, alt.device, new, _tokens(alt, new), measured=measured)
        mem_delta = mem.estimated_peak_bytes / base_peak - 1
        time_delta = est.duration_seconds.mid / base_time - 1 if base_time else 0.0
        changed_length = new["sequence_length"] != values["sequence_length"]
        cut = truncated_fraction(alt.stats, _whole(new["sequence_length"])) if changed_length else None
        words = [f"{abs(mem_delta):.0%} {'less' if mem_delta < 0 else 'more'} memory"]
        if abs(time_delta) >= 0.05:
            speed = 1 / (1 + time_delta)
            words.append(f"about {speed:.1f}x faster" if speed >= 1.5 else
                         f"about {abs(time_delta):.0%} {'slower' if time_delta > 0 else 'faster'}")
        else:
            words.append("about as fast")
        if cut is not None and not alt.stats_assumed:
            words.append(f"{cut:.0%} of examples truncated")
        if not mem.fits:
            words.append("does not fit")
        changes = {k: new[k] for k in _SHAPE_KEYS if new[k] != values[k]}
        if other is not None:
            changes["model"] = other.hub_id
        out.append(Alternative(title=title, description=f"{description}: {', '.join(words)}.", changes=changes,
                               memory_bytes=mem.estimated_peak_bytes, memory_delta=round(mem_delta, 4),
                               duration_delta=round(time_delta, 4), truncated_fraction=cut, fits=mem.fits,
                               model=other.hub_id if other else None))

    # One change at a time, the batch shape kept, so the deltas show what that change alone does.
    same = {k: values[k] for k in ("micro_batch_size", "gradient_checkpointing", "quantization", "sequence_length")}
    if choice.device == "cuda" and "quantization" not in user:
        if values["quantization"] == "none":
            add("4-bit", "Load the base model in 4 bits (QLoRA)", {**same, "quantization": "4bit"})
        else:
            add("No quantization", "Load the base model at 16 bits", {**same, "quantization": "none"})
    seq = _whole(values["sequence_length"])
    if seq >= 128:
        add(f"Sequence {seq // 2}", f"Sequence {seq // 2} instead of {seq}", {**same, "sequence_length": seq // 2})
    if not values["gradient_checkpointing"]:
        add("Gradient checkpointing", "Recompute intermediate results instead of keeping them",
            {**same, "gradient_checkpointing": True})
    smaller = _smaller_model(spec, profile, lambda other: choose_settings(
        hw, other, profile, stats, user, explain_overrides=False).memory.fits)
    if smaller is not None:
        add(f"A smaller model: {smaller.title}", f"{smaller.title} instead of {spec.title}", {}, smaller)
    return out


def plan(
    hardware: HardwareProfile,
    model: str | ModelSpec,
    profile: str,
    stats: DatasetStats | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    electricity_rate: float | None = None,
    currency: str = DEFAULT_CURRENCY,
    grid_intensity: float | None = None,
    data_path: str | None = None,
    measured: MeasuredSpeed | None = None,
) -> Plan:
    """Plan a LoRA fine-tuning run: settings with reasons, memory, duration, cost, CO2 and alternatives.

    `model` is a catalog alias or hub id, ``builtin:NAME``, a local folder, or a `ModelSpec`.
    `overrides` are the user's own values (``{"micro_batch_size": 2}`` or ``["micro_batch_size=2"]``);
    they win, and a warning says when they will not fit. `electricity_rate` is per kWh in `currency`;
    `grid_intensity` in kg CO2 per kWh (defaults: see `peftstudio.planner.estimates`). `measured` is how fast
    this machine has trained (`peftstudio.history.measured_speed`): the times then follow it instead of the
    calibration, when it was measured on `hardware`'s device.

    Example:
        >>> from peftstudio.hardware import simulated_hardware
        >>> p = plan(simulated_hardware("H100"), "llama-3.1-8b", "chatbot")
        >>> p.settings["quantization"].value, p.settings["precision"].value
        ('none', 'bf16')
    """
    spec = _resolve(model)
    prof = get_profile(profile)
    given = parse_overrides(overrides)
    user = {k: v for k, v in given.items() if k in PLANNED_KEYS}
    choice = choose_settings(hardware, spec, prof, stats, user)
    values = {k: s.value for k, s in choice.settings.items()}
    if measured is not None and measured.device_name != hardware.device_name:
        measured = None  # measured elsewhere: another GPU, or planning for a machine that is not this one
    money = dict(electricity_rate=electricity_rate, currency=currency, grid_intensity=grid_intensity)
    estimates = _duration(spec, hardware, choice.device, values, _tokens(choice, values), measured=measured, **money)
    alternatives = _alternatives(spec, hardware, prof, choice, user, stats, estimates.duration_seconds.mid,
                                 measured)
    reference = model.hub_id if isinstance(model, ModelSpec) else model
    return Plan(model=reference, model_title=spec.title, profile=prof.id, device=choice.device,
                device_name=hardware.device_name, settings=choice.settings, memory=choice.memory, estimates=estimates,
                alternatives=tuple(alternatives), warnings=choice.warnings + _gated(spec), stats=choice.stats,
                stats_assumed=choice.stats_assumed, data_path=data_path,
                own={k: v for k, v in given.items() if k not in user})


def summary_lines(p: Plan) -> list[str]:
    """The plan as readable lines (what ``peftstudio plan`` prints without ``--json``)."""
    from peftstudio.planner.estimates import human_range

    e, m = p.estimates, p.memory
    lines = [f"Plan: {p.model_title} for {get_profile(p.profile).title}, on {p.device_name}", "", "Settings:"]
    width = max(len(k) for k in p.settings)
    for key, s in p.settings.items():
        mark = " (yours)" if s.source == "user" else ""
        lines.append(f"  {key:<{width}}  {s.value!s:<10} {s.reason}{mark}")
    lines += [f"  {key:<{width}}  {value!s:<10} (yours)" for key, value in p.own.items()]
    lines += ["", f"Memory: about {gb(m.estimated_peak_bytes)} of {gb(m.available_bytes)} available "
                  f"({'fits' if m.fits else 'does NOT fit'})"]
    lines += [f"  {name.replace('_', ' '):<14} {gb(size)}" for name, size in m.parts().items()]
    lines += ["", f"Time: {human_range(e.duration_seconds)} "
                  f"({e.steps} steps, {e.tokens:,} tokens), at {e.speed_basis}"]
    lines.append(f"Checks after training: {human_range(e.checks_seconds)} "
                 f"more (40 general questions and up to 16 held-out "
                 f"examples; about half that once the base model's answers are cached; turn them off with "
                 f"--set quality_checks=false)")
    if p.device == "cuda":
        lines.append(f"GPU-hours: {e.gpu_hours.min:.2f} to {e.gpu_hours.max:.2f}")
    lines += [f"Energy: {e.energy_kwh.min:.3f} to {e.energy_kwh.max:.3f} kWh; cost {e.electricity_cost.min:.2f} to "
              f"{e.electricity_cost.max:.2f} {e.currency} at {e.electricity_rate:g} per kWh"
              f"{' (default rate)' if e.electricity_rate_source == 'default' else ''}",
              f"CO2: {e.co2_kg.min:.3f} to {e.co2_kg.max:.3f} kg at {e.grid_intensity:g} kg per kWh"
              f"{' (world average)' if e.grid_intensity_source == 'default' else ''}"]
    if p.alternatives:
        lines += ["", "Alternatives:"] + [f"  - {a.title}: {a.description}" for a in p.alternatives]
    if p.warnings:
        lines += ["", "Warnings:"] + [f"  ! {w}" for w in p.warnings]
    return lines


__all__ = ["Alternative", "Plan", "calibrated_speed", "plan", "summary_lines"]
