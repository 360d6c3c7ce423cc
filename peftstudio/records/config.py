"""The run configuration: every choice a training run needs, as frozen records.

A `RunConfig` is what the planner produces, what a preset stores and what a
worker process trains from. It is written to JSON with `schema_version`
(see `peftstudio.records.convert`).
"""

from __future__ import annotations

from typing import Any

from attrs import Attribute, field, frozen

from peftstudio.tuples import as_tuple

PRECISIONS = ("fp32", "fp16", "bf16")
QUANTIZATIONS = ("none", "8bit", "4bit")
SCHEDULERS = ("cosine", "linear", "constant")
STRATEGIES = ("auto", "ddp", "fsdp", "deepspeed")


class FieldValueError(ValueError):
    """A value of the right type that is not allowed; carries the field's name for the message."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


def one_of(allowed: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def check(_inst: Any, attribute: Attribute, value: Any) -> None:  # type: ignore[type-arg]
        if value not in allowed:
            raise FieldValueError(
                attribute.name, f"expected one of {', '.join(allowed)}, got {value!r}"
            )

    return check


def positive(_inst: Any, attribute: Attribute, value: Any) -> None:  # type: ignore[type-arg]
    if value is not None and value <= 0:
        raise FieldValueError(attribute.name, f"expected a number above 0, got {value!r}")


def fraction(_inst: Any, attribute: Attribute, value: Any) -> None:  # type: ignore[type-arg]
    if not 0 <= value < 1:
        raise FieldValueError(attribute.name, f"expected a fraction from 0 up to (not including) 1, got {value!r}")


@frozen
class ModelChoice:
    """Which base model to fine-tune.

    `reference` is ``builtin:NAME``, a local Hugging Face folder, a ``.gguf`` file or a hub id.

    Example:
        >>> ModelChoice("builtin:tiny-llama").reference
        'builtin:tiny-llama'
    """

    reference: str
    trust_remote_code: bool = False


@frozen
class LoraSettings:
    """The LoRA adapter's shape.

    Example:
        >>> LoraSettings(rank=8, alpha=16).alpha / LoraSettings(rank=8, alpha=16).rank
        2.0
    """

    rank: int = field(default=16, validator=positive)
    alpha: int = field(default=32, validator=positive)
    dropout: float = field(default=0.05, validator=fraction)
    target_modules: tuple[str, ...] = field(
        default=("q_proj", "k_proj", "v_proj", "o_proj"), converter=as_tuple
    )


@frozen
class TrainingSettings:
    """How training runs: optimisation, batch shape, precision and bookkeeping.

    The effective batch is ``micro_batch_size * gradient_accumulation * devices``.

    Example:
        >>> t = TrainingSettings(micro_batch_size=2, gradient_accumulation=8)
        >>> t.effective_batch_size
        16
    """

    learning_rate: float = field(default=2e-4, validator=positive)
    epochs: float = field(default=1.0, validator=positive)
    max_steps: int | None = field(default=None, validator=positive)
    micro_batch_size: int = field(default=4, validator=positive)
    gradient_accumulation: int = field(default=1, validator=positive)
    sequence_length: int = field(default=512, validator=positive)
    precision: str = field(default="fp32", validator=one_of(PRECISIONS))
    quantization: str = field(default="none", validator=one_of(QUANTIZATIONS))
    gradient_checkpointing: bool = False
    packing: bool = True
    lr_scheduler: str = field(default="cosine", validator=one_of(SCHEDULERS))
    warmup_ratio: float = field(default=0.03, validator=fraction)
    weight_decay: float = 0.0
    max_grad_norm: float | None = field(default=1.0, validator=positive)
    eval_every_steps: int = field(default=50, validator=positive)
    checkpoint_every_steps: int = field(default=50, validator=positive)
    keep_checkpoints: int = field(default=2, validator=positive)
    seed: int = 42
    devices: int = field(default=1, validator=positive)
    strategy: str = field(default="auto", validator=one_of(STRATEGIES))
    early_stopping: bool = False
    deterministic: bool = False
    quality_checks: bool = True  # the task and retention checks after training (peftstudio.quality.run)

    @property
    def effective_batch_size(self) -> int:
        return self.micro_batch_size * self.gradient_accumulation * self.devices


@frozen
class DatasetReference:
    """Which data a run used: enough to tell later whether a file is the same data.

    Example:
        >>> DatasetReference(path="chat.jsonl", sha256="ab" * 32, rows=300).rows
        300
    """

    path: str
    sha256: str
    rows: int


@frozen
class DataSettings:
    """Where the examples come from and how they are read.

    `structure` is ``None`` for automatic detection; `column_mapping` maps the
    roles a structure needs (e.g. ``prompt``) to the file's column names.

    Example:
        >>> DataSettings(path="chat.jsonl").validation_fraction
        0.1
    """

    path: str
    structure: str | None = None
    column_mapping: dict[str, str] = field(factory=dict)
    validation_fraction: float = field(default=0.1, validator=fraction)
    reference: DatasetReference | None = None


@frozen
class RunConfig:
    """Everything one training run needs.

    Example:
        >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
        ...                 data=DataSettings(path="chat.jsonl"))
        >>> cfg.training.precision
        'fp32'
    """

    profile: str
    model: ModelChoice
    data: DataSettings
    lora: LoraSettings = field(factory=LoraSettings)
    training: TrainingSettings = field(factory=TrainingSettings)
    name: str = ""
