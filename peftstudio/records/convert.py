"""The library's one cattrs converter, JSON files with `schema_version`, and migrations.

Every record is turned into plain data and back here, with strict types: a
string where a number belongs is refused, not guessed. Validation problems
become one readable line per problem naming the field's path, e.g.
``training.learning_rate: expected a number such as 0.0002, got "fast"``.

Example:
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...                 data=DataSettings(path="chat.jsonl"))
    >>> text = dumps(cfg)
    >>> loads(RunConfig, text) == cfg
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from peftstudio.records.config import FieldValueError, RunConfig
from peftstudio.records.setting import SettingValue

T = TypeVar("T")

#: The version of the JSON files this PEFT Studio writes.
SCHEMA_VERSION = 2

_NOTHING = attrs.NOTHING


class RecordError(ValueError):
    """A document that cannot become a record; `problems` holds one readable line per problem."""

    def __init__(self, problems: list[str], *, newer: bool = False) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.newer = newer


class _WrongType(TypeError):
    def __init__(self, expected: str, got: Any) -> None:
        super().__init__(f"expected {expected}, got {_show(got)}")
        self.expected = expected
        self.got = got


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _strict_int(value: Any, _t: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _WrongType("a whole number", value)
    return value


def _strict_float(value: Any, _t: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _WrongType("a number", value)
    return float(value)


def _strict_str(value: Any, _t: Any) -> str:
    if not isinstance(value, str):
        raise _WrongType("text", value)
    return value


def _strict_bool(value: Any, _t: Any) -> bool:
    if not isinstance(value, bool):
        raise _WrongType("true or false", value)
    return value


def _setting_value(value: Any, _t: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise _WrongType("a number, text, true/false or null", value)


def _is_text_list(t: Any) -> bool:
    """``tuple[X, ...]`` or ``list[X]``: sequences where a lone text must be refused, not split into letters."""
    import typing

    origin, args = typing.get_origin(t), typing.get_args(t)
    return (origin is tuple and len(args) == 2 and args[1] is Ellipsis) or (origin is list and len(args) == 1)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook_func(lambda t: t == SettingValue, _setting_value)

    def sequence_hook(t: Any) -> Any:
        import typing

        from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory

        inner = (homogenous_tuple_structure_factory if typing.get_origin(t) is tuple
                 else list_structure_factory)(t, conv)

        def hook(value: Any, _t: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                raise _WrongType("a list", value)
            return inner(value, t)

        return hook

    conv.register_structure_hook_factory(_is_text_list, sequence_hook)
    return conv


#: The one converter of the library. Register hooks here, nowhere else.
converter = _make_converter()


# ---------------------------------------------------------------- error messages

def _example_for(cl: type | None, name: str) -> str | None:
    if cl is None or not attrs.has(cl):
        return None
    for a in attrs.fields(cl):
        if a.name == name:
            default = a.default
            if isinstance(default, attrs.Factory) or default is _NOTHING or default is None:  # type: ignore[arg-type]
                return None
            if isinstance(default, bool) or isinstance(default, (int, float)):
                return json.dumps(default)
            if isinstance(default, str):
                return json.dumps(default)
    return None


def _describe(exc: BaseException, path: str, cl: type | None, name: str | None) -> list[str]:
    where = path or "(top level)"
    if isinstance(exc, ClassValidationError):
        return _walk_class(exc, path)
    if isinstance(exc, IterableValidationError):
        lines: list[str] = []
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            lines += _describe(sub, f"{path}[{note.index}]", None, None)
        for sub in without:
            lines += _describe(sub, path, None, None)
        return lines
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = ", ".join(a.name for a in attrs.fields(exc.cl)) if attrs.has(exc.cl) else ""
        prefix = f"{path}." if path else ""
        return [
            f"{prefix}{key}: unknown setting; allowed here: {allowed}" for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, _WrongType):
        example = _example_for(cl, name) if name else None
        expected = exc.expected + (f" such as {example}" if example and exc.expected != "true or false" else "")
        return [f"{where}: expected {expected}, got {_show(exc.got)}"]
    if isinstance(exc, FieldValueError):
        prefix = f"{path}." if path else ""
        return [f"{prefix}{exc.field_name}: {exc.message}"]
    if isinstance(exc, KeyError):
        return [f"{where}: this setting is required but missing"]
    return [f"{where}: {exc}"]


def _walk_class(exc: ClassValidationError, path: str) -> list[str]:
    lines: list[str] = []
    cl = getattr(exc, "cl", None)
    with_notes, without = exc.group_exceptions()
    for sub, note in with_notes:
        child = f"{path}.{note.name}" if path else note.name
        lines += _describe(sub, child, cl, note.name)
    for sub in without:
        lines += _describe(sub, path, cl, None)
    return lines


def explain(exc: BaseException) -> list[str]:
    """Turn a cattrs/validation exception into readable lines, one per problem."""
    return _describe(exc, "", None, None) or [str(exc)]


# ---------------------------------------------------------------- structure / unstructure

def to_dict(record: Any) -> Any:
    """Plain data (dicts, lists, numbers, text) for a record."""
    return converter.unstructure(record)


def from_dict(cls: type[T], data: Any) -> T:
    """Build a `cls` record from plain data; raises `RecordError` naming each bad field."""
    if attrs.has(cls) and not isinstance(data, dict):
        raise RecordError([f"(top level): expected an object with settings, got {_show(data)}"])
    try:
        return converter.structure(data, cls)
    except (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError, FieldValueError) as exc:
        raise RecordError(explain(exc)) from None
    except (TypeError, ValueError, KeyError) as exc:  # raised by an attrs validator outside cattrs' groups
        raise RecordError(explain(exc)) from None


# ---------------------------------------------------------------- schema versions

Migration = Callable[[dict[str, Any]], dict[str, Any]]

#: kind -> {from_version: function turning a document of that version into the next}
MIGRATIONS: dict[str, dict[int, Migration]] = {}


def migration(kind: str, from_version: int) -> Callable[[Migration], Migration]:
    """Register a function that upgrades a `kind` document from `from_version` to the next."""

    def register(fn: Migration) -> Migration:
        MIGRATIONS.setdefault(kind, {})[from_version] = fn
        return fn

    return register


def kind_of(cls: type) -> str:
    """The document kind written in files for a record class, e.g. ``run_config``."""
    name = cls.__name__
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


@migration("run_config", 1)
def _run_config_v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    # Version 1 called the micro-batch `batch_size` and the LoRA rank `r`.
    training = dict(doc.get("training") or {})
    if "batch_size" in training:
        training["micro_batch_size"] = training.pop("batch_size")
    lora = dict(doc.get("lora") or {})
    if "r" in lora:
        lora["rank"] = lora.pop("r")
    out = dict(doc)
    if "training" in doc:
        out["training"] = training
    if "lora" in doc:
        out["lora"] = lora
    return out


def upgrade(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Bring a document to `SCHEMA_VERSION`: older ones are migrated, newer ones refused."""
    version = doc.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RecordError([f"schema_version: expected a whole number such as {SCHEMA_VERSION}, got {_show(version)}"])
    if version > SCHEMA_VERSION:
        raise RecordError(
            [
                f"This file was made by a newer PEFT Studio (format version {version}; this one reads up to "
                f"{SCHEMA_VERSION}). Upgrade PEFT Studio to open it."
            ],
            newer=True,
        )
    body = {k: v for k, v in doc.items() if k not in ("schema_version", "kind")}
    steps = MIGRATIONS.get(kind, {})
    while version < SCHEMA_VERSION:
        step = steps.get(version)
        if step is not None:
            body = step(body)
        version += 1
    return body


