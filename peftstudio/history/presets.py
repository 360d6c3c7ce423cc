"""Presets: named run configurations to reuse and to share as one readable JSON file.

A preset holds every setting of a run (`RunConfig`: profile, model reference,
hyperparameters), a reference to the data it was made for (path, SHA-256 and
row count) and free tags and notes. Presets live in the store's ``presets``
table. Exported files are plain JSON (sorted keys, indented, ``schema_version``).

Importing a file someone else made is careful: everything is checked before
anything is stored (see `read_preset_bytes` and `import_preset`), and the data
path inside is only ever kept as text, never opened.

Example:
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...                 data=DataSettings(path="chat.jsonl"))
    >>> p = Preset(name="my bot", config=cfg, tags=("support",))
    >>> read_preset_bytes(preset_json(p).encode()) == p
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from peftstudio.errors import PlainError, make
from peftstudio.files import atomic_write_text
from peftstudio.history.fit import Adjustment, fit_to_hardware
from peftstudio.history.safejson import DEFAULT_MAX_BYTES, UntrustedJsonError, parse_untrusted
from peftstudio.records import convert
from peftstudio.records.config import DatasetReference, RunConfig
from peftstudio.records.convert import RecordError, migration
from peftstudio.store import Store, open_store
from peftstudio.store import presets as rows
from peftstudio.units import human_bytes

#: A preset file larger than this is refused before it is read (real ones are a few KB).
MAX_PRESET_BYTES = DEFAULT_MAX_BYTES
MAX_NAME_LENGTH = 100
MAX_TAGS = 32
MAX_TAG_LENGTH = 40
MAX_NOTES_LENGTH = 10_000
MAX_PATH_LENGTH = 4096

# Control characters (NUL included) and the Unicode marks that can make a path display as another one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_CONTROL_NOTES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _as_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@frozen
class Preset:
    """A named, shareable run configuration.

    `profile` and `model` are read from `config`, so they can never disagree with it.

    Example:
        >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path="chat.jsonl"))
        >>> Preset(name="bot", config=cfg).model
        'builtin:tiny-llama'
    """

    name: str
    config: RunConfig
    dataset: DatasetReference | None = None
    tags: tuple[str, ...] = field(default=(), converter=_as_tuple)
    notes: str = ""

    @property
    def profile(self) -> str:
        return self.config.profile

    @property
    def model(self) -> str:
        return self.config.model.reference


@frozen
class PresetEntry:
    """One line of the presets library: what a list shows, without the full configuration."""

    name: str
    profile: str
    model: str
    tags: tuple[str, ...]
    notes: str
    created_at: float
    updated_at: float
    dataset_path: str | None = None


@frozen
class ImportResult:
    """What `import_preset` stored (or `check_import` would store), and which settings it adjusted for this
    machine; `replaced`: a preset of that name was (or would be) replaced."""

    preset: Preset
    adjustments: tuple[Adjustment, ...] = ()
    replaced: bool = False
    notes: tuple[str, ...] = ()


@migration("preset", 1)
def _preset_v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    # A version-1 preset embeds a version-1 run configuration: migrate it the same way.
    out = dict(doc)
    if isinstance(doc.get("config"), dict):
        step = convert.MIGRATIONS["run_config"][1]
        out["config"] = step(doc["config"])
    return out


# ---------------------------------------------------------------- checks


def _shape_problems(raw: Any, cls: Any, path: str) -> list[str]:
    """Lists where lists belong and objects where objects belong (the converter would split a text
    into letters where a list of texts is expected)."""
    if not attrs.has(cls) or not isinstance(raw, dict):
        return []
    problems: list[str] = []
    hints = typing.get_type_hints(cls)
    for a in attrs.fields(cls):
        if a.name not in raw or raw[a.name] is None:
            continue
        value, hint = raw[a.name], hints[a.name]
        where = f"{path}.{a.name}" if path else a.name
        options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
        for option in options:
            origin = typing.get_origin(option) or option
            if origin in (tuple, list) and not isinstance(value, list):
                problems.append(f"{where}: expected a list, got {type(value).__name__}")
            elif origin is dict and not isinstance(value, dict):
                problems.append(f"{where}: expected an object, got {type(value).__name__}")
            elif attrs.has(option):
                problems += _shape_problems(value, option, where)
    return problems


def _text_problems(where: str, value: str, *, max_length: int, notes: bool = False) -> list[str]:
    problems = []
    if len(value) > max_length:
        problems.append(f"{where}: longer than {max_length} characters")
    if (_CONTROL_NOTES if notes else _CONTROL).search(value):
        problems.append(f"{where}: contains control characters (such as a NUL byte); refused")
    return problems


def preset_problems(preset: Preset) -> list[str]:
    """What is wrong with a preset beyond its types: names, tags, paths and the data fingerprint.

    Example:
        >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path="a\\x00b.jsonl"))
        >>> preset_problems(Preset(name="x", config=cfg))
        ['config.data.path: contains control characters (such as a NUL byte); refused']
    """
    problems: list[str] = []
    if not preset.name.strip():
        problems.append("name: a preset needs a name")
    problems += _text_problems("name", preset.name, max_length=MAX_NAME_LENGTH)
    if len(preset.tags) > MAX_TAGS:
        problems.append(f"tags: more than {MAX_TAGS} tags")
    for i, tag in enumerate(preset.tags):
        problems += _text_problems(f"tags[{i}]", tag, max_length=MAX_TAG_LENGTH)
    problems += _text_problems("notes", preset.notes, max_length=MAX_NOTES_LENGTH, notes=True)
    cfg = preset.config
    problems += _text_problems("config.name", cfg.name, max_length=MAX_NAME_LENGTH)
    problems += _text_problems("config.profile", cfg.profile, max_length=MAX_NAME_LENGTH)
    problems += _text_problems("config.model.reference", cfg.model.reference, max_length=MAX_PATH_LENGTH)
    problems += _text_problems("config.data.path", cfg.data.path, max_length=MAX_PATH_LENGTH)
    for key, column in cfg.data.column_mapping.items():
        problems += _text_problems(f"config.data.column_mapping[{key}]", key + column, max_length=MAX_NAME_LENGTH)
    for where, ref in (("dataset", preset.dataset), ("config.data.reference", cfg.data.reference)):
        if ref is None:
            continue
        problems += _text_problems(f"{where}.path", ref.path, max_length=MAX_PATH_LENGTH)
        if not re.fullmatch(r"[0-9a-f]{64}", ref.sha256):
            problems.append(f"{where}.sha256: expected 64 hexadecimal characters (a SHA-256), got {ref.sha256[:80]!r}")
        if ref.rows < 0:
            problems.append(f"{where}.rows: expected 0 or more, got {ref.rows}")
    return problems


def _invalid(problems: list[str], *, source: str = "") -> PlainError:
    prefix = f"{source}: " if source else ""
    return make("config_invalid", problems=prefix + "; ".join(problems))


# ---------------------------------------------------------------- files


def preset_json(preset: Preset) -> str:
    """The preset as shareable JSON text (sorted keys, indented, with ``schema_version``)."""
    return convert.dumps(preset)


def portable(preset: Preset) -> tuple[Preset, list[str]]:
    """The preset without absolute paths of this machine (the dataset reference excepted).

    A model given as a folder on this computer is shortened to the folder's name: the receiver
    needs their own copy anyway, and the full path would tell them about this machine.

    Example:
        >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("/home/ann/models/my-llama"),
        ...                 data=DataSettings(path="chat.jsonl"))
        >>> portable(Preset(name="p", config=cfg))[0].model
        'my-llama'
    """
    notes: list[str] = []
    ref = preset.config.model.reference
    if ref.startswith("~") or os.path.isabs(ref) or re.match(r"^[A-Za-z]:[\\/]", ref):
        short = re.split(r"[\\/]", ref.rstrip("/\\"))[-1] or ref
        notes.append(f"The model folder {ref} was written as {short!r}: whoever imports it needs that model too.")
        model = attrs.evolve(preset.config.model, reference=short)
        preset = attrs.evolve(preset, config=attrs.evolve(preset.config, model=model))
    return preset, notes


def read_preset_bytes(data: bytes, *, source: str = "") -> Preset:
    """Check and read a preset file's bytes; raises a `PlainError` naming every problem found.

    Checks, in order: size, UTF-8, nesting depth, repeated keys, JSON syntax, ``schema_version``
    (older files are migrated, newer ones refused with "upgrade"), kind, types, allowed values and
    unknown keys (each named by its dotted path), then names, tags and paths.
    """
    try:
        doc = parse_untrusted(data, max_bytes=MAX_PRESET_BYTES)
    except UntrustedJsonError as exc:
        raise _invalid(exc.problems, source=source) from None
    if not isinstance(doc, dict):
        raise _invalid(["the file does not hold a preset (expected a JSON object)"], source=source)
    if "kind" in doc and doc["kind"] != "preset":
        raise _invalid([f"kind: this file holds a {str(doc['kind'])[:40]!r}, not a preset"], source=source)
    try:
        body = convert.upgrade("preset", doc)
        shape = _shape_problems(body, Preset, "")
        if shape:
            raise RecordError(shape)
        preset = convert.from_dict(Preset, body)
    except RecordError as exc:
        if exc.newer:
            raise make("newer_format", detail=(f"{source}: " if source else "") + " ".join(exc.problems)) from None
        raise _invalid(exc.problems, source=source) from None
    problems = preset_problems(preset)
    if problems:
        raise _invalid(problems, source=source)
    return preset


def read_preset_file(path: str | Path) -> Preset:
    """Read a preset file: refused if it is not a regular file or is over 1 MiB, before reading it."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise make("file_not_found", path=str(p)) from None
    import stat as stat_mod

    if not stat_mod.S_ISREG(st.st_mode):
        raise _invalid(["this is not a regular file (a folder, device or pipe cannot be a preset)"], source=str(p))
    if st.st_size > MAX_PRESET_BYTES:
        raise _invalid(
            [f"the file is {human_bytes(st.st_size)}, more than the {human_bytes(MAX_PRESET_BYTES)} a preset may be"],
            source=str(p),
        )
    with open(p, "rb") as fh:
        data = fh.read(MAX_PRESET_BYTES + 1)  # the file may have grown since stat
    return read_preset_bytes(data, source=str(p))


