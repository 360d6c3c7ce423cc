"""Setting values through the schema: parse and check ``key=value``, write them into a `RunConfig`, read
them back. One conversion each way, whoever asks (the CLI's ``--set``, the planner, presets, a form).

Example:
    >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="d.jsonl"))
    >>> new = apply_settings(cfg, parse_overrides(["lora_rank=8", "target_modules=q_proj,v_proj"]))
    >>> new.lora.rank, new.lora.target_modules
    (8, ('q_proj', 'v_proj'))
    >>> read_settings(new)["target_modules"]
    'q_proj,v_proj'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from peftstudio.errors import PlainError, make
from peftstudio.records.config import RunConfig
from peftstudio.settings.schema import SETTINGS, SettingSpec, spec

_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")
_EMPTY = ("none", "null", "")


def _bad(key: str, message: str) -> PlainError:
    return make("config_invalid", problems=f"{key}: {message}")


def _typed(s: SettingSpec, value: Any) -> Any:
    """`value` (text from a field or ``--set``, or a Python value) as the setting's kind of value."""
    if isinstance(value, str):
        text = value.strip()
        if s.empty and text.lower() in _EMPTY:
            return None
        if s.kind == "boolean":
            if text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            raise _bad(s.key, f"expected true or false, got {value!r}")
        if s.kind == "integer":
            try:
                return int(text.replace("_", ""))
            except ValueError:
                raise _bad(s.key, f"expected a whole number, got {value!r}") from None
        if s.kind == "number":
            try:
                return float(text)
            except ValueError:
                raise _bad(s.key, f"expected a number, got {value!r}") from None
        return text
    if value is None and s.empty:
        return None
    if s.kind == "boolean":
        if isinstance(value, bool):
            return value
        raise _bad(s.key, f"expected true or false, got {value!r}")
    if s.kind in ("integer", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        if s.kind == "number":
            return float(value)
        if float(value).is_integer():
            return int(value)
        raise _bad(s.key, f"expected a whole number, got {value!r}")
    if s.kind == "names" and isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    words = {"integer": "a whole number", "number": "a number", "choice": "one of " + ", ".join(s.choices),
             "names": "names separated by commas"}
    raise _bad(s.key, f"expected {words[s.kind]}, got {value!r}")


def _range_words(s: SettingSpec) -> str:
    if s.minimum is not None and s.maximum is not None:
        low = f"from {s.minimum:g}" + (" (not included)" if s.minimum_excluded else "")
        high = f"up to {'(not including) ' if s.maximum_excluded else ''}{s.maximum:g}"
        return f"a {'fraction' if (s.minimum, s.maximum) == (0, 1) else 'number'} {low} {high}"
    if s.minimum is not None:
        return f"a number above {s.minimum:g}" if s.minimum_excluded else f"{s.minimum:g} or more"
    return f"{s.maximum:g} or less" if not s.maximum_excluded else f"a number below {s.maximum:g}"


def check_value(key: str, value: Any) -> Any:
    """One setting's value, typed and checked against the schema; a plain ``config_invalid`` error naming
    the setting and what is allowed otherwise.

    Example:
        >>> check_value("micro_batch_size", "2"), check_value("max_steps", ""), check_value("packing", "off")
        (2, None, False)
    """
    s = spec(key)
    typed = _typed(s, value)
    if typed is None:
        return None
    if s.choices and typed not in s.choices:
        raise _bad(key, f"expected one of {', '.join(s.choices)}, got {typed!r}")
    if s.kind == "names":
        parts = [part.strip() for part in typed.split(",")]
        if not all(parts):
            raise _bad(key, f"expected names separated by commas, got {typed!r}")
        return ",".join(parts)
    if s.kind in ("integer", "number"):
        low_bad = s.minimum is not None and (typed <= s.minimum if s.minimum_excluded else typed < s.minimum)
        high_bad = s.maximum is not None and (typed >= s.maximum if s.maximum_excluded else typed > s.maximum)
        if low_bad or high_bad:
            raise _bad(key, f"expected {_range_words(s)}, got {typed!r}")
    return typed


def parse_overrides(overrides: Mapping[str, Any] | Sequence[str] | None) -> dict[str, Any]:
    """The user's own values for settings, typed and checked: from ``key=value`` strings (the CLI's
    ``--set``) or a mapping (a form). Planned settings and those the planner leaves at their defaults
    (``quality_checks``, ``keep_checkpoints``...) are both accepted; figures that follow from the others
    (``steps``) are not.

    Raises a plain ``config_invalid`` error naming the key and what is allowed.

    Example:
        >>> parse_overrides(["micro_batch_size=2", "gradient_checkpointing=yes", "learning_rate=1e-4"])
        {'micro_batch_size': 2, 'gradient_checkpointing': True, 'learning_rate': 0.0001}
        >>> parse_overrides(["quality_checks=false"])
        {'quality_checks': False}
    """
    if not overrides:
        return {}
    pairs: list[tuple[str, Any]] = []
    if isinstance(overrides, Mapping):
        pairs = list(overrides.items())
    else:
        for item in overrides:
            if "=" not in item:
                raise _bad(str(item), "expected key=value, e.g. micro_batch_size=2")
            key, _, value = item.partition("=")
            pairs.append((key.strip(), value))
    allowed = [s.key for s in SETTINGS if not s.read_only]
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in allowed:
            raise _bad(key, _why_not(key, allowed))
        out[key] = check_value(key, value)
    return out


def _why_not(key: str, allowed: list[str]) -> str:
    known = {s.key: s for s in SETTINGS}
    if key in known and known[key].read_only:
        return f"{key} follows from the data and the other settings and cannot be set; use max_steps to stop sooner"
    return f"unknown setting; allowed: {', '.join(allowed)}"


def _config_value(s: SettingSpec, value: Any) -> Any:
    return tuple(part.strip() for part in value.split(",")) if s.kind == "names" else value


def _evolved(record: Any, parts: list[str], value: Any) -> Any:
    head, *rest = parts
    return attrs.evolve(record, **{head: _evolved(getattr(record, head), rest, value) if rest else value})


def apply_settings(config: RunConfig, values: Mapping[str, Any]) -> RunConfig:
    """`config` with the settings in `values` (keys of the schema, values as a plan holds them).

    Figures a plan works out (``steps``) have no place in a `RunConfig` and are skipped. The records'
    own checks run as usual.
    """
    for key, value in values.items():
        s = spec(key)
        if s.path is not None:
            config = _evolved(config, s.path.split("."), _config_value(s, value))
    return config


def read_settings(config: RunConfig, *, planned: bool = False) -> dict[str, Any]:
    """Every setting's value in `config` (only the planned ones with `planned`), as a plan holds them.

    Example:
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("m"), data=DataSettings(path="d.jsonl"))
        >>> read_settings(cfg)["lora_rank"], read_settings(cfg)["validation_fraction"]
        (16, 0.1)
    """
    out: dict[str, Any] = {}
    for s in SETTINGS:
        if s.path is None or (planned and not s.planned):
            continue
        value: Any = config
        for part in s.path.split("."):
            value = getattr(value, part)
        out[s.key] = ",".join(value) if s.kind == "names" else value
    return out


__all__ = ["apply_settings", "check_value", "parse_overrides", "read_settings"]