def to_document(record: Any) -> dict[str, Any]:
    """The JSON-ready document for a record: its fields plus ``schema_version`` and ``kind``."""
    return {"schema_version": SCHEMA_VERSION, "kind": kind_of(type(record)), **to_dict(record)}


def from_document(cls: type[T], doc: Any) -> T:
    """Read a document written by `to_document` (any older version), refusing newer ones."""
    if not isinstance(doc, dict):
        raise RecordError([f"(top level): expected an object with settings, got {_show(doc)}"])
    kind = kind_of(cls)
    if "kind" in doc and doc["kind"] != kind:
        raise RecordError([f"kind: this file holds a {doc['kind']!r}, not a {kind!r}"])
    return from_dict(cls, upgrade(kind, doc))


def dumps(record: Any) -> str:
    """Human-readable JSON (sorted keys, indented) for a record."""
    return json.dumps(to_document(record), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def loads(cls: type[T], text: str | bytes) -> T:
    """Parse JSON text into a `cls` record; raises `RecordError` with readable problems."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError([f"the file is not valid JSON ({exc})"]) from None
    return from_document(cls, doc)


def save(record: Any, path: str | Path) -> Path:
    """Write a record as a JSON file, atomically (the old file stays whole if this fails)."""
    from peftstudio.files import atomic_write_text

    return atomic_write_text(path, dumps(record))


def load(cls: type[T], path: str | Path) -> T:
    """Read a record's JSON file."""
    return loads(cls, Path(path).read_bytes())


__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "RecordError",
    "converter",
    "dumps",
    "explain",
    "from_dict",
    "from_document",
    "kind_of",
    "load",
    "loads",
    "migration",
    "save",
    "to_dict",
    "to_document",
    "upgrade",
]

# Keep a reference so linters see RunConfig used (its migration is registered above).
_ = RunConfig
