"""Fix and resume: list what can be done about a run's last error, apply one, and continue the run.

The worker stores a failed or guarded run's plain error in the run's ``error`` column.
`list_fixes` numbers its actions; `apply_fix` applies one (by number or fix id): it
changes the run's settings (`fixed_config`, pure), stores them on the run, and resumes
it in a new worker from its last checkpoint, not from the start. A few fixes change
what the checkpoints were made from (another model, other data, another sequence
length); those restart the run, and say so. Older checkpoints are set aside (renamed),
never deleted (``free_space`` removes only a failed write's leftovers, then asks for
older model versions to be cleared if the disk is still short).

Example:
    >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings("a.jsonl"),
    ...                 training=TrainingSettings(micro_batch_size=4, gradient_accumulation=2))
    >>> new, plan = fixed_config(cfg, "halve_batch")
    >>> new.training.micro_batch_size, new.training.gradient_accumulation, plan.mode
    (2, 4, 'resume')
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from attrs import field, frozen

from peftstudio.callbacks.decision import apply_changes
from peftstudio.errors import ErrorInfo, make
from peftstudio.records.config import RunConfig
from peftstudio.store import open_store
from peftstudio.tuples import as_tuple

RESUME, STABLE, PREVIOUS, RESTART = "resume", "stable", "previous", "restart"
BUILTIN_FALLBACK = "builtin:smollm2-135m"
SKIP_BROKEN = ("drop_malformed", "drop_empty", "drop_bad_turns", "drop_other_structures")


@frozen
class FixOption:
    """One numbered action for a run's error; `automatic` ones can be applied by `apply_fix`."""

    number: int
    label: str
    fix_id: str | None
    steps: tuple[str, ...] = field(default=(), converter=as_tuple)

    @property
    def automatic(self) -> bool:
        return self.fix_id is not None and self.fix_id in FIXES


@frozen
class RunFixes:
    """A run's status, its last error (None when there is none) and the numbered actions."""

    run_id: str
    status: str
    error: ErrorInfo | None
    options: tuple[FixOption, ...] = field(converter=as_tuple)


@frozen
class FixPlan:
    """What a fix changes (`changes`, dotted setting names) and where the run continues (`mode`)."""

    fix_id: str
    changes: dict[str, Any]
    mode: str  # resume (newest checkpoint), stable (last checkpoint before the trouble), previous, restart
    note: str = ""


@frozen
class AppliedFix:
    """What `apply_fix` did to a run (the data file's own fixes report a `peftstudio.data.FixResult`)."""

    run_id: str
    fix_id: str
    changes: dict[str, Any]
    mode: str
    resumed_from: int | None  # the checkpoint step the run continues from; None: from the beginning
    message: str


