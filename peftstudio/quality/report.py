"""What the checks after training found, as records stored with the quality score.

`TaskCheck`: the run's own task on held-out examples, base and tuned side by side, with the examples
that changed most. `RetentionCheck`: the bundled general questions, with what the tuned model forgot.
`ChecksReport`: both, and what they cost.

Example:
    >>> t = TaskCheck("label accuracy", examples=4, base=0.25, tuned=0.75)
    >>> t.gain
    0.5
    >>> r = RetentionCheck(asked=10, base_right=8, tuned_right=6, forgotten=(
    ...     Forgotten("How many legs does a cat have?", ("4", "four"), "Four.", "Five, me hearty!"),))
    >>> r.forgotten_count, r.kept
    (1, 0.875)
"""

from __future__ import annotations

from attrs import field, frozen

from peftstudio.tuples import as_tuple


@frozen
class ExampleChange:
    """One held-out example, answered by both models, with each answer's score (0..1)."""

    prompt: str
    reference: str
    base: str
    tuned: str
    base_score: float
    tuned_score: float

    @property
    def change(self) -> float:
        return self.tuned_score - self.base_score


@frozen
class TaskCheck:
    """The run's task on `examples` held-out examples: the mean `metric` of the base and the tuned model."""

    metric: str
    examples: int
    base: float
    tuned: float
    changed: tuple[ExampleChange, ...] = field(default=(), converter=as_tuple)
    language: str = ""  # code generation: the language most answers were written in

    @property
    def gain(self) -> float:
        return round(self.tuned - self.base, 6)


@frozen
class Forgotten:
    """A general question the base model answered right and the tuned model got wrong."""

    question: str
    accepted: tuple[str, ...] = field(converter=as_tuple)
    base: str
    tuned: str


@frozen
class RetentionCheck:
    """The bundled general questions: how many the base and the tuned model got right, and what was forgotten."""

    asked: int
    base_right: int
    tuned_right: int
    forgotten: tuple[Forgotten, ...] = field(default=(), converter=as_tuple)
    learned: int = 0  # wrong before, right after
    drift: float | None = None  # nats per question (peftstudio.quality.retention.drift); None: not measured
    drift_asked: int = 0  # the questions the drift was measured on

    @property
    def forgotten_count(self) -> int:
        return len(self.forgotten)

    @property
    def kept(self) -> float:
        """The share of what the base model knew that the tuned model still knows (1.0 when it knew nothing)."""
        return 1.0 - self.forgotten_count / self.base_right if self.base_right else 1.0


@frozen
class ChecksReport:
    """The checks after training: each part (None when not measured), with why, and their cost.

    `budget_seconds` is read from runs checked before the checks became a fixed set (they ran within a time
    budget then); it is 0 for every later run.
    """

    task: TaskCheck | None = None
    retention: RetentionCheck | None = None
    seconds: float = 0.0
    budget_seconds: float = 0.0
    notes: tuple[str, ...] = field(default=(), converter=as_tuple)  # e.g. "the checks could not run: ..."


__all__ = ["ChecksReport", "ExampleChange", "Forgotten", "RetentionCheck", "TaskCheck"]
