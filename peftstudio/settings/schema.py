"""The one settings schema: every setting a user may choose, declared once.

Each `SettingSpec` says what a setting is called (its `key`, the one spelling used by ``--set``, the
plan, presets and every front end), where it lives in a `RunConfig` (`path`), its kind of value and
unit, what is allowed, its plain label, its glossary term and its help text. Everything else derives
from `SETTINGS`: parsing and checking ``--set key=value``, the plan -> `RunConfig` mapping, preset
fitting, the settings forms (`peftstudio.settings.settings_schema`) and the table in
``docs/settings.md``.

Example:
    >>> spec("learning_rate").path, spec("learning_rate").label
    ('training.learning_rate', 'Learning rate')
    >>> spec_at("lora.rank").key
    'lora_rank'
    >>> spec("precision").choices
    ('fp32', 'fp16', 'bf16')
"""

from __future__ import annotations

from attrs import field, frozen

from peftstudio.records.config import PRECISIONS, QUANTIZATIONS, SCHEDULERS, STRATEGIES
from peftstudio.tuples import as_tuple

#: The kinds of value a setting holds (what a form shows: a number field, a switch, a list ...).
KINDS = ("integer", "number", "boolean", "choice", "names")


@frozen
class SettingSpec:
    """One setting, declared once.

    `path` is the dotted place in `RunConfig` (None for a figure the plan works out, such as
    ``steps``: shown, never chosen). `planned` settings are chosen by the planner (with a reason) and
    may be overridden with ``--set``; the others are written in a run configuration file or a preset.
    The range is `minimum`/`maximum`, each included unless `*_excluded`. `empty`, when set, says what
    leaving the value empty (None) means; without it a value is required. `names` values are written
    as comma-separated text in a plan and stored as a tuple in a `RunConfig`.

    Example:
        >>> s = spec("warmup_ratio")
        >>> s.kind, s.minimum, s.maximum, s.maximum_excluded
        ('number', 0.0, 1.0, True)
    """

    key: str
    path: str | None
    kind: str = field()
    label: str
    help: str
    unit: str = ""
    choices: tuple[str, ...] = field(default=(), converter=as_tuple)
    minimum: float | None = None
    minimum_excluded: bool = False
    maximum: float | None = None
    maximum_excluded: bool = False
    empty: str = ""
    term: str = ""
    main: bool = False
    planned: bool = True

    @kind.validator
    def _known_kind(self, _attribute: object, value: str) -> None:
        if value not in KINDS:
            raise ValueError(f"{self.key}: kind must be one of {', '.join(KINDS)}, not {value!r}")

    @property
    def read_only(self) -> bool:
        """A figure the plan works out (no place in a `RunConfig`): shown, never chosen."""
        return self.path is None


def _fraction(key: str, path: str, label: str, help: str, unit: str, term: str = "") -> SettingSpec:
    return SettingSpec(key, path, "number", label, help, unit=unit, minimum=0.0, maximum=1.0, maximum_excluded=True,
                       term=term)


def _above_zero(key: str, path: str | None, kind: str, label: str, help: str, **more: object) -> SettingSpec:
    return SettingSpec(key, path, kind, label, help, minimum=0, minimum_excluded=True, **more)  # type: ignore[arg-type]


