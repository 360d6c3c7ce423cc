"""The records exports take and give: what to export, progress, the result and the Test Export result."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from peftstudio.tuples import as_tuple

#: The kinds of export, in the order the app lists them.
EXPORT_KINDS: tuple[str, ...] = ("hf", "gguf", "ollama", "lmstudio")

@frozen
class Quant:
    """A GGUF quantization type: llama.cpp's name for it, bits per weight and a one-line trade-off.

    Example:
        >>> QUANTS["q8_0"].size_bytes(1_000_000)
        1062500
    """

    name: str
    bits_per_weight: float
    tradeoff: str
    ftype_name: str
    convert_type: str | None = None  # what the converter writes directly (no quantizer pass)

    def size_bytes(self, parameters: int) -> int:
        """Estimated bytes of `parameters` weights in this type (metadata not included)."""
        return int(parameters * self.bits_per_weight / 8)


#: The quantization types offered, smallest first; q4_k_m is the default for Ollama and LM Studio.
QUANTS: dict[str, Quant] = {q.name: q for q in (
    Quant("q4_k_m", 4.85, "Smallest; what Ollama and LM Studio use by default; slight quality loss.",
          "LLAMA_FTYPE_MOSTLY_Q4_K_M"),
    Quant("q5_k_m", 5.69, "A little larger than q4_k_m, a little closer to the original.", "LLAMA_FTYPE_MOSTLY_Q5_K_M"),
    Quant("q6_k", 6.56, "Close to the original at about 40% of its size.", "LLAMA_FTYPE_MOSTLY_Q6_K"),
    Quant("q8_0", 8.5, "Practically the original's answers at half the size of f16.", "LLAMA_FTYPE_MOSTLY_Q8_0",
          "q8_0"),
    Quant("f16", 16.0, "The original weights in half precision; no loss worth measuring.",
          "LLAMA_FTYPE_MOSTLY_F16", "f16"),
    Quant("bf16", 16.0, "Like f16 with bfloat16's range (as most models are trained); needs recent llama.cpp.",
          "LLAMA_FTYPE_MOSTLY_BF16", "bf16"),
    Quant("f32", 32.0, "Full precision; twice the size of f16 for no visible gain (for checking only).",
          "LLAMA_FTYPE_ALL_F32", "f32"),
)}
DEFAULT_QUANT = "q4_k_m"

#: GGUF types offered, smallest first.
GGUF_QUANTS: tuple[str, ...] = tuple(QUANTS)


@frozen
class ExportSource:
    """What to export: a base model and, optionally, a LoRA adapter trained on it.

    `model` is any model reference (``builtin:tiny-llama``, a Hugging Face folder); `adapter`
    the folder `PeftModel.save_pretrained` wrote (merged into the base for a full export);
    `name` names the exported model (file names, the Ollama model name).

    Example:
        >>> ExportSource("builtin:tiny-llama", name="my-bot").display_name
        'my-bot'
        >>> ExportSource("builtin:tiny-llama").display_name
        'tiny-llama'
    """

    model: str
    adapter: str | None = None
    name: str | None = None

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        base = self.model.split(":", 1)[1] if self.model.startswith("builtin:") else self.model
        base = base.rstrip("/\\").replace("\\", "/").split("/")[-1]
        return base + ("-tuned" if self.adapter else "")


@frozen
class GenerationDefaults:
    """Sampling settings written into exports (Ollama `PARAMETER`s, `generation_config.json`).

    Example:
        >>> GenerationDefaults(temperature=0.2).max_tokens
        256
    """

    temperature: float = 0.7
    top_p: float = 0.9
    max_tokens: int = 256
    repeat_penalty: float | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> GenerationDefaults:
        """Read `temperature`, `top_p` and `max_tokens` (or `max_new_tokens`) from any settings record."""
        if settings is None:
            return cls()
        if isinstance(settings, GenerationDefaults):
            return settings
        get = settings.get if isinstance(settings, dict) else lambda k, d=None: getattr(settings, k, d)
        max_tokens = get("max_tokens", None) or get("max_new_tokens", None) or cls().max_tokens
        return cls(
            temperature=float(get("temperature", cls().temperature)),
            top_p=float(get("top_p", cls().top_p)),
            max_tokens=int(max_tokens),
            repeat_penalty=get("repeat_penalty", None),
        )


@frozen
class CardInfo:
    """What the model card (README.md of a Hugging Face export) says beyond what the files tell.

    Example:
        >>> CardInfo(license="apache-2.0", metrics={"eval_loss": 1.2}).metrics["eval_loss"]
        1.2
    """

    title: str | None = None
    license: str = "other"
    datasets: tuple[str, ...] = field(default=(), converter=as_tuple)
    profile: str | None = None
    training: dict[str, str] = field(factory=dict)
    metrics: dict[str, float] = field(factory=dict)
    quality_score: float | None = None
    intended_use: str = ""
    limitations: str = ""


@frozen
class ExportProgress:
    """One progress report of a long export: a stage, how far it is, and a sentence for the user.

    Example:
        >>> ExportProgress("writing", 3, 12, "Writing tensors").fraction
        0.25
    """

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@frozen
class ExportCheck:
    """One check of a Test Export: its figure, the limit it is held to, and whether it passed.

    Example:
        >>> ExportCheck("llama.cpp logits", True, figure=1e-5, limit=1e-3).passed
        True
    """

    name: str
    passed: bool
    figure: float | None = None
    limit: float | None = None
    detail: str = ""


@frozen
class ExportTestResult:
    """The verdict of Test Export: `passed`, the figures, a sample answer and a sentence to show.

    `max_abs_logit_diff` is the largest difference between the exported model's next-token logits
    and the source model's (the worst loader); `top1_agreement` the share of positions where both
    pick the same most likely token; `tokenizer_agreement` the share of texts tokenized identically.

    Example:
        >>> r = ExportTestResult(kind="gguf", passed=False, message="The file is damaged.")
        >>> r.passed, r.checks
        (False, ())
    """

    kind: str
    passed: bool
    message: str
    checks: tuple[ExportCheck, ...] = field(default=(), converter=as_tuple)
    max_abs_logit_diff: float | None = None
    top1_agreement: float | None = None
    tokenizer_agreement: float | None = None
    sample: str = ""
    seconds: float = 0.0


@frozen
class ExportResult:
    """A finished export: where it is, its files, what to do with it, and (if run) its Test Export.

    `path` is the export folder; `model_file` the main file inside it (the .gguf for GGUF, Ollama
    and LM Studio exports; None for an adapter-only GGUF export); `adapter_file` the GGUF adapter of an
    adapter-only export (llama.cpp applies it on top of the base); `base` what an adapter-only Ollama
    Modelfile names in `FROM` when it is not a file of the export; `files` paths relative to `path`.

    Example:
        >>> r = ExportResult(kind="gguf", path="/tmp/x", files=("m.gguf",), instructions="...", size_bytes=10)
        >>> r.test is None
        True
    """

    kind: str
    path: str
    files: tuple[str, ...] = field(converter=as_tuple)
    instructions: str
    size_bytes: int
    quant: str | None = None
    model_file: str | None = None
    source: ExportSource | None = None
    test: ExportTestResult | None = None
    adapter_file: str | None = None
    base: str | None = None
    notes: tuple[str, ...] = field(default=(), converter=as_tuple)  # choices made for the user, and why
