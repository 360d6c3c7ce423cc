"""Comparing runs: a sortable table, metric charts aligned by step and by tokens, config differences.

Everything is computed from the store: a run's summary (written by the
engine when it completes) is preferred, its metrics are the fallback.

Example:
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings, TrainingSettings
    >>> a = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...               data=DataSettings(path="chat.jsonl"))
    >>> b = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...               data=DataSettings(path="chat.jsonl"), training=TrainingSettings(learning_rate=1e-3))
    >>> [(d.path, d.values) for d in config_differences([a, b])]
    [('training.learning_rate', (0.0002, 0.001))]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from attrs import frozen

from peftstudio.errors import PlainError, make
from peftstudio.records import convert
from peftstudio.records.config import RunConfig
from peftstudio.store import RunRow, Store, open_store

#: Metric names the engine may use for the validation loss, most likely first.
VAL_LOSS_NAMES = ("val_loss", "validation_loss", "eval_loss")

#: Table columns, and whether a smaller value is better (None: no "better", e.g. a date).
COLUMNS: dict[str, bool | None] = {
    "final_val_loss": True,
    "best_val_loss": True,
    "quality_score": False,
    "task_score": False,  # the quality score's parts, when the checks after training ran
    "retention_score": False,
    "forgotten_answers": True,
    "duration_seconds": True,
    "tokens_per_second": False,
    "cost": True,
    "date": None,
    "name": None,
}

# Summary keys that may hold a column's value, in order of preference.
_SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "final_val_loss": ("final_val_loss", "val_loss"),
    "best_val_loss": ("best_val_loss",),
    "quality_score": ("quality_score", "score"),
    "duration_seconds": ("duration_seconds",),
    "tokens_per_second": ("tokens_per_second", "tokens_per_s"),
    "cost": ("cost", "electricity_cost"),
}

MIN_COMPARED, MAX_COMPARED = 2, 5


@frozen
class RunTableRow:
    """One completed run as the comparison table shows it (None: not known for this run)."""

    run_id: str
    name: str
    model: str
    profile: str
    date: float
    final_val_loss: float | None
    best_val_loss: float | None
    quality_score: float | None
    duration_seconds: float | None
    tokens_per_second: float | None
    cost: float | None
    task_score: float | None = None  # the quality score's task part (points of 50), when the checks ran
    retention_score: float | None = None  # its retention part (points of 50)
    forgotten_answers: float | None = None  # general questions the base model knew and this run's model forgot
    forgetting: bool = False  # flagged for forgetting


@frozen
class MetricChart:
    """One metric of 2-5 runs, aligned on shared x values so a chart can draw them together.

    `by_step[run_id][i]` is the run's value at `steps[i]` (None where it has no point there); the same
    for `by_tokens` over `tokens`. `best_run_id` is the run with the best value reached (lowest for
    losses, highest for scores and speeds; None when "better" has no meaning, e.g. learning rate).
    """

    name: str
    lower_is_better: bool | None
    steps: tuple[int, ...]
    by_step: dict[str, tuple[float | None, ...]]
    tokens: tuple[int, ...]
    by_tokens: dict[str, tuple[float | None, ...]]
    best_value: dict[str, float]
    best_run_id: str | None


@frozen
class ConfigDifference:
    """One setting that differs between runs: its dotted path and each run's value, in run order."""

    path: str
    values: tuple[Any, ...]


@frozen
class Comparison:
    """2-5 runs side by side: table rows, charts per metric, the best run per column, the differences."""

    run_ids: tuple[str, ...]
    rows: tuple[RunTableRow, ...]
    charts: tuple[MetricChart, ...]
    best: dict[str, str]
    differences: tuple[ConfigDifference, ...]


# ---------------------------------------------------------------- pure helpers


def lower_is_better(metric: str) -> bool | None:
    """Whether a smaller value of `metric` is better; None when neither direction is "better".

    Example:
        >>> lower_is_better("val_loss"), lower_is_better("tokens_per_second"), lower_is_better("learning_rate")
        (True, False, None)
    """
    name = metric.lower()
    if any(k in name for k in ("loss", "perplexity", "ppl", "duration", "seconds", "cost", "memory", "forgotten")):
        return True
    if any(k in name for k in ("score", "accuracy", "tokens_per", "throughput", "reward")):
        return False
    return None


