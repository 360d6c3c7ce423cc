"""Which base model a profile trains on this machine, and why.

A profile names the models that suit its task (`Profile.suggested_models`, smallest first);
the real built-in model (SmolLM2-135M, offline) is always a candidate too. Each is planned for
this machine and this data; the pick is the largest that fits in memory and trains within the
time budget (4 hours by default, an afternoon), else the quickest that fits, else the built-in.
The reason says which rule chose it, in numbers.

Example:
    >>> from peftstudio.hardware import simulated_hardware
    >>> pick = pick_model(simulated_hardware("RTX 4090"), "chatbot")
    >>> pick.reference, pick.plan.memory.fits
    ('qwen3-8b', True)
    >>> "the largest model suited to chatbot" in pick.reason
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen

from peftstudio.models.catalog import find_model
from peftstudio.planner.estimates import human_duration, human_range
from peftstudio.planner.plan import Plan, plan
from peftstudio.planner.profiles import get_profile
from peftstudio.units import human_bytes

FALLBACK = "builtin:smollm2-135m"  # real weights, installed by the setup, works offline
TIME_BUDGET_SECONDS = 4 * 3600


@frozen
class ModelPick:
    """The model a profile trains on here: `reference` (for ``--model``), `reason` in words, its `plan`."""

    reference: str
    reason: str
    plan: Plan


def pick_model(hardware: Any, profile_id: str, stats: Any = None,
               overrides: Mapping[str, Any] | Sequence[str] | None = None, *,
               time_budget_seconds: float = TIME_BUDGET_SECONDS, measured: Any = None) -> ModelPick:
    """The best model of `profile_id` for `hardware` (and the data's `stats`, when known); see the module.
    `measured`: how fast this machine has trained (`peftstudio.planner.plan`'s argument)."""
    profile = get_profile(profile_id)
    candidates = [*profile.suggested_models, *([FALLBACK] if FALLBACK not in profile.suggested_models else [])]
    plans: list[tuple[str, Plan]] = []
    for reference in candidates:
        try:
            plans.append((reference, plan(hardware, reference, profile_id, stats, overrides, measured=measured)))
        except Exception:  # noqa: BLE001, S112 - a model that cannot be planned here is no candidate
            continue
    fitting = [(ref, p) for ref, p in plans if p.memory.fits]
    within = [(ref, p) for ref, p in fitting if p.estimates.duration_seconds.max <= time_budget_seconds]
    budget = human_duration(time_budget_seconds)
    if within:
        ref, p = max(within, key=lambda rp: find_model(rp[0]).parameters)
        return ModelPick(ref, f"{p.model_title}: the largest model suited to {profile.title.lower()} that fits "
                              f"({_memory(p)}) and trains within {budget} ({_time(p)}) on {p.device_name}.", p)
    if fitting:
        ref, p = min(fitting, key=lambda rp: rp[1].estimates.duration_seconds.mid)
        return ModelPick(ref, f"{p.model_title}: the quickest model suited to {profile.title.lower()} that fits ({_memory(p)}); no model "
                              f"trains within {budget} on {p.device_name}, this one takes {_time(p)}.", p)
    p = plan(hardware, FALLBACK, profile_id, stats, overrides, measured=measured)
    return ModelPick(FALLBACK, f"{p.model_title}: no model suited to {profile.title.lower()} fits in the memory of {p.device_name}; the "
                               f"built-in model is the smallest ({_memory(p)}).", p)


def _memory(p: Plan) -> str:
    return f"about {human_bytes(p.memory.estimated_peak_bytes)} of {human_bytes(p.memory.available_bytes)}"


def _time(p: Plan) -> str:
    return human_range(p.estimates.duration_seconds)
