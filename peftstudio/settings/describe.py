"""The schema as data and as a page: `settings_schema()` for forms (a web page renders its settings from
it without a copy), `settings_table()` for ``docs/settings.md`` (a test keeps the page in step).

Example:
    >>> rows = settings_schema()
    >>> first = rows[0]
    >>> first["key"], first["kind"], first["choices"], first["default"]
    ('precision', 'choice', ['fp32', 'fp16', 'bf16'], 'fp32')
    >>> "| `learning_rate` |" in settings_table()
    True
"""

from __future__ import annotations

from typing import Any

from peftstudio.glossary import lookup
from peftstudio.records.config import DataSettings, ModelChoice, RunConfig
from peftstudio.settings.schema import SETTINGS, SettingSpec
from peftstudio.settings.values import read_settings


def defaults() -> dict[str, Any]:
    """Each setting's value in a `RunConfig` nobody has changed (before the planner chooses)."""
    return read_settings(RunConfig(profile="", model=ModelChoice(""), data=DataSettings(path="")))


def settings_schema() -> list[dict[str, Any]]:
    """Every setting as plain JSON-able data, in the schema's order: what a form needs to show and check it.

    Keys: ``key``, ``path`` (in a run configuration; null for a figure the plan works out), ``kind``
    (integer, number, boolean, choice or names), ``label``, ``help``, ``unit``, ``choices``, ``minimum``,
    ``minimum_excluded``, ``maximum``, ``maximum_excluded``, ``empty`` (what an empty value means; null:
    a value is required), ``term`` and ``glossary`` (the glossary entry's term and anchor), ``main``
    (shown first), ``planned`` (chosen by the planner, ``--set`` overrides it), ``read_only`` and
    ``default``.
    """
    start = defaults()
    out = []
    for s in SETTINGS:
        term = lookup(s.term) if s.term else None
        out.append({
            "key": s.key, "path": s.path, "kind": s.kind, "label": s.label, "help": s.help, "unit": s.unit,
            "choices": list(s.choices), "minimum": s.minimum, "minimum_excluded": s.minimum_excluded,
            "maximum": s.maximum, "maximum_excluded": s.maximum_excluded, "empty": s.empty or None,
            "term": term.term if term else None, "glossary": term.anchor if term else None, "main": s.main,
            "planned": s.planned, "read_only": s.read_only, "default": start.get(s.key),
        })
    return out


def allowed_text(s: SettingSpec) -> str:
    """What a setting accepts, in a few words (``whole number above 0``, ``fp32, fp16, bf16``)."""
    if s.choices:
        text = ", ".join(s.choices)
    elif s.kind == "boolean":
        text = "true or false"
    elif s.kind == "names":
        text = "names separated by commas"
    else:
        what = "whole number" if s.kind == "integer" else "number"
        parts = []
        if s.minimum is not None:
            parts.append(f"above {s.minimum:g}" if s.minimum_excluded else f"{s.minimum:g} or more")
        if s.maximum is not None:
            parts.append(f"below {s.maximum:g}" if s.maximum_excluded else f"up to {s.maximum:g}")
        text = " ".join([what, " and ".join(parts)]).strip()
    if s.unit:
        text += f" ({s.unit})"
    if s.empty:
        text += f"; empty: {s.empty}"
    return text


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def settings_table() -> str:
    """The settings as the Markdown tables of ``docs/settings.md``: the planned ones, then the others."""
    start = defaults()
    lines: list[str] = []
    groups = (("Planned settings: the planner chooses each one with a reason; `--set KEY=VALUE` overrides it.",
               [s for s in SETTINGS if s.planned]),
              ("Settings the planner leaves at their defaults: set them with `--set`, in a run configuration file "
               "or a preset.",
               [s for s in SETTINGS if not s.planned]))
    for title, specs in groups:
        lines += [title, "", "| Key | Name | Allowed | In a new run file | What it does |", "|---|---|---|---|---|"]
        for s in specs:
            value = start.get(s.key)
            default = "worked out by the plan" if s.read_only else "empty" if value is None else f"`{_cell(value)}`"
            where = "" if s.read_only else f" Stored at `{s.path}`."
            lines.append(f"| `{s.key}` | {s.label} | {allowed_text(s)} | {default} | {s.help}{where} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["allowed_text", "defaults", "settings_schema", "settings_table"]
