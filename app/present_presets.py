"""Words for presets: a library entry's one-line description and an adjustment as the user reads it.

Example:
    >>> setting_name("training.precision"), setting_name("model.trust_remote_code")
    ('Precision', "Running the model's own code")
    >>> value_text(True), value_text(2e-4), value_text(None)
    ('on', '0.0002', 'none')
"""

from __future__ import annotations

from typing import Any

from app import presenting as say
from app.present_playground import when
from peftstudio.settings import name_at


def setting_name(path: str) -> str:
    """A dotted setting path (``training.learning_rate``) as the settings screen names it (the schema's label)."""
    return name_at(path)


def value_text(value: Any) -> str:
    """A setting's value in words: on/off, short numbers, lists joined with commas."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return say.number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) or "none"
    return str(value)


def adjustment_line(adjustment: Any) -> tuple[str, str]:
    """(``Precision: from bf16 to fp32``, the reason) for one `peftstudio.history.Adjustment`."""
    change = f"{setting_name(adjustment.setting)}: from {value_text(adjustment.old)} to {value_text(adjustment.new)}"
    return change, str(adjustment.reason)


def entry_details(entry: Any, now: float | None = None) -> str:
    """The line under a preset's name: use case, model, tags and when it was saved."""
    parts = [entry.profile.replace("_", " ").capitalize(), entry.model]
    if entry.tags:
        parts.append("tags: " + ", ".join(entry.tags))
    parts.append("saved " + when(entry.updated_at, now))
    return " \u00b7 ".join(parts)


def fit_summary(fit: Any) -> str:
    """One sentence above the adjustments: does the preset fit as it is?"""
    if not fit.adjustments:
        return f"\u201c{fit.name}\u201d fits this computer as it is; nothing needs to change."
    n = len(fit.adjustments)
    return (f"To run on this computer, {n} setting{'s' if n != 1 else ''} of \u201c{fit.name}\u201d "
            f"will change. Read why, then apply it to the wizard or cancel.")