def best_of(values: dict[str, float | None], lower: bool | None) -> str | None:
    """The key with the best value (first one wins a tie); None without a direction or values.

    Example:
        >>> best_of({"a": 2.0, "b": 1.0, "c": None}, True)
        'b'
    """
    known = [(k, v) for k, v in values.items() if v is not None]
    if lower is None or not known:
        return None
    pick = min if lower else max
    return pick(known, key=lambda kv: kv[1])[0]


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Plain nested data as ``{"dotted.path": value}``; lists stay whole values.

    Example:
        >>> flatten({"a": {"b": 1, "c": [1, 2]}, "d": {}})
        {'a.b': 1, 'a.c': [1, 2], 'd': {}}
    """
    if not isinstance(data, dict) or (not data and prefix):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def config_differences(configs: Sequence[RunConfig]) -> list[ConfigDifference]:
    """Only the settings whose values are not all equal, as dotted paths in sorted order."""
    flat = [flatten(convert.to_dict(c)) for c in configs]
    paths = sorted(set().union(*flat)) if flat else []
    missing = object()
    out = []
    for path in paths:
        values = [f.get(path, missing) for f in flat]
        if any(v != values[0] for v in values[1:]):
            out.append(ConfigDifference(path, tuple(None if v is missing else v for v in values)))
    return out


def align(series: dict[str, list[tuple[int, float]]]) -> tuple[tuple[int, ...], dict[str, tuple[float | None, ...]]]:
    """Points ``(x, value)`` of several runs on one shared, sorted x axis (None where a run has none).

    A run with several points at the same x keeps the last one.

    Example:
        >>> align({"a": [(1, 0.5), (2, 0.4)], "b": [(2, 0.6)]})
        ((1, 2), {'a': (0.5, 0.4), 'b': (None, 0.6)})
    """
    xs = tuple(sorted({x for points in series.values() for x, _ in points}))
    out: dict[str, tuple[float | None, ...]] = {}
    for run_id, points in series.items():
        at = dict(points)
        out[run_id] = tuple(at.get(x) for x in xs)
    return xs, out


def best_first(by: str) -> bool:
    """Whether sorting by column `by` puts the best first in descending order (newest first for the date).

    Example:
        >>> best_first("quality_score"), best_first("final_val_loss"), best_first("date")
        (True, False, True)
    """
    return by == "date" or COLUMNS.get(by) is False


def sort_rows(rows: Sequence[RunTableRow], by: str = "date", *, descending: bool | None = None) -> list[RunTableRow]:
    """Rows sorted by a column; unknown values always last. Default order puts the best first
    (newest first for the date: `best_first`)."""
    if by not in COLUMNS:
        raise make("config_invalid", problems=f"sort: unknown column {by!r}; choose one of {', '.join(COLUMNS)}")
    if descending is None:
        descending = best_first(by)
    known = [r for r in rows if getattr(r, by) is not None]
    unknown = [r for r in rows if getattr(r, by) is None]
    key = (lambda r: r.name.casefold()) if by == "name" else (lambda r: getattr(r, by))
    return sorted(known, key=key, reverse=descending) + unknown


# ---------------------------------------------------------------- from the store


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def quality_figures(summary: dict[str, Any]) -> dict[str, float]:
    """The quality score's figures stored in a run's summary: the total and, when the checks after training
    ran, the task and retention parts' points and the number of forgotten answers.

    Example:
        >>> quality_figures({"quality": {"total": 58, "flags": ["forgetting"], "parts": [
        ...     {"name": "task", "points": 40.0}, {"name": "retention", "points": 20.0}],
        ...     "checks": {"retention": {"forgotten": [{}, {}, {}]}}}})
        {'quality_score': 58.0, 'task_score': 40.0, 'retention_score': 20.0, 'forgotten_answers': 3.0}
        >>> quality_figures({})
        {}
    """
    quality = summary.get("quality")
    if not isinstance(quality, dict):
        return {}
    out: dict[str, float] = {}
    total = _number(quality.get("total"))
    if total is not None:
        out["quality_score"] = total
    for part in quality.get("parts") or ():
        points = _number(part.get("points")) if isinstance(part, dict) else None
        if points is not None and part.get("name") in ("task", "retention"):
            out[f"{part['name']}_score"] = round(points, 1)
    checks = quality.get("checks")
    retention = checks.get("retention") if isinstance(checks, dict) else None
    if isinstance(retention, dict):
        out["forgotten_answers"] = float(len(retention.get("forgotten") or ()))
    return out


def table_row(run: RunRow, metrics: list[dict[str, Any]]) -> RunTableRow:
    """A run's table row from its summary, falling back on its metrics."""
    summary = run.summary or {}
    values: dict[str, float | None] = {}
    for column, keys in _SUMMARY_KEYS.items():
        values[column] = next((_number(summary[k]) for k in keys if _number(summary.get(k)) is not None), None)
    figures = quality_figures(summary)  # the engine's quality report (0-100) and its checks' parts
    if values["quality_score"] is None:
        values["quality_score"] = figures.get("quality_score")
    for key in ("task_score", "retention_score", "forgotten_answers"):
        values[key] = figures.get(key)
    quality = summary.get("quality")
    forgetting = isinstance(quality, dict) and "forgetting" in (quality.get("flags") or ())
    val_name = next((n for n in VAL_LOSS_NAMES if any(m["name"] == n for m in metrics)), None)
    val = [m["value"] for m in metrics if m["name"] == val_name]
    if values["final_val_loss"] is None and val:
        values["final_val_loss"] = val[-1]
    if values["best_val_loss"] is None and val:
        values["best_val_loss"] = min(val)
    if values["duration_seconds"] is None:
        if run.elapsed_seconds:
            values["duration_seconds"] = run.elapsed_seconds
        elif run.started_at and run.finished_at:
            values["duration_seconds"] = run.finished_at - run.started_at
    if values["tokens_per_second"] is None and values["duration_seconds"]:
        tokens = max((m["tokens_seen"] for m in metrics), default=0)
        if tokens:
            values["tokens_per_second"] = tokens / values["duration_seconds"]
    return RunTableRow(run_id=run.id, name=run.name, model=run.config.model.reference,
                       profile=run.config.profile, date=run.finished_at or run.created_at, forgetting=forgetting,
                       **values)