# ---------------------------------------------------------------- dataset reference


def dataset_reference(path: str | Path) -> DatasetReference:
    """Fingerprint a data file on this computer: its path, SHA-256 and number of rows.

    Rows are counted as non-blank lines for JSON Lines and text, lines after the header for CSV/TSV,
    items for a JSON array and the row count for Parquet.
    """
    p = Path(path)
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return DatasetReference(path=str(path), sha256=digest.hexdigest(), rows=_count_rows(p))


def _count_rows(p: Path) -> int:
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(p).metadata.num_rows)
    if suffix == ".json":
        try:
            doc = json.loads(p.read_bytes())
            return len(doc) if isinstance(doc, list) else 1
        except (ValueError, RecursionError):
            return 0
    with open(p, "rb") as fh:
        lines = sum(1 for line in fh if line.strip())
    return max(lines - 1, 0) if suffix in (".csv", ".tsv") else lines


# ---------------------------------------------------------------- the library in the store


def _not_found(name: str) -> PlainError:
    return make("item_not_found", kind="preset", name=name, command="presets")


def _write(store: Store, preset: Preset, *, replace: bool) -> bool:
    """Insert or replace in one transaction; returns whether an existing preset was replaced."""
    return rows.put_preset(
        store, preset.name, profile=preset.profile, model=preset.model, tags=preset.tags, notes=preset.notes,
        data=preset_json(preset), replace=replace,
        refuse=lambda: _invalid([f"a preset named {preset.name!r} already exists; choose another name or "
                                 f"replace it"]))


