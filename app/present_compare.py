"""Words and colours for run comparison: table columns and cells, chart titles, the settings that differ.

Example:
    >>> cell("final_val_loss", 5.91634), cell("duration_seconds", 95.0), cell("quality_score", None)
    ('5.92', '1 min 35 s', '\u2013')
    >>> sort_label("final_val_loss", "final_val_loss", descending=False)
    'Validation loss [font=DejaVuSans]\u2191[/font]'
"""

from __future__ import annotations

from typing import Any

from app import colours as theme  # (no Kivy metrics: the controller opens no window)
from app import presenting as say
from app.present_playground import when
from app.present_presets import setting_name, value_text

#: The table's sortable columns, in order, with their headings (keys of `peftstudio.history.COLUMNS`).
COLUMN_LABELS: dict[str, str] = {
    "name": "Run",
    "date": "Finished",
    "final_val_loss": "Validation loss",
    "best_val_loss": "Best val. loss",
    "quality_score": "Quality",
    "duration_seconds": "Training time",
    "tokens_per_second": "Tokens/s",
    "cost": "Cost",
}

#: Metrics drawn as charts, in order, with their titles; other metrics (ETAs, epochs) are not compared.
CHART_TITLES: dict[str, str] = {
    "loss": "Training loss",
    "val_loss": "Validation loss",
    "tokens_per_second": "Speed (tokens per second)",
    "grad_norm": "Gradient size",
    "learning_rate": "Learning rate",
}

#: One colour per chosen run (readable on the dark background, told apart by hue).
SERIES_COLOURS: tuple[tuple[float, float, float, float], ...] = (
    theme.ACCENT, theme.WARN, theme.GOOD, (0.93, 0.47, 0.83, 1), (0.40, 0.85, 0.92, 1))

#: Settings that differ between any two runs and say nothing about how they were trained.
UNINTERESTING = ("name",)


def cell(column: str, value: Any, now: float | None = None) -> str:
    """A table cell's text; a dash when the run does not have this value."""
    if value is None:
        return "\u2013"
    if column == "date":
        return when(value, now)
    if column in ("final_val_loss", "best_val_loss"):
        return f"{value:.3g}"
    if column == "quality_score":
        return f"{value:.0f} / 100"
    if column == "duration_seconds":
        return say.duration(value)
    if column == "tokens_per_second":
        return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"
    if column == "cost":
        return f"{value:.2f}"
    return str(value)


def quality_parts(row: Any) -> str:
    """The quality score's task and retention parts of a run's table row, when its checks ran ("" when not).

    Example:
        >>> from types import SimpleNamespace as N
        >>> quality_parts(N(task_score=40.0, retention_score=20.0, forgotten_answers=3.0, forgetting=True))
        'Task 40 / 50 \u00b7 Retention 20 / 50, forgot 3 (flagged for forgetting)'
        >>> quality_parts(N(task_score=None, retention_score=None, forgotten_answers=None, forgetting=False))
        ''
    """
    out = []
    if row.task_score is not None:
        out.append(f"Task {row.task_score:.0f} / 50")
    if row.retention_score is not None:
        out.append(f"Retention {row.retention_score:.0f} / 50")
    elif row.forgotten_answers is not None:
        out.append("Retention not scored")
    text = " \u00b7 ".join(out)
    if row.forgotten_answers is not None:
        text += f", forgot {row.forgotten_answers:.0f}"
    return text + (" (flagged for forgetting)" if row.forgetting else "")


def sort_label(column: str, sort: str, *, descending: bool) -> str:
    """A column heading (Kivy markup), with an arrow on the column the table is sorted by (up: smallest first).

    The arrow is drawn with DejaVu Sans, Kivy's font that has it (Roboto has no arrows).
    """
    heading = COLUMN_LABELS[column]
    if column != sort:
        return heading
    arrow = "\u2193" if descending else "\u2191"
    return f"{heading} [font=DejaVuSans]{arrow}[/font]"


def best_columns(comparison: Any, run_id: str) -> set[str]:
    """The table columns in which `run_id` is the best of the chosen runs."""
    if comparison is None:
        return set()
    return {col for col, rid in comparison.best.items() if rid == run_id and not col.startswith("metric:")}


def charts(comparison: Any) -> list[Any]:
    """The comparison's charts worth drawing (`CHART_TITLES`), in that order."""
    if comparison is None:
        return []
    by_name = {c.name: c for c in comparison.charts}
    return [by_name[name] for name in CHART_TITLES if name in by_name]


def short(value: float) -> str:
    """A figure for a subtitle: whole numbers with separators from 100 up, else 3 significant digits.

    Example:
        >>> short(2361.4), short(5.91634), short(0.000123)
        ('2,361', '5.92', '0.000123')
    """
    return f"{value:,.0f}" if abs(value) >= 100 else say.number(value)


def chart_subtitle(chart: Any, names: dict[str, str]) -> str:
    """``lower is better; lowest reached: Run 3 (5.92)`` under a chart's title (the best value any point reached,
    so a speed chart may name another run than the table's average speed)."""
    if chart.lower_is_better is None or chart.best_run_id is None:
        return "no better or worse: shown for reference"
    best = chart.best_value.get(chart.best_run_id)
    value = f" ({short(best)})" if best is not None else ""
    direction = "lower is better; lowest" if chart.lower_is_better else "higher is better; highest"
    return f"{direction} reached: {names.get(chart.best_run_id, chart.best_run_id)}{value}"


def series(chart: Any, axis: str = "step") -> dict[str, list[tuple[float, float]]]:
    """Each run's points ``(x, value)`` of a `MetricChart` on the chosen axis (``step`` or ``tokens``)."""
    xs = chart.steps if axis == "step" else chart.tokens
    values = chart.by_step if axis == "step" else chart.by_tokens
    return {rid: [(float(x), float(v)) for x, v in zip(xs, vs, strict=True) if v is not None]
            for rid, vs in values.items()}


def differences(comparison: Any, names: dict[str, str]) -> list[tuple[str, str]]:
    """(setting name, ``Run 1: 0.02 · Run 2: 0.005``) for each setting that differs."""
    if comparison is None:
        return []
    out = []
    for diff in comparison.differences:
        if diff.path in UNINTERESTING:
            continue
        values = " \u00b7 ".join(f"{names.get(rid, rid)}: {value_text(v)}"
                                 for rid, v in zip(comparison.run_ids, diff.values, strict=True))
        out.append((setting_name(diff.path), values))
    return out