#: Every setting, in the order a plan lists them (the planned ones first); `main` ones are shown first.
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("precision", "training.precision", "choice", "Precision",
                "How many bits each number uses while training (fp32, bf16 or fp16).",
                choices=PRECISIONS, term="Precision", main=True),
    SettingSpec("quantization", "training.quantization", "choice", "Quantization",
                "Store the base model in 4 or 8 bits to save memory (GPU only).",
                choices=QUANTIZATIONS, term="Quantization", main=True),
    _above_zero("micro_batch_size", "training.micro_batch_size", "integer", "Batch size",
                "How many examples are processed at once. Bigger needs more memory.",
                unit="examples", term="Batch size", main=True),
    _above_zero("gradient_accumulation", "training.gradient_accumulation", "integer", "Gradient accumulation",
                "How many batches are added up before the model is updated once.",
                unit="batches", term="Gradient accumulation", main=True),
    SettingSpec("gradient_checkpointing", "training.gradient_checkpointing", "boolean", "Gradient checkpointing",
                "Save memory by recomputing; about 30% slower.", term="Gradient checkpointing"),
    _above_zero("sequence_length", "training.sequence_length", "integer", "Context length",
                "The longest example, in tokens, that training reads in one piece.",
                unit="tokens", term="Context length", main=True),
    _above_zero("learning_rate", "training.learning_rate", "number", "Learning rate",
                "How big each learning step is. Smaller is safer but slower.", term="Learning rate", main=True),
    _above_zero("epochs", "training.epochs", "number", "Epochs",
                "How many times the model reads all of your examples.", unit="passes", term="Epoch", main=True),
    _above_zero("steps", None, "integer", "Steps",
                "How many learning steps the run will take (follows from the data and epochs).",
                unit="steps", term="Step"),
    _above_zero("max_steps", "training.max_steps", "integer", "Step limit",
                "Stop after this many steps even if the epochs are not done (empty: no limit).",
                unit="steps", empty="no limit", term="Step"),
    _above_zero("lora_rank", "lora.rank", "integer", "LoRA rank", "The size of the adapter: how much it can learn.",
                term="Rank", main=True),
    _above_zero("lora_alpha", "lora.alpha", "integer", "LoRA alpha",
                "How strongly the adapter's changes count; usually twice the rank.", term="Alpha"),
    _fraction("lora_dropout", "lora.dropout", "Dropout",
              "A share of the adapter ignored at random during training, against memorising.", "share",
              term="Dropout"),
    SettingSpec("target_modules", "lora.target_modules", "names", "Adapted layers",
                "Which parts of the model get an adapter (comma-separated names).", term="Adapter"),
    SettingSpec("packing", "training.packing", "boolean", "Packing",
                "Put several short examples in one sequence so no time is wasted.", term="Packing"),
    SettingSpec("lr_scheduler", "training.lr_scheduler", "choice", "Learning rate scheduler",
                "How the learning rate changes over the run.", choices=SCHEDULERS, term="Scheduler"),
    _fraction("warmup_ratio", "training.warmup_ratio", "Warmup",
              "The share of steps over which the learning rate rises gently at the start.", "share of steps",
              term="Warmup"),
    SettingSpec("weight_decay", "training.weight_decay", "number", "Weight decay",
                "A small pull of the adapter's numbers towards zero.", minimum=0.0),
    _above_zero("max_grad_norm", "training.max_grad_norm", "number", "Gradient clipping",
                "The largest update allowed in one step (empty: no clipping).", empty="no clipping",
                term="Gradient clipping"),
    _above_zero("eval_every_steps", "training.eval_every_steps", "integer", "Validation every",
                "How often, in steps, the model is checked on held-out examples.", unit="steps", term="Validation"),
    _above_zero("checkpoint_every_steps", "training.checkpoint_every_steps", "integer", "Checkpoint every",
                "How often, in steps, progress is saved.", unit="steps", term="Checkpoint"),
    _fraction("validation_fraction", "data.validation_fraction", "Validation share",
              "The share of examples kept aside to check the model.", "share of examples", term="Validation"),
    SettingSpec("seed", "training.seed", "integer", "Seed", "A number that makes training repeatable.",
                minimum=0),
    # Written in a run configuration file or a preset; the planner leaves them at their defaults.
    _above_zero("keep_checkpoints", "training.keep_checkpoints", "integer", "Checkpoints kept",
                "How many of the newest checkpoints are kept on disk; older ones are removed.",
                term="Checkpoint", planned=False),
    _above_zero("devices", "training.devices", "integer", "Devices",
                "How many GPUs train together (1 on the processor).", unit="GPUs", term="GPU", planned=False),
    SettingSpec("strategy", "training.strategy", "choice", "Sharing work between devices",
                "How several GPUs share the work (auto for one device).", choices=STRATEGIES, planned=False),
    SettingSpec("deterministic", "training.deterministic", "boolean", "Deterministic GPU kernels",
                "On a GPU, use only kernels that give the same numbers every time, so a resumed run matches an "
                "uninterrupted one exactly; slower. On the processor training is exact anyway.",
                term="Checkpoint", planned=False),
    SettingSpec("early_stopping", "training.early_stopping", "boolean", "Early stopping",
                "Stop when the model stops improving on the held-out examples.", term="Overfitting",
                planned=False),
    SettingSpec("quality_checks", "training.quality_checks", "boolean", "Checks after training",
                "Ask the base and the tuned model held-out examples and general questions after training, "
                "for the quality score's task and retention parts (40 general questions and up to 16 held-out "
                "examples; the plan says how long they take).",
                planned=False),
)

#: The fields of a `RunConfig` that are not settings: dotted path -> (label, where it is chosen instead).
OTHER_FIELDS: dict[str, tuple[str, str]] = {
    "profile": ("Use case", "the use-case step (--profile)"),
    "name": ("Name", "the run's name (--name)"),
    "model.reference": ("Model", "the model step (--model)"),
    "model.trust_remote_code": ("Running the model's own code", "the model step, by the user, never by a preset"),
    "data.path": ("Data file", "the data step (--data)"),
    "data.structure": ("Data structure", "the data check (detected, or chosen there)"),
    "data.column_mapping": ("Column names", "the data check (detected, or chosen there)"),
    "data.reference.path": ("Data file", "measured from the data file, not chosen"),
    "data.reference.sha256": ("Data fingerprint", "measured from the data file, not chosen"),
    "data.reference.rows": ("Data rows", "measured from the data file, not chosen"),
}

_BY_KEY = {s.key: s for s in SETTINGS}
_BY_PATH = {s.path: s for s in SETTINGS if s.path}
#: The settings a plan holds, in its order.
PLANNED: tuple[SettingSpec, ...] = tuple(s for s in SETTINGS if s.planned)


def spec(key: str) -> SettingSpec:
    """The setting called `key` (a `KeyError` when there is none; `parse_overrides` says it plainly)."""
    return _BY_KEY[key]


def spec_at(path: str) -> SettingSpec | None:
    """The setting stored at a dotted `RunConfig` path (``training.learning_rate``), or None."""
    return _BY_PATH.get(path)


def name_at(path: str) -> str:
    """The plain name of whatever a dotted `RunConfig` path holds, setting or not.

    Example:
        >>> name_at("training.precision"), name_at("model.trust_remote_code"), name_at("lora.rank")
        ('Precision', "Running the model's own code", 'LoRA rank')
    """
    found = spec_at(path)
    if found is not None:
        return found.label
    if path in OTHER_FIELDS:
        return OTHER_FIELDS[path][0]
    return path.rpartition(".")[2].replace("_", " ").capitalize()


__all__ = ["KINDS", "OTHER_FIELDS", "PLANNED", "SETTINGS", "SettingSpec", "name_at", "spec", "spec_at"]