def save_preset(
    name: str,
    config: RunConfig,
    *,
    dataset: DatasetReference | None = None,
    tags: tuple[str, ...] | list[str] = (),
    notes: str = "",
    replace: bool = False,
    store: Store | None = None,
) -> Preset:
    """Save `config` as the preset `name`.

    The dataset reference is `dataset`, else the config's own, else measured from the data file when
    it exists on this computer. An existing preset of that name is refused unless `replace`.

    Example:
        >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path="chat.jsonl"))
        >>> save_preset("doc example", cfg, tags=["demo"]).tags
        ('demo',)
    """
    if dataset is None:
        dataset = config.data.reference
    if dataset is None and config.data.path and Path(config.data.path).is_file():
        dataset = dataset_reference(config.data.path)
    clean_tags = tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))
    preset = Preset(name=name.strip(), config=config, dataset=dataset, tags=clean_tags, notes=notes)
    problems = preset_problems(preset)
    if problems:
        raise _invalid(problems)
    _write(open_store(store), preset, replace=replace)
    return preset


def get_preset(name: str, *, store: Store | None = None) -> Preset:
    """The preset called `name`; a plain "no such preset" error otherwise."""
    data = rows.preset_data(open_store(store), name)
    if data is None:
        raise _not_found(name)
    return convert.from_document(Preset, json.loads(data))


