"""Datasets for training: tokenized, prompt-masked, split deterministically, cached by content.

`build_datasets` reads the file the run's `DataSettings` names, turns each
usable row into chat turns, renders it with the tokenizer's chat template and
masks everything but the assistant's answers with -100 (text-only data is
trained on whole). Examples longer than the sequence length are cut to it.
The train/validation split is seeded and grouped: copies and near copies of an
example always land on the same side. The result is cached under the home
folder by a hash of the file's bytes and every setting that shapes it.

Example:
    >>> ref = dataset_reference(__import__("peftstudio.data.samples", fromlist=["x"]).sample_path("qa.csv"))
    >>> len(ref.sha256), ref.rows > 0
    (64, True)
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from attrs import frozen

from peftstudio import paths
from peftstudio.data import template
from peftstudio.data.check import iter_examples, open_plain, resolve_structure
from peftstudio.data.dedup import DuplicateFinder
from peftstudio.data.detect import Example
from peftstudio.data.findings import Structure
from peftstudio.errors import make
from peftstudio.records import DatasetReference, DataSettings

#: Bump when the way examples are tokenized changes, so old caches are not reused.
BUILD_VERSION = 2


@frozen
class TokenizedSplits:
    """Tokenized train and validation examples, each ``{"input_ids": [...], "labels": [...]}``.

    `labels` equal `input_ids` where the model is trained and are -100 elsewhere. `skipped` counts rows
    left out (unreadable, empty, wrong structure, nothing to train on); `truncated` examples cut to length.
    """

    train: list[dict[str, list[int]]]
    validation: list[dict[str, list[int]]]
    reference: DatasetReference
    structure: Structure
    skipped: int = 0
    truncated: int = 0
    from_cache: bool = False


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_reference(path: str | Path) -> DatasetReference:
    """Path, SHA-256 and number of rows read of a data file: enough to tell later if it is the same data."""
    source = open_plain(path)
    structure, _ = resolve_structure(source)
    rows = sum(1 for _ in iter_examples(source, structure, strict_structure=False))
    return DatasetReference(path=str(Path(path).resolve()), sha256=file_sha256(path), rows=rows)


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A hash of everything in a tokenizer that changes token ids or the chat template."""
    digest = hashlib.sha256()
    for part in (getattr(tokenizer, "name_or_path", ""), len(tokenizer), getattr(tokenizer, "chat_template", ""),
                 getattr(tokenizer, "eos_token", ""), getattr(tokenizer, "bos_token", "")):
        digest.update(repr(part).encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        digest.update(backend.to_str().encode())
    return digest.hexdigest()


def _cache_path(settings: DataSettings, sha: str, tokenizer: Any, sequence_length: int, seed: int) -> Path:
    key = json.dumps({
        "version": BUILD_VERSION, "sha256": sha, "structure": settings.structure,
        "mapping": sorted(settings.column_mapping.items()), "validation": settings.validation_fraction,
        "tokenizer": tokenizer_fingerprint(tokenizer), "length": sequence_length, "seed": seed,
    }, sort_keys=True)
    return paths.sub("cache", "datasets") / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def split_groups(groups: list[int], fraction: float, seed: int) -> set[int]:
    """Which groups go to validation: seeded, about `fraction` of the examples, never all of them.

    `groups` holds one group id per example (copies share one).

    Example:
        >>> sorted(split_groups([1, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.2, seed=0)) == sorted(split_groups(
        ...     [1, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.2, seed=0))
        True
    """
    sizes: dict[int, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    if fraction <= 0 or len(sizes) < 2:
        return set()
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    wanted = max(1, round(fraction * len(groups)))
    chosen: set[int] = set()
    taken = 0
    for g in order[:-1]:  # the last group always trains
        if taken >= wanted:
            break
        chosen.add(g)
        taken += sizes[g]
    return chosen


def build_datasets(settings: DataSettings, tokenizer: Any, sequence_length: int, seed: int) -> TokenizedSplits:
    """Tokenized, masked, split training data for a run (see the module docstring).

    Raises a plain ``dataset_invalid`` error when the file has no usable example.

    Example:
        >>> from peftstudio.data.samples import sample_path
        >>> from peftstudio.models import load_tokenizer  # doctest: +SKIP
        >>> tok = load_tokenizer("builtin:tiny-llama")  # doctest: +SKIP
        >>> splits = build_datasets(DataSettings(path=str(sample_path("pirate_chat.jsonl"))),
        ...                         tok, 128, 42)  # doctest: +SKIP
        >>> set(splits.train[0]) == {"input_ids", "labels"}  # doctest: +SKIP
        True
    """
    source = open_plain(settings.path)
    sha = file_sha256(settings.path)
    cache = _cache_path(settings, sha, tokenizer, sequence_length, seed)
    if cache.exists():
        try:
            return _load(cache)
        except (ValueError, KeyError, TypeError):
            cache.unlink(missing_ok=True)  # damaged cache: rebuild it
    structure, _ = resolve_structure(source, settings.column_mapping or None, settings.structure)
    rows: list[int] = []
    examples: list[dict[str, list[int]]] = []
    finder = DuplicateFinder()
    total = skipped = truncated = 0
    for raw, ex, _problem, _detail in iter_examples(source, structure,
                                                    strict_structure=not settings.column_mapping):
        total += 1
        if ex is None:
            skipped += 1
            continue
        ids, labels = template.tokenize(ex, tokenizer)
        if len(ids) > sequence_length:
            ids, labels = ids[:sequence_length], labels[:sequence_length]
            truncated += 1
        if all(label == template.IGNORE_INDEX for label in labels):
            skipped += 1
            continue
        finder.add(raw.row, ex.turns, ex.text)
        rows.append(raw.row)
        examples.append({"input_ids": ids, "labels": labels})
    if not examples:
        raise make("dataset_invalid", summary=f"{settings.path} has no usable examples ({total} rows read).")
    group_of = finder.finish().groups()
    groups = [group_of.get(r, r) for r in rows]
    validation_groups = split_groups(groups, settings.validation_fraction, seed)
    train = [e for e, g in zip(examples, groups, strict=True) if g not in validation_groups]
    validation = [e for e, g in zip(examples, groups, strict=True) if g in validation_groups]
    reference = DatasetReference(path=str(Path(settings.path).resolve()), sha256=sha, rows=total)
    splits = TokenizedSplits(train, validation, reference, structure, skipped, truncated)
    _save(cache, splits)
    return splits


def _save(path: Path, splits: TokenizedSplits) -> None:
    from peftstudio.records.convert import to_dict
    from peftstudio.store.files import atomic_write_text

    doc = {"version": BUILD_VERSION, "train": splits.train, "validation": splits.validation,
           "reference": to_dict(splits.reference), "structure": to_dict(splits.structure),
           "skipped": splits.skipped, "truncated": splits.truncated}
    atomic_write_text(path, json.dumps(doc, separators=(",", ":")))


def _load(path: Path) -> TokenizedSplits:
    from peftstudio.records.convert import from_dict

    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("version") != BUILD_VERSION:
        raise ValueError("old cache")
    return TokenizedSplits(doc["train"], doc["validation"], from_dict(DatasetReference, doc["reference"]),
                           from_dict(Structure, doc["structure"]), doc["skipped"], doc["truncated"],
                           from_cache=True)


__all__ = ["BUILD_VERSION", "TokenizedSplits", "build_datasets", "dataset_reference", "file_sha256",
           "split_examples", "split_groups", "tokenizer_fingerprint"]


def split_examples(settings: DataSettings, seed: int) -> tuple[list[Example], list[Example]]:
    """(training, held-out) examples of a data file, split as `build_datasets` splits them (same grouping
    of copies, same seed), so the held-out ones are examples the model did not train on."""
    source = open_plain(settings.path)
    structure, _ = resolve_structure(source, settings.column_mapping or None, settings.structure)
    rows: list[int] = []
    examples = []
    finder = DuplicateFinder()
    for raw, ex, _problem, _detail in iter_examples(source, structure,
                                                    strict_structure=not settings.column_mapping):
        if ex is None or ex.text_only:
            continue
        finder.add(raw.row, ex.turns, ex.text)
        rows.append(raw.row)
        examples.append(ex)
    if not examples:
        return [], []
    group_of = finder.finish().groups()
    groups = [group_of.get(r, r) for r in rows]
    held_out = split_groups(groups, settings.validation_fraction, seed)
    split: tuple[list[Example], list[Example]] = ([], [])
    for ex, group in zip(examples, groups, strict=True):
        split[group in held_out].append(ex)
    return split


def validation_prompts(settings: DataSettings, seed: int, n: int = 3) -> list[str]:
    """The first user message of up to `n` held-out (validation) examples, for the playground's examples."""
    prompts: list[str] = []
    for ex in split_examples(settings, seed)[1]:
        user = next((content for role, content in ex.turns if role == "user" and content.strip()), None)
        if user and user.strip() not in prompts:
            prompts.append(user.strip())
        if len(prompts) >= n:
            break
    return prompts
