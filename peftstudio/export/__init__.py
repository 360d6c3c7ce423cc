"""Exports: Hugging Face folders, GGUF files, Ollama and LM Studio packages, each with a real Test Export.

Every export is one call taking an `ExportSource` (a base model and an optional LoRA adapter,
merged on the way) and an output path; it checks disk space first, writes into a temporary
folder and renames it at the end, so a failed export leaves nothing half-written.
`verify_export` then loads the result with independent loaders (transformers, llama.cpp) and
compares it with the source.

Example:
    >>> from peftstudio.export import ExportSource, export
    >>> r = export("ollama", ExportSource("builtin:tiny-llama"), "/tmp/bot", test=True)   # doctest: +SKIP
    >>> r.test.passed, r.files                                                         # doctest: +SKIP
    (True, ('Modelfile', 'README.md', 'tiny-llama-Q8_0.gguf'))
"""

from peftstudio.export.dispatch import export, export_commands
from peftstudio.export.gguf.exporter import export_gguf
from peftstudio.export.hf import export_hf
from peftstudio.export.lmstudio import export_lmstudio
from peftstudio.export.ollama import export_ollama, translate_chat_template
from peftstudio.export.records import (
    EXPORT_KINDS,
    GGUF_QUANTS,
    CardInfo,
    ExportCheck,
    ExportProgress,
    ExportResult,
    ExportSource,
    ExportTestResult,
    GenerationDefaults,
)
from peftstudio.export.verify import verify_export

#: `export` under the name the top-level package uses (``peftstudio.export`` is this package).
export_model = export

__all__ = [
    "EXPORT_KINDS",
    "GGUF_QUANTS",
    "CardInfo",
    "ExportCheck",
    "ExportProgress",
    "ExportResult",
    "ExportSource",
    "ExportTestResult",
    "GenerationDefaults",
    "export",
    "export_commands",
    "export_gguf",
    "export_hf",
    "export_lmstudio",
    "export_model",
    "export_ollama",
    "verify_export",
    "translate_chat_template",
]