def list_presets(
    *,
    search: str | None = None,
    profile: str | None = None,
    model: str | None = None,
    tag: str | None = None,
    store: Store | None = None,
) -> list[PresetEntry]:
    """The presets library, most recently changed first.

    `search` matches (case-insensitively) anywhere in the name, notes, tags, profile or model;
    `profile`, `model` and `tag` must match exactly (tags ignoring case).
    """
    out: list[PresetEntry] = []
    needle = (search or "").casefold()
    for r in rows.preset_rows(open_store(store)):
        tags = r["tags"]
        if profile and r["profile"] != profile:
            continue
        if model and r["model"] != model:
            continue
        if tag and tag.casefold() not in {t.casefold() for t in tags}:
            continue
        haystack = " ".join([r["name"], r["notes"], r["profile"], r["model"], *tags]).casefold()
        if needle and needle not in haystack:
            continue
        dataset = json.loads(r["data"]).get("dataset") or {}
        out.append(PresetEntry(name=r["name"], profile=r["profile"], model=r["model"], tags=tags,
                               notes=r["notes"], created_at=r["created_at"], updated_at=r["updated_at"],
                               dataset_path=dataset.get("path")))
    return out


def delete_preset(name: str, *, store: Store | None = None) -> None:
    """Remove a preset from the library."""
    if not rows.remove_preset(open_store(store), name):
        raise _not_found(name)


def export_preset(
    name: str, path: str | Path, *, overwrite: bool = False, store: Store | None = None
) -> tuple[Path, list[str]]:
    """Write the preset to one JSON file (atomically); returns the path and notes on what was shortened."""
    preset, notes = portable(get_preset(name, store=store))
    target = Path(path)
    if target.exists() and not overwrite:
        raise _invalid([f"{target} already exists; choose another file name or allow overwriting"])
    atomic_write_text(target, preset_json(preset))
    return target, notes


def check_import(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    hardware: Any = None,
    store: Store | None = None,
) -> ImportResult:
    """Everything `import_preset` would do, without storing: the preset as it would be kept, the settings
    it would adjust for `hardware` (each with its reason), and whether it would replace one of that name.

    A page shows this before the person agrees to import; nothing changes here.

    Example:
        >>> from peftstudio.hardware import simulated_hardware
        >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings, TrainingSettings
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama", trust_remote_code=True),
        ...                 data=DataSettings(path="chat.jsonl"), training=TrainingSettings(precision="bf16"))
        >>> r = check_import(preset_json(Preset(name="shared", config=cfg)).encode(), hardware=simulated_hardware())
        >>> [a.setting for a in r.adjustments]
        ['model.trust_remote_code', 'training.precision']
    """
    preset = read_preset_bytes(source) if isinstance(source, bytes) else read_preset_file(source)
    if name is not None:
        preset = attrs.evolve(preset, name=name.strip())
        problems = preset_problems(preset)
        if problems:
            raise _invalid(problems)
    adjustments: list[Adjustment] = []
    if preset.config.model.trust_remote_code:
        model = attrs.evolve(preset.config.model, trust_remote_code=False)
        preset = attrs.evolve(preset, config=attrs.evolve(preset.config, model=model))
        adjustments.append(Adjustment(
            "model.trust_remote_code", True, False,
            "A shared preset cannot turn on running code from a model's repository; turn it on yourself "
            "if you trust that model.",
        ))
    notes: list[str] = []
    if hardware is not None:
        try:
            fit = fit_to_hardware(preset.config, hardware)
        except PlainError as exc:  # e.g. an unknown profile: keep the settings, say they were not checked
            notes.append(f"The settings were not checked against this machine: {exc.info.explanation}")
        else:
            preset = attrs.evolve(preset, config=fit.config)
            adjustments += fit.adjustments
            notes += fit.notes
    exists = rows.preset_data(open_store(store), preset.name) is not None
    return ImportResult(preset=preset, adjustments=tuple(adjustments), replaced=exists, notes=tuple(notes))


def import_preset(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    replace: bool = False,
    hardware: Any = None,
    store: Store | None = None,
) -> ImportResult:
    """Check a preset file completely, adjust it to `hardware` if given, then store it.

    Nothing is stored when any check fails. A shared preset cannot switch on running code from a
    model's repository: ``trust_remote_code`` is turned off (and reported as an adjustment).
    With a `hardware` profile the planner re-checks the memory-related settings and every change is
    reported with its reason (see `peftstudio.history.fit.fit_to_hardware`); `check_import` shows the
    same without storing.
    """
    checked = check_import(source, name=name, hardware=hardware, store=store)
    replaced = _write(open_store(store), checked.preset, replace=replace)
    return attrs.evolve(checked, replaced=replaced)


__all__ = [
    "MAX_PRESET_BYTES",
    "Adjustment",
    "ImportResult",
    "Preset",
    "PresetEntry",
    "check_import",
    "dataset_reference",
    "delete_preset",
    "export_preset",
    "get_preset",
    "import_preset",
    "list_presets",
    "portable",
    "preset_json",
    "preset_problems",
    "read_preset_bytes",
    "read_preset_file",
    "save_preset",
]
