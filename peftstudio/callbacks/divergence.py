"""Divergence guard: a loss that becomes NaN/inf, or climbs far above its lowest value, pauses the run.

`decide` is pure: the per-step losses so far -> a `Decision`. A non-finite loss always
triggers; a rising loss triggers only after warm-up, when each of the last `patience`
steps is both `ratio` times and `margin` nats above the lowest loss before them, taken as
the lowest median of `min_history` consecutive steps (`typical_lowest`: a single lucky
batch of varied-length data sat a quarter under its neighbours and made a healthy run look
diverged). The callback decides right before the optimizer
step and asks the session control to stop there (`peftstudio.callbacks.control`), so the
update that would carry NaN into the weights never happens; the run pauses with the
checkpoints it has (none is written for the bad step). The suggestions
name a concrete learning rate: a third of the current one.

Example:
    >>> d = decide([2.0, 1.8, float("nan")], step=3, warmup_steps=0, learning_rate=3e-4)
    >>> d.reason.value, d.action.value, d.details["suggested_learning_rate"]
    ('non_finite_loss', 'pause', 0.0001)
    >>> decide([2.0, 1.9, 2.1, 1.8, 2.0, 1.9], step=6, warmup_steps=0, learning_rate=3e-4).triggered
    False
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L

from peftstudio.callbacks.decision import Decision, GuardAction, GuardReport, Reason, notify, sync_flag
from peftstudio.callbacks.progress import scaled_losses
from peftstudio.errors.plain import ErrorInfo


def third(learning_rate: float) -> float:
    """A third of `learning_rate`, rounded to 2 significant digits (a number a person can type).

    Example:
        >>> third(3e-4), third(50.0)
        (0.0001, 17.0)
    """
    return float(f"{learning_rate / 3:.2g}")


def typical_lowest(losses: Sequence[float], span: int) -> float:
    """The lowest the loss has been, as the lowest median of `span` consecutive steps: one lucky batch (a few
    short or easy examples) is not where the loss stood, and rising above it is noise, not divergence.

    Example:
        >>> typical_lowest([3.7, 3.3, 2.56, 3.5, 3.3, 3.9], 3), typical_lowest([2.0, 1.0], 3)
        (3.3, 1.0)
    """
    if len(losses) < span:
        return min(losses)
    return min(sorted(losses[i:i + span])[span // 2] for i in range(len(losses) - span + 1))


def decide(losses: Sequence[float], *, step: int, warmup_steps: int, learning_rate: float, clipping: bool = True,
           patience: int = 3, ratio: float = 1.5, margin: float = 1.0, min_history: int = 3) -> Decision:
    """Whether training diverged, from the per-optimizer-step `losses` (oldest first, latest last).

    `step` is the latest step's number; before `warmup_steps` only a non-finite loss counts.
    """
    if not losses:
        return Decision.ok()
    latest = float(losses[-1])
    lower = third(learning_rate)
    details: dict[str, Any] = {"step": step, "loss": latest, "learning_rate": learning_rate,
                               "suggested_learning_rate": lower}
    if not math.isfinite(latest):
        message = (f"Training diverged at step {step}: the loss became {latest}. The run was paused; "
                   f"the checkpoints saved so far are kept.")
        return Decision(Reason.NON_FINITE_LOSS, message, _suggestions(learning_rate, clipping), GuardAction.PAUSE,
                        details)
    if step <= warmup_steps or len(losses) < patience + min_history:
        return Decision.ok()
    before = [float(v) for v in losses[:-patience] if math.isfinite(v)]
    window = [float(v) for v in losses[-patience:]]
    if not before:
        return Decision.ok()
    lowest = typical_lowest(before, min_history)
    if all(v > lowest * ratio and v - lowest > margin for v in window):
        details.update(running_min=lowest, window=window)
        message = (f"Training diverged at step {step}: the loss rose to {latest:.3g}, far above its lowest value "
                   f"{lowest:.3g}, for {patience} steps in a row. The run was paused; the checkpoints saved so far "
                   f"are kept.")
        return Decision(Reason.LOSS_RISING, message, _suggestions(learning_rate, clipping), GuardAction.PAUSE, details)
    return Decision.ok()


def _suggestions(learning_rate: float, clipping: bool) -> tuple[str, ...]:
    first = (f"Resume with a smaller learning rate: {third(learning_rate):g} (a third of the current "
             f"{learning_rate:g}).")
    if not clipping:
        return (first, ("Turn on gradient clipping (max_grad_norm 1.0) so that one bad batch cannot throw "
                        "training off."),
                "Check the data for broken or extremely long examples (peftstudio data check).")
    return (first, "Check the data for broken or extremely long examples (peftstudio data check).")


class DivergenceGuard(L.Callback):
    """Pauses a run whose loss diverges (see the module docstring); reusable in any Lightning project.

    The loss is read in ``on_before_backward`` (any module whose training step returns a loss);
    `learning_rate` is only read for the suggestions (default: the optimizer's rate); `warmup_steps` defaults to `warmup_ratio` of the run's steps, and at least `min_warmup`.
    """

    def __init__(self, listeners: Sequence[Callable[[Any], None]] = (), *, learning_rate: float | None = None,
                 warmup_ratio: float = 0.03, warmup_steps: int | None = None, min_warmup: int = 5,
                 clipping: bool = True, patience: int = 3, ratio: float = 1.5, margin: float = 1.0) -> None:
        if patience < 1 or ratio <= 1 or margin < 0:
            raise ValueError("patience must be at least 1, ratio above 1 and margin at least 0; got "
                             f"patience={patience}, ratio={ratio}, margin={margin}")
        self.listeners = list(listeners)
        self.learning_rate = learning_rate
        self.warmup_ratio = warmup_ratio
        self.warmup_steps = warmup_steps
        self.min_warmup = min_warmup
        self.clipping = clipping
        self.patience, self.ratio, self.margin = patience, ratio, margin
        self.losses: list[float] = []
        self.last_decision: Decision | None = None
        self._micro: list[tuple[Any, int]] = []  # (loss, scale) of this step's micro-batches

    def _warmup(self, trainer: L.Trainer) -> int:
        if self.warmup_steps is not None:
            return self.warmup_steps
        total = int(trainer.max_steps) if trainer.max_steps and trainer.max_steps > 0 else 0
        return max(self.min_warmup, math.ceil(self.warmup_ratio * total))

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: Any) -> None:
        # Lightning divides the loss by the accumulation count before backward: undo that for the report
        # kept on the device and read once at the step's end, not after every micro-batch (scaled_losses)
        self._micro.append((loss.detach(), max(int(trainer.accumulate_grad_batches), 1)))

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        micro = scaled_losses(self._micro)
        step_loss = sum(micro) / len(micro) if micro else math.nan
        self._micro = []
        lr = float(optimizer.param_groups[0]["lr"]) if self.learning_rate is None else self.learning_rate
        step = trainer.global_step + 1  # the step being taken
        losses = [*self.losses, step_loss]
        decision = decide(losses, step=step, warmup_steps=self._warmup(trainer), learning_rate=lr,
                          clipping=self.clipping or bool(trainer.gradient_clip_val), patience=self.patience,
                          ratio=self.ratio, margin=self.margin)
        if not sync_flag(trainer, decision.triggered):
            self.losses.append(step_loss)
            return
        self.last_decision = decision
        self._pause(trainer, decision, step)

    def _pause(self, trainer: L.Trainer, decision: Decision, step: int) -> None:
        from peftstudio.callbacks.control import Stop, ask, build_report, saved_checkpoints

        # the newest checkpoint whose weights still gave a normal loss on the following step
        last_good = step - 1 - (self.patience if decision.reason is Reason.LOSS_RISING else 0)
        ckpt = next(iter(reversed(saved_checkpoints(trainer, at_most=last_good))), None)
        error = error_for(decision, step=step, stable_step=ckpt.step if ckpt else 0)
        notify(self.listeners, trainer, GuardReport("divergence", step, decision, error=error))
        # no checkpoint for this step: the weights about to be updated are the ones that diverged
        ask(trainer, Stop(build_report(step=trainer.global_step, reason="diverged", elapsed=None, eta=None,
                                       resources=None, checkpoint=ckpt.path if ckpt else None)))

    def state_dict(self) -> dict[str, Any]:
        return {"losses": [v for v in self.losses[-200:]], "micro": scaled_losses(self._micro)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.losses = [float(v) for v in state_dict.get("losses", [])]
        self._micro = [(float(v), 1) for v in state_dict.get("micro", [])]  # a step begun before a pause


def error_for(decision: Decision, *, step: int, stable_step: int, value: str | None = None) -> ErrorInfo:
    """The plain ``nan_loss`` error of a diverged run (its actions are what ``peftstudio fix`` offers).

    `stable_step` is the checkpoint to resume from (0: none); the fix for a smaller learning rate
    sets aside the checkpoints after it.

    Example:
        >>> d = decide([2.0, float("nan")], step=7, warmup_steps=0, learning_rate=3e-4)
        >>> info = error_for(d, step=7, stable_step=6)
        >>> info.code, info.actions[0].fix_id, "0.0001" in info.actions[0].label
        ('nan_loss', 'lower_learning_rate', True)
    """
    from peftstudio.errors import make

    loss = decision.details.get("loss")
    if value is None:
        value = f"{loss:.3g}" if isinstance(loss, float) and math.isfinite(loss) else str(loss)
    suggested = decision.details.get("suggested_learning_rate")
    return make("nan_loss", value=value, step=step, stable_step=stable_step,
                suggested_lr=f"{suggested:g}" if suggested is not None else "a third of the current one").info