def runs_table(
    *, sort_by: str = "date", descending: bool | None = None, store: Store | None = None
) -> list[RunTableRow]:
    """All completed runs as table rows, sorted by any column of `COLUMNS`."""
    s = open_store(store)
    rows = [table_row(r, s.metrics(r.id)) for r in s.list_runs(status="completed")]
    return sort_rows(rows, sort_by, descending=descending)


def _get_run(store: Store, run_id: str) -> RunRow:
    try:
        return store.get_run(run_id)
    except KeyError:
        raise make("run_not_found", run_id=run_id) from None


def _reached(points: list[tuple[int, float]], lower: bool | None) -> float:
    # The best value a run reached; for a metric without a "better" direction, its last value.
    values = [v for _, v in points]
    if lower is None:
        return values[-1]
    return min(values) if lower else max(values)


def compare_runs(run_ids: Sequence[str], *, store: Store | None = None) -> Comparison:
    """Compare 2-5 runs: charts per metric aligned by step and by tokens seen, the best run per
    metric and per table column, and the settings that differ."""
    if not MIN_COMPARED <= len(run_ids) <= MAX_COMPARED:
        raise make("config_invalid",
                   problems=f"runs: choose {MIN_COMPARED} to {MAX_COMPARED} runs to compare, not {len(run_ids)}")
    s = open_store(store)
    runs = [_get_run(s, rid) for rid in run_ids]
    ids = [r.id for r in runs]
    if len(set(ids)) != len(ids):
        raise make("config_invalid", problems="runs: the same run was chosen twice")
    metrics = {r.id: s.metrics(r.id) for r in runs}
    rows = tuple(table_row(r, metrics[r.id]) for r in runs)
    names = sorted({m["name"] for ms in metrics.values() for m in ms})
    charts = []
    for name in names:
        by_step = {rid: [(m["step"], m["value"]) for m in ms if m["name"] == name] for rid, ms in metrics.items()}
        by_tok = {rid: [(m["tokens_seen"], m["value"]) for m in ms if m["name"] == name]
                  for rid, ms in metrics.items()}
        lower = lower_is_better(name)
        best_value = {rid: _reached(pts, lower) for rid, pts in by_step.items() if pts}
        steps, step_values = align(by_step)
        tokens, token_values = align(by_tok)
        charts.append(MetricChart(name=name, lower_is_better=lower, steps=steps, by_step=step_values,
                                  tokens=tokens, by_tokens=token_values, best_value=best_value,
                                  best_run_id=best_of(dict(best_value), lower)))
    best: dict[str, str] = {}
    for column, lower in COLUMNS.items():
        winner = best_of({r.run_id: getattr(r, column) for r in rows}, lower)
        if winner is not None:
            best[column] = winner
    for chart in charts:
        if chart.best_run_id is not None:
            best[f"metric:{chart.name}"] = chart.best_run_id
    return Comparison(run_ids=tuple(ids), rows=rows, charts=tuple(charts), best=best,
                      differences=tuple(config_differences([r.config for r in runs])))


def clone_run_config(run_id: str, *, name: str | None = None, store: Store | None = None) -> RunConfig:
    """A new run configuration equal to the run's own (renamed if `name` is given), ready to train.

    Example:
        >>> from peftstudio.store import Store
        >>> import tempfile, pathlib
        >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
        >>> s = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path="chat.jsonl"))
        >>> clone_run_config(s.create_run(cfg).id, store=s) == cfg
        True
    """
    config = _get_run(open_store(store), run_id).config
    return attrs.evolve(config, name=name) if name is not None else config


def comparison_dict(comparison: Comparison) -> dict[str, Any]:
    """Plain data for ``--json`` and screens."""
    return convert.to_dict(comparison)


__all__ = [
    "COLUMNS",
    "VAL_LOSS_NAMES",
    "Comparison",
    "ConfigDifference",
    "MetricChart",
    "RunTableRow",
    "align",
    "best_of",
    "clone_run_config",
    "compare_runs",
    "comparison_dict",
    "config_differences",
    "flatten",
    "lower_is_better",
    "quality_figures",
    "runs_table",
    "sort_rows",
    "table_row",
]

_ = PlainError  # re-exported errors are PlainError values built by `make`
