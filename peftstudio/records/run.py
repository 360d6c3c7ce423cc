"""What a run has produced so far, as typed records: its `RunSummary` and, when paused, its `PauseReport`.

The store keeps a run's summary as a JSON object that several writers add keys to (the worker,
the quality score); `summary_from_stored` reads it into a `RunSummary`. Keys this version does not
know (written by a newer PEFT Studio, a plugin or a test) are kept in `extra` rather than refused,
so a store never becomes unreadable. On its own the record goes through the converter like every
other record: `convert.dumps` writes it with ``schema_version`` and `convert.loads` reads it back.

Example:
    >>> from peftstudio.records import convert
    >>> summary = summary_from_stored({"total_steps": 12, "steps": 12, "final_loss": 1.25, "note": "hi"})
    >>> summary.steps, summary.extra
    (12, {'note': 'hi'})
    >>> convert.loads(RunSummary, convert.dumps(summary)) == summary
    True
"""

from __future__ import annotations

from typing import Any

import attrs
from attrs import field, frozen

#: Keys of a stored summary that are not the summary's own (each has its own typed home).
NOT_SUMMARY = ("quality",)


@frozen
class PauseReport:
    """The state of a run at the moment it paused."""

    step: int
    reason: str
    elapsed_seconds: float | None = None
    remaining_seconds: float | None = None
    remaining_low_seconds: float | None = None
    remaining_high_seconds: float | None = None
    checkpoint: str | None = None
    resources: dict[str, Any] = field(factory=dict)


@frozen
class RunSummary:
    """A run's numbers: its plan (total steps) while it trains, its results once it has finished.

    Every field is optional: a queued run has none of them, a paused one has `pause` and `step`.
    """

    total_steps: int | None = None  # planned optimizer steps
    steps_per_epoch: int | None = None
    train_examples: int | None = None
    step: int | None = None  # the step it paused at
    pause: PauseReport | None = None
    steps: int | None = None  # steps done when it finished
    final_loss: float | None = None
    final_val_loss: float | None = None
    best_val_loss: float | None = None
    tokens_seen: int | None = None
    duration_seconds: float | None = None
    tokens_per_second: float | None = None
    adapter_path: str | None = None
    packing: bool | None = None
    extra: dict[str, Any] = field(factory=dict)  # keys this version does not know, kept as they were


def summary_from_stored(data: dict[str, Any]) -> RunSummary:
    """The `RunSummary` of a run's stored summary object (see the module's docstring for unknown keys)."""
    from peftstudio.records import convert

    own = {a.name for a in attrs.fields(RunSummary)} - {"extra"}
    known = {k: v for k, v in data.items() if k in own}
    extra = {k: v for k, v in data.items() if k not in own and k not in NOT_SUMMARY}
    return convert.from_dict(RunSummary, {**known, "extra": {**extra, **dict(data.get("extra") or {})}})


__all__ = ["PauseReport", "RunSummary", "summary_from_stored"]
