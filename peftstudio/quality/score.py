"""The quality score of a finished run: 0-100, its parts, and 2-3 suggestions from the run's own numbers.

`score` is pure: a `RunNumbers` record -> a `QualityScore`. The parts:

- **improvement** (40 points): how much the validation perplexity fell from the base model's
  (full marks at half the base perplexity);
- **stability** (20): how few loss spikes (a step 50% above the median of the ten before it)
  and guard interventions (divergence, gradient explosions) the run had;
- **overfitting** (20): how small the gap between final validation and training loss is, and
  how little the validation loss rose from its best;
- **data coverage** (20): how much of the training data the model saw (one full epoch = full
  marks), scaled down for very small data sets;
- **task** (50): the run's own task on held-out examples, answered by the tuned model (the metric
  suits the profile and the data: label accuracy, normalized match, ROUGE-L, code parses or
  reference similarity; see `peftstudio.quality.checks`), base and tuned side by side;
- **retention** (50): how much of what the base model answered right among the bundled general
  questions the tuned model still answers right (see `peftstudio.quality.retention`).

A part that cannot be measured (e.g. no validation data, or the checks after training turned
off) is left out and the total is scaled to the parts that were measured. A run flagged for
forgetting scores at most `FORGETTING_CAP`, whatever its loss: a model that lost what it knew is
not a good model. `score_run` reads the numbers from the store;
`record_quality` stores the score in the run's summary and adds a ``quality`` event.

Example:
    >>> n = RunNumbers(train_losses=(2.5, 2.2, 2.0, 1.9, 1.8), val_losses=(2.1, 1.9),
    ...                base_val_loss=2.3, final_val_loss=1.9, steps=5, steps_per_epoch=5, train_examples=400)
    >>> q = score(n)
    >>> q.total, [p.name for p in q.parts]
    (86, ['improvement', 'stability', 'overfitting', 'coverage'])
    >>> 2 <= len(q.suggestions) <= 3
    True
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from attrs import field, frozen

from peftstudio.quality.checks import FULL_MARKS
from peftstudio.quality.report import ChecksReport
from peftstudio.quality.retention import DRIFT_LIMIT, forgetting, forgetting_said
from peftstudio.tuples import as_tuple

SMALL_DATA = 200  # examples; fewer than this and coverage points shrink
FORGETTING_CAP = 60  # the most a run flagged for forgetting scores
NO_GAIN = 0.02  # a task gain this small (or less) is "no gain"


@frozen
class RunNumbers:
    """What the score is computed from (all read from the store for a real run)."""

    train_losses: tuple[float, ...] = field(converter=as_tuple)
    val_losses: tuple[float, ...] = field(default=(), converter=as_tuple)
    base_val_loss: float | None = None
    final_val_loss: float | None = None
    steps: int = 0
    steps_per_epoch: int | None = None
    train_examples: int | None = None
    instability_events: int = 0
    learning_rate: float = 2e-4
    rank: int = 16
    dropout: float = 0.05
    best_val_step: int | None = None
    checks: ChecksReport | None = None  # the task and retention checks after training, when they ran


@frozen
class QualityPart:
    """One part of the score: `points` of `max_points`, with what was measured (`measured`) in words."""

    name: str
    title: str
    points: float
    max_points: int
    measured: str


@frozen
class QualityScore:
    """The score (0-100), its parts, and what to try next."""

    total: int
    parts: tuple[QualityPart, ...] = field(converter=as_tuple)
    suggestions: tuple[str, ...] = field(converter=as_tuple)
    checks: ChecksReport | None = None  # what the checks after training found (None: not run, or older runs)
    flags: tuple[str, ...] = field(default=(), converter=as_tuple)  # "forgetting"

    @property
    def forgetting(self) -> bool:
        """Whether the tuned model was flagged for forgetting what the base model knew."""
        return "forgetting" in self.flags

    def render(self) -> str:
        """The score as plain text (one line per part, what changed, what was forgotten, the suggestions).

        Example:
            >>> q = score(RunNumbers(train_losses=(2.0, 1.9, 1.8), steps=3, steps_per_epoch=3, train_examples=400))
            >>> print(q.render())  # doctest: +ELLIPSIS
            Quality score: 100/100
              Stability        20/20  0 loss spike(s) in 3 steps, 0 guard intervention(s)
              Data coverage    20/20  saw 100% of 400 examples (1.0 epochs)
            What to try next:
              - ...
        """
        lines = [f"Quality score: {self.total}/100" + ("  (flagged: the model forgot what it knew)"
                                                       if self.forgetting else "")]
        lines += [f"  {p.title:<14} {p.points:4.0f}/{p.max_points:<3} {p.measured}" for p in self.parts]
        lines += check_lines(self.checks)
        lines += ["What to try next:"] + [f"  - {s}" for s in self.suggestions]
        return "\n".join(lines)


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def check_lines(checks: ChecksReport | None) -> list[str]:
    """The checks' details as plain lines: the examples that changed most, and what was forgotten.

    Example:
        >>> from peftstudio.quality.report import Forgotten, RetentionCheck
        >>> lost = Forgotten("How many legs does a cat have?", ("4", "four"), "Four.", "Five, me hearty!")
        >>> print("\\n".join(check_lines(ChecksReport(retention=RetentionCheck(10, 8, 7, forgotten=(lost,))))))
        Forgotten (1): general questions the base model answered right
          How many legs does a cat have? (expected 4 / four)
              base:  Four.
              tuned: Five, me hearty!
    """
    if checks is None:
        return []
    lines: list[str] = []
    task, retention = checks.task, checks.retention
    if task is not None and task.changed:
        lines.append("Held-out examples that changed most (base -> tuned):")
        for c in task.changed:
            lines += [f"  {c.base_score:.2f} -> {c.tuned_score:.2f}  {_short(c.prompt, 60)}",
                      f"      base:  {_short(c.base)}", f"      tuned: {_short(c.tuned)}"]
    if retention is not None and retention.forgotten:
        lines.append(f"Forgotten ({retention.forgotten_count}): general questions the base model answered right")
        for f in retention.forgotten:
            lines += [f"  {_short(f.question, 60)} (expected {' / '.join(f.accepted)})",
                      f"      base:  {_short(f.base)}", f"      tuned: {_short(f.tuned)}"]
    lines += [f"  ({note})" for note in checks.notes]
    return lines


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if math.isfinite(v)]


def spike_count(losses: Sequence[float], *, window: int = 10, jump: float = 0.5) -> int:
    """Steps whose loss is more than `jump` (50%) above the median of the `window` steps before them.

    Example:
        >>> spike_count([2.0] * 12 + [3.5] + [2.0] * 5)
        1
    """
    count = 0
    for i in range(window, len(losses)):
        before = _finite(losses[i - window:i])
        value = losses[i]
        if not math.isfinite(value) or (before and value > (1 + jump) * statistics.median(before)):
            count += 1
    return count


def _train_end(losses: Sequence[float]) -> float | None:
    finite = _finite(losses)
    if not finite:
        return None
    tail = finite[-max(5, len(finite) // 10):]
    return sum(tail) / len(tail)


def score(n: RunNumbers) -> QualityScore:
    """The quality score of a run from its numbers (see the module docstring).

    Example:
        >>> from peftstudio.quality.report import Forgotten, RetentionCheck, TaskCheck
        >>> lost = (Forgotten("q", ("a",), "a", "b"),) * 5
        >>> checks = ChecksReport(task=TaskCheck("label accuracy", 20, base=0.4, tuned=0.9),
        ...                       retention=RetentionCheck(asked=40, base_right=20, tuned_right=15, forgotten=lost,
        ...                                          drift=1.1, drift_asked=40))
        >>> q = score(RunNumbers(train_losses=(2.0, 1.9, 1.8), steps=3, learning_rate=1e-3, checks=checks))
        >>> q.total, q.flags, [p.name for p in q.parts]
        (54, ('forgetting',), ['stability', 'task', 'retention'])
        >>> q.suggestions[0][:60]
        'Lower the learning rate to 0.00033 (a third of 0.001), train'
    """
    parts: list[QualityPart] = []
    notes: dict[str, float] = {}  # shortfall per part (0 = perfect, 1 = none), for choosing suggestions

    if n.base_val_loss is not None and n.final_val_loss is not None and math.isfinite(n.final_val_loss):
        ppl_base, ppl_final = math.exp(min(n.base_val_loss, 50)), math.exp(min(n.final_val_loss, 50))
        reduction = 1 - ppl_final / ppl_base
        points = 40 * _clamp(reduction / 0.5)
        change = (n.final_val_loss - n.base_val_loss) / n.base_val_loss if n.base_val_loss else 0.0
        parts.append(QualityPart("improvement", "Improvement", points, 40,
                                 f"validation loss {n.base_val_loss:.3g} -> {n.final_val_loss:.3g} ({change:+.0%}), "
                                 f"perplexity {ppl_base:.3g} -> {ppl_final:.3g} ({-reduction:+.0%})"))
        notes["improvement"] = 1 - points / 40

    losses = list(n.train_losses)
    if losses:
        spikes = spike_count(losses)
        rate = spikes / max(len(losses) - 10, 1) if len(losses) > 10 else 0.0
        non_finite = sum(1 for v in losses if not math.isfinite(v))
        points = 0.0 if non_finite else max(0.0, 20 * (1 - _clamp(rate / 0.1)) - 5 * n.instability_events)
        parts.append(QualityPart("stability", "Stability", points, 20,
                                 f"{spikes} loss spike(s) in {len(losses)} steps, {n.instability_events} guard "
                                 f"intervention(s)"))
        notes["stability"] = 1 - points / 20

    end = _train_end(losses)
    vals = _finite(n.val_losses)
    if end is not None and n.final_val_loss is not None and math.isfinite(n.final_val_loss) and vals:
        best = min(vals)
        gap = max(n.final_val_loss - end, 0.0) / max(end, 1e-6)
        rise = max(n.final_val_loss - best, 0.0) / max(best, 1e-6)
        measure = gap + 2 * rise
        points = 20 * (1 - _clamp((measure - 0.05) / 0.45))
        parts.append(QualityPart("overfitting", "Overfitting", points, 20,
                                 f"validation {n.final_val_loss:.3g} vs training {end:.3g} (gap {gap:.0%}); "
                                 f"{rise:.0%} above the best validation loss {best:.3g}"))
        notes["overfitting"] = 1 - points / 20

    if n.steps_per_epoch:
        epochs_seen = n.steps / n.steps_per_epoch
        size = _clamp(0.5 + 0.5 * n.train_examples / SMALL_DATA) if n.train_examples is not None else 1.0
        points = 20 * _clamp(epochs_seen) * size
        examples = f" of {n.train_examples} examples" if n.train_examples is not None else ""
        parts.append(QualityPart("coverage", "Data coverage", points, 20,
                                 f"saw {min(epochs_seen, 1):.0%}{examples} ({epochs_seen:.1f} epochs)"))
        notes["coverage"] = 1 - points / 20
        notes["_epochs"] = epochs_seen

    flags: tuple[str, ...] = ()
    checks = n.checks
    if checks is not None and checks.task is not None and checks.task.examples:
        t = checks.task
        points = 50 * _clamp(t.tuned / FULL_MARKS.get(t.metric, 1.0))
        language = f", mostly {t.language}" if t.language else ""
        parts.append(QualityPart("task", "Task", points, 50,
                                 f"{t.metric} on {t.examples} held-out examples: base {t.base:.2f} -> tuned "
                                 f"{t.tuned:.2f} ({t.gain:+.2f}){language}"))
        notes["task"] = 1 - points / 50
        notes["_task_gain"] = t.gain
    if checks is not None and checks.retention is not None and checks.retention.base_right:  # else: nothing to forget
        r = checks.retention
        points = 50 * _clamp(1 - (1 - r.kept) / 0.5) * drift_factor(r.drift)
        moved = f"; drift {r.drift:.2f} on {r.drift_asked}" if r.drift is not None else ""
        parts.append(QualityPart("retention", "Retention", points, 50,
                                 f"forgot {r.forgotten_count} of the {r.base_right} general questions the base "
                                 f"model answered right (newly right {r.learned}; {r.asked} asked, tuned right "
                                 f"{r.tuned_right}{moved})"))
        notes["retention"] = 1 - points / 50
        if forgetting(r):
            flags = ("forgetting",)

    measured = sum(p.max_points for p in parts)
    total = round(100 * sum(p.points for p in parts) / measured) if measured else 0
    if flags:
        total = min(total, FORGETTING_CAP)
    return QualityScore(total, tuple(parts), _suggestions(n, notes, flags), checks=checks, flags=flags)


def drift_factor(drift: float | None) -> float:
    """The share of the retention points the drift leaves: all up to half of `DRIFT_LIMIT`, none from 1.5 times it.

    Example:
        >>> drift_factor(None), drift_factor(0.2), round(drift_factor(DRIFT_LIMIT), 6), drift_factor(0.7)
        (1.0, 1.0, 0.5, 0.0)
    """
    return 1.0 if drift is None else _clamp((1.5 * DRIFT_LIMIT - drift) / DRIFT_LIMIT)


def _suggestions(n: RunNumbers, notes: dict[str, float], flags: tuple[str, ...] = ()) -> tuple[str, ...]:
    ranked: list[tuple[float, str]] = []
    epochs_seen = notes.get("_epochs")
    retention = n.checks.retention if n.checks is not None else None
    if "forgetting" in flags and retention is not None:
        fewer = f"train fewer epochs (fewer than {n.steps} steps)" if n.steps else "train fewer epochs"
        text = (f"Lower the learning rate to {n.learning_rate / 3:.2g} (a third of {n.learning_rate:g}), {fewer}, "
                f"use a smaller LoRA rank ({max(n.rank // 2, 1)}) or mix general examples into your data: "
                + forgetting_said(retention))
        ranked.append((2.0, text))
    task_gain = notes.get("_task_gain")
    if task_gain is not None and task_gain <= NO_GAIN and notes.get("task", 0) > 0:
        t = n.checks.task if n.checks is not None else None
        shown = f" ({t.metric} {t.base:.2f} -> {t.tuned:.2f})" if t is not None else ""
        text = (f"Add more or cleaner examples, or train for more steps: on held-out examples the tuned model did "
                f"no better than the base{shown}.")
        ranked.append((1.0 + notes["task"], text))
    if notes.get("stability", 0) > 0.25 and not flags:  # forgetting's suggestion lowers it already
        text = f"Lower the learning rate to {n.learning_rate / 3:.2g} (a third of {n.learning_rate:g}): the loss was unsteady."
        ranked.append((notes["stability"] + 0.1, text))
    if notes.get("overfitting", 0) > 0.25:
        at = (f" (about {n.best_val_step / n.steps_per_epoch:.1f} epochs, where validation was best)"
              if n.best_val_step and n.steps_per_epoch else "")
        extra = f", or raise LoRA dropout from {n.dropout:g} to 0.1" if n.dropout < 0.1 else ""
        text = f"Train for fewer steps{at} or turn on early stopping{extra}: the model began to memorise the examples."
        ranked.append((notes["overfitting"], text))
    longer = None
    if epochs_seen is not None and epochs_seen < 1:
        steps = math.ceil(n.steps / epochs_seen) if epochs_seen else n.steps
        longer = f"Train longer: the model saw only {epochs_seen:.0%} of the data; one full epoch is about {steps} steps."
    if notes.get("improvement", 0) > 0.25:
        if longer is not None:
            ranked.append((notes["improvement"], longer))
        elif notes.get("overfitting", 0) <= 0.25 and not flags:
            text = (f"Raise the learning rate to {n.learning_rate * 2:.2g} or the LoRA rank to {n.rank * 2}: "
                    f"validation improved only a little.")
            ranked.append((notes["improvement"] * 0.9, text))
    if n.train_examples is not None and n.train_examples < SMALL_DATA:
        text = (f"Add more examples: {n.train_examples} is few; a few hundred varied examples usually help more "
                f"than more epochs.")
        ranked.append((0.3 + notes.get("coverage", 0), text))
    elif notes.get("coverage", 0) > 0.25 and longer is not None and not any(s == longer for _, s in ranked):
        ranked.append((notes["coverage"], longer))
    ranked.sort(key=lambda item: -item[0])
    out = [text for _, text in ranked][:3]
    fillers = [f"Try a larger LoRA rank ({n.rank * 2}) and compare the two runs side by side.",
               "Test the model in the playground with prompts like the ones you will use."]
    for filler in fillers:
        if len(out) >= 2:
            break
        if not ("rank" in filler and (flags or any("rank" in s for s in out))):
            out.append(filler)
    return tuple(out)


# ---------------------------------------------------------------- from the store
GUARD_EVENTS = ("divergence", "gradient_explosion")


def numbers_for_run(store: Any, run_id: str) -> RunNumbers:
    """The `RunNumbers` of a stored run (metrics, events, summary and settings).

    Example:
        >>> import pathlib, tempfile
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> from peftstudio.store import Store
        >>> s = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
        >>> run = s.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                              data=DataSettings(path="chat.jsonl")))
        >>> s.add_metrics(run.id, 1, {"loss": 2.0}, tokens_seen=100)
        >>> numbers_for_run(s, run.id).train_losses
        (2.0,)
    """
    run = store.get_run(run_id)
    train = [m["value"] for m in store.metrics(run.id, "loss")]
    val_rows = store.metrics(run.id, "val_loss")
    base = store.metrics(run.id, "base_val_loss")
    events = store.events(run.id)
    summary = run.summary
    final = summary.get("final_val_loss")
    if final is None and val_rows:
        final = val_rows[-1]["value"]
    best_row = min(val_rows, key=lambda m: m["value"]) if val_rows else None
    reference = run.config.data.reference
    examples = summary.get("train_examples")
    if examples is None and reference is not None:
        examples = int(reference.rows * (1 - run.config.data.validation_fraction))
    t = run.config.training
    return RunNumbers(
        train_losses=tuple(train), val_losses=tuple(m["value"] for m in val_rows),
        base_val_loss=base[0]["value"] if base else None, final_val_loss=final,
        steps=int(summary.get("steps") or (train and len(train)) or 0),
        steps_per_epoch=summary.get("steps_per_epoch"), train_examples=examples,
        instability_events=sum(1 for e in events if e["kind"] in GUARD_EVENTS),
        learning_rate=t.learning_rate, rank=run.config.lora.rank, dropout=run.config.lora.dropout,
        best_val_step=best_row["step"] if best_row else None)


def stored_checks(summary: dict[str, Any]) -> ChecksReport | None:
    """The checks stored with a run's quality score (None for runs scored before the checks existed).

    Example:
        >>> stored_checks({"quality": {"total": 80, "checks": {"seconds": 12.5}}}).seconds
        12.5
        >>> stored_checks({"quality": {"total": 80}}) is None
        True
    """
    from peftstudio.records.convert import from_dict

    quality = summary.get("quality")
    data = quality.get("checks") if isinstance(quality, dict) else None
    return from_dict(ChecksReport, data) if isinstance(data, dict) else None


def score_run(run_id: str, store: Any | None = None) -> QualityScore:
    """The quality score of a stored run (the store of the current home when `store` is None), with the
    checks stored when it finished.

    Example:
        >>> import pathlib, tempfile
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> from peftstudio.store import Store
        >>> s = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
        >>> run = s.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                              data=DataSettings(path="chat.jsonl")))
        >>> for step, loss in enumerate([2.0, 1.8, 1.7], 1):
        ...     s.add_metrics(run.id, step, {"loss": loss}, tokens_seen=100 * step)
        >>> q = score_run(run.id, store=s)
        >>> q.total, [p.name for p in q.parts], q.checks is None
        (100, ['stability'], True)
    """
    import attrs

    from peftstudio.store import open_store

    db = store if store is not None else open_store()
    numbers = numbers_for_run(db, run_id)
    return score(attrs.evolve(numbers, checks=stored_checks(db.get_run(run_id).summary)))


def checking_message(run: Any) -> str:
    """What the run says as its checks start: what they ask and, from the speed it trained at, about how long
    they take (`peftstudio.quality.run.expected_seconds`; less once the base model's answers are cached).

    Example:
        >>> from types import SimpleNamespace
        >>> checking_message(SimpleNamespace(config=None, summary={}))
        'Checking the tuned model on held-out examples and general questions.'
    """
    said = "Checking the tuned model on held-out examples and general questions"
    speed = run.summary.get("tokens_per_second")
    if not speed or run.config is None:
        return said + "."
    from peftstudio.playground.session import inference_placement
    from peftstudio.quality.run import expected_seconds
    from peftstudio.units import worded_duration

    seconds = expected_seconds(run.config, speed, device=inference_placement()[0])  # where the checks run
    return said + (f": up to about {worded_duration(seconds)} at this run's training speed." if seconds else ".")


def record_quality(store: Any, run_id: str, *, checks: bool | None = None) -> QualityScore:
    """Score a finished run and store it: ``summary["quality"]`` and a ``quality`` event.

    With `checks` (the run's ``training.quality_checks`` when None), the task and retention checks run
    first (`peftstudio.quality.run`); a ``checking`` event says so.

    Example:
        >>> import pathlib, tempfile
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> from peftstudio.store import Store
        >>> s = Store(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite")
        >>> run = s.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                              data=DataSettings(path="chat.jsonl")))
        >>> s.add_metrics(run.id, 1, {"loss": 2.0}, tokens_seen=100)
        >>> record_quality(s, run.id, checks=False).total
        100
        >>> s.get_run(run.id).summary["quality"]["total"], [e["message"] for e in s.events(run.id, kind="quality")]
        (100, ['Quality score 100/100.'])
    """
    import attrs

    from peftstudio.records.convert import to_dict

    run = store.get_run(run_id)
    report = None
    if run.config.training.quality_checks if checks is None else checks:
        from peftstudio.quality.run import check_run

        store.add_event(run_id, "checking", checking_message(run))
        try:
            report = check_run(store, run_id)
        except Exception as exc:  # noqa: BLE001 - the checks never fail a trained run; the score says why
            import traceback

            traceback.print_exc()
            report = ChecksReport(notes=(f"the checks could not run: {exc}",))
    quality = score(attrs.evolve(numbers_for_run(store, run_id), checks=report))
    run = store.get_run(run_id)
    store.update_run(run_id, summary={**run.summary, "quality": to_dict(quality)})
    store.add_event(run_id, "quality", f"Quality score {quality.total}/100"
                                       + (", flagged for forgetting." if quality.forgetting else "."),
                    data={"suggestions": list(quality.suggestions), "action": "none", "reason": "quality",
                          "parts": {p.name: round(p.points, 1) for p in quality.parts},
                          "flags": list(quality.flags)})
    return quality
