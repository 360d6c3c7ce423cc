"""Gradient guard: a non-finite or exploding gradient norm turns clipping on and rolls back.

`decide` is pure: recent gradient norms (before clipping) -> a `Decision`. A NaN/inf norm
always triggers; a finite one triggers when it is `factor` times the median of the last
`window` norms, once at least `min_history` norms are known (the first steps of a run are
often large and uneven, and normal noise stays well within a factor of 10). The callback
acts right before the optimizer step: the exploding update is dropped, gradient clipping
is turned on (max norm 1.0) if it was off, the trainable weights and the optimizer state
go back to the last checkpoint, and training continues. A finite spike while clipping is
already on is left to clipping (early in a LoRA run the norm grows quickly as the adapter
moves away from zero, and rolling back would only undo good steps); a norm below 1.0
never counts as an explosion. The event is recorded, and the clipping setting is kept
when the run is resumed later. When rolling back does not help
(`max_repeats` explosions within `repeat_window` steps) training has diverged: the run is
paused like the divergence guard does, with a smaller learning rate to resume with.

Example:
    >>> d = decide([1.0, 1.2, 0.9, 1.1, 1.0] * 2 + [40.0], clipping=False)
    >>> d.reason.value, d.action.value
    ('gradient_spike', 'clip_and_rollback')
    >>> decide([1.0, 1.2, 0.9, 1.1, 1.0] * 2 + [2.5], clipping=False).triggered
    False
    >>> decide([1.0, 1.2, 0.9, 1.1, 1.0] * 2 + [40.0], clipping=True).triggered  # clipping bounds it already
    False
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L

from peftstudio.callbacks.decision import Decision, GuardAction, GuardReport, Reason, notify, sync_flag

DEFAULT_CLIP = 1.0


def decide(norms: Sequence[float], *, clipping: bool, factor: float = 10.0, window: int = 20,
           min_history: int = 10, floor: float = DEFAULT_CLIP, recent_interventions: int = 0, max_repeats: int = 3,
           learning_rate: float | None = None, loss_scaling: bool = False) -> Decision:
    """Whether the latest gradient norm (last in `norms`) exploded; `clipping` says whether clipping is on.

    `loss_scaling` says a GradScaler is active (fp16 mixed precision): a non-finite norm is then its
    normal overflow check, not an explosion. The scaler skips that step itself and lowers its scale;
    a loss that really diverges is the divergence guard's to see.

    A norm below `floor` (the usual clipping threshold, 1.0) is never an explosion.
    `recent_interventions` counts this guard's earlier interventions in the last few steps: when
    rolling back has not helped `max_repeats` times, training has diverged and the decision is
    to pause the run (with the learning rate to use instead).
    """
    if not norms:
        return Decision.ok()
    latest = float(norms[-1])
    history = [float(n) for n in norms[:-1] if math.isfinite(n)][-window:]
    median = statistics.median(history) if history else None
    details: dict[str, Any] = {"grad_norm": latest, "median": median, "clipping_was_on": clipping,
                               "repeats": recent_interventions + 1}
    if not math.isfinite(latest) and loss_scaling:
        return Decision.ok()
    if not math.isfinite(latest):
        reason = Reason.NON_FINITE_GRADIENT
        found = f"the gradient norm became {latest}"
    elif (not clipping and len(history) >= min_history and median is not None and median > 0
          and latest > factor * median and latest > floor):
        # with clipping on, a finite spike is already bounded: acting on it would only undo good steps
        reason = Reason.GRADIENT_SPIKE
        found = f"the gradient norm jumped to {latest:.3g}, {latest / median:.0f} times its recent median {median:.3g}"
    else:
        return Decision.ok()
    if recent_interventions + 1 >= max_repeats:
        from peftstudio.callbacks.divergence import _suggestions, third

        if learning_rate is not None:
            details["learning_rate"] = learning_rate
            details["suggested_learning_rate"] = third(learning_rate)
        message = (f"Training diverged: {found}, {recent_interventions + 1} times within a few steps even after "
                   f"rolling back. The run was paused; the checkpoints saved so far are kept.")
        suggestions = (_suggestions(learning_rate, True) if learning_rate is not None else
                       ("Resume with a smaller learning rate (a third of the current one).",
                        "Check the data for broken or extremely long examples (peftstudio data check)."))
        return Decision(reason, message, suggestions, GuardAction.PAUSE, details)
    action = GuardAction.ROLLBACK if clipping else GuardAction.CLIP_AND_ROLLBACK
    did = ("This update was skipped, gradient clipping was turned on (max norm 1.0), and" if not clipping
           else "This update was skipped, and")
    message = (f"Gradient explosion: {found}. {did} the weights went back to the last stable checkpoint; "
               f"training continues.")
    advice = ["If it happens again, resume with a smaller learning rate (a third of the current one).",
              "Check the data for unusual examples (very long, repeated or garbled text)."]
    if not clipping:
        advice.insert(0, "Keep gradient clipping on for this kind of data (training.max_grad_norm = 1.0).")
    return Decision(reason, message, tuple(advice), action, details)


class GradientGuard(L.Callback):
    """Watches the gradient norm (see the module docstring); reusable in any Lightning project.

    `clipping` is the run's max gradient norm (None: off). It asks the session control
    (`peftstudio.callbacks.control`) to turn clipping on and to roll back to the newest checkpoint;
    without a checkpoint, the bad update is only skipped.
    """

    def __init__(self, listeners: Sequence[Callable[[Any], None]] = (), *, clipping: float | None = None,
                 clip_value: float = DEFAULT_CLIP, factor: float = 10.0, window: int = 20, min_history: int = 10,
                 max_repeats: int = 3, repeat_window: int = 10, learning_rate: float | None = None) -> None:
        if factor <= 1 or window < 1 or min_history < 1 or max_repeats < 1:
            raise ValueError(f"expected factor > 1, window >= 1, min_history >= 1 and max_repeats >= 1; got "
                             f"factor={factor}, window={window}, min_history={min_history}, max_repeats={max_repeats}")
        self.listeners = list(listeners)
        self.clipping = clipping
        self.clip_value = clip_value
        self.factor, self.window, self.min_history = factor, window, min_history
        self.max_repeats, self.repeat_window = max_repeats, repeat_window
        self.learning_rate = learning_rate
        self.norms: list[float] = []
        self.clip_enabled = False  # turned on by this guard (kept across pause/resume)
        self.rollbacks: list[dict[str, Any]] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from peftstudio.callbacks.control import Clip, ask

        if self.clip_enabled and not trainer.gradient_clip_val:
            ask(trainer, Clip(self.clip_value))  # this guard turned clipping on before the pause

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        from peftstudio.callbacks.control import Clip, Rollback, ask, saved_checkpoints
        from peftstudio.callbacks.progress import step_gradient_norm

        norm = step_gradient_norm(trainer, pl_module)
        if norm is None:
            return
        step = trainer.global_step + 1  # the step being taken
        recent = [r["step"] for r in self.rollbacks if r["step"] > step - self.repeat_window]
        lr = self.learning_rate if self.learning_rate is not None else float(optimizer.param_groups[0]["lr"])
        clipping_on = bool(trainer.gradient_clip_val)
        decision = decide([*self.norms, norm], clipping=clipping_on, factor=self.factor, window=self.window,
                          min_history=self.min_history, recent_interventions=len(recent),
                          max_repeats=self.max_repeats, learning_rate=lr, loss_scaling=loss_scaling(trainer))
        if not sync_flag(trainer, decision.triggered):
            self.norms = [*self.norms, norm][-self.window:]
            return
        if decision.action is GuardAction.PAUSE:
            self._pause(trainer, decision, step, first=min(recent, default=step))
            return
        changes: dict[str, Any] = {}
        if not clipping_on:
            ask(trainer, Clip(self.clip_value))
            self.clip_enabled = True
            changes["training.max_grad_norm"] = self.clip_value
        # the exploding update is dropped; the weights and optimizer state go back to the newest checkpoint
        newest = next(iter(reversed(saved_checkpoints(trainer, at_most=trainer.global_step))), None)
        if newest is not None:
            ask(trainer, Rollback(newest))
        else:  # nothing to go back to: only this update is skipped
            for p in pl_module.parameters():
                p.grad = None
        restored = newest.step if newest is not None else None
        self.rollbacks.append({"step": step, "rolled_back_to": restored})
        decision = _with(decision, rolled_back_to=restored, step=step)
        notify(self.listeners, trainer, GuardReport("gradients", step, decision, config_changes=changes))

    def _pause(self, trainer: L.Trainer, decision: Decision, step: int, first: int) -> None:
        from peftstudio.callbacks.control import Stop, ask, build_report, saved_checkpoints
        from peftstudio.callbacks.divergence import error_for

        # the newest checkpoint from before the first explosion of this series
        stable = next(iter(reversed(saved_checkpoints(trainer, at_most=first - 1))), None)
        error = error_for(decision, step=step, stable_step=stable.step if stable else 0,
                          value="unstable (its gradients exploded)")
        decision = _with(decision, step=step, stable_step=stable.step if stable else 0)
        notify(self.listeners, trainer, GuardReport("divergence", step, decision, error=error))
        ask(trainer, Stop(build_report(step=trainer.global_step, reason="diverged", elapsed=None, eta=None,
                                       resources=None, checkpoint=stable.path if stable else None)))

    def state_dict(self) -> dict[str, Any]:
        return {"norms": list(self.norms), "clip_enabled": self.clip_enabled,
                "rollback_steps": [r["step"] for r in self.rollbacks]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.norms = [float(n) for n in state_dict.get("norms", [])]
        self.clip_enabled = bool(state_dict.get("clip_enabled", False))
        self.rollbacks = [{"step": int(s), "rolled_back_to": None} for s in state_dict.get("rollback_steps", [])]


def loss_scaling(trainer: Any) -> bool:
    """Whether the trainer's precision uses an enabled gradient scaler (``16-mixed``)."""
    scaler = getattr(getattr(trainer, "precision_plugin", None), "scaler", None)
    return bool(scaler is not None and getattr(scaler, "is_enabled", lambda: True)())


def _with(decision: Decision, **details: Any) -> Decision:
    import attrs

    return attrs.evolve(decision, details={**decision.details, **details})
