"""The one settings schema and everything derived from it.

Every setting a user may choose is declared once in `SETTINGS` (see `peftstudio.settings.schema`);
the CLI's ``--set``, the planner's mapping to a `RunConfig`, preset fitting, the settings forms and
``docs/settings.md`` all read it. This package sits low in the layers: it imports records, errors and
the glossary, never the planner, the engine or a front end.

Example:
    >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="d.jsonl"))
    >>> apply_settings(cfg, parse_overrides(["learning_rate=1e-4"])).training.learning_rate
    0.0001
    >>> spec("learning_rate").label, [r["key"] for r in settings_schema()][:2]
    ('Learning rate', ['precision', 'quantization'])
"""

from peftstudio.settings.describe import allowed_text, defaults, settings_schema, settings_table
from peftstudio.settings.schema import (
    KINDS,
    OTHER_FIELDS,
    PLANNED,
    SETTINGS,
    SettingSpec,
    name_at,
    spec,
    spec_at,
)
from peftstudio.settings.values import apply_settings, check_value, parse_overrides, read_settings

__all__ = [
    "KINDS",
    "OTHER_FIELDS",
    "PLANNED",
    "SETTINGS",
    "SettingSpec",
    "allowed_text",
    "apply_settings",
    "check_value",
    "defaults",
    "name_at",
    "parse_overrides",
    "read_settings",
    "settings_schema",
    "settings_table",
    "spec",
    "spec_at",
]
