"""What the planner needs to know about a dataset, as measured by the data check."""

from __future__ import annotations

from attrs import frozen


@frozen
class DatasetStats:
    """Row count and token lengths of a dataset (tokens as the chosen model's tokenizer counts them).

    Example:
        >>> DatasetStats(rows=300, tokens_min=20, tokens_median=90, tokens_p95=180, tokens_max=240,
        ...              tokens_total=28000).tokens_p95
        180
    """

    rows: int
    tokens_min: int
    tokens_median: int
    tokens_p95: int
    tokens_max: int
    tokens_total: int
