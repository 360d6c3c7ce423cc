"""What a guard decided: a reason code, a plain message, suggestions and the action it took.

Every guard (divergence, overfitting, memory, gradients) has a pure ``decide(...)``
that returns a `Decision`; its Lightning callback acts on it and reports a
`GuardReport` to its listeners. The worker's listener writes the report to the run's
events with `record_guard_report` (kind, message, suggestions, action, reason).

Example:
    >>> d = Decision.ok()
    >>> d.triggered, d.reason.message
    (False, 'Nothing to report.')
    >>> d = Decision(Reason.NON_FINITE_LOSS, "The loss became nan.", ("Lower the learning rate.",), GuardAction.PAUSE)
    >>> d.triggered, d.action.value
    (True, 'pause')
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from attrs import field, frozen

from peftstudio.errors.plain import ErrorInfo
from peftstudio.tuples import as_tuple


class Reason(enum.Enum):
    """Why a guard spoke up; `message` is the reason in plain words."""

    NONE = "none"
    NON_FINITE_LOSS = "non_finite_loss"
    LOSS_RISING = "loss_rising"
    VALIDATION_RISING = "validation_rising"
    GAP_GROWING = "gap_growing"
    MEMORY_HIGH = "memory_high"
    MEMORY_DROPPING = "memory_dropping"
    OUT_OF_MEMORY = "out_of_memory"
    NON_FINITE_GRADIENT = "non_finite_gradient"
    GRADIENT_SPIKE = "gradient_spike"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Reason.NONE: "Nothing to report.",
    Reason.NON_FINITE_LOSS: "The training loss is no longer a number (NaN or infinite).",
    Reason.LOSS_RISING: "The training loss rose far above its lowest value and stayed there.",
    Reason.VALIDATION_RISING: "The validation loss kept rising while the training loss kept falling.",
    Reason.GAP_GROWING: "The gap between validation and training loss kept growing.",
    Reason.MEMORY_HIGH: "Memory use is above the safe limit.",
    Reason.MEMORY_DROPPING: "Free memory is shrinking fast (another program may have started).",
    Reason.OUT_OF_MEMORY: "A training step ran out of memory.",
    Reason.NON_FINITE_GRADIENT: "The gradients are no longer numbers (NaN or infinite).",
    Reason.GRADIENT_SPIKE: "The gradient norm jumped far above its recent values.",
}


class GuardAction(enum.Enum):
    """What the guard did (or asks the user to do)."""

    NONE = "none"
    PAUSE = "pause"  # the run stops with its checkpoints kept
    STOP_EARLY = "stop_early"  # training ends now; the best checkpoint's weights are kept
    RECOMMEND = "recommend"  # only advice; training goes on unchanged
    SHRINK_BATCH = "shrink_batch"  # smaller micro-batch, more accumulation, same effective batch
    CANNOT_SHRINK = "cannot_shrink"  # memory is short but the micro-batch is already 1
    CLIP_AND_ROLLBACK = "clip_and_rollback"  # clipping on, weights back to the last stable checkpoint
    ROLLBACK = "rollback"  # weights back to the last stable checkpoint (clipping was already on)


@frozen
class Decision:
    """One guard decision: `reason` (code), `message` (with the numbers), `suggestions`, `action`.

    `details` holds the numbers behind the message (plain data) for screens and tests.
    """

    reason: Reason
    message: str
    suggestions: tuple[str, ...] = field(default=(), converter=as_tuple)
    action: GuardAction = GuardAction.NONE
    details: dict[str, Any] = field(factory=dict)

    @property
    def triggered(self) -> bool:
        return self.reason is not Reason.NONE

    @classmethod
    def ok(cls) -> Decision:
        """The decision that nothing is wrong."""
        return cls(Reason.NONE, Reason.NONE.message)


@frozen
class GuardReport:
    """A triggered decision of guard `guard` at optimizer step `step`, as sent to listeners.

    `config_changes` are the run settings the guard changed (dotted names such as
    ``training.max_grad_norm``); `error` is the plain error to show with the run (e.g.
    ``nan_loss`` when divergence paused it), so ``peftstudio fix`` can list its actions.
    """

    guard: str
    step: int
    decision: Decision
    config_changes: dict[str, Any] = field(factory=dict)
    error: ErrorInfo | None = None

    @property
    def kind(self) -> str:
        """The event kind in the run's event list."""
        return {"divergence": "divergence", "overfitting": "overfitting", "memory": "memory_pressure",
                "gradients": "gradient_explosion"}.get(self.guard, self.guard)

    def event_data(self) -> dict[str, Any]:
        """The event's data: suggestions, action, reason and the numbers."""
        d = self.decision
        data: dict[str, Any] = {"suggestions": list(d.suggestions), "action": d.action.value,
                                "reason": d.reason.value, "reason_message": d.reason.message,
                                "details": _plain(d.details)}
        if self.config_changes:
            data["config_changes"] = _plain(self.config_changes)
        if self.error is not None:
            data["error_code"] = self.error.code
        return data


def _plain(value: Any) -> Any:
    """JSON-safe numbers: NaN and infinities become strings (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def apply_changes(config: Any, changes: Mapping[str, Any]) -> Any:
    """A copy of a frozen record with dotted fields changed.

    Example:
        >>> from peftstudio.records import TrainingSettings
        >>> apply_changes(TrainingSettings(), {"max_grad_norm": 0.5}).max_grad_norm
        0.5
    """
    grouped: dict[str, dict[str, Any]] = {}
    direct: dict[str, Any] = {}
    for name, value in changes.items():
        head, _, rest = name.partition(".")
        if rest:
            grouped.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    for head, sub in grouped.items():
        direct[head] = apply_changes(getattr(config, head), sub)
    return attrs.evolve(config, **direct)


def record_guard_report(store: Any, run_id: str, report: GuardReport) -> None:
    """Write a guard's report to the store: an event, the changed settings, the run's plain error."""
    from peftstudio.records.convert import to_dict

    store.add_event(run_id, report.kind, report.decision.message, step=report.step, data=report.event_data())
    if report.config_changes:
        run = store.get_run(run_id)
        store.update_run(run_id, config=apply_changes(run.config, report.config_changes))
    if report.error is not None:
        store.update_run(run_id, error=to_dict(report.error))


def record_report(store: Any, run_id: str, report: Any) -> bool:
    """Store a guard's report (`GuardReport`, or the base model's validation loss); False for other reports."""
    if isinstance(report, GuardReport):
        record_guard_report(store, run_id, report)
        return True
    base = getattr(report, "base_val_loss", None)
    if base is not None:
        store.add_metrics(run_id, 0, {"base_val_loss": float(base)})
        return True
    return False


def notify(listeners: Sequence[Callable[[Any], None]], trainer: Any, report: GuardReport) -> None:
    """Send `report` to `listeners` on the main process only (every process decides the same)."""
    if getattr(trainer, "is_global_zero", True):
        for listener in listeners:
            listener(report)


def sync_flag(trainer: Any, flag: bool) -> bool:
    """`flag` agreed by all processes (any process raising it raises it everywhere)."""
    if getattr(trainer, "world_size", 1) > 1:
        return bool(trainer.strategy.reduce_boolean_decision(flag, all=False))
    return flag
