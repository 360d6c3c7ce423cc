"""The one data measurement plans are made from, whoever asks: the CLI, the library or a front end.

`planning_stats(path, model)` runs the data check with the model's own tokenizer (estimating from the
text only when the tokenizer cannot be loaded, e.g. a hub model while offline) and returns the usable
examples' token statistics. The figures are cached by the file's content and the tokenizer, so asking
again for an unchanged file costs a hash. `stats_of(report)` turns an existing check report into the same
figures (a front end that has just checked the file reuses its report).

Example:
    >>> from peftstudio.data.samples import sample_path
    >>> stats = planning_stats(sample_path("pirate_chat.jsonl"))   # no model: estimated token counts
    >>> stats.rows > 200 and stats.tokens_min <= stats.tokens_median <= stats.tokens_max
    True
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from peftstudio.data.check import DataReport, check_file
from peftstudio.errors import make
from peftstudio.records.data import DatasetStats


def stats_of(report: DataReport) -> DatasetStats | None:
    """The token statistics of a check report's usable examples (None when it has none): measured with the
    tokenizer when the check had one, else the check's own estimate."""
    if report.dataset_stats is not None:
        return report.dataset_stats
    s = report.stats
    if not s.usable_rows:
        return None
    return DatasetStats(rows=s.usable_rows, tokens_min=s.tokens_min, tokens_median=s.tokens_median,
                        tokens_p95=s.tokens_p95, tokens_max=s.tokens_max, tokens_total=s.tokens_total)


def tokenizer_or_none(model: str | None) -> Any:
    """The model's tokenizer for exact token counts; None (counts estimated) when it cannot be loaded."""
    if not model:
        return None
    try:
        from peftstudio.models import load_tokenizer

        return load_tokenizer(model)
    except Exception:  # noqa: BLE001 - an offline hub model and the like: the check estimates instead
        return None


def _cache_file(path: Path, tokenizer: Any) -> Path:
    from peftstudio import paths
    from peftstudio.data.build import tokenizer_fingerprint

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(b"|" + (tokenizer_fingerprint(tokenizer) if tokenizer is not None else "estimated").encode())
    return paths.sub("cache", "planning") / f"{digest.hexdigest()[:32]}.json"


def planning_stats(path: str | Path, model: str | None = None, *, tokenizer: Any = None) -> DatasetStats:
    """Token statistics of a data file's usable examples, measured with `model`'s tokenizer (cached).

    A plain ``dataset_invalid`` error when the file holds no usable example.
    """
    file = Path(path)
    if not file.is_file():
        raise make("file_not_found", path=str(file))
    tokenizer = tokenizer if tokenizer is not None else tokenizer_or_none(model)
    cache = _cache_file(file, tokenizer)
    try:
        return DatasetStats(**json.loads(cache.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    stats = stats_of(check_file(file, tokenizer=tokenizer))
    if stats is None:
        raise make("dataset_invalid", summary=f"{file.name} holds no examples PEFT Studio can read.")
    from attrs import asdict

    from peftstudio.files import atomic_write_text

    atomic_write_text(cache, json.dumps(asdict(stats)))
    return stats


def pick_model_for(hardware: Any, profile_id: str, path: str | Path | None = None,
                   overrides: Any = None, *, measured: Any = None) -> tuple[Any, DatasetStats | None]:
    """The profile's best model for this machine and this data file (`peftstudio.planner.pick_model`),
    and the file's statistics measured with that model's tokenizer (None without a file).

    The candidates are compared on the built-in model's token counts (offline); the pick is then
    measured with its own tokenizer, so its plan is the one `plan` would make for it. `measured`: how fast
    this machine has trained (`peftstudio.planner.plan`'s argument).
    """
    from peftstudio.planner.choose import FALLBACK, pick_model

    stats = planning_stats(path, FALLBACK) if path else None
    pick = pick_model(hardware, profile_id, stats, overrides, measured=measured)
    if path and pick.reference != FALLBACK:
        stats = planning_stats(path, pick.reference)
    return pick, stats


__all__ = ["pick_model_for", "planning_stats", "stats_of", "tokenizer_or_none"]