# ---------------------------------------------------------------- the fixes (pure)
def _third(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    from peftstudio.callbacks.divergence import third

    lr = third(config.training.learning_rate)
    return FixPlan("lower_learning_rate", {"training.learning_rate": lr}, STABLE,
                   f"learning rate {config.training.learning_rate:g} -> {lr:g}")


def _clipping(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    current = config.training.max_grad_norm
    value = 1.0 if current is None else current / 2
    return FixPlan("enable_clipping", {"training.max_grad_norm": value}, STABLE, f"gradient clipping at {value:g}")


def _halve(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    from peftstudio.callbacks.memory import shrink

    t = config.training
    smaller = shrink(t.micro_batch_size, t.gradient_accumulation)
    if smaller is None:
        raise make("config_invalid", problems="training.micro_batch_size is already 1 and cannot be lowered; use "
                                              "4-bit loading or a shorter sequence length instead.")
    return FixPlan("halve_batch", {"training.micro_batch_size": smaller[0],
                                   "training.gradient_accumulation": smaller[1]}, RESUME,
                   f"micro-batch {t.micro_batch_size} -> {smaller[0]}, accumulation {t.gradient_accumulation} -> "
                   f"{smaller[1]} (effective batch {t.micro_batch_size * t.gradient_accumulation} unchanged)")


def _four_bit(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    from peftstudio.engine.module import check_quantization

    check_quantization("4bit")  # a plain error here rather than a failed run later
    return FixPlan("use_4bit", {"training.quantization": "4bit"}, RESUME, "4-bit loading of the base model")


def _no_quantization(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    return FixPlan("no_quantization", {"training.quantization": "none"}, RESUME, "no 4-bit or 8-bit loading")


def _cpu(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    changes: dict[str, Any] = {"training.quantization": "none", "training.devices": 1, "training.strategy": "auto"}
    if config.training.precision == "fp16":
        changes["training.precision"] = "fp32"
    return FixPlan("use_cpu", changes, RESUME, "training on the processor, one device, no quantization")


def _shorter(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    length = max(config.training.sequence_length // 2, 32)
    if length == config.training.sequence_length:
        raise make("config_invalid", problems="training.sequence_length is already as short as it can usefully be.")
    return FixPlan("shorter_sequences", {"training.sequence_length": length}, RESTART,
                   f"sequence length {config.training.sequence_length} -> {length} (the examples are cut differently, "
                   f"so training starts again)")


def _builtin(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    return FixPlan("use_builtin", {"model.reference": BUILTIN_FALLBACK}, RESTART,
                   f"the built-in model {BUILTIN_FALLBACK} (another model: training starts again)")


def _skip_rows(config: RunConfig, details: dict[str, Any]) -> FixPlan:
    # the cleaned file is written by apply_fix (a side effect); here only the intent
    return FixPlan("skip_broken_rows", {"data.path": "<cleaned copy>", "data.reference": None}, RESTART,
                   "a cleaned copy of the data without the broken rows (other data: training starts again)")


def _nothing(fix_id: str, mode: str, note: str):  # type: ignore[no-untyped-def]
    def plan(config: RunConfig, details: dict[str, Any]) -> FixPlan:
        return FixPlan(fix_id, {}, mode, note)

    return plan


FIXES = {
    "lower_learning_rate": _third,
    "enable_clipping": _clipping,
    "halve_batch": _halve,
    "use_4bit": _four_bit,
    "no_quantization": _no_quantization,
    "use_cpu": _cpu,
    "shorter_sequences": _shorter,
    "use_builtin": _builtin,
    "skip_broken_rows": _skip_rows,
    "free_space": _nothing("free_space", RESUME, "unfinished writes removed and enough free space found"),
    "resume": _nothing("resume", RESUME, "no change"),
    "retry": _nothing("retry", RESUME, "no change"),
    "resume_previous": _nothing("resume_previous", PREVIOUS, "the damaged newest checkpoint set aside"),
    "restart": _nothing("restart", RESTART, "training starts again from the beginning"),
}


def fixed_config(config: RunConfig, fix_id: str, details: dict[str, Any] | None = None) -> tuple[RunConfig, FixPlan]:
    """The run settings after fix `fix_id`, and the plan (changes, where the run continues). Pure.

    Example:
        >>> from peftstudio.records import DataSettings, ModelChoice, RunConfig
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings("a.jsonl"))
        >>> fixed_config(cfg, "lower_learning_rate")[0].training.learning_rate
        6.7e-05
    """
    maker = FIXES.get(fix_id)
    if maker is None:
        raise make("config_invalid", problems=f"{fix_id!r} is not something PEFT Studio can apply to a run; "
                                              f"it can apply: {', '.join(sorted(FIXES))}.")
    plan = maker(config, details or {})
    concrete = {k: v for k, v in plan.changes.items() if v != "<cleaned copy>"}
    return apply_changes(config, concrete), plan


# ---------------------------------------------------------------- runs
def list_fixes(run_id: str, store: Any | None = None) -> RunFixes:
    """The run's last error and its actions, numbered from 1 (as ``peftstudio fix RUN`` shows them)."""
    from peftstudio.engine.runs import run_status
    from peftstudio.records.convert import from_dict

    run = run_status(run_id, open_store(store))
    if run.error is None:
        return RunFixes(run.id, run.status, None, ())
    info = from_dict(ErrorInfo, run.error)
    options = tuple(FixOption(i, a.label, a.fix_id, a.steps) for i, a in enumerate(info.actions, 1))
    return RunFixes(run.id, run.status, info, options)


def apply_fix(run_id: str, choice: int | str, store: Any | None = None, *, start: bool = True,
              wait: bool = False) -> AppliedFix:
    """Apply action `choice` (its number in `list_fixes`, or a fix id such as ``halve_batch``) and resume.

    The new settings are stored on the run; the run continues from its last checkpoint (or
    the last one before the trouble) in a new worker, unless the fix says it must restart.
    With ``start=False`` nothing is started (the settings and checkpoints are prepared).
    """
    from peftstudio.engine.runs import ACTIVE, is_worker_alive, resume_run, run_status

    s = open_store(store)
    fixes = list_fixes(run_id, s)
    run = run_status(fixes.run_id, s)
    if run.status in ACTIVE and is_worker_alive(run.pid):
        raise make("config_invalid", problems=f"Run {run.id} is still training; pause it first "
                                              f"(peftstudio pause {run.id}).")
    fix_id = _chosen(fixes, choice)
    details = dict(fixes.error.details) if fixes.error is not None else {}
    config, plan = fixed_config(run.config, fix_id, details)
    folder = Path(run.folder)
    if fix_id == "skip_broken_rows":
        config = _clean_data(config, folder)
    if fix_id == "free_space":
        _make_room(folder / "checkpoints", config, s)
    resumed_from = _prepare_checkpoints(folder / "checkpoints", plan.mode, details)
    if resumed_from is None:
        s.delete_metrics(run.id)  # starting over: the earlier attempt's numbers would mix with the new ones
    changes = {k: (config.data.path if k == "data.path" else v) for k, v in plan.changes.items()}
    where = f"the checkpoint at step {resumed_from}" if resumed_from is not None else "the beginning"
    message = f"Applied '{fix_id}': {plan.note}; continuing from {where}."
    s.update_run(run.id, config=config)
    s.add_event(run.id, "fix_applied", message, step=resumed_from,
                data={"fix_id": fix_id, "changes": changes, "mode": plan.mode, "resumed_from": resumed_from})
    if start:
        resume_run(run.id, s, detach=not wait)
    return AppliedFix(run.id, fix_id, changes, plan.mode, resumed_from, message)


def _chosen(fixes: RunFixes, choice: int | str) -> str:
    if isinstance(choice, str) and choice.isdigit():
        choice = int(choice)
    if isinstance(choice, int):
        if not 1 <= choice <= len(fixes.options):
            listed = f"1 to {len(fixes.options)}" if fixes.options else "none (the run has no error)"
            raise make("config_invalid", problems=f"There is no action {choice} for run {fixes.run_id}; the "
                                                  f"actions are {listed}. Give a fix id such as 'resume' instead.")
        option = fixes.options[choice - 1]
        if not option.automatic:
            steps = " ".join(option.steps) or option.label
            raise make("config_invalid", problems=f"Action {choice} ('{option.label}') is done by hand: {steps}")
        return str(option.fix_id)
    return choice


def _aside(path: Path, label: str) -> None:
    target = path.with_name(f"{label}-{path.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(target)


def _prepare_checkpoints(folder: Path, mode: str, details: dict[str, Any]) -> int | None:
    """Set aside the checkpoints the resumed run must not start from; return the step it will start from."""
    from peftstudio.callbacks.checkpoint import latest_checkpoint, list_checkpoints
    from peftstudio.files import remove_partials

    remove_partials(folder)
    saved = list_checkpoints(folder)
    if mode == RESTART:
        if folder.exists():
            _aside(folder, "before-fix")
        return None
    if mode == PREVIOUS:
        newest = _newest_folder(folder)
        if newest is not None:
            _aside(newest, "damaged")
    elif mode == STABLE and details.get("stable_step") is not None:
        stable = int(details["stable_step"])
        for ckpt in saved:
            if ckpt.step > stable:
                _aside(Path(ckpt.path), "diverged")
    latest = latest_checkpoint(folder)
    return latest.step if latest is not None else None


def _newest_folder(folder: Path) -> Path | None:
    # a damaged checkpoint may lack files, so look at the names rather than at complete checkpoints
    import re

    found = [p for p in folder.iterdir() if re.match(r"^step-\d+$", p.name)] if folder.is_dir() else []
    return max(found, key=lambda p: p.name) if found else None


def _make_room(folder: Path, config: RunConfig, store: Any) -> None:
    """Remove the failed write's leftovers, then check the space again: still short, the ``disk_full`` error
    lists the older model versions to archive or delete. The run's own checkpoints are never touched."""
    from peftstudio.files import remove_partials
    from peftstudio.history.disk import check_run_space

    if folder.exists():
        remove_partials(folder)
    check_run_space(config, store=store, what="the rest of this run")


def _clean_data(config: RunConfig, folder: Path) -> RunConfig:
    """Write a copy of the run's data without broken rows into the run folder; point the settings at it."""
    import attrs

    from peftstudio.data import apply_fixes

    src = Path(config.data.path)
    if not src.exists():
        raise make("file_not_found", path=str(src))
    out = folder / f"data-fixed{src.suffix or '.jsonl'}"
    apply_fixes(src, SKIP_BROKEN, out, mapping=config.data.column_mapping or None, structure=config.data.structure)
    return attrs.evolve(config, data=attrs.evolve(config.data, path=str(out), reference=None))
