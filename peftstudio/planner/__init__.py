"""The planner: task profiles, the memory estimator, smart defaults with reasons, and run estimates.

Example:
    >>> from peftstudio.hardware import simulated_hardware
    >>> p = plan(simulated_hardware("RTX 3060"), "qwen2.5-1.5b", "chatbot")
    >>> p.settings["precision"].value
    'bf16'
"""

from peftstudio.planner.choose import ModelPick, pick_model
from peftstudio.planner.defaults import choose_settings, truncated_fraction
from peftstudio.planner.estimates import (
    DEFAULT_CURRENCY,
    DEFAULT_ELECTRICITY_RATE,
    DEFAULT_GRID_INTENSITY,
    Estimates,
    Range,
    estimate_run,
)
from peftstudio.planner.memory import MemoryBreakdown, estimate_memory, lora_parameters
from peftstudio.planner.plan import Alternative, Plan, plan, summary_lines
from peftstudio.planner.profiles import PROFILES, Profile, get_profile, profile_ids
from peftstudio.settings import parse_overrides  # the planner's overrides are checked by the settings schema

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_ELECTRICITY_RATE",
    "DEFAULT_GRID_INTENSITY",
    "PROFILES",
    "Alternative",
    "Estimates",
    "MemoryBreakdown",
    "ModelPick",
    "Plan",
    "Profile",
    "Range",
    "choose_settings",
    "estimate_memory",
    "estimate_run",
    "get_profile",
    "lora_parameters",
    "parse_overrides",
    "pick_model",
    "plan",
    "profile_ids",
    "summary_lines",
    "truncated_fraction",
]
