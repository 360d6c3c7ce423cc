"""Model references: what a user may type to name a base model.

* ``builtin:NAME`` — a model that ships with PEFT Studio (works offline);
* a local folder holding a Hugging Face model (``config.json`` and weights);
* a ``.gguf`` file (converted once into a folder PEFT Studio can train);
* a Hugging Face Hub id such as ``meta-llama/Llama-3.2-1B-Instruct`` (needs internet the first time).

Example:
    >>> parse_reference("builtin:tiny-llama").kind
    'builtin'
    >>> parse_reference("HuggingFaceTB/SmolLM2-135M-Instruct").kind
    'hub'
"""

from __future__ import annotations

import re
from pathlib import Path

from attrs import frozen

from peftstudio.errors import make

BUILTIN_MODELS: dict[str, str] = {
    "tiny-llama": "A tiny Llama-style model with random weights, built in seconds. For tests and trying things out; "
                  "it cannot really chat.",
    "smollm2-135m": "SmolLM2-135M-Instruct by Hugging Face: a real, small chat model (135 million parameters) that "
                    "runs on any computer. The demo's model.",
    "gemma3-270m": "Gemma 3 270M by Google: a real base model (270 million parameters, a large vocabulary of 262,144 "
                   "tokens, many languages) made for task-specific fine-tuning. Gemma terms of use apply.",
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


@frozen
class ModelReference:
    """A parsed model reference: its `kind` (builtin, folder, gguf, hub) and `value`."""

    kind: str
    value: str
    original: str

    @property
    def display_name(self) -> str:
        if self.kind == "builtin":
            return f"builtin:{self.value}"
        return Path(self.value).name if self.kind in ("folder", "gguf") else self.value


def builtin_names() -> str:
    return ", ".join(f"builtin:{n}" for n in BUILTIN_MODELS)


def parse_reference(reference: str) -> ModelReference:
    """Recognise what kind of model reference `reference` is; a plain error when it is none of them."""
    text = reference.strip()
    if text.startswith("builtin:"):
        name = text.split(":", 1)[1]
        if name not in BUILTIN_MODELS:
            raise make("model_not_found", reference=text, builtins=builtin_names())
        return ModelReference("builtin", name, reference)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise make("file_not_found", path=str(path))
        return ModelReference("gguf", str(path.resolve()), reference)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise make("model_not_found", reference=text, builtins=builtin_names())
        return ModelReference("folder", str(path.resolve()), reference)
    if _HUB_ID.match(text) and not text.startswith((".", "/")):
        return ModelReference("hub", text, reference)
    raise make("model_not_found", reference=text, builtins=builtin_names())
